"""The whole stack spec: every `llmfleet:*` key parsed once, validated together, before any resource exists.

Flow: stack config (Pulumi config) -> `load()` -> `StackSpec` -> stacks/compose.py -> components.
"""
import json
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from catalog.prices import PRICES, Price
from spec.clouds import CHECKS
from spec.cluster import CLOUDS, ClusterSpec, read_cluster
from spec.costguards import BudgetSpec, CostGuardsSpec, read_budget, read_cost_guards, read_cost_tags
from spec.environment import is_production
from spec.models import ModelSpec, place_models, read_model
from spec.nvidia import check_nvidia, read_nvidia, read_observability
from spec.platform import PlatformSpec, read_platform
from spec.pools import PoolSpec, check_untainted_node, read_pool
from spec.reader import ConfigError, Obj, Problems, nearest, unique
from spec.security import SecuritySpec, read_security, restrict_serving_namespace
from spec.serving import read_serving

PROJECT = "llmfleet"
# Keys that carry credentials: they must be set with `pulumi config set --secret`.
SECRET_KEYS = ("kubeconfig", "hfToken")


class SecretRef:
    """A secret config value, read as a Pulumi secret only where a resource needs it; never printable."""

    def __init__(self, key: str):
        self.key = key

    def output(self):
        import pulumi
        return pulumi.Config(PROJECT).require_secret(self.key)

    def __repr__(self) -> str:
        return f"SecretRef({PROJECT}:{self.key}=[secret])"


@dataclass(frozen=True)
class StackSpec:
    project: str
    stack: str
    environment: str
    cluster: ClusterSpec
    platform: PlatformSpec
    pools: tuple[PoolSpec, ...]
    models: tuple[ModelSpec, ...]
    prices: dict = field(default_factory=dict)       # "cloud/type" -> Price, catalog merged with overrides
    secrets: dict = field(default_factory=dict)      # key -> SecretRef
    # Layer specs, each read by its own module: spec/nvidia.py, spec/serving.py.
    nvidia: Any = None
    observability: Any = None
    serving: Any = None
    cost_guards: CostGuardsSpec = CostGuardsSpec()
    budget: Optional[BudgetSpec] = None
    security: SecuritySpec = SecuritySpec()

    @property
    def cloud(self) -> str:
        return self.cluster.cloud

    def pool(self, name: str) -> PoolSpec:
        return next(p for p in self.pools if p.name == name)


class _Root(Obj):
    """Top-level keys print as `llmfleet:key`, the way `pulumi config` names them."""

    def key_path(self, key: str) -> str:
        return f"{PROJECT}:{key}"


