"""Workload hygiene the scanner (checkov) lacks or cannot see (kube-score / Polaris style), over every pod template
the plan renders, custom resources included (RayService, InferenceService as their controllers render them):

- `hygiene.probes`: every long-running container has a readiness and a liveness probe (a Job's pods finish; init
  containers run to completion). KubeRay v1.7.0 injects both into a Ray container that has none
  (ray-operator controllers/ray/common/pod.go initLivenessAndReadinessProbe, on unless the operator runs with
  ENABLE_PROBES_INJECTION=false), so a Ray template without them passes with that note.
- `hygiene.pdb`: every workload that can run more than one pod (replicas, HPA/ScaledObject or KubeRay maximum)
  has a PodDisruptionBudget in its namespace selecting its pods, and that budget allows a disruption (a budget
  that allows none blocks every node drain).
- `hygiene.requests`: every container, init containers included, requests CPU and memory (explicitly, or through
  its limits, which the API server copies to requests, or the namespace's LimitRange defaultRequest).
"""
import math

from plan.checks import Check
from plan.checks.match import selector_matches

_ONE_SHOT = ("Job", "CronJob")


def check(ctx) -> list[Check]:
    return _probes(ctx) + _pdbs(ctx) + _requests(ctx)


def _probes(ctx) -> list[Check]:
    out = []
    for p in ctx.pods:
        if p.kind in _ONE_SHOT:
            continue
        for c in p.containers(init=False):
            missing = [k for k in ("readinessProbe", "livenessProbe") if not c.get(k)]
            oid = f"{p.owner} container {c.get('name')}"
            if missing and p.kind in ("RayService", "RayCluster"):
                out.append(Check("hygiene.probes", oid, "pass",
                                 f"no {' or '.join(missing)} in the template: KubeRay v1.7.0 injects its defaults"))
                continue
            out.append(Check("hygiene.probes", oid, "fail" if missing else "pass",
                             f"long-running container without {' and '.join(missing)}: traffic reaches it before "
                             "it is ready, or a hung process is never restarted" if missing
                             else "readiness and liveness probes set"))
    return out


def _allows_disruption(pdb: dict, replicas: int) -> bool:
    """Whether the budget lets one pod go at `replicas` (the API server rounds both percentages up)."""
    spec = pdb.get("spec") or {}

    def count(v) -> int:
        return math.ceil(int(v[:-1]) * replicas / 100) if isinstance(v, str) and v.endswith("%") else int(v)
    if spec.get("maxUnavailable") is not None:
        return count(spec["maxUnavailable"]) > 0
    return count(spec.get("minAvailable", 1)) < replicas


def _pdbs(ctx) -> list[Check]:
    out = []
    budgets = ctx.kind("PodDisruptionBudget")
    for p in ctx.pods:
        if p.kind in _ONE_SHOT or p.kind == "DaemonSet" or max(p.replicas, p.max_replicas) <= 1:
            continue
        mine = [b for b in budgets if (b["metadata"].get("namespace") == p.namespace
                                       and selector_matches((b.get("spec") or {}).get("selector") or {}, p.labels))]
        n = max(p.replicas, p.max_replicas)
        if not mine:
            out.append(Check("hygiene.pdb", p.owner, "fail",
                             f"up to {n} pods and no PodDisruptionBudget selects them: a node drain or upgrade may "
                             "evict all at once"))
            continue
        names = ", ".join(b["metadata"]["name"] for b in mine)
        blocking = [b["metadata"]["name"] for b in mine if not _allows_disruption(b, max(p.replicas, 1))]
        out.append(Check("hygiene.pdb", p.owner, "fail" if blocking else "pass",
                         f"PodDisruptionBudget {', '.join(blocking)} allows no disruption at {max(p.replicas, 1)} "
                         "replica(s): it blocks every drain" if blocking else f"up to {n} pods, budget {names}"))
    return out


def _limitrange_requests(ctx, namespace: str) -> dict:
    out = {}
    for lr in ctx.kind("LimitRange"):
        if lr["metadata"].get("namespace") != namespace:
            continue
        for item in (lr.get("spec") or {}).get("limits") or []:
            if item.get("type") == "Container":
                out.update(item.get("defaultRequest") or {})
                for k, v in (item.get("default") or {}).items():
                    out.setdefault(k, v)      # a LimitRange default limit also becomes the request
    return out


def _requests(ctx) -> list[Check]:
    out = []
    for p in ctx.pods:
        ranged = _limitrange_requests(ctx, p.namespace)
        for c in p.containers():
            res = c.get("resources") or {}
            have = {**(res.get("limits") or {}), **(res.get("requests") or {})}
            missing = [k for k in ("cpu", "memory") if k not in have]
            from_range = [k for k in missing if k in ranged]
            missing = [k for k in missing if k not in ranged]
            oid = f"{p.owner} container {c.get('name')}"
            out.append(Check("hygiene.requests", oid, "fail" if missing else "pass",
                             f"no {' and '.join(missing)} request (none in the namespace's LimitRange either): the "
                             "scheduler packs it as if free and it is first to be evicted" if missing else
                             "cpu and memory requested" + (f" ({', '.join(from_range)} from the namespace's "
                                                            "LimitRange)" if from_range else "")))
    return out
