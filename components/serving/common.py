"""Pod-level pieces every engine shares: names and labels, scheduling from the pool descriptors, resources sized
from the placement, probes with a startup budget, security context. Pure functions returning Kubernetes dicts
(camelCase), so each engine renders the same pod the same way and tests can check them directly."""
import math
from typing import Optional, Sequence

from components.descriptors import LABEL_CAPACITY, PoolDescriptor, all_tolerations
from components.platform import MANAGED_BY
from sizing.estimate import GIB
from spec.models import ModelSpec
from spec.platform import PRIORITY_TIERS
from spec.pools import PoolSpec
from spec.serving_options import load_seconds

PORT = 8000
GPU_RESOURCE = "nvidia.com/gpu"       # sizing only places models on whole-GPU pools (no MIG, no time-slicing)
HF_SECRET_NAME = "hf-token"
HF_SECRET_KEY = "token"
CACHE_MOUNT = "/models"               # HF_HOME: the Hugging Face hub cache lives under it
TERMINATION_GRACE_SECONDS = 120       # lets in-flight generations finish after the endpoint is removed
PRESTOP_SLEEP_SECONDS = 10            # endpoints controllers drop the pod before vLLM gets SIGTERM
STARTUP_PERIOD_SECONDS = 10
IMAGE_PULL_SECONDS = 900              # the vLLM / Ray LLM images are ~10 GB; pulled once per node
LABEL_MODEL = "llmfleet.io/model"
LABEL_ENGINE = "llmfleet.io/engine"

DTYPE_FLAG = {"bf16": "bfloat16", "fp16": "float16"}          # vLLM 0.33.0 ModelDType names
KV_DTYPE_FLAG = {"bf16": "bfloat16", "fp16": "float16", "fp8": "fp8"}   # vLLM 0.33.0 CacheDType names


# --- names and labels ---------------------------------------------------------------------------------------
def selector(model: ModelSpec) -> dict:
    """Stable across versions: a Deployment's selector is immutable."""
    return {LABEL_MODEL: model.name}


def labels(model: ModelSpec, component: str = "model-server") -> dict:
    return {**MANAGED_BY, "app.kubernetes.io/name": model.name, "app.kubernetes.io/version": model.version,
            "app.kubernetes.io/component": component, LABEL_ENGINE: model.engine, **selector(model)}


def claim_labels(model: ModelSpec) -> dict:
    """For StatefulSet claim templates, which are immutable: nothing that changes with a version or engine bump."""
    return {**MANAGED_BY, "app.kubernetes.io/name": model.name, "app.kubernetes.io/component": "model-cache",
            **selector(model)}


# --- engine flags -------------------------------------------------------------------------------------------
def engine_flags(model: ModelSpec) -> list[str]:
    """The sized vLLM flags, in the form every engine passes them (`--flag value`). Checked against vLLM
    0.33.0's parser (catalog/versions.py)."""
    p = model.placement
    flags = ["--tensor-parallel-size", str(p.tensor_parallel),
             "--max-model-len", str(model.max_context),
             "--gpu-memory-utilization", str(model.gpu_memory_utilization),
             # Quantized weights: vLLM picks the activation dtype the method supports from the checkpoint.
             "--dtype", DTYPE_FLAG.get(model.dtype, "auto") if model.quantization is None else "auto"]
    if model.kv_cache_dtype != "auto":
        flags += ["--kv-cache-dtype", KV_DTYPE_FLAG[model.kv_cache_dtype]]
    if model.quantization is not None:
        flags += ["--quantization", model.quantization]
    if model.revision is not None:
        flags += ["--revision", model.revision]
    return flags


def engine_kwargs(model: ModelSpec) -> dict:
    """The same settings as vLLM EngineArgs keyword arguments (Ray Serve LLM's `engine_kwargs`)."""
    flags = engine_flags(model)
    out: dict = {}
    for i in range(0, len(flags), 2):
        key = flags[i][2:].replace("-", "_")
        value = flags[i + 1]
        out[key] = int(value) if value.isdigit() else (float(value) if key == "gpu_memory_utilization" else value)
    return out


# --- sizes --------------------------------------------------------------------------------------------------
def download_gib(model: ModelSpec) -> float:
    """What is downloaded: the checkpoint in its native dtype (online FP8 quantizes a 16-bit checkpoint after
    download), or the quantized width when that is larger (never for the catalog)."""
    return max(model.arch.weight_bytes(model.arch.dtype), model.arch.weight_bytes(model.dtype)) / GIB


def model_load_seconds(model: ModelSpec) -> int:
    return load_seconds(download_gib(model))


def cache_size_gi(model: ModelSpec) -> int:
    """Room for the checkpoint plus tokenizer/config files and one revision change."""
    if model.cache.size_gi:
        return model.cache.size_gi
    return int(math.ceil(download_gib(model) * 1.2 + 10))


def shm_size_gi(tp: int) -> int:
    # NCCL and vLLM's multiprocessing workers exchange tensors through /dev/shm; a single GPU needs little.
    return min(16, 2 * tp)


