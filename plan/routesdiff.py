"""Routing changes between two plans of a stack (out/<stack>/routes.json, plan/routes.py), for the pull-request
comment of `python -m plan.diff`: virtual models added or removed, and per changed one its backends with weights,
its fallback order and its estimated $/1M tokens, before and after."""
from typing import Any, Optional


def _summary(route: dict) -> str:
    backends = ", ".join(f"{b['model']} {b['weight']}%" for b in route["backends"])
    fallback = " -> ".join(b["model"] for b in route["fallback"])
    picker = "; endpoint picker" if route.get("picker") == "inferencePool" else ""
    return f"{backends}" + (f"; fallback {fallback}" if fallback else "") + picker + \
        f"; ${route['usdPerMillionTokens']:.4f}/1M"


def routes_diff(base: Optional[dict], head: Optional[dict]) -> Optional[list[dict]]:
    """[{model, op: add|remove|change, base, head}] (summaries), or None when neither plan has a routing table."""
    if not base and not head:
        return None
    b = {r["model"]: r for r in (base or {}).get("routes", [])}
    h = {r["model"]: r for r in (head or {}).get("routes", [])}
    out = []
    for name in list(dict.fromkeys([*b, *h])):
        old, new = b.get(name), h.get(name)
        if old == new:
            continue
        op = "add" if old is None else "remove" if new is None else "change"
        out.append({"model": name, "op": op, "base": _summary(old) if old else None,
                    "head": _summary(new) if new else None})
    tb = {t["name"]: t["tokensPerHour"] for t in (base or {}).get("tenants", [])}
    th = {t["name"]: t["tokensPerHour"] for t in (head or {}).get("tenants", [])}
    for name in list(dict.fromkeys([*tb, *th])):
        if tb.get(name, "absent") != th.get(name, "absent"):
            out.append({"model": f"tenant {name}", "op": "add" if name not in tb else "remove" if name not in th
                        else "change", "base": None if name not in tb else f"tokens/hour {tb[name] or 'unlimited'}",
                        "head": None if name not in th else f"tokens/hour {th[name] or 'unlimited'}"})
    return out


def markdown(result: dict[str, Any]) -> list[str]:
    rows = [(stack, r) for stack, d in result.items() for r in (d.get("routes") or [])]
    if not rows:
        return []
    lines = ["", "**Routing changes** (routes.md, docs/gateway.md)", "", "| stack | model | op | before | after |",
             "|---|---|---|---|---|"]
    lines += [f"| {s} | {r['model']} | {r['op']} | {r['base'] or '-'} | {r['head'] or '-'} |" for s, r in rows]
    return lines