def load(raw: dict[str, Any], secret_keys: set[str], stack: str) -> StackSpec:
    """Parses the project's config (keys without the `llmfleet:` prefix). Raises ConfigError with every problem."""
    problems = Problems()
    o = _Root(raw, PROJECT, problems)
    cloud = o.str("cloud", choices=CLOUDS)
    environment = o.str("environment", stack, pattern=r"[a-z0-9-]{1,20}", hint="lowercase letters, digits, '-'")
    cluster_obj = o.obj("cluster")
    cluster = read_cluster(cluster_obj, cloud, stack, environment)
    cluster_obj.done()

    if cloud in CLOUDS:
        pools = o.objs("gpuPools", lambda p: read_pool(p, cloud), min_items=1)
    else:
        # Pools are checked against the cloud's catalog: with no valid cloud, only that one problem is reported.
        o.seen.add("gpuPools")
        pools = []
    unique(problems, o.key_path("gpuPools"), [p.name for p in pools], "pool")
    check_untainted_node(cluster.gpu_only, pools, problems, o.key_path("gpuPools"))
    check = CHECKS.get(cloud)
    raw_pools = raw.get("gpuPools")
    if check and isinstance(raw_pools, list) and len(pools) == len(raw_pools):   # indices match every item
        check(cluster, pools, problems)

    prices = dict(PRICES)
    prices.update(_read_prices(o.obj("prices")))

    models = o.objs("models", read_model)
    unique(problems, o.key_path("models"), [m.name for m in models], "model")
    sizing_inputs = (o.key_path("gpuPools"), o.key_path("models"), o.key_path("prices"), o.key_path("cloud"))
    if not any(line.startswith(sizing_inputs) for line in problems.lines):
        # Placement needs valid pools and models; its problems are reported with everything else (an unrelated
        # mistake elsewhere in the stack file does not hide them).
        models = place_models(models, pools, prices, cloud, o)

    platform_obj = o.obj("platform")
    platform = read_platform(platform_obj, default_gpu_quota=sum(p.max_nodes * p.gpus_per_node for p in pools))
    platform_obj.done()

    nvidia_obj = o.obj("nvidia")
    nvidia = read_nvidia(nvidia_obj)
    if cloud and not problems.lines:
        check_nvidia(nvidia_obj, nvidia, pools, cloud, o.key_path("gpuPools"))
    nvidia_obj.done()
    observability_obj = o.obj("observability")
    observability = read_observability(observability_obj)
    observability_obj.done()

    secrets = {}
    for key in SECRET_KEYS:
        o.seen.add(key)
        if key in raw:
            if key not in secret_keys:
                o.error(key, f"holds a credential: set it with `pulumi config set --secret {PROJECT}:{key}`")
            secrets[key] = SecretRef(key)
    if cloud == "existing" and "kubeconfig" not in raw:
        o.error("kubeconfig", "is required when cloud is existing (the cluster's kubeconfig, as a secret)")
    if cloud in ("aws", "gcp", "azure") and "kubeconfig" in raw:
        o.error("kubeconfig", f"only applies when cloud is existing; the {cloud} cluster's kubeconfig is built")

    serving_obj = o.obj("serving")
    serving = read_serving(serving_obj, models, secrets, cloud, platform, o,
                           kubernetes_version=getattr(cluster, "kubernetes_version", None))
    serving_obj.done()

    guards_obj = o.obj("costGuards")
    cost_guards = read_cost_guards(guards_obj)
    guards_obj.done()
    budget_obj = o.obj("budget")
    budget = read_budget(budget_obj, cloud)
    budget_obj.done()
    if "budget" not in raw and cloud in ("aws", "gcp", "azure") and is_production(environment):
        o.error("budget", f"is required in a production environment ({environment!r}): {{monthly, contacts, "
                          f"alerts}}, so the cloud alerts before a month overruns (docs/cost-guards.md)")
    security_obj = o.obj("security")
    security = read_security(security_obj, serving.namespace if serving is not None else "llm-serving")
    security_obj.done()
    if security.network_policies and cloud == "azure" and getattr(cluster.settings, "network_policy", None) == "none":
        o.problems.add(f"{PROJECT}:cluster.azure.networkPolicy",
                       "none enforces no NetworkPolicy, but llmfleet:security.networkPolicies renders them: use "
                       "cilium (networkDataplane cilium) or azure, or set llmfleet:security.networkPolicies false")
    if security.restricted_pods and serving is not None:
        platform = restrict_serving_namespace(platform, serving.namespace)
        for i, m in enumerate(models):
            if getattr(getattr(m, "cache", None), "mode", None) == "shared" and cloud in ("gcp", "azure"):
                o.problems.add(f"{PROJECT}:security.restrictedPods",
                               f"model {m.name}'s shared cache is an NFS share ({cloud}) that ignores fsGroup, so "
                               f"the non-root server cannot write it: use cache mode per-replica or none, or leave "
                               f"restrictedPods off")
    tags_obj = o.obj("costTags")
    cluster = replace(cluster, tags=read_cost_tags(tags_obj, environment))
    tags_obj.done()

    o.done()
    problems.raise_if_any()
    return StackSpec(project=PROJECT, stack=stack, environment=environment, cluster=cluster, platform=platform,
                     pools=tuple(pools), models=tuple(models), prices=prices, secrets=secrets,
                     nvidia=nvidia, observability=observability, serving=serving,
                     cost_guards=cost_guards, budget=budget, security=security)


def _read_prices(o: Obj) -> dict[str, Price]:
    out = {}
    for key in list(o):
        item = o.obj(key)
        if "/" not in key:
            o.error(key, "must be cloud/instanceType, e.g. aws/p5.48xlarge")
        on_demand = item.float("onDemand", min=0)
        spot = item.float("spot", None, min=0)
        as_of = item.str("asOf", "stack override")
        item.done()
        out[key] = Price(on_demand, spot, "stack override", as_of, "llmfleet:prices")
    return out


def project_config(all_config: dict[str, Any]) -> dict[str, Any]:
    """`llmfleet:*` entries of Pulumi's config, values decoded the way `Config.get_object` does."""
    out = {}
    for full, value in all_config.items():
        ns, _, key = full.partition(":")
        if ns != PROJECT:
            continue
        if isinstance(value, str) and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        out[key] = value
    return out


def from_pulumi() -> StackSpec:
    """Reads the running program's config (what `pulumi up` or the offline plan provides)."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    raw = project_config(merged)
    return load(raw, {k.partition(":")[2] for k in secret_keys if k.startswith(PROJECT + ":")},
                 pulumi.get_stack())


__all__ = ["ConfigError", "StackSpec", "SecretRef", "load", "from_pulumi", "PROJECT", "nearest", "replace"]
