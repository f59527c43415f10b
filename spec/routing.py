"""Model routing on the stack's Gateway (`llmfleet:routing`, docs/gateway.md): which virtual model names the
OpenAI-compatible `/v1` endpoint answers, and which served models stand behind each, with weights and fallbacks.

Example stack config:
    llmfleet:routing:
      models:                              # virtual names; every vLLM model is also routable by its own name
        - name: llama-8b
          versions:                        # weights sum to 100: canary and rollback are a weight change
            - {model: llama-8b, weight: 90}
            - {model: llama-8b-fp8, weight: 10}
          fallback: [llama-8b-fp8]         # ordered; tried when every version fails (another version, a smaller model)
        - name: llama-70b
          versions: [{model: llama-70b, weight: 100}]
          picker: inferencePool            # endpoint picker on queue and KV cache (one version, no fallback)
      tiers:                               # cost tiers: virtual names resolved from the token-cost estimate
        - {name: cheap, pick: cheapest}    # cheapest $/1M tokens first, the others as fallbacks in cost order
        - {name: best, pick: best, models: [llama-70b, llama-8b]}   # largest model first (optional candidates)
      tenants:                             # API keys (generated, kept as Secrets) and per-tenant token limits
        - name: team-a
          tokensPerHour: 2000000           # optional: total tokens (input + output) per hour, all Envoy replicas

Needs `llmfleet:gateway`. Absent with a gateway: every vLLM model by its own name and one tenant, `default`.
Only vLLM models are routable (KServe and Ray Serve speak other paths and ports; not wired yet).
"""
from dataclasses import dataclass, field
from typing import Optional, Sequence

from spec.reader import DNS_LABEL, DNS_LABEL_HINT, Obj, unique

PICKS = ("cheapest", "best")
# One rule per virtual name in one AIGatewayRoute, whose CRD caps `rules` at 15 (aigateway.envoyproxy.io v1beta1,
# shared/crds/envoy-ai-gateway): more would be refused by the API server at `up`, so it is a config error here.
MAX_RULES = 15
# Endpoint picking within a model: `none` = Envoy's least-request over the model's pods; `inferencePool` = an
# InferencePool whose endpoint picker (llm-d-router) chooses the pod from its queue and KV-cache metrics.
PICKERS = ("none", "inferencePool")
# The picker's Helm release is `<model>-picker` and the chart names its Service after the release cut to 40
# characters (llm-d-router v0.10.0 routerlib `llm-d-router.name`): a model name up to 33 keeps every name whole.
PICKER_MODEL_MAX = 33
DEFAULT_TENANT = "default"
# Tenant names become Secret keys (client ids) and a header value: a DNS label keeps both safe.
TENANT_HINT = DNS_LABEL_HINT


@dataclass(frozen=True)
class Version:
    model: str                    # a model of llmfleet:models (vLLM)
    weight: int                   # share of the traffic, percent


@dataclass(frozen=True)
class VirtualModel:
    name: str                     # what clients send as `model`
    versions: tuple[Version, ...]
    fallback: tuple[str, ...] = ()    # model names, in order
    tier: Optional[str] = None    # the pick of a cost tier (cheapest | best), None for a named model
    picker: str = "none"          # PICKERS: how a pod of the (single) version is chosen


@dataclass(frozen=True)
class Tenant:
    name: str
    tokens_per_hour: Optional[int] = None


@dataclass(frozen=True)
class RoutingSpec:
    models: tuple[VirtualModel, ...]          # explicit entries and cost tiers, resolved (see resolve)
    tenants: tuple[Tenant, ...] = (Tenant(DEFAULT_TENANT),)
    tiers: tuple[tuple[str, str, tuple[str, ...]], ...] = field(default=())   # (name, pick, candidates) as given

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.models)

    def picked(self) -> tuple[VirtualModel, ...]:
        """Virtual models routed through an InferencePool and its endpoint picker."""
        return tuple(v for v in self.models if v.picker == "inferencePool")

    def backends(self) -> tuple[str, ...]:
        """Every served model some virtual model sends traffic to (versions and fallbacks), in first-use order."""
        return tuple(dict.fromkeys(m for v in self.models for m in (*(x.model for x in v.versions), *v.fallback)))


