"""Platform namespaces, Pod Security levels, quotas and priority tiers (`llmfleet:platform`).

Namespace names used by the other layers are defined here once, so every layer agrees on them.
"""
from dataclasses import dataclass, field
from typing import Optional

from spec import limits as L
from spec.reader import DNS_LABEL, DNS_LABEL_HINT, Obj, unique

POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
QUANTITY = r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?"
QUANTITY_HINT = "a Kubernetes quantity such as 500m, 4, 16Gi"

# Namespaces the layers install into. The NVIDIA layer and Prometheus node exporters need host access, hence
# `privileged`; serving runs model servers only, so `baseline` (the vLLM image runs as root, which `restricted`
# forbids).
SERVING_NAMESPACE = "llm-serving"
GPU_OPERATOR_NAMESPACE = "gpu-operator"
MONITORING_NAMESPACE = "monitoring"
SYSTEM_NAMESPACE = "llm-system"       # controllers: KEDA, KServe, KubeRay, prometheus-adapter
# The kube-prometheus-stack release (and its fullname, so object names do not depend on Helm's truncation rules):
# the serving layer's autoscalers query this Prometheus.
PROMETHEUS_RELEASE = "kube-prometheus-stack"
PROMETHEUS_URL = f"http://{PROMETHEUS_RELEASE}-prometheus.{MONITORING_NAMESPACE}.svc:9090"

DEFAULT_NAMESPACES = {
    SERVING_NAMESPACE: "baseline",
    GPU_OPERATOR_NAMESPACE: "privileged",
    MONITORING_NAMESPACE: "privileged",
    SYSTEM_NAMESPACE: "baseline",
}
# Why a namespace the program owns enforces less than `restricted`: its `llmfleet.io/why` annotation, so that whoever
# reads the cluster sees the reason next to the level (docs/security.md, Pod security).
LEVEL_REASONS = {
    SERVING_NAMESPACE: "the vLLM image runs as root by default; llmfleet:security.restrictedPods runs it as UID 2000 "
                       "and enforces restricted",
    GPU_OPERATOR_NAMESPACE: "the GPU driver, container toolkit and device plugin need host access",
    MONITORING_NAMESPACE: "node-exporter reads the host's /proc and /sys with host networking and PID",
    SYSTEM_NAMESPACE: "chart controllers whose pod specs the plan does not render, so restricted cannot be shown to "
                      "admit them",
}


def pod_security_why(name: str, level: str) -> str:
    """The reason a namespace is not `restricted` ("" when it is)."""
    if level == "restricted":
        return ""
    return LEVEL_REASONS.get(name, "set in llmfleet:platform.namespaces")


@dataclass(frozen=True)
class PriorityTier:
    name: str
    value: int
    preempts: bool
    description: str


# Serving tiers, highest first. Batch never preempts: it waits for room instead of evicting live traffic.
PRIORITY_TIERS: dict[str, PriorityTier] = {t.name.removeprefix("llm-"): t for t in (
    PriorityTier("llm-critical", 1_000_000, True, "Production inference that must not be evicted for other LLM work."),
    PriorityTier("llm-standard", 100_000, True, "Default tier for model servers."),
    PriorityTier("llm-batch", 1_000, False, "Offline and batch inference; waits rather than preempting."),
)}
DEFAULT_TIER = "standard"


@dataclass(frozen=True)
class Quota:
    gpus: Optional[int] = None            # requests.nvidia.com/gpu
    cpu: Optional[str] = None             # requests.cpu
    memory: Optional[str] = None          # requests.memory
    pods: Optional[int] = None


