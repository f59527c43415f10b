"""The whole stack spec: every `llmfleet:*` key parsed once, validated together, before any resource exists.

Flow: stack config (Pulumi config) -> `load()` -> `StackSpec` -> stacks/compose.py -> components.
"""
import inspect
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Optional, Sequence

from catalog.gpus import instance
from catalog.prices import PRICES, Price
from spec.clouds import CHECKS
from spec.cluster import CLOUDS, ClusterSpec, read_cluster
from spec.costguards import BudgetSpec, CostGuardsSpec, read_budget, read_cost_guards, read_cost_tags
from spec.environment import is_production
from spec.gateway import GatewaySpec, read_gateway
from spec.models import ModelSpec, place_models, read_model
from spec.nvidia import check_nvidia, read_nvidia, read_observability
from spec.platform import PlatformSpec, read_platform
from spec.rag import RagSpec, read_rag
from spec.routing import RoutingSpec, read_routing
from spec.pools import PoolSpec, check_untainted_node, read_pool
from spec import limits as L
from spec.reader import ConfigError, Obj, Problems, nearest, unique
from spec.images import ImagesSpec, read_images
from spec.secrets import check_secrets
from spec.security import SecuritySpec, read_security, restrict_serving_namespace
from spec.serving import read_serving
from spec.slo import read_alertmanager

PROJECT = "llmfleet"
# Every key `load` reads; a stack file that puts one of them outside `config:` is told so (plan/stackfile.py).
TOP_LEVEL_KEYS = ("cloud", "environment", "cluster", "gpuPools", "models", "platform", "nvidia", "observability",
                  "serving", "prices", "kubeconfig", "hfToken", "images")
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
    rag: Optional[RagSpec] = None
    gateway: Optional[GatewaySpec] = None     # the public HTTPS endpoint (spec/gateway.py)
    routing: Optional[RoutingSpec] = None     # model routing on that endpoint (spec/routing.py); set with gateway
    security: SecuritySpec = SecuritySpec()
    images: ImagesSpec = ImagesSpec()         # per-image overrides (spec/images.py)

    @property
    def cloud(self) -> str:
        return self.cluster.cloud

    def pool(self, name: str) -> PoolSpec:
        return next(p for p in self.pools if p.name == name)


class _Root(Obj):
    """Top-level keys print as `llmfleet:key`, the way `pulumi config` names them."""

    def key_path(self, key: str) -> str:
        return f"{PROJECT}:{key}"