def _routable(models: Sequence) -> dict:
    return {m.name: m for m in models if m.engine == "vllm" and m.placement is not None}


def read_routing(o: Obj, models: Sequence, gateway_set: bool) -> Optional[RoutingSpec]:
    """None when the stack has no gateway. `models` are the placed model specs."""
    if o.given and not gateway_set:
        o.problems.add(o.path, "needs llmfleet:gateway (the routes attach to the stack's Gateway): set "
                               "llmfleet:gateway.hostname, or remove llmfleet:routing")
        return None
    if not gateway_set:
        return None
    routable = _routable(models)
    known = {m.name: m for m in models}

    def check_model(owner: Obj, key: str, name: str, path: Optional[str] = None) -> bool:
        where = path or owner.key_path(key)
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            owner.problems.add(where, f"{name!r} is not a model of llmfleet:models ({names})")
            return False
        if known[name].engine == "vllm" and known[name].placement is None:
            return False                  # not placed: reported at the model already
        if name not in routable:
            owner.problems.add(where, f"model {name!r} runs on {known[name].engine}; only vLLM models are routable "
                                      f"on the gateway")
            return False
        return True

    explicit = []
    for path, v in o.items("models", lambda m: _read_virtual(m, check_model)):
        explicit.append((path, v))
    unique(o.problems, o.key_path("models"), [v.name for _, v in explicit], "virtual model",
           paths=[p for p, _ in explicit])

    tiers = []
    # A tier with no vLLM model at all is an error; one whose models failed placement is reported there only.
    any_vllm = any(m.engine == "vllm" for m in models)
    tier_items = o.items("tiers", lambda t: _read_tier(t, check_model, any_vllm))
    unique(o.problems, o.key_path("tiers"), [t[0] for _, t in tier_items], "tier", paths=[p for p, _ in tier_items])
    named = {v.name for _, v in explicit}
    for path, (name, pick, candidates) in tier_items:
        if name in named:
            o.problems.add(f"{path}.name", f"{name!r} is already a virtual model of llmfleet:routing.models")
        elif name in known:
            o.problems.add(f"{path}.name", f"{name!r} is a model of llmfleet:models: a tier needs its own name")
        tiers.append((name, pick, candidates))

    tenant_items = o.items("tenants", _read_tenant)
    unique(o.problems, o.key_path("tenants"), [t.name for _, t in tenant_items], "tenant",
           paths=[p for p, _ in tenant_items])
    o.done()
    tenants = tuple(t for _, t in tenant_items) or (Tenant(DEFAULT_TENANT),)
    resolved = resolve([v for _, v in explicit], tiers, list(routable.values()))
    if len(resolved) > MAX_RULES:
        o.problems.add(o.path, f"routes {len(resolved)} virtual model names ({', '.join(v.name for v in resolved)}), "
                               f"but one AIGatewayRoute holds at most {MAX_RULES} rules: serve fewer vLLM models "
                               f"behind this Gateway, or fewer tiers")
    return RoutingSpec(models=resolved, tenants=tenants, tiers=tuple(tiers))