def resources(model: ModelSpec, pool: PoolSpec) -> dict:
    """GPU limit = tensor-parallel size; CPU and memory are this replica's share of the node (75%, leaving room
    for DaemonSets and the kubelet). The memory limit equals the request: a memory-backed /dev/shm is charged
    to it. No CPU limit: throttling the tokenizer/scheduler threads stalls the GPUs."""
    tp = model.placement.tensor_parallel
    if pool.instance is not None:
        cpu_per_gpu = max(1, min(16, int(pool.instance.vcpus / pool.instance.gpus * 0.75)))
        mem_per_gpu = max(4, min(128, int(pool.instance.memory_gib / pool.instance.gpus * 0.75)))
    else:
        # Existing clusters: the node size is unknown to the program; a modest share that fits a workstation.
        cpu_per_gpu, mem_per_gpu = 4, 16
    gpus = str(tp)
    memory = f"{mem_per_gpu * tp}Gi"
    return {"requests": {"cpu": str(cpu_per_gpu * tp), "memory": memory, GPU_RESOURCE: gpus},
            "limits": {"memory": memory, GPU_RESOURCE: gpus}}


# --- scheduling ---------------------------------------------------------------------------------------------
def pool_descriptors(model: ModelSpec, pools: Sequence[PoolDescriptor]) -> list[PoolDescriptor]:
    """Every capacity group of the placement's pool (e.g. on-demand and spot), preferred first. Critical models
    never land on spot capacity (sizing guarantees their pool has a non-spot group)."""
    found = [d for d in pools if d.name == model.placement.pool
             and not (model.priority == "critical" and d.capacity == "spot")]
    if not found:
        raise ValueError(f"no pool descriptor for pool {model.placement.pool!r} (model {model.name})")
    return sorted(found, key=lambda d: -d.priority)


def affinity(descriptors: Sequence[PoolDescriptor]) -> dict:
    """Required: a node of one of the pool's groups. Preferred: the groups in the autoscaler's order."""
    terms, seen = [], set()
    for d in descriptors:
        sel = d.node_selector()
        key = tuple(sorted(sel.items()))
        if key in seen:
            continue
        seen.add(key)
        terms.append({"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in sorted(sel.items())]})
    out: dict = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}
    preferred = []
    if len(descriptors) > 1:
        for rank, d in enumerate(descriptors):
            labels_ = {LABEL_CAPACITY: d.node_labels[LABEL_CAPACITY]} if LABEL_CAPACITY in d.node_labels \
                else dict(d.node_labels)
            preferred.append({"weight": max(1, 100 - 50 * rank), "preference": {"matchExpressions": [
                {"key": k, "operator": "In", "values": [v]} for k, v in sorted(labels_.items())]}})
        out["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return out


def tolerations(descriptors: Sequence[PoolDescriptor]) -> list[dict]:
    """Exactly the taints of the pool's groups (GPU taint with Exists, spot taints by value), no others."""
    return all_tolerations(descriptors)


def gpu_pod_scheduling(model: ModelSpec, descriptors: Sequence[PoolDescriptor]) -> dict:
    """Pod spec fields every GPU model pod shares, whatever the engine: its pool's nodes and their taints, spread
    across zones and nodes, its priority tier, pod security and the drain budget."""
    return {
        "affinity": affinity(descriptors),
        "tolerations": tolerations(descriptors),
        "topologySpreadConstraints": topology_spread(model),
        "priorityClassName": priority_class(model),
        "securityContext": pod_security(),
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
    }


def topology_spread(model: ModelSpec) -> list[dict]:
    # ScheduleAnyway: a GPU pool may have one node or one zone; spreading is a preference, never a blocker.
    return [{"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway",
             "labelSelector": {"matchLabels": selector(model)}}
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")]


def priority_class(model: ModelSpec) -> str:
    return PRIORITY_TIERS[model.priority].name


# --- container ----------------------------------------------------------------------------------------------
def probes(model: ModelSpec, port: object = "http", path: str = "/health") -> dict:
    """The startup probe owns the whole model load (failureThreshold x period >= the load estimate); readiness
    and liveness only start once it has passed."""
    budget = model_load_seconds(model)
    get = {"path": path, "port": port}
    return {
        "startupProbe": {"httpGet": get, "periodSeconds": STARTUP_PERIOD_SECONDS, "timeoutSeconds": 5,
                         "failureThreshold": int(math.ceil(budget / STARTUP_PERIOD_SECONDS))},
        "readinessProbe": {"httpGet": get, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": get, "periodSeconds": 15, "timeoutSeconds": 10, "failureThreshold": 4},
    }


def container_security() -> dict:
    # The vLLM image runs as root, so runAsNonRoot cannot be set and the serving namespace is Pod Security
    # `baseline`. The Ray LLM and KServe runtime images' users were not checked; they get the same context
    # (KServe's runtime adds runAsNonRoot itself). Everything else is locked down.
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def pod_security() -> dict:
    return {"seccompProfile": {"type": "RuntimeDefault"}}


def hf_env(hf_secret: Optional[str], optional: bool = False) -> list[dict]:
    if hf_secret is None:
        return []
    return [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": hf_secret, "key": HF_SECRET_KEY,
                                                               "optional": optional}}}]


def shm_volume(tp: int) -> dict:
    return {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm_size_gi(tp)}Gi"}}


def timeout_seconds(model: ModelSpec) -> int:
    """What Pulumi waits for the workload: image pull plus model load, with the rollout of one pod at a time."""
    return IMAGE_PULL_SECONDS + model_load_seconds(model)