def load(raw: dict[str, Any], secret_keys: set[str], stack: str, other_keys: Iterable[str] = ()) -> StackSpec:
    """Parses the project's config (keys without the `llmfleet:` prefix). Raises ConfigError with every problem.

    `other_keys` are the full names of config keys in other namespaces (`aws:region`): allowed, as Pulumi allows
    them, except a near-miss of this project's namespace, which would silently drop the key.

    Every rule runs on the parts that are valid: a rejected value is reported once, at its key, and rules that
    combine it with others skip it (spec/reader.py `Obj.valid`, `Problems.under`), so a file with N independent
    problems prints N lines.
    """
    problems = Problems()
    o = _Root(raw, PROJECT, problems)
    _check_namespaces(other_keys, problems)
    # None when missing or rejected: every rule that depends on the cloud is skipped rather than run on a guess.
    cloud = o.str("cloud", choices=CLOUDS) or None
    environment = _read_environment(o, raw, stack)
    cluster_obj = o.obj("cluster")
    cluster = read_cluster(cluster_obj, cloud, stack, environment)
    cluster_obj.done()

    pool_items = o.items("gpuPools", lambda p: read_pool(p, cloud), min_items=1)
    pool_paths = [path for path, _ in pool_items]
    pools = [pool for _, pool in pool_items]
    unique(problems, o.key_path("gpuPools"), [p.name for p in pools], "pool", paths=pool_paths)
    check_untainted_node(cluster.gpu_only, pools, problems, o.key_path("gpuPools"))
    valid = [(path, p) for path, p in pool_items if not problems.under(path)]
    check = CHECKS.get(cloud or "")
    if check and cluster.settings is not None:
        _run_rule(problems, lambda scratch: _call_check(check, cluster, valid, pool_items, scratch),
                  depends_on=[] if cluster_obj.valid("region", "zones") else
                  [o.key_path("cluster") + ".zones"] + [f"{path}.zones" for path, _ in valid])

    prices = dict(PRICES)
    prices.update(_read_prices(o.obj("prices")))

    model_items = o.items("models", read_model)
    model_paths = [path for path, _ in model_items]
    models = [m for _, m in model_items]
    unique(problems, o.key_path("models"), [m.name for m in models], "model", paths=model_paths)
    # Names the stack file gives its pools, also those rejected at their own key: a model naming one of them is
    # not told that the pool does not exist.
    raw_pools = raw.get("gpuPools") if isinstance(raw.get("gpuPools"), list) else []
    known = [str(p.get("name")) for p in raw_pools if isinstance(p, dict) and p.get("name") is not None]
    # With a pool item that names no pool (not an object, no name) or no readable list, a model's reference
    # cannot be called unknown: it may name exactly that pool.
    names_known = o.valid("gpuPools") or (
        isinstance(raw.get("gpuPools"), list) and all(isinstance(p, dict) and isinstance(p.get("name"), str)
                                                      for p in raw_pools))
    models = place_models(models, pools, prices, cloud or "", o, paths=model_paths, pool_paths=pool_paths,
                          known_pools=known, sizing=cloud is not None and o.valid("prices"),
                          names_known=names_known)

    platform_obj = o.obj("platform")
    quota_known = o.valid("gpuPools")
    platform = read_platform(platform_obj, default_gpu_quota=sum(p.max_nodes * p.gpus_per_node for p in pools)
                             if quota_known else 0)
    platform_obj.done()

    nvidia_obj = o.obj("nvidia")
    nvidia = read_nvidia(nvidia_obj)
    if cloud is not None and not problems.under(o.key_path("nvidia")):
        # Contradictions between the NVIDIA layer and the pools, checked against every valid pool.
        check_nvidia(nvidia_obj, nvidia, [p for _, p in valid], cloud, o.key_path("gpuPools"),
                     paths=[path for path, _ in valid])
    nvidia_obj.done()
    observability_obj = o.obj("observability")
    observability = read_observability(observability_obj)
    observability = replace(observability, alertmanager=read_alertmanager(
        observability_obj.obj("alertmanager"), "observability" in secret_keys, o.key_path("observability")))
    observability_obj.done()

    secrets = {}
    for key in SECRET_KEYS:
        o.seen.add(key)
        if key in raw:
            if key not in secret_keys:
                o.error(key, f"holds a credential: set it with `pulumi config set --secret {PROJECT}:{key}`")
            secrets[key] = SecretRef(key)
    if cloud == "existing" and "kubeconfig" not in raw:
        problems.secret_missing(o.key_path("kubeconfig"), "kubeconfig",
                                "is required when cloud is existing: set it with `pulumi config set --secret "
                                "llmfleet:kubeconfig -- \"$(cat kubeconfig.yaml)\"`")
    if cloud in ("aws", "gcp", "azure") and "kubeconfig" in raw:
        o.error("kubeconfig", f"only applies when cloud is existing; the {cloud} cluster's kubeconfig is built")

    # The token's source decides whether llmfleet:hfToken is required (spec/secrets.py); read here only to know it.
    raw_secrets = (raw.get("security") or {}).get("secrets") if isinstance(raw.get("security"), dict) else None
    sealed = isinstance(raw_secrets, dict) and raw_secrets.get("source") == "sealed"
    serving_obj = o.obj("serving")
    serving = read_serving(serving_obj, [m for m in models], secrets, cloud, platform, o,
                           kubernetes_version=cluster.kubernetes_version if cluster_obj.valid("kubernetesVersion")
                           else None, model_paths=model_paths, hf_token_required=not sealed)
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
    serving_ns = serving.namespace if serving is not None else "llm-serving"
    security = read_security(security_obj, serving_ns, cloud)
    check_secrets(problems, security_obj.key_path("secrets"), security.secrets, models, serving_ns,
                  "hfToken" in secrets, o.key_path("hfToken"))
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
    rag = read_rag(o.obj("rag"), models, pools, cloud, environment)
    if rag is not None and rag.namespace not in security.model_clients:
        # The RAG front end calls its LLM's Service: the RAG namespace is a model client.
        security = replace(security, model_clients=(*security.model_clients, rag.namespace))

    gateway_obj = o.obj("gateway")
    gateway = read_gateway(gateway_obj, environment)
    gateway_obj.done()
    images_obj = o.obj("images")
    images = read_images(images_obj)
    serving, rag = apply_images(images, serving, rag, raw, o)
    routing = read_routing(o.obj("routing"), models, gateway is not None)

    o.done()
    problems.raise_if_any()
    return StackSpec(project=PROJECT, stack=stack, environment=environment, cluster=cluster, platform=platform,
                     pools=tuple(pools), models=tuple(models), prices=prices, secrets=secrets,
                     nvidia=nvidia, observability=observability, serving=serving,
                     cost_guards=cost_guards, budget=budget, rag=rag, security=security,
                     gateway=gateway, images=images, routing=routing)


