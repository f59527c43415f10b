"""The NVIDIA layer (`llmfleet:nvidia`) and the observability base (`llmfleet:observability`), and the plan-time
checks that keep the NVIDIA stack consistent with the pools (one owner each for driver, toolkit, device plugin).

Example stack config:
    llmfleet:nvidia:
      stack: gpu-operator        # or device-plugin (standalone NVIDIA device plugin + GPU Feature Discovery)
      dcgmExporter: true
      migStrategy: mixed         # single | mixed
      devicePlugin: true         # optional assertion: "the operator must run the device plugin"; checked per pool
    llmfleet:observability:
      retention: 15d
      retentionSize: 45GB
      storageSize: 50Gi
      grafana: true
      alerts: {gpuMemoryFullPercent: 97, gpuIdlePercent: 5, gpuIdleMinutes: 15, gpuTemperatureC: 85}
"""
from dataclasses import dataclass, field
from typing import Optional, Sequence

from catalog.drivers import driver_ownership
from spec.nvidia_labels import DEPLOY_LABELS, cloud_managed, mig_partitioned_by, nvidia_node_labels, operator_flags
from spec.platform import QUANTITY, QUANTITY_HINT
from spec.pools import PoolSpec
from spec import limits as L
from spec.reader import Obj
from spec.slo import AlertmanagerSpec

NVIDIA_STACKS = ("gpu-operator", "device-plugin")
MIG_STRATEGIES = ("single", "mixed")
DURATION = r"[0-9]+(ms|s|m|h|d|w|y)"
DURATION_HINT = "a Prometheus duration such as 15d, 12h, 2w"
BYTE_SIZE = r"[0-9]+(\.[0-9]+)?(B|KB|MB|GB|TB|PB|EB)"
BYTE_SIZE_HINT = "a Prometheus byte size such as 45GB, 500MB"
# What the GPU Operator would install for each ownership part, as the user names it in config.
_PARTS = {"driver": "driver", "toolkit": "toolkit", "devicePlugin": "device_plugin"}
_OWNER_WORDS = {"image": "the node image", "cloud": "the cloud", "host": "the host", "operator": "the GPU Operator"}


@dataclass(frozen=True)
class NvidiaSpec:
    stack: str = "gpu-operator"
    dcgm_exporter: bool = True
    mig_strategy: str = "mixed"
    gfd: bool = True                         # GPU Feature Discovery labels (nvidia.com/gpu.product, .memory ...)
    # Optional assertions about what the operator installs; None = derived from the pools' driver ownership.
    driver: Optional[bool] = None
    toolkit: Optional[bool] = None
    device_plugin: Optional[bool] = None


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    memory_limit: str

    def values(self) -> dict:
        # No CPU limit: throttling Prometheus during compaction only makes queries slow; memory is bounded.
        return {"requests": {"cpu": self.cpu_request, "memory": self.memory_request},
                "limits": {"memory": self.memory_limit}}


@dataclass(frozen=True)
class Alerts:
    gpu_memory_full_percent: float = 97.0    # vLLM preallocates ~90-92% of GPU memory: alert only above that
    gpu_idle_percent: float = 5.0            # GPU utilisation under which a GPU counts as idle
    gpu_idle_minutes: int = 15
    gpu_temperature_c: float = 85.0
    missing_gpu_minutes: int = 15            # node up but its GPUs absent from allocatable (driver/plugin broken)


@dataclass(frozen=True)
class ObservabilitySpec:
    retention: str = "15d"
    retention_size: str = "45GB"             # below storage_size so Prometheus trims before the volume fills
    storage_size: str = "50Gi"
    storage_class: str = ""                  # "" = the cluster's default StorageClass
    resources: Resources = Resources("500m", "2Gi", "4Gi")
    grafana: bool = True
    alerts: Alerts = field(default_factory=Alerts)
    alertmanager: AlertmanagerSpec = AlertmanagerSpec()   # receivers (spec/slo.py), read in spec/stack.py


def read_nvidia(o: Obj) -> NvidiaSpec:
    return NvidiaSpec(
        stack=o.str("stack", "gpu-operator", choices=NVIDIA_STACKS),
        dcgm_exporter=o.bool("dcgmExporter", True),
        mig_strategy=o.str("migStrategy", "mixed", choices=MIG_STRATEGIES),
        gfd=o.bool("gpuFeatureDiscovery", True),
        driver=o.bool("driver", None),
        toolkit=o.bool("toolkit", None),
        device_plugin=o.bool("devicePlugin", None))


