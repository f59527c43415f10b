"""Cluster checks plan/checks/hygiene.py (probes, PDBs, requests) and plan/checks/rbac.py (token automount, role
rules), each rule failing on an exact input and passing on its fix; and every stack passes both."""
import pytest

from plan import federation, manifests
from plan.checks import hygiene, rbac
from plan.checks.context import Context
from plan.runtime import ROOT
from tests.checks_kit import NS, container, ctx, deployment, failed, limitrange, verdicts
from tests.harness import run_stack

STACKS = federation.cloud_stacks(ROOT)   # a federation stack runs no pods of its own

PROBES = {"readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
          "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}}}
REQ = {"cpu": "1", "memory": "1Gi"}


def _pdb(name="m-pdb", labels=None, **spec) -> dict:
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name, "namespace": NS},
            "spec": dict({"selector": {"matchLabels": labels or {"app": "m"}}}, **spec)}


def _hpa(target="m", mx=4) -> dict:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h", "namespace": NS},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
                     "minReplicas": 1, "maxReplicas": mx}}


def _job(containers) -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": NS},
            "spec": {"template": {"metadata": {}, "spec": {"restartPolicy": "Never", "containers": containers}}}}


def _ray(autoscaling: bool, head_spec=None, worker_spec=None) -> dict:
    head = head_spec or {"containers": [container("ray-head", requests=REQ)]}
    worker = worker_spec or {"containers": [container("ray-worker", requests=REQ)],
                             "automountServiceAccountToken": False}
    return {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "r", "namespace": NS},
            "spec": {"rayClusterConfig": {
                "enableInTreeAutoscaling": autoscaling,
                "headGroupSpec": {"template": {"metadata": {"labels": {"app": "r-head"}}, "spec": head}},
                "workerGroupSpecs": [{"groupName": "gpu", "replicas": 1, "minReplicas": 1, "maxReplicas": 3,
                                      "template": {"metadata": {"labels": {"app": "r"}}, "spec": worker}}]}}}


# --- probes -------------------------------------------------------------------------------------------------------

def test_a_long_running_container_without_probes_fails_naming_what_is_missing():
    d = deployment(containers=[container("a", requests=REQ), container("b", requests=REQ, **PROBES),
                               container("c", requests=REQ, readinessProbe=PROBES["readinessProbe"])])
    found = hygiene.check(ctx([d]))
    assert failed(found, "hygiene.probes", "Deployment llm-serving/m container a") == [
        "long-running container without readinessProbe and livenessProbe: traffic reaches it before it is ready, "
        "or a hung process is never restarted"]
    assert failed(found, "hygiene.probes", "Deployment llm-serving/m container b") == []
    assert "without livenessProbe:" in failed(found, "hygiene.probes", "Deployment llm-serving/m container c")[0]


def test_jobs_and_init_containers_need_no_probes():
    d = deployment(containers=[container("a", requests=REQ, **PROBES)],
                   initContainers=[container("init", requests=REQ)])
    found = hygiene.check(ctx([d, _job([container("once", requests=REQ)])]))
    assert [c.object for c in found if c.name == "hygiene.probes"] == ["Deployment llm-serving/m container a"]


def test_ray_containers_without_probes_pass_because_kuberay_injects_them():
    found = hygiene.check(ctx([_ray(True)]))
    probes = verdicts(found, "hygiene.probes", "RayService llm-serving/r")
    assert [c.verdict for c in probes] == ["pass", "pass"]
    assert all("KubeRay v1.7.0 injects" in c.message for c in probes)


# --- PDBs ---------------------------------------------------------------------------------------------------------

def test_replicated_workload_without_a_budget_fails_and_a_single_pod_is_not_asked():
    found = hygiene.check(ctx([deployment(replicas=2, containers=[container(requests=REQ, **PROBES)])]))
    assert failed(found, "hygiene.pdb", "Deployment llm-serving/m") == [
        "up to 2 pods and no PodDisruptionBudget selects them: a node drain or upgrade may evict all at once"]
    single = hygiene.check(ctx([deployment(replicas=1, containers=[container(requests=REQ, **PROBES)])]))
    assert [c for c in single if c.name == "hygiene.pdb"] == []


