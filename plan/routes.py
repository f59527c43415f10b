"""The routing table of a stack's Gateway (`out/<stack>/routes.{json,md}`, docs/gateway.md): per virtual model
name, its backends with weights and fallback order, and the estimated $ per 1M output tokens from
sizing/token_cost.py, so a reviewer sees routing changes in a pull request.

The estimate of a virtual model is the weight-averaged estimate of its versions (what a token costs while every
version is healthy); fallbacks are listed with their own figure.
"""
from typing import Any, Optional

from sizing.token_cost import token_cost


def report(stack) -> Optional[dict[str, Any]]:
    spec = stack.spec
    if spec.gateway is None or spec.routing is None:
        return None
    models = {m.name: m for m in spec.models}
    costs = {name: token_cost(models[name]) for name in spec.routing.backends()}

    def backend(name: str, weight: int, priority: int) -> dict:
        c = costs[name]
        return {"model": name, "weight": weight, "priority": priority,
                "usdPerMillionTokens": c.usd_per_million_tokens, "tokensPerSecondPerReplica": c.tokens_per_second}

    routes = []
    for v in spec.routing.models:
        primary = [backend(x.model, x.weight, 0) for x in v.versions]
        fallback = [backend(f, 1, i + 1) for i, f in enumerate(v.fallback)]
        blended = sum(b["weight"] * b["usdPerMillionTokens"] for b in primary) / 100
        routes.append({"model": v.name, "tier": v.tier, "backends": primary, "fallback": fallback,
                       "picker": v.picker, "usdPerMillionTokens": round(blended, 4)})
    return {"endpoint": spec.gateway.url + "/v1", "routes": routes,
            "tenants": [{"name": t.name, "tokensPerHour": t.tokens_per_hour} for t in spec.routing.tenants]}


def markdown(r: Optional[dict[str, Any]]) -> str:
    if not r:
        return ""
    lines = [f"# Routing table: {r['endpoint']}", "",
             "What a request's `model` resolves to (docs/gateway.md). Weights split traffic between versions; "
             "fallbacks are tried in order when every version fails. Pod picking: `least-request` = Envoy "
             "balances over the model's pods; `inferencePool` = the model's endpoint picker chooses the pod from "
             "queue and KV-cache metrics. $/1M tokens: output-token estimate from "
             "decode bandwidth (sizing/token_cost.py), for comparing backends, not a bill.", "",
             "| model | tier | backends (weight %) | fallback order | pod picking | est. $/1M tokens |",
             "|---|---|---|---|---|---|"]
    for route in r["routes"]:
        backends = ", ".join(f"{b['model']} ({b['weight']}%, ${b['usdPerMillionTokens']:.4f})"
                             for b in route["backends"])
        fallback = " -> ".join(f"{b['model']} (${b['usdPerMillionTokens']:.4f})" for b in route["fallback"]) or "-"
        picking = "inferencePool" if route.get("picker") == "inferencePool" else "least-request"
        lines.append(f"| {route['model']} | {route['tier'] or '-'} | {backends} | {fallback} | {picking} | "
                     f"{route['usdPerMillionTokens']:.4f} |")
    lines += ["", "| tenant | token limit per hour |", "|---|---|"]
    lines += [f"| {t['name']} | {t['tokensPerHour'] or 'none'} |" for t in r["tenants"]]
    return "\n".join(lines) + "\n"
