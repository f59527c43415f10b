"""Pod-level pieces every engine shares: names and labels, scheduling from the pool descriptors, resources sized
from the placement, probes with a startup budget, security context. Pure functions returning Kubernetes dicts
(camelCase), so each engine renders the same pod the same way and tests can check them directly."""
import math
from typing import Optional, Sequence

from components.descriptors import GKE_COMPUTE_CLASS, LABEL_CAPACITY, PoolDescriptor, all_tolerations, capacity_exclusion
from components.platform import MANAGED_BY
from sizing.estimate import GIB
from spec.models import ModelSpec
from spec.platform import PRIORITY_TIERS
from spec.pools import PoolSpec
from spec.serving_options import load_seconds

PORT = 8000
GPU_RESOURCE = "nvidia.com/gpu"       # sizing only places models on whole-GPU pools (no MIG, no time-slicing)
HF_SECRET_NAME = "hf-token"
# The key KServe's storage initializer looks for in a ServiceAccount's Secrets (kserve v0.20.0
# pkg/credentials/hf/hf_secret.go `HFTokenKey`); the other engines read the same key through env.
HF_SECRET_KEY = "HF_TOKEN"
KSERVE_SERVICE_ACCOUNT = "kserve-hf"
# Every container the program renders pulls its image only when the node lacks it. The images are pinned (an exact
# tag, or a digest given in llmfleet:images) and ~10 GB for the model servers: `Always` would re-check the registry
# on every start (a registry outage then stops scale-ups) and buy nothing for a digest. The cost: a tag re-pushed
# upstream is not picked up by nodes that have the old one, which is what a digest override prevents.
IMAGE_PULL_POLICY = "IfNotPresent"
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
    0.33.0's parser (catalog/versions.py; vllm/engine/arg_utils.py add_cli_args).

    The server is told what sizing planned: `--max-num-seqs` = concurrency (the scheduler admits no more running
    sequences, so the activation peak and KV use stay within the plan) and `--kv-cache-memory-bytes` = the planned
    per-GPU KV cache in whole blocks (vllm/v1/worker/gpu_worker.py determine_available_memory: when set, exactly
    that is allocated and gpu_memory_utilization no longer sizes the cache; it still bounds the free-memory check
    at start). vLLM's own start check (kv_cache_planning.check_enough_kv_cache_memory) then sees the planned
    blocks; the plan already refused anything below context x concurrency tokens."""
    p = model.placement
    flags = ["--tensor-parallel-size", str(p.tensor_parallel),
             "--max-model-len", str(model.max_context),
             "--gpu-memory-utilization", str(model.gpu_memory_utilization),
             "--max-num-seqs", str(model.concurrency),
             "--kv-cache-memory-bytes", str(p.kv_cache_bytes),
             # Quantized weights: vLLM picks the activation dtype the method supports from the checkpoint.
             "--dtype", DTYPE_FLAG.get(model.dtype, "auto") if model.quantization is None else "auto"]
    if model.kv_cache_dtype != "auto":
        flags += ["--kv-cache-dtype", KV_DTYPE_FLAG[model.kv_cache_dtype]]
    # A quantized checkpoint declares its method (quantization_config); naming it again can only force a slower
    # kernel (vLLM keeps an explicit `awq` off the Marlin kernel). Online FP8 of a 16-bit checkpoint and custom
    # architectures need the flag.
    if model.quantization is not None and model.checkpoint is None:
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
    """What is downloaded: the quantized checkpoint, or the 16-bit one (online FP8 quantizes it after download)."""
    if model.checkpoint is not None or model.weight_gib is not None:
        return model.weight_bytes / GIB
    return max(model.arch.weight_bytes(model.arch.dtype), model.weight_bytes) / GIB


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


def resource_share(pool: PoolSpec) -> tuple[int, int]:
    """(CPUs, GiB of memory) per GPU a replica requests on this pool's nodes."""
    if pool.instance is not None:
        return (max(1, min(16, int(pool.instance.vcpus / pool.instance.gpus * 0.75))),
                max(4, min(128, int(pool.instance.memory_gib / pool.instance.gpus * 0.75))))
    # Existing clusters: the node size is unknown to the program; a modest share that fits a workstation.
    return 4, 16


