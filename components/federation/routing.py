"""The global routing table, from the cloud stacks' `federation` outputs (stacks/exports.py): pure data, no resources.

Per virtual model (every federated model, plus each cost tier) the backends across clouds, in failover order:
  1. warm before cold: a backend whose replicas may scale to zero answers the first request only after a node and
     the weights load (minutes, longer than any request timeout), so it never leads while a warm one exists;
  2. cheaper first, by the plan's $ per 1M output tokens (sizing/token_cost.py);
  3. more capacity first (tokens/s per replica x max replicas), then the order of llmfleet:federation.stacks.
Backends with the same warmth and cost share a priority level and split traffic by capacity (weights); each further
level is a fallback that Envoy uses when the levels before it are ejected as unhealthy.

`resolve` returns the table and every problem with the config against the outputs, one line each naming the key.
"""
from dataclasses import dataclass, field
from typing import Optional

from spec.federation import KEY_OUTPUT, OUTPUT, SCHEMA_VERSION

PREFIX = "llmfleet:federation"


@dataclass(frozen=True)
class Backend:
    stack: str                 # short stack name: the remote endpoint's Kubernetes objects are named after it
    cloud: str
    model: str                 # the model name the remote endpoint routes on (request model rewritten to it)
    endpoint: str              # https://<hostname>/v1
    hostname: str
    usd_per_1m_tokens: float
    tokens_per_second: float   # per replica
    replicas_min: int
    replicas_max: int
    priority: int = 0
    weight: int = 1

    @property
    def capacity(self) -> float:
        """Tokens/s at the model's max replicas: how much this backend can take when others fail."""
        return self.tokens_per_second * self.replicas_max

    @property
    def name(self) -> str:
        return f"{self.stack}/{self.model}"


@dataclass(frozen=True)
class VirtualModel:
    name: str
    kind: str                  # model | tier
    backends: tuple[Backend, ...]


@dataclass
class Routing:
    models: list[VirtualModel] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    endpoints: dict = field(default_factory=dict)     # short stack name -> hostname of its Gateway

    def to_json(self) -> dict:
        """routes.json: the column names of the per-cluster tables (model, backend, weight, priority,
        usdPer1MTokens), plus where each backend lives."""
        return {"virtualModels": [
            {"model": v.name, "kind": v.kind, "backends": [
                {"backend": b.name, "stack": b.stack, "cloud": b.cloud, "endpoint": b.endpoint, "servedModel": b.model,
                 "priority": b.priority, "weight": b.weight, "usdPer1MTokens": b.usd_per_1m_tokens,
                 "tokensPerSecond": b.tokens_per_second, "replicasMin": b.replicas_min,
                 "replicasMax": b.replicas_max} for b in v.backends]} for v in self.models]}


def order(backends: list[Backend]) -> tuple[Backend, ...]:
    """Failover order (module docstring); priorities and capacity weights assigned."""
    ranked = sorted(enumerate(backends), key=lambda ib: (ib[1].replicas_min == 0, ib[1].usd_per_1m_tokens,
                                                         -ib[1].capacity, ib[0]))
    out, level, last = [], -1, None
    for _, b in ranked:
        tier = (b.replicas_min == 0, round(b.usd_per_1m_tokens, 2))
        if tier != last:
            level, last = level + 1, tier
        out.append(Backend(**{**b.__dict__, "priority": level, "weight": max(1, round(b.capacity))}))
    return tuple(out)


def _stack_problems(spec, short: str, path: str, doc, has_key: bool) -> list[str]:
    at = f"{path}.name"
    ref = spec.ref(short).name
    if not isinstance(doc, dict):
        return [f"{at}: stack {ref} does not export {OUTPUT}: plan or `pulumi up` it with this version of the "
                f"program (stacks/exports.py), which exports it from every cloud stack"]
    if doc.get("schemaVersion") != SCHEMA_VERSION:
        return [f"{at}: stack {ref} exports {OUTPUT} schema {doc.get('schemaVersion')!r}, this program reads "
                f"schema {SCHEMA_VERSION}: update the stack with the same program version"]
    lines = []
    if not doc.get("endpoint"):
        lines.append(f"{at}: stack {ref} does not export {OUTPUT}.endpoint: it has no public endpoint; set "
                     f"llmfleet:gateway on that stack")
    elif (doc.get("gateway") or {}).get("tlsIssuer") != "acme":
        lines.append(f"{at}: stack {ref}'s endpoint has a self-signed certificate (llmfleet:gateway.tls.issuer "
                     f"selfSigned); the hub verifies upstream TLS against public CAs: use issuer acme there")
    elif not has_key:
        lines.append(f"{at}: stack {ref} does not export {KEY_OUTPUT}, the key the hub calls its endpoint with")
    return lines