def _read_virtual(m: Obj, check_model) -> VirtualModel:
    name = m.str("name", pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    versions, weights_ok = [], True
    for path, item in m.items("versions", lambda x: (x.str("model"), x.int("weight", min=0, max=100), x),
                              min_items=1):
        model, weight, x = item
        if model and x.valid("model"):
            check_model(x, "model", model)
        weights_ok = weights_ok and x.valid("weight")
        versions.append(Version(model, weight))
    # The sum is checked whenever every weight is readable (a wrong model name is its own, separate problem).
    if "versions" not in m.bad and versions and weights_ok:
        total = sum(v.weight for v in versions)
        if total != 100:
            m.error("versions", f"weights must sum to 100, got {total} "
                                f"({' + '.join(str(v.weight) for v in versions)})")
        seen = [v.model for v in versions]
        dupes = sorted({x for x in seen if seen.count(x) > 1})
        if dupes:
            m.error("versions", f"lists {', '.join(dupes)} more than once: give each model one weight")
    fallback = m.str_list("fallback")
    for i, f in enumerate(fallback):
        at = f"{m.key_path('fallback')}[{i}]"
        if check_model(m, "fallback", f, path=at) and f in {v.model for v in versions}:
            m.problems.add(at, f"{f!r} is already a version of {name!r}: a fallback is another backend")
    if len(set(fallback)) != len(fallback):
        m.error("fallback", "lists a model more than once")
    picker = m.str("picker", "none", choices=PICKERS)
    if picker == "inferencePool" and m.valid("picker"):
        # Envoy AI Gateway v1.1.0 AIGatewayRoute: one InferencePool per rule, never mixed with other backends.
        if len(versions) != 1 or fallback:
            m.error("picker", f"inferencePool needs exactly one version and no fallback (AI Gateway allows one "
                              f"InferencePool per rule); {name!r} has {len(versions)} version(s) and "
                              f"{len(fallback)} fallback(s)")
        elif versions[0].model and name and versions[0].model != name and \
                not m.problems.under(m.key_path("versions"), m.key_path("name")):
            # An InferencePool backendRef ignores modelNameOverride (AIGatewayRoute v1beta1 CRD): the request reaches
            # vLLM with the virtual name, which only its own served name answers.
            m.error("picker", f"inferencePool routes the request's model name unchanged (AI Gateway ignores "
                              f"modelNameOverride for an InferencePool): name the entry {versions[0].model!r}, as "
                              f"its version, or drop the picker")
        elif len(versions[0].model or "") > PICKER_MODEL_MAX:
            m.error("picker", f"inferencePool needs a model name of at most {PICKER_MODEL_MAX} characters (the "
                              f"picker's release and Service are named after it); {versions[0].model!r} is longer")
    return VirtualModel(name=name, versions=tuple(versions), fallback=tuple(fallback), picker=picker)


def _read_tier(t: Obj, check_model, any_vllm: bool) -> tuple[str, str, tuple[str, ...]]:
    name = t.str("name", pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    pick = t.str("pick", choices=PICKS)
    candidates = t.str_list("models")
    for i, c in enumerate(candidates):
        check_model(t, "models", c, path=f"{t.key_path('models')}[{i}]")
    if not t.has("models") and not any_vllm:
        t.error("name", "no vLLM model in llmfleet:models to choose from")
    return name, pick, tuple(candidates)


def _read_tenant(t: Obj) -> Tenant:
    name = t.str("name", pattern=DNS_LABEL, hint=TENANT_HINT)
    limit = t.int("tokensPerHour", None, min=1000, max=10 ** 12)
    return Tenant(name, limit)


def capability(model) -> float:
    """How capable a model is taken to be: its parameter count (weights at 16 bits), for the `best` tier."""
    return model.arch.weight_bytes("bf16")


def resolve(explicit: Sequence[VirtualModel], tiers: Sequence[tuple], routable: Sequence) -> tuple[VirtualModel, ...]:
    """The routed names: every vLLM model by its own name (unless an explicit entry of that name replaces it),
    then the explicit entries, then each tier as its candidates in order, the first taking all traffic and the
    rest as fallbacks."""
    from sizing.token_cost import token_cost
    by_name = {m.name: m for m in routable}
    out = {m.name: VirtualModel(m.name, (Version(m.name, 100),)) for m in routable}
    for v in explicit:
        out[v.name] = v
    for name, pick, candidates in tiers:
        pool = [by_name[c] for c in candidates if c in by_name] if candidates else list(routable)
        if not pool or pick not in PICKS:
            continue
        if pick == "cheapest":
            ranked = sorted(pool, key=lambda m: (token_cost(m).usd_per_million_tokens, -capability(m), m.name))
        else:
            ranked = sorted(pool, key=lambda m: (-capability(m), token_cost(m).usd_per_million_tokens, m.name))
        out[name] = VirtualModel(name, (Version(ranked[0].name, 100),), tuple(m.name for m in ranked[1:]), tier=pick)
    return tuple(out.values())