def resources(model: ModelSpec, pool: PoolSpec, cpu_limit: bool = False) -> dict:
    """GPU limit = tensor-parallel size; CPU and memory are this replica's share of the node (75%, leaving room
    for DaemonSets and the kubelet). The memory limit equals the request: a memory-backed /dev/shm is charged
    to it. No CPU limit: throttling the tokenizer/scheduler threads stalls the GPUs (the namespace's LimitRange
    adds none either, spec/platform.py Limits).

    `cpu_limit` is for KServe: its Hugging Face runtime declares `limits.cpu: "1"` (kserve v0.20.0
    charts/kserve-runtime-configs/files/runtimes/clusterservingruntimes-patch.yaml) and the controller
    strategic-merges our container onto it (MergeRuntimeContainers), so a limit we leave out becomes 1 CPU, below
    the request, and the predictor's pods are invalid. The limit set instead is the replica's whole share of the
    node's vCPUs: it throttles nothing the hardware could give; on an existing cluster (node size unknown) it
    equals the request."""
    tp = model.placement.tensor_parallel
    cpu_per_gpu, mem_per_gpu = resource_share(pool)
    if pool.instance is not None:
        cpu_max = max(cpu_per_gpu * tp, int(pool.instance.vcpus / pool.instance.gpus * tp))
    else:
        cpu_max = cpu_per_gpu * tp
    gpus = str(tp)
    memory = f"{mem_per_gpu * tp}Gi"
    limits = {"memory": memory, GPU_RESOURCE: gpus}
    if cpu_limit:
        limits = {"cpu": str(cpu_max), **limits}
    return {"requests": {"cpu": str(cpu_per_gpu * tp), "memory": memory, GPU_RESOURCE: gpus}, "limits": limits}


# --- scheduling ---------------------------------------------------------------------------------------------
def excluded_capacities(model: ModelSpec) -> tuple[str, ...]:
    """Capacity types a model must never run on: critical models stay off spot (sizing guarantees their pool has
    a non-spot group)."""
    return ("spot",) if model.priority == "critical" else ()


def pool_descriptors(model: ModelSpec, pools: Sequence[PoolDescriptor]) -> list[PoolDescriptor]:
    """Every capacity group of every pool the placement's pod template runs on (its pool and the fallback pools
    sizing checked) that the model may use, in the autoscaler's chain order (descriptor priority, higher first).
    Critical models never land on spot capacity (sizing guarantees each of their pools has a non-spot group)."""
    placed = model.placement.pools
    avoid = excluded_capacities(model)
    mine = [d for d in pools if d.name in placed]
    found = [d for d in mine if d.capacity not in avoid]
    for name in placed:
        if not any(d.name == name for d in found):
            raise ValueError(f"no pool descriptor for pool {name!r} (model {model.name})")
    unmarked = [d.node_group for d in mine if d.capacity in avoid and d.node_labels.get(LABEL_CAPACITY) != d.capacity]
    if unmarked:
        # The affinity can only keep pods off groups whose nodes say what they are (a cluster component's bug).
        raise ValueError(f"node groups {unmarked} lack the label {LABEL_CAPACITY} (model {model.name})")
    return sorted(found, key=lambda d: -d.priority)


