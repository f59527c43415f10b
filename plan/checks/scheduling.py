"""Scheduling (issue 8 rule 2): GPU pods against the node templates of nodes.py."""
from fractions import Fraction

from plan.checks import Check
from plan.checks import cloud_facts as F
from plan.checks.match import node_selected, untolerated
from plan.checks.quantity import fmt, parse
from spec.platform import PRIORITY_TIERS

CRITICAL_CLASSES = {PRIORITY_TIERS["critical"].name}


def pod_requests(pod) -> dict:
    """Scheduler view of a pod's requests: sum of app containers, at least the largest init container."""
    total, init = {}, {}
    for c in pod.spec.get("containers") or []:
        res = c.get("resources") or {}
        for k, v in {**(res.get("limits") or {}), **(res.get("requests") or {})}.items():
            total[k] = total.get(k, Fraction(0)) + parse(v)
    for c in pod.spec.get("initContainers") or []:
        res = c.get("resources") or {}
        for k, v in {**(res.get("limits") or {}), **(res.get("requests") or {})}.items():
            init[k] = max(init.get(k, Fraction(0)), parse(v))
    return {k: max(total.get(k, Fraction(0)), init.get(k, Fraction(0))) for k in set(total) | set(init)}


def gpu_resources(req: dict) -> dict:
    return {k: v for k, v in req.items() if k.startswith("nvidia.com/") and v > 0}


def tolerations_for(pod, node) -> list:
    tol = list(pod.spec.get("tolerations") or [])
    # GKE's ExtendedResourceToleration admission: a pod asking for nvidia.com/gpu tolerates that taint.
    if F.EXTENDED_RESOURCE_TOLERATION.get(node.cloud) and "nvidia.com/gpu" in gpu_resources(pod_requests(pod)):
        tol.append({"key": "nvidia.com/gpu", "operator": "Exists"})
    return tol


def why_not(pod, node) -> str:
    """Empty when the pod fits the node template; else the first reason it does not."""
    if not node_selected(pod.spec, node.labels):
        return "node selector / required affinity does not match its labels"
    bad = untolerated(tolerations_for(pod, node), node.taints)
    if bad:
        return "untolerated taint " + ", ".join(f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in bad)
    req = pod_requests(pod)
    for k, v in req.items():
        if k in ("cpu", "memory") and k not in node.allocatable:
            continue          # instance size unknown: not judged
        if k in ("cpu", "memory") or k.startswith("nvidia.com/") or "/" in k:
            have = node.allocatable.get(k, Fraction(0))
            if v > have:
                return f"needs {k} {fmt(v)}, a node has {fmt(have)}"
    return ""


def fits(pod, nodes) -> dict:
    return {n.name: why_not(pod, n) for n in nodes}


def _pool_of(ctx, node) -> str:
    d = ctx.descriptor(node.group)
    return d.name if d else node.labels.get("llmfleet.io/pool", "")


def check(ctx) -> list[Check]:
    out = []
    nodes = ctx.nodes
    for pod in ctx.pods:
        gpus = gpu_resources(pod_requests(pod))
        if not gpus:
            continue
        result = fits(pod, nodes)
        ok = [n for n in nodes if not result[n.name]]
        out.append(Check("scheduling.gpu-fit", pod.owner, "pass" if ok else "fail",
                         f"fits {', '.join(n.name for n in ok)}" if ok else
                         f"asks {', '.join(f'{k}={fmt(v)}' for k, v in gpus.items())} and fits no node template: "
                         + "; ".join(f"{k}: {v}" for k, v in result.items())))
        if pod.spec.get("priorityClassName") in CRITICAL_CLASSES:
            spot = [n for n in ok if n.capacity == "spot"]
            out.append(Check("scheduling.critical-not-on-spot", pod.owner, "fail" if spot else "pass",
                             f"a critical model's pods fit spot capacity: {', '.join(n.name for n in spot)} (the "
                             f"autoscaler falls through to it when on-demand runs out)" if spot
                             else "no spot node template admits these pods"))
        m = ctx.model(pod.model)
        if m is not None and m.pools:
            critical = pod.spec.get("priorityClassName") in CRITICAL_CLASSES
            missing = []
            for pool in m.pools:
                cands = [n for n in nodes if _pool_of(ctx, n) == pool and not (critical and n.capacity == "spot")]
                if not any(not result[n.name] for n in cands):
                    missing.append(pool)
            out.append(Check("scheduling.model-pools", pod.owner, "fail" if missing else "pass",
                             f"model {m.name} lists pools {list(m.pools)} but its pods can never run on "
                             f"{missing}: no placement is rendered for them" if missing
                             else f"every pool the model lists ({', '.join(m.pools)}) can take its pods"))
    out.extend(_nvidia(ctx, nodes))
    out.extend(_gke_fallback(ctx, nodes))
    out.extend(_untainted(ctx, nodes))
    return out