def resolve(spec, exported: dict[str, Optional[dict]], keys: dict[str, bool],
            kubeconfigs: Optional[dict[str, bool]] = None) -> Routing:
    """`exported`: short stack name -> its `federation` output (None when missing); `keys`: whether it exports
    `federationApiKey`; `kubeconfigs`: whether each hub exports `kubeconfig`."""
    r = Routing()
    usable = []
    for s in spec.stacks:
        lines = _stack_problems(spec, s.short, s.path, exported.get(s.short), keys.get(s.short, False))
        r.problems += lines
        if not lines:
            usable.append(s)
            r.endpoints[s.short] = exported[s.short]["gateway"]["hostname"]
    for i, hub in enumerate(spec.hubs):
        if kubeconfigs is not None and not kubeconfigs.get(hub):
            r.problems.append(f"{PREFIX}.hubs[{i}]: stack {spec.ref(hub).name} does not export kubeconfig: the hub's "
                              f"cluster is where the global gateway runs")

    served: dict[str, list[Backend]] = {}
    model_ids: dict[str, tuple[str, str]] = {}
    for s in usable:
        doc = exported[s.short]
        for m in doc.get("models") or []:
            seen = model_ids.setdefault(m["name"], (m.get("modelId"), s.name))
            if seen[0] != m.get("modelId"):
                r.problems.append(f"{s.path}.name: model {m['name']} serves {m.get('modelId')} in stack {s.name} but "
                                  f"{seen[0]} in {seen[1]}: one name must mean the same weights to share a route")
                continue
            served.setdefault(m["name"], []).append(Backend(
                stack=s.short, cloud=doc["cloud"], model=m["name"], endpoint=doc["endpoint"],
                hostname=doc["gateway"]["hostname"], usd_per_1m_tokens=float(m["usdPer1MTokens"]),
                tokens_per_second=float(m["tokensPerSecond"]), replicas_min=int(m["replicasMin"]),
                replicas_max=int(m["replicasMax"])))
    known = ", ".join(sorted(served)) or "none"
    names = []
    for i, name in enumerate(spec.models):
        if name in served:
            names.append(name)
        else:
            r.problems.append(f"{PREFIX}.models[{i}]: model {name!r} is served by none of the federated stacks' "
                              f"endpoints (served: {known})")
    for name in names:
        r.models.append(VirtualModel(name, "model", order(served[name])))
    for tier, members in spec.tiers.items():
        if tier in served:
            r.problems.append(f"{PREFIX}.tiers.{tier}: is also the name of a served model; a tier needs a name of "
                              f"its own")
            continue
        backends = []
        for i, name in enumerate(members):
            if name not in served:
                r.problems.append(f"{PREFIX}.tiers.{tier}[{i}]: model {name!r} is served by none of the federated "
                                  f"stacks' endpoints (served: {known})")
            backends += served.get(name, [])
        if backends:
            # One backend per stack endpoint in a rule (an AIServiceBackend referenced twice in one rule is not a
            # documented AI Gateway setup): each stack offers its best-ranked member; the stack's own gateway
            # handles fallback between its models.
            ranked, seen = [], set()
            for b in order(backends):
                if b.stack not in seen:
                    ranked.append(b)
                    seen.add(b.stack)
            r.models.append(VirtualModel(tier, "tier", order(ranked)))
    return r


def markdown(routing: Routing, title: str) -> str:
    """routes.md: what a reviewer reads in a pull request."""
    lines = [f"# Routing table: {title}", "",
             "Per virtual model, the backends in failover order: priority 0 takes the traffic (split by weight), "
             "each further priority takes over when the ones before it are ejected. $ per 1M tokens is the plan's "
             "decode estimate (sizing/token_cost.py).", "",
             "| model | priority | backend | cloud | weight | usdPer1MTokens | tokens/s per replica | replicas |",
             "|---|---|---|---|---|---|---|---|"]
    for v in routing.models:
        for b in v.backends:
            label = v.name if v.kind == "model" else f"{v.name} (tier)"
            lines.append(f"| {label} | {b.priority} | {b.name} | {b.cloud} | {b.weight} | {b.usd_per_1m_tokens:.4f} "
                         f"| {b.tokens_per_second:,.1f} | {b.replicas_min}-{b.replicas_max} |")
    return "\n".join(lines) + "\n"
