"""Bounds of every number in the stack config, each with the reason for it, in one place.

Readers pass these to `Obj.int`/`Obj.float` (`limit=`). A bound is either a fact of the platform (named with its
source) or a sanity bound: a value past it is a typo in practice (a cost estimate of billions, a timeout of years),
and the bound says so instead of planning it. Sanity bounds are marked as such; none of them is a cloud limit.
Derived defaults (maxNodes from minNodes, replicas.max from replicas.min) are checked against the same bounds.
"""
from dataclasses import dataclass
from typing import Optional, Union

Number = Union[int, float]


@dataclass(frozen=True)
class Limit:
    lo: Optional[Number]
    hi: Optional[Number]
    why: str


# --- GPU pools (llmfleet:gpuPools[]) -------------------------------------------------------------------------------
POOL_NODES = Limit(0, 1000, "AKS documents at most 1000 nodes per node pool; the same cap is a sanity bound on EKS "
                            "and GKE (their per-group quotas are lower by default)")
GPUS_PER_NODE = Limit(1, 16, "the largest node in the GPU catalog has 16 GPUs (GCP a2-megagpu-16g)")
POOL_DISK_GB = Limit(100, 16384, "below 100 GiB the vLLM and NVIDIA images leave no room for model layers; 16384 GiB "
                                 "is the largest EBS gp3 volume (AKS's 2048 cap is checked in spec/clouds/azure.py)")
TIME_SLICES = Limit(1, 48, "pods sharing one GPU: the NVIDIA device plugin accepts any count; more than 48 slices "
                           "leaves each under 2 GB of an 80 GB GPU (sanity bound)")
NODE_PRICE_PER_HOUR = Limit(0, 1000, "USD per node-hour; the most expensive GPU VM in the price catalog costs "
                                     "about $110/h (sanity bound against a misplaced decimal point)")

# --- models (llmfleet:models[]) ------------------------------------------------------------------------------------
MAX_CONTEXT = Limit(256, 4_194_304, "sanity bounds in tokens; the model's own context length caps it further "
                                    "(checked in spec/models.py)")
CONCURRENCY = Limit(1, 4096, "concurrent sequences sized into the KV cache (sanity bound)")
GPU_MEMORY_UTILIZATION = Limit(0.5, 0.98, "vLLM's share of GPU memory; the range the sizing estimator is trusted in "
                                          "(FACTS.md calibrates it at 0.9); outside it the placement is a guess")
TENSOR_PARALLEL = Limit(1, 16, "placements are single-node: no node has more than 16 GPUs (GPUS_PER_NODE)")
ARCH_PARAMS_B = Limit(0.01, 10000, "billions of parameters (sanity bound: 10 trillion)")
ARCH_LAYERS = Limit(1, 1000, "transformer layers (sanity bound)")
ARCH_HEADS = Limit(1, 1024, "attention / key-value heads (sanity bound)")
ARCH_HEAD_DIM = Limit(1, 1024, "per-head dimension (sanity bound)")
ARCH_CONTEXT = Limit(256, 4_194_304, "the model's context length in tokens (same bounds as maxContext)")

# --- serving (llmfleet:models[] serving keys) ----------------------------------------------------------------------
REPLICAS_MIN = Limit(0, 100, "0 is scale to zero (KEDA); 100 replicas of a GPU model is a sanity bound")
REPLICAS_MAX = Limit(1, 100, "at least one replica to scale to; same sanity bound as replicas.min")
QUEUE_DEPTH = Limit(1, 10000, "waiting requests (or Redis list items) per replica before scaling out")
COOLDOWN_SECONDS = Limit(30, 86400, "KEDA cooldownPeriod: under 30 s a replica is removed before vLLM finished "
                                    "loading; a day is a sanity bound")
CANARY_PERCENT = Limit(0, 100, "a share of traffic in percent")
CACHE_SIZE_GI = Limit(10, 65536, "model cache volume: 10 GiB holds the smallest catalog model; 64 TiB is a sanity "
                                 "bound (class minimums are checked in spec/serving.py)")

# --- platform, observability ---------------------------------------------------------------------------------------
QUOTA_GPUS = Limit(0, 100000, "requests.nvidia.com/gpu of a namespace (sanity bound)")
QUOTA_PODS = Limit(1, 1_000_000, "pods of a namespace (sanity bound)")
ALERT_PERCENT = Limit(0, 100, "a percentage")
ALERT_MEMORY_FULL_PERCENT = Limit(50, 100, "vLLM preallocates about 90% of GPU memory: an alert under 50% fires "
                                           "on every healthy server")
ALERT_MINUTES = Limit(1, 1440, "an alert's for-duration in minutes; a day is a sanity bound")
ALERT_TEMPERATURE_C = Limit(40, 110, "GPU temperature in Celsius: data-centre GPUs throttle around 85-90")

# --- clusters ------------------------------------------------------------------------------------------------------
SYSTEM_NODES = Limit(1, 100, "CPU nodes for add-ons: at least one runs CoreDNS and the controllers; 100 is a sanity "
                             "bound")
AWS_SYSTEM_DISK_GB = Limit(20, 16384, "20 GiB is EKS's default node disk size; 16384 GiB is the largest EBS gp3 "
                                      "volume")
AWS_LOG_RETENTION_DAYS = Limit(1, 3653, "CloudWatch Logs retention: the longest setting is 3653 days (10 years)")
GCP_SYSTEM_DISK_GB = Limit(30, 2000, "GKE's smallest boot disk is 10 GB; 30 leaves room for add-on images; 2000 is "
                                     "a sanity bound")
AKS_POOL_NODES = Limit(0, 1000, "AKS documents at most 1000 nodes per node pool")
AKS_GRACEFUL_TERMINATION_SEC = Limit(0, 86400, "cluster-autoscaler max-graceful-termination-sec; a day is a sanity "
                                               "bound")
PRICE_PER_HOUR = Limit(0, 1000, "USD per instance-hour (same sanity bound as pricePerHour)")