def _gke_fallback(ctx, nodes) -> list[Check]:
    """GKE's autoscaler expands the cheapest pool first unless the pods select a ComputeClass carrying the order
    (issue 9 item 9): a GPU pod that fits groups of different pools or capacities must select one that exists."""
    out = []
    if ctx.cloud != "gcp":
        return out
    for pod in ctx.pods:
        if not gpu_resources(pod_requests(pod)):
            continue
        ok = [n for n in nodes if not why_not(pod, n)]
        if len({(_pool_of(ctx, n), n.capacity) for n in ok}) < 2:
            continue
        cc = (pod.spec.get("nodeSelector") or {}).get("cloud.google.com/compute-class")
        exists = cc and ctx.get("ComputeClass", None, cc) is not None
        out.append(Check("scheduling.gke-fallback-order", pod.owner, "pass" if exists else "fail",
                         f"selects ComputeClass {cc}" if exists else
                         f"fits {len(ok)} GKE node pools but selects no ComputeClass in the plan"
                         + (f" ({cc!r} is not created)" if cc else "") +
                         ": GKE scales the cheapest pool first, ignoring the declared fallback chain"))
    return out


def _untainted(ctx, nodes) -> list[Check]:
    """Charts (Prometheus, Grafana, operators) do not tolerate GPU taints: the cluster needs an untainted node."""
    if not ctx.releases or not nodes:
        return []
    free = [n for n in nodes if not [t for t in n.taints if t.get("effect") in ("NoSchedule", "NoExecute")]]
    return [Check("scheduling.untainted-node", "cluster", "pass" if free else "fail",
                  f"untainted groups: {', '.join(n.group for n in free)}" if free else
                  "every node group is tainted: the charts' pods (Prometheus, Grafana, operator controllers) "
                  "stay Pending")]


def _nvidia(ctx, nodes) -> list[Check]:
    """GPU Operator operands reach every GPU node they are meant for and can start there."""
    out = []
    op = ctx.release("gpu-operator")
    gpu_nodes = [n for n in nodes if n.gpus]
    if op is None:
        return out
    tol = (op.values.get("daemonsets") or {}).get("tolerations")
    if tol is None:
        tol = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]   # chart default
    runtime = (op.values.get("operator") or {}).get("runtimeClass") or F.GPU_OPERATOR_DEFAULT_RUNTIME_CLASS
    for n in gpu_nodes:
        if n.image in F.OPERATOR_UNSUPPORTED_IMAGES and n.labels.get("nvidia.com/gpu.deploy.operands") != "false":
            out.append(Check("scheduling.nvidia-daemonsets", n.name, "fail",
                             f"image {n.image} is not a host OS the GPU Operator supports, yet its operands (GFD, "
                             f"DCGM exporter, validator, MIG manager) are not opted out "
                             f"(nvidia.com/gpu.deploy.operands=false)"))
            continue
        if n.labels.get("nvidia.com/gpu.deploy.operands") == "false":
            out.append(Check("scheduling.nvidia-daemonsets", n.name, "pass",
                             "operands opted out on this group (nvidia.com/gpu.deploy.operands=false)"))
            continue
        problems = []
        bad = untolerated(tol, n.taints)
        if bad:
            problems.append("GPU Operator DaemonSets do not tolerate " + ", ".join(
                f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in bad))
        if n.runtime_classes and runtime not in n.runtime_classes:
            problems.append(f"operands use runtimeClassName {runtime!r}, the node defines only "
                            f"{list(n.runtime_classes)}: their pods never start")
        out.append(Check("scheduling.nvidia-daemonsets", n.name, "fail" if problems else "pass",
                         "; ".join(problems) or "GPU Operator operands are tolerated and can start"))
    return out