def test_an_autoscaler_maximum_counts_as_replicated():
    d = deployment(replicas=1, containers=[container(requests=REQ, **PROBES)])
    assert failed(hygiene.check(ctx([d, _hpa(mx=4)])), "hygiene.pdb", "Deployment llm-serving/m") == [
        "up to 4 pods and no PodDisruptionBudget selects them: a node drain or upgrade may evict all at once"]
    assert failed(hygiene.check(ctx([d, _hpa(mx=4), _pdb(maxUnavailable=1)])), "hygiene.pdb") == []


def test_a_budget_in_another_namespace_or_selecting_other_labels_does_not_count():
    d = deployment(replicas=3, containers=[container(requests=REQ, **PROBES)])
    other_ns = dict(_pdb(maxUnavailable=1), metadata={"name": "x", "namespace": "elsewhere"})
    assert failed(hygiene.check(ctx([d, other_ns, _pdb(labels={"app": "n"}, maxUnavailable=1)])), "hygiene.pdb")


@pytest.mark.parametrize("spec,replicas,blocks", [
    ({"maxUnavailable": 0}, 3, True), ({"maxUnavailable": 1}, 3, False), ({"maxUnavailable": "0%"}, 3, True),
    ({"maxUnavailable": "10%"}, 3, False),            # rounds up to 1
    ({"minAvailable": 3}, 3, True), ({"minAvailable": 2}, 3, False), ({"minAvailable": "100%"}, 3, True),
    ({"minAvailable": "50%"}, 1, True),               # ceil(0.5) = 1 of 1
    ({"minAvailable": "50%"}, 3, False), ({}, 1, True), ({}, 2, False)])   # default minAvailable 1
def test_a_budget_that_allows_no_disruption_fails(spec, replicas, blocks):
    d = deployment(replicas=replicas, containers=[container(requests=REQ, **PROBES)])
    found = hygiene.check(ctx([d, _pdb(**spec), _hpa(mx=4)]))
    msgs = failed(found, "hygiene.pdb", "Deployment llm-serving/m")
    assert msgs == ([f"PodDisruptionBudget m-pdb allows no disruption at {replicas} replica(s): it blocks every drain"]
                    if blocks else [])


def test_ray_worker_groups_are_judged_by_their_maximum():
    found = hygiene.check(ctx([_ray(True)]))
    assert failed(found, "hygiene.pdb", "RayService llm-serving/r worker gpu")
    assert [c.object for c in found if c.name == "hygiene.pdb"] == ["RayService llm-serving/r worker gpu"]


# --- requests -----------------------------------------------------------------------------------------------------

def test_every_container_needs_cpu_and_memory_requests():
    d = deployment(containers=[container("a", requests={"cpu": "1"}, **PROBES),
                               container("b", limits={"cpu": "1", "memory": "1Gi"}, **PROBES)],
                   initContainers=[container("init")])
    found = hygiene.check(ctx([d]))
    assert failed(found, "hygiene.requests", "Deployment llm-serving/m container a") == [
        "no memory request (none in the namespace's LimitRange either): the scheduler packs it as if free and it "
        "is first to be evicted"]
    assert failed(found, "hygiene.requests", "Deployment llm-serving/m container b") == []   # limits default them
    assert "no cpu and memory request" in failed(found, "hygiene.requests", "Deployment llm-serving/m container init")[0]


def test_a_limitrange_default_fills_a_missing_request_in_its_namespace_only():
    d = deployment(containers=[container("a", requests={"cpu": "1"}, **PROBES)])
    found = hygiene.check(ctx([d, limitrange(default_request={"memory": "256Mi"})]))
    [c] = verdicts(found, "hygiene.requests", "Deployment llm-serving/m container a")
    assert (c.verdict, c.message) == ("pass", "cpu and memory requested (memory from the namespace's LimitRange)")
    elsewhere = hygiene.check(ctx([d, limitrange(default_request={"memory": "256Mi"}, ns="other")]))
    assert failed(elsewhere, "hygiene.requests", "Deployment llm-serving/m container a")


