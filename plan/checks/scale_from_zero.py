"""Scale from zero (FACTS-cluster 2): for every group with minNodes 0, the autoscaler's template node must admit
the pods meant for that group (those whose selector and affinity pick it), extended resources included."""
from plan.checks import Check
from plan.checks.match import node_selected
from plan.checks.scheduling import gpu_resources, pod_requests, why_not


def check(ctx) -> list[Check]:
    out = []
    for n in ctx.nodes:
        if n.min_nodes > 0 or n.from_zero is None or not n.gpus:
            continue
        meant = [p for p in ctx.pods if gpu_resources(pod_requests(p)) and node_selected(p.spec, n.labels)
                 and not why_not(p, n)]
        if not meant:
            continue
        bad = {p.owner: why_not(p, n.from_zero) for p in meant}
        bad = {k: v for k, v in bad.items() if v}
        out.append(Check("scale-from-zero.template", n.name, "fail" if bad else "pass",
                         f"at 0 nodes the {n.autoscaler} template would not admit: "
                         + "; ".join(f"{k}: {v}" for k, v in bad.items()) if bad
                         else f"the {n.autoscaler} template at 0 nodes admits {', '.join(p.owner for p in meant)}"))
    return out
