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
        # A template that advertises fewer GPU slices than a real node makes the autoscaler add nodes it does not
        # need (time-slicing / MIG without resource tags).
        asked = {k for p in meant for k in gpu_resources(pod_requests(p))}
        for k in sorted(asked):
            have, real = n.from_zero.allocatable.get(k, 0), n.allocatable.get(k, 0)
            if 0 < have < real:
                bad[f"{k} per node"] = (f"template advertises {have}, a running node {real}: the autoscaler "
                                        f"over-provisions")
        out.append(Check("scale-from-zero.template", n.name, "fail" if bad else "pass",
                         f"at 0 nodes the {n.autoscaler} template would not admit: "
                         + "; ".join(f"{k}: {v}" for k, v in bad.items()) if bad
                         else f"the {n.autoscaler} template at 0 nodes admits {', '.join(p.owner for p in meant)}"))
    return out + _initial_size(ctx)


def _initial_size(ctx) -> list[Check]:
    """GKE's initial_node_count is per zone (issue 9 item 11): more nodes at first `up` than the minimum asks."""
    out = []
    for r in ctx.resources:
        if r.type != "gcp:container/nodePool:NodePool":
            continue
        i = r.inputs
        zones = len(i.get("nodeLocations") or []) or 1
        initial = int(i.get("initialNodeCount", 0) or 0) * zones
        auto = i.get("autoscaling") or {}
        floor = int(auto.get("totalMinNodeCount", auto.get("minNodeCount", 0) * zones) or 0)
        gpu = bool((i.get("nodeConfig") or {}).get("guestAccelerators"))
        bad = gpu and initial > max(floor, 0)
        out.append(Check("scale.initial-size", f"gcp node pool {i.get('name', r.name)}", "fail" if bad else "pass",
                         f"initialNodeCount {int(i.get('initialNodeCount'))} per zone x {zones} zones = {initial} GPU nodes "
                         f"at first up, over the minimum {floor}" if bad else
                         f"starts with {initial} node(s), minimum {floor}"))
    return out
