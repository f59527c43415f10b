"""RBAC of what the program renders (issue 16 item 6); chart releases create and bind their own accounts, which
the plan does not see (docs/security.md lists them).

- `rbac.token`: a pod whose ServiceAccount no rendered RoleBinding/ClusterRoleBinding names must not mount an API
  token (`automountServiceAccountToken: false` on the pod or its ServiceAccount): the token would only be a
  credential to steal. Exception: a Ray head with in-tree autoscaling and no ServiceAccount of ours, which KubeRay
  v1.7.0 gives an account bound to the autoscaler's Role (ray-operator controllers/ray/common/rbac.go).
- `rbac.rules`: a rendered Role/ClusterRole grants no wildcard verb, resource or API group, and no cluster-wide read
  of Secrets; a rendered binding never grants cluster-admin, admin or edit.
"""
from plan.checks import Check

_BROAD_ROLES = ("cluster-admin", "admin", "edit")
_BINDINGS = ("RoleBinding", "ClusterRoleBinding")


def check(ctx) -> list[Check]:
    return _tokens(ctx) + _rules(ctx)


def _bound(ctx) -> set:
    """(namespace, name) of every ServiceAccount a rendered binding names."""
    out = set()
    for b in ctx.kind(*_BINDINGS):
        for s in b.get("subjects") or []:
            if s.get("kind") == "ServiceAccount":
                out.add((s.get("namespace") or b["metadata"].get("namespace"), s.get("name")))
    return out


def _ray_autoscaled_head(p) -> bool:
    cluster = (p.obj.get("spec") or {}).get("rayClusterConfig") or p.obj.get("spec") or {}
    return p.kind in ("RayService", "RayCluster") and p.owner.endswith(" head") \
        and bool(cluster.get("enableInTreeAutoscaling")) and not p.spec.get("serviceAccountName")


def _tokens(ctx) -> list[Check]:
    out, bound = [], _bound(ctx)
    for p in ctx.pods:
        sa = p.spec.get("serviceAccountName") or "default"
        account = ctx.get("ServiceAccount", p.namespace, sa) or {}
        mounts = p.spec.get("automountServiceAccountToken", account.get("automountServiceAccountToken", True))
        if (p.namespace, sa) in bound:
            out.append(Check("rbac.token", p.owner, "pass", f"ServiceAccount {sa} is bound to a role it uses"))
        elif _ray_autoscaled_head(p):
            out.append(Check("rbac.token", p.owner, "pass",
                             "in-tree autoscaling: KubeRay gives the head its own ServiceAccount bound to the "
                             "autoscaler's Role (pods get/list/watch/patch, rayclusters get/patch)"))
        else:
            out.append(Check("rbac.token", p.owner, "fail" if mounts else "pass",
                             f"mounts an API token of ServiceAccount {sa}, which no rendered binding grants "
                             "anything: set automountServiceAccountToken: false" if mounts
                             else f"no API token mounted (ServiceAccount {sa} has no role)"))
    return out


def _rules(ctx) -> list[Check]:
    out = []
    for r in ctx.kind("Role", "ClusterRole"):
        m = r["metadata"]
        problems = []
        for i, rule in enumerate(r.get("rules") or []):
            for key in ("verbs", "resources", "apiGroups"):
                if "*" in (rule.get(key) or []):
                    problems.append(f"rules[{i}].{key} has '*'")
            if r["kind"] == "ClusterRole" and "secrets" in (rule.get("resources") or []) \
                    and set(rule.get("verbs") or []) & {"get", "list", "watch", "*"}:
                problems.append(f"rules[{i}] reads Secrets in every namespace")
        out.append(Check("rbac.rules", f"{r['kind']} {m.get('namespace', '_cluster')}/{m['name']}",
                         "fail" if problems else "pass", "; ".join(problems) or "named verbs on named resources"))
    for b in ctx.kind(*_BINDINGS):
        m, ref = b["metadata"], b.get("roleRef") or {}
        broad = ref.get("kind") == "ClusterRole" and ref.get("name") in _BROAD_ROLES
        out.append(Check("rbac.rules", f"{b['kind']} {m.get('namespace', '_cluster')}/{m['name']}",
                         "fail" if broad else "pass",
                         f"grants the built-in ClusterRole {ref.get('name')}" if broad
                         else f"grants {ref.get('kind')} {ref.get('name')}"))
    return out