@dataclass(frozen=True)
class Limits:
    """Container defaults so pods without requests still get scheduled sanely (no GPU default: GPUs are explicit).

    CPU policy, the same in every namespace: every container gets a CPU *request* (its own or defaultRequestCpu,
    which also satisfies a quota on requests.cpu), and no default CPU *limit*. LimitRanger adds `default` as the
    limit of any container that has none, and the API server then rejects a request above it (FACTS-cluster.md
    section 4): model servers request several CPUs per GPU without a limit (throttling stalls the GPUs), and
    node agents and charts do the same. The one CPU limit the program sets is on KServe predictors, whose runtime
    would otherwise inject its own (components/serving/common.py)."""
    default_cpu: Optional[str] = None      # only on the user's own namespaces (read_platform)
    default_memory: str = "1Gi"
    default_request_cpu: str = "100m"
    default_request_memory: str = "256Mi"


@dataclass(frozen=True)
class NamespaceSpec:
    name: str
    pod_security: str
    quota: Optional[Quota] = None
    limits: Limits = Limits()


@dataclass(frozen=True)
class PlatformSpec:
    namespaces: tuple[NamespaceSpec, ...] = field(default_factory=tuple)

    def namespace(self, name: str) -> NamespaceSpec:
        return next(n for n in self.namespaces if n.name == name)


def read_platform(o: Obj, default_gpu_quota: int) -> PlatformSpec:
    """Defaults first; a namespace listed in config overrides the default of the same name or adds one."""
    given = o.objs("namespaces", lambda n: _read_namespace(n, program_namespaces=DEFAULT_NAMESPACES))
    unique(o.problems, o.key_path("namespaces"), [n.name for n in given], "namespace")
    by_name = {}
    for name, level in DEFAULT_NAMESPACES.items():
        quota = Quota(gpus=default_gpu_quota) if name == SERVING_NAMESPACE else None
        by_name[name] = NamespaceSpec(name, level, quota)
    for i, ns in enumerate(given):
        default_level = DEFAULT_NAMESPACES.get(ns.name)
        if default_level == "privileged" and ns.pod_security != "privileged":
            o.problems.add(f"{o.key_path('namespaces')}[{i}].podSecurity",
                           f"{ns.name} runs node agents that need host access: must stay privileged")
        by_name[ns.name] = ns
    return PlatformSpec(tuple(by_name.values()))


def default_cpu_problem(namespace: str) -> str:
    return (f"{namespace} runs this program's pods, which request CPU without a CPU limit: LimitRanger would make "
            f"this their limit and the API server rejects every pod requesting more; leave it unset "
            f"(a default CPU limit is allowed on your own namespaces)")


def _read_namespace(o: Obj, program_namespaces=()) -> NamespaceSpec:
    name = o.str("name", pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    level = o.str("podSecurity", "baseline", choices=POD_SECURITY_LEVELS)
    q = o.obj("quota")
    quota = None
    if q.ok:
        quota = Quota(gpus=q.int("gpus", None, limit=L.QUOTA_GPUS), cpu=q.str("cpu", None, pattern=QUANTITY, hint=QUANTITY_HINT),
                      memory=q.str("memory", None, pattern=QUANTITY, hint=QUANTITY_HINT),
                      pods=q.int("pods", None, limit=L.QUOTA_PODS))
        q.done()
    lr = o.obj("limits")
    limits = Limits()
    if lr.ok:
        default_cpu = lr.str("defaultCpu", None, pattern=QUANTITY, hint=QUANTITY_HINT)
        if default_cpu is not None and name in program_namespaces:
            lr.error("defaultCpu", default_cpu_problem(name))
        limits = Limits(
            default_cpu=default_cpu,
            default_memory=lr.str("defaultMemory", Limits.default_memory, pattern=QUANTITY, hint=QUANTITY_HINT),
            default_request_cpu=lr.str("defaultRequestCpu", Limits.default_request_cpu, pattern=QUANTITY,
                                       hint=QUANTITY_HINT),
            default_request_memory=lr.str("defaultRequestMemory", Limits.default_request_memory, pattern=QUANTITY,
                                          hint=QUANTITY_HINT))
        lr.done()
    return NamespaceSpec(name, level, quota, limits)