def apply_images(images: ImagesSpec, serving, rag, raw: dict, o: Obj):
    """`llmfleet:images` overrides of images that also have their own key: one of the two, not both."""
    serving_raw = raw.get("serving") if isinstance(raw.get("serving"), dict) else {}
    rag_raw = raw.get("rag") if isinstance(raw.get("rag"), dict) else {}
    embedding_raw = rag_raw.get("embedding") if isinstance(rag_raw.get("embedding"), dict) else {}
    for name, key, given in (("vllm", "serving.vllmImage", "vllmImage" in serving_raw),
                             ("tei", "rag.embedding.image", "image" in embedding_raw)):
        if name in images.overrides and given:
            o.problems.add(f"{PROJECT}:images.{name}", f"and {PROJECT}:{key} both set the image: keep one")
    if "vllm" in images.overrides and serving is not None:
        serving = replace(serving, vllm_image=images.overrides["vllm"])
    if "tei" in images.overrides and rag is not None:
        rag = replace(rag, embedding=replace(rag.embedding, image=images.overrides["tei"]))
    return serving, rag


ENVIRONMENT = r"[a-z0-9-]{1,20}"
ENVIRONMENT_HINT = "1-20 lowercase letters, digits or '-'"


def _read_environment(o: Obj, raw: dict[str, Any], stack: str) -> str:
    """`llmfleet:environment`, defaulting to the stack name. Pulumi.yaml declares it with default "", and the CLI
    passes that default to the program for a stack that does not set it: "" means "not set" here."""
    if raw.get("environment") == "":
        o.seen.add("environment")
        value = None
    else:
        value = o.str("environment", None, pattern=ENVIRONMENT, hint=ENVIRONMENT_HINT)
        if not o.valid("environment"):
            return stack
    if value is None:
        if not re.fullmatch(ENVIRONMENT, stack):
            o.reject("environment", f"is not set, and its default, the stack name {stack!r}, is not "
                                    f"{ENVIRONMENT_HINT}: set it")
        return stack
    return value


# Namespaces of the providers this program uses, and of Pulumi itself: their keys configure the providers.
PROVIDER_NAMESPACES = ("aws", "gcp", "azure", "azure-native", "kubernetes", "pulumi", "tls", "random")


def near_miss(full: str) -> bool:
    """Whether `full` is in a namespace one or two edits away from `llmfleet` (a typo that drops the key)."""
    ns = full.partition(":")[0]
    if ns in PROVIDER_NAMESPACES or ns == PROJECT:
        return False
    return _edits(ns.strip().lower(), PROJECT) <= 2