# --- RBAC ---------------------------------------------------------------------------------------------------------

def _sa(name="app", automount=None) -> dict:
    o = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": NS}}
    if automount is not None:
        o["automountServiceAccountToken"] = automount
    return o


def _binding(sa="app", kind="RoleBinding", role=("Role", "reader"), ns=NS) -> dict:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
            "metadata": {"name": "b", **({"namespace": ns} if kind == "RoleBinding" else {})},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role[0], "name": role[1]}}


def test_a_token_for_an_account_without_a_role_fails():
    found = rbac.check(ctx([deployment()]))
    assert failed(found, "rbac.token", "Deployment llm-serving/m") == [
        "mounts an API token of ServiceAccount default, which no rendered binding grants anything: set "
        "automountServiceAccountToken: false"]


@pytest.mark.parametrize("objs", [
    [deployment(automountServiceAccountToken=False)],
    [deployment(serviceAccountName="app"), _sa(automount=False)],
    [deployment(serviceAccountName="app"), _sa(), _binding()],
    [deployment(serviceAccountName="app"), _sa(), _binding(kind="ClusterRoleBinding", role=("ClusterRole", "r"))]])
def test_no_token_or_a_bound_account_passes(objs):
    assert failed(rbac.check(ctx(objs)), "rbac.token", "Deployment llm-serving/m") == []


def test_the_pod_setting_wins_over_its_account_and_a_binding_elsewhere_does_not_count():
    on = [deployment(serviceAccountName="app", automountServiceAccountToken=True), _sa(automount=False)]
    assert failed(rbac.check(ctx(on)), "rbac.token")
    other_ns = [deployment(serviceAccountName="app"), _sa(), _binding(ns="other")]
    assert failed(rbac.check(ctx(other_ns)), "rbac.token")


def test_ray_head_token_passes_only_with_in_tree_autoscaling():
    found = rbac.check(ctx([_ray(True)]))
    assert [c.verdict for c in verdicts(found, "rbac.token", "RayService llm-serving/r")] == ["pass", "pass"]
    static = rbac.check(ctx([_ray(False)]))
    assert failed(static, "rbac.token", "RayService llm-serving/r head")
    assert failed(static, "rbac.token", "RayService llm-serving/r worker") == []
    # Workers never get the exception.
    open_worker = _ray(True, worker_spec={"containers": [container("ray-worker", requests=REQ)]})
    assert failed(rbac.check(ctx([open_worker])), "rbac.token", "RayService llm-serving/r worker gpu")


def test_role_rules_wildcards_cluster_secrets_and_broad_bindings_fail():
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]},
                      {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]}
    found = rbac.check(ctx([role, _binding(kind="ClusterRoleBinding", role=("ClusterRole", "cluster-admin"))]))
    assert failed(found, "rbac.rules", "ClusterRole _cluster/r") == [
        "rules[0].verbs has '*'; rules[1] reads Secrets in every namespace"]
    assert failed(found, "rbac.rules", "ClusterRoleBinding _cluster/b") == [
        "grants the built-in ClusterRole cluster-admin"]
    fine = dict(role, kind="Role", metadata={"name": "r", "namespace": NS},
                rules=[{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}])
    assert failed(rbac.check(ctx([fine, _binding()])), "rbac.rules") == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_exercises_and_passes_hygiene_and_rbac(stack):
    p = run_stack(stack)
    c = Context.from_run(p.result, manifests.objects(p.resources), p.spec.cluster.kubernetes_version)
    mine = hygiene.check(c) + rbac.check(c)
    # Every stack has a long-running model server: probes, requests and its token are always looked at.
    assert {"hygiene.probes", "hygiene.requests", "rbac.token"} <= {x.name for x in mine}
    assert [f"{x.object}: [{x.name}] {x.message}" for x in mine if x.verdict != "pass"] == []