def read_observability(o: Obj) -> ObservabilitySpec:
    d = ObservabilitySpec()
    r = o.obj("resources")
    resources = Resources(
        r.str("cpuRequest", d.resources.cpu_request, pattern=QUANTITY, hint=QUANTITY_HINT),
        r.str("memoryRequest", d.resources.memory_request, pattern=QUANTITY, hint=QUANTITY_HINT),
        r.str("memoryLimit", d.resources.memory_limit, pattern=QUANTITY, hint=QUANTITY_HINT))
    r.done()
    a = o.obj("alerts")
    da = Alerts()
    alerts = Alerts(
        gpu_memory_full_percent=a.float("gpuMemoryFullPercent", da.gpu_memory_full_percent, limit=L.ALERT_MEMORY_FULL_PERCENT),
        gpu_idle_percent=a.float("gpuIdlePercent", da.gpu_idle_percent, limit=L.ALERT_PERCENT),
        gpu_idle_minutes=a.int("gpuIdleMinutes", da.gpu_idle_minutes, limit=L.ALERT_MINUTES),
        gpu_temperature_c=a.float("gpuTemperatureC", da.gpu_temperature_c, limit=L.ALERT_TEMPERATURE_C),
        missing_gpu_minutes=a.int("missingGpuMinutes", da.missing_gpu_minutes, limit=L.ALERT_MINUTES))
    a.done()
    return ObservabilitySpec(
        retention=o.str("retention", d.retention, pattern=DURATION, hint=DURATION_HINT),
        retention_size=o.str("retentionSize", d.retention_size, pattern=BYTE_SIZE, hint=BYTE_SIZE_HINT),
        storage_size=o.str("storageSize", d.storage_size, pattern=QUANTITY, hint=QUANTITY_HINT),
        storage_class=o.str("storageClass", d.storage_class),
        resources=resources,
        grafana=o.bool("grafana", d.grafana),
        alerts=alerts)


def check_nvidia(o: Obj, nv: NvidiaSpec, pools: Sequence[PoolSpec], cloud: str, pools_path: str,
                 paths: Optional[Sequence[str]] = None) -> None:
    """Contradictions between the NVIDIA stack and the pools, one line each. `o` is the `llmfleet:nvidia` object;
    `paths` are the pools' own paths (the caller passes only pools without problems of their own)."""
    owners = [driver_ownership(cloud, p.image, p.driver) for p in pools]
    flags = operator_flags(owners)

    for key, part in _PARTS.items():
        forced = getattr(nv, part)
        if forced is None:
            continue
        for p, own in zip(pools, owners):
            owner = getattr(own, part)
            if forced and owner != "operator":
                o.error(key, f"is true, but pool {p.name!r} gets its {key} from {_OWNER_WORDS[owner]} "
                             f"({own.note}); installing a second one breaks the node: remove {key} or change the pool")
                break
            if not forced and owner == "operator":
                o.error(key, f"is false, but pool {p.name!r} has nobody else to install its {key} ({own.note}); "
                             f"remove {key} or change the pool")
                break

    if nv.stack == "device-plugin":
        for p, own in zip(pools, owners):
            needs = [k for k, part in (("driver", "driver"), ("toolkit", "toolkit")) if getattr(own, part) == "operator"]
            if needs:
                o.error("stack", f"device-plugin installs no {' or '.join(needs)}, but pool {p.name!r} needs "
                                 f"{' and '.join(needs)} from the GPU Operator ({own.note}); use gpu-operator")
                break
        for p, own in zip(pools, owners):
            if p.sharing.mode == "mig" and mig_partitioned_by(cloud, own) == "operator":
                o.error("stack", f"device-plugin has no MIG manager to partition pool {p.name!r}'s GPUs "
                                 f"({p.sharing.mig_profile}); use gpu-operator")
                break

    for i, (p, own) in enumerate(zip(pools, owners)):
        path = paths[i] if paths else f"{pools_path}[{i}]"
        if p.sharing.mode != "none" and own.device_plugin == "image":
            o.problems.add(f"{path}.sharing.mode", f"{p.sharing.mode} needs our device plugin config, but "
                           f"{p.image} runs the image's own device plugin; use image al2023-nvidia or mode none")
        if p.sharing.mode == "mig" and p.sharing.mig_profile.endswith("+me"):
            o.problems.add(f"{path}.sharing.migProfile", f"media-extension profiles ({p.sharing.mig_profile!r}) "
                           f"have no all-<profile> MIG config; use one without '+me'")
        if cloud == "existing" and not cloud_managed(own):
            # Existing nodes cannot be relabelled by this program: they must already carry what the layer needs.
            labels = nvidia_node_labels(p.name, cloud, own, p.sharing)
            for part, on in flags.items():
                if not on:
                    labels.pop(DEPLOY_LABELS[part], None)
            missing = {k: v for k, v in labels.items() if p.labels.get(k) != v}
            if missing:
                want = ", ".join(f"{k}: {v!r}" for k, v in missing.items())
                o.problems.add(f"{path}.labels", f"the pool's nodes must carry {want} (label them with kubectl "
                               f"label node, then list the labels here)")