def _check_namespaces(other_keys: Iterable[str], problems: Problems) -> None:
    for full in sorted(other_keys):
        if near_miss(full):
            ns, _, key = full.partition(":")
            problems.add(full if full == full.strip() else repr(full),
                         f"namespace {ns!r} is not this project's (did you mean '{PROJECT}:{key.strip()}'?); keys "
                         f"of other namespaces are passed to their provider, so this one would be ignored")


def _edits(a: str, b: str) -> int:
    """Levenshtein distance (short strings only)."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _call_check(check, cluster, valid: list, pool_items: list, problems: Problems) -> None:
    """A cloud check on the valid pools, told each pool's own path. A check written without `paths` names pools by
    position, so it runs only when every listed pool is valid and none was skipped (positions then match)."""
    if "paths" in inspect.signature(check).parameters:
        check(cluster, [p for _, p in valid], problems, paths=[path for path, _ in valid])
    elif len(valid) == len(pool_items) and all(path.endswith(f"[{i}]") for i, (path, _) in enumerate(valid)):
        check(cluster, [p for _, p in valid], problems)


def _run_rule(problems: Problems, rule, depends_on: Sequence[str] = ()) -> None:
    """Runs a rule that spans several keys into a scratch list and keeps only lines at their cause: none on a key
    that already has a problem (that key is reported once), none under `depends_on` (keys whose check needs a value
    that was rejected)."""
    scratch = Problems()
    rule(scratch)
    for path, line in zip(scratch.paths, scratch.lines):
        if problems.under(path) or any(path == d or path.startswith((d + ".", d + "[")) for d in depends_on):
            continue
        problems.add(path, line[len(path) + 2:])


def _read_prices(o: Obj) -> dict[str, Price]:
    out = {}
    for key in list(o):
        item = o.obj(key)
        cloud, _, type_name = str(key).partition("/")
        if not type_name:
            o.error(key, "must be cloud/instanceType, e.g. aws/p5.48xlarge")
        elif instance(cloud, type_name) is None:
            # A price for a type no pool can use would be ignored without a word.
            o.error(key, f"{type_name!r} is not a GPU type this program knows on {cloud!r}; a price for it would "
                         f"never be used (clouds: aws, azure, gcp)")
        on_demand = item.float("onDemand", limit=L.PRICE_PER_HOUR)
        spot = item.float("spot", None, limit=L.PRICE_PER_HOUR)
        as_of = item.str("asOf", "stack override")
        item.done()
        out[key] = Price(on_demand, spot, "stack override", as_of, "llmfleet:prices")
    return out


def missing_secrets(config: dict[str, str], secret_keys: Sequence[str], stack: str) -> tuple[str, ...]:
    """The secret keys (without namespace) a stack needs and does not set, from its config as the engine passes
    it: what the offline plan supplies as placeholders (the real program stops and says which command to run)."""
    secrets = {k.partition(":")[2] for k in secret_keys if k.startswith(PROJECT + ":")}
    try:
        load(project_config(config), secrets, stack)
    except ConfigError as e:
        return e.missing_secrets
    return ()


def project_config(all_config: dict[str, Any]) -> dict[str, Any]:
    """`llmfleet:*` entries of Pulumi's config, values decoded the way `Config.get_object` does. A key in a
    near-miss namespace (`llmfleat:models`) stands in for the key it was meant to be, when that one is not set:
    it is reported once, as a namespace problem, and its value is still checked (no "models is required" line)."""
    out = {}
    for full, value in sorted(all_config.items(), key=lambda kv: kv[0].partition(":")[0] != PROJECT):
        ns, _, key = full.partition(":")
        if ns != PROJECT and not near_miss(full):
            continue
        key = key.strip()
        if ns != PROJECT and key in out:
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
    return load(raw, {k.partition(":")[2].strip() for k in secret_keys if k.startswith(PROJECT + ":") or near_miss(k)},
                 pulumi.get_stack(), other_keys=[k for k in merged if k.partition(":")[0] != PROJECT])


__all__ = ["ConfigError", "StackSpec", "SecretRef", "load", "from_pulumi", "PROJECT", "nearest", "replace"]