def affinity(descriptors: Sequence[PoolDescriptor], avoid_capacities: Sequence[str] = ()) -> dict:
    """Required: a node of one of the pool's groups and, for each term, none of the avoided capacity types.
    Leaving those groups' descriptors out is not enough: spot and on-demand groups share the pool label, and the
    autoscalers (cluster-autoscaler, Karpenter, GKE's) fall through to spot exactly when on-demand runs out.
    Preferred: the groups in the autoscaler's order."""
    terms, seen = [], set()
    for d in descriptors:
        sel = d.node_selector()
        key = tuple(sorted(sel.items()))
        if key in seen:
            continue
        seen.add(key)
        exprs = [{"key": k, "operator": "In", "values": [v]} for k, v in sorted(sel.items())]
        if avoid_capacities:
            exprs.append(capacity_exclusion(avoid_capacities))
        terms.append({"matchExpressions": exprs})
    out: dict = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}
    preferred = []
    if len(descriptors) > 1:
        # With several pools a preference names the pool too, so the weights follow the whole chain
        # (pool A on-demand > pool A spot > pool B on-demand ...), not only the capacity type.
        several = len({d.name for d in descriptors}) > 1
        for rank, d in enumerate(descriptors):
            labels_ = {LABEL_CAPACITY: d.node_labels[LABEL_CAPACITY]} if LABEL_CAPACITY in d.node_labels \
                else dict(d.node_labels)
            if several:
                labels_ = {**d.node_selector(), **labels_}
            preferred.append({"weight": max(1, 100 - (50 if not several else 100 // len(descriptors)) * rank),
                              "preference": {"matchExpressions": [
                                  {"key": k, "operator": "In", "values": [v]} for k, v in sorted(labels_.items())]}})
        out["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return out


def tolerations(descriptors: Sequence[PoolDescriptor]) -> list[dict]:
    """Exactly the taints of the pool's groups (GPU taint with Exists, spot taints by value), no others."""
    return all_tolerations(descriptors)


def gpu_pod_scheduling(model: ModelSpec, descriptors: Sequence[PoolDescriptor]) -> dict:
    """Pod spec fields every GPU model pod shares, whatever the engine: its pool's nodes and their taints, spread
    across zones and nodes, its priority tier, pod security and the drain budget."""
    classes = {d.node_labels.get(GKE_COMPUTE_CLASS) for d in descriptors}
    # GKE applies a ComputeClass's fallback order to pods that select it with a nodeSelector (GKE "About custom
    # ComputeClasses"); the model's pools share one class (spec/pools.py pool_groups).
    selector = {"nodeSelector": {GKE_COMPUTE_CLASS: classes.pop()}} if len(classes) == 1 and None not in classes \
        else {}
    return {
        **selector,
        "affinity": affinity(descriptors, excluded_capacities(model)),
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
def probes(model: ModelSpec, port: object = "http", path: str = "/health", live_path: Optional[str] = None) -> dict:
    """The startup probe owns the whole model load (failureThreshold x period >= the load estimate); readiness
    and liveness only start once it has passed. `path` answers once the model is loaded; `live_path`, if given,
    is the liveness route of a server that answers before its model is ready."""
    budget = model_load_seconds(model)
    get = {"path": path, "port": port}
    return {
        "startupProbe": {"httpGet": get, "periodSeconds": STARTUP_PERIOD_SECONDS, "timeoutSeconds": 5,
                         "failureThreshold": int(math.ceil(budget / STARTUP_PERIOD_SECONDS))},
        "readinessProbe": {"httpGet": get, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": live_path or path, "port": port}, "periodSeconds": 15,
                          "timeoutSeconds": 10, "failureThreshold": 4},
    }


def container_security() -> dict:
    # The vLLM image runs as root, so runAsNonRoot cannot be set and the serving namespace is Pod Security
    # `baseline`. The Ray LLM and KServe runtime images' users were not checked; they get the same context
    # (KServe's runtime adds runAsNonRoot itself). Everything else is locked down.
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def pod_security() -> dict:
    return {"seccompProfile": {"type": "RuntimeDefault"}}


# The Hugging Face token reaches vLLM and Ray as a file, not an env var (an env var is readable in
# /proc/<pid>/environ, inherited by every child process and printed by crash dumps): huggingface_hub's get_token()
# reads HF_TOKEN, else the file at HF_TOKEN_PATH (huggingface_hub constants.py / utils/_auth.py). vLLM 0.33.0 passes
# no token of its own (engine/arg_utils.py `--hf-token` default None; envs.py reads no HF_TOKEN: read in the wheel),
# so huggingface_hub resolves it; Ray Serve LLM runs the same vLLM in the worker's environment. Mode 0440: with
# restrictedPods the non-root server reads it through fsGroup; otherwise the server runs as root.
HF_TOKEN_DIR = "/var/run/secrets/huggingface"
HF_TOKEN_FILE = "token"
HF_TOKEN_VOLUME = "hf-token"


def hf_env(hf_secret: Optional[str], optional: bool = False) -> list[dict]:
    if hf_secret is None:
        return []
    return [{"name": "HF_TOKEN_PATH", "value": f"{HF_TOKEN_DIR}/{HF_TOKEN_FILE}"}]


def hf_volumes(hf_secret: Optional[str], optional: bool = False) -> list[dict]:
    """The token Secret's one key as the file HF_TOKEN_PATH names; `optional` for models that are not gated."""
    if hf_secret is None:
        return []
    return [{"name": HF_TOKEN_VOLUME, "secret": {"secretName": hf_secret, "optional": optional, "defaultMode": 0o440,
                                                 "items": [{"key": HF_SECRET_KEY, "path": HF_TOKEN_FILE}]}}]


def hf_mounts(hf_secret: Optional[str]) -> list[dict]:
    if hf_secret is None:
        return []
    return [{"name": HF_TOKEN_VOLUME, "mountPath": HF_TOKEN_DIR, "readOnly": True}]


def shm_volume(tp: int) -> dict:
    return {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm_size_gi(tp)}Gi"}}


def timeout_seconds(model: ModelSpec) -> int:
    """What Pulumi waits for the workload: image pull plus model load, with the rollout of one pod at a time."""
    return IMAGE_PULL_SECONDS + model_load_seconds(model)
