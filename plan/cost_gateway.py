"""The Gateway's share of the cost report (llmfleet:gateway, docs/gateway.md): what its pods request on the system
nodes. Like the RAG system's CPU pods, they are reported as requests only: the catalog has no CPU node prices, so
their dollars stay with the cluster's system nodes. The Envoy Service of type LoadBalancer is a cloud load
balancer, billed by the cloud per hour and per GB; not priced here."""
from typing import Any, Optional

from components.gateway.objects import ENVOY_CPU, ENVOY_MEMORY, envoy_replicas
from plan.cost_rag import cores, gib
from spec.environment import is_production

# Requests of the charts' pods at the pinned versions: EG v1.9.0 values deployment.envoyGateway.resources
# (100m, 256Mi); AI Gateway v1.1.0 sets no requests for its controller (controller.resources: {}), counted as 0.
CONTROLLER_REQUESTS = {"envoy-gateway": ("100m", "256Mi"), "ai-gateway-controller": ("0", "0")}
REDIS_REQUESTS = ("100m", "128Mi")            # components/gateway/values.py redis_objects


def report(stack) -> Optional[dict[str, Any]]:
    spec = stack.spec
    if spec.gateway is None:
        return None
    parts = [{"part": name, "replicas": 1, "cpuPerReplica": cores(cpu), "memoryGiBPerReplica": round(gib(mem), 3)}
             for name, (cpu, mem) in CONTROLLER_REQUESTS.items()]
    parts.append({"part": "envoy-proxy", "replicas": envoy_replicas(is_production(spec.environment)),
                  "cpuPerReplica": cores(ENVOY_CPU), "memoryGiBPerReplica": round(gib(ENVOY_MEMORY), 3)})
    if spec.routing is not None and any(t.tokens_per_hour for t in spec.routing.tenants):
        parts.append({"part": "ratelimit-redis", "replicas": 1, "cpuPerReplica": cores(REDIS_REQUESTS[0]),
                      "memoryGiBPerReplica": round(gib(REDIS_REQUESTS[1]), 3)})
    if spec.routing is not None:
        # One endpoint picker per picked model (components/gateway/picker.py), on the untainted system nodes: the
        # chart's pod spec sets no toleration (router.epp.tolerations is left empty).
        from components.gateway.picker import EPP_RESOURCES
        req = EPP_RESOURCES["requests"]
        for m in dict.fromkeys(v.versions[0].model for v in spec.routing.picked()):
            parts.append({"part": f"endpoint-picker {m}", "replicas": 1, "cpuPerReplica": cores(req["cpu"]),
                          "memoryGiBPerReplica": round(gib(req["memory"]), 3)})
    return {"parts": parts, "total": {
        "cpu": round(sum(p["cpuPerReplica"] * p["replicas"] for p in parts), 3),
        "memoryGiB": round(sum(p["memoryGiBPerReplica"] * p["replicas"] for p in parts), 3)}}


def markdown(g: Optional[dict[str, Any]]) -> list[str]:
    if not g:
        return []
    lines = ["", "## Gateway", "",
             "Requests of the Gateway's pods on the system nodes (docs/gateway.md): paid with those nodes; the cloud "
             "load balancer in front of Envoy is billed by the cloud and not priced here.", "",
             "| part | replicas | CPU per replica | memory GiB per replica |", "|---|---|---|---|"]
    lines += [f"| {p['part']} | {p['replicas']} | {p['cpuPerReplica']:g} | {p['memoryGiBPerReplica']:g} |"
              for p in g["parts"]]
    t = g["total"]
    lines += ["", f"**Gateway total:** {t['cpu']:g} CPU, {t['memoryGiB']:g} GiB memory requested."]
    return lines
