"""CEL, hygiene, RBAC and storage rules decision by decision (plan/checks/cel.py, hygiene.py, rbac.py, storage.py):
schema defaults and rule paths, disruption budget arithmetic, LimitRange requests, bound accounts, broad grants,
storage classes per cloud."""
import pytest

from plan.checks import cel, hygiene, rbac, storage
from tests.checks_kit import container, ctx, deployment, limitrange, rec

NS = "llm-serving"


# --- CEL --------------------------------------------------------------------------------------------------------

SCHEMA = {"type": "object", "properties": {
    "a": {"type": "integer", "default": 3},
    "m": {"type": "object", "additionalProperties": {"type": "object", "properties": {"d": {"default": "x"}},
                                                      "x-kubernetes-validations": [{"rule": "self.d == 'x'",
                                                                                    "message": "d must be x"}]}},
    "l": {"type": "array", "items": {"type": "object", "properties": {"n": {"type": "integer", "default": 1}},
                                     "x-kubernetes-validations": [{"rule": "self.n > 0"}]}}},
    "x-kubernetes-validations": [{"rule": "self.a < 5", "messageExpression": "'a too big'"}]}


def test_schema_defaults_fill_missing_fields_in_maps_and_lists():
    assert cel._defaulted(SCHEMA, {}) == {"a": 3}
    assert cel._defaulted(SCHEMA, {"a": 7, "m": {"k": {}}, "l": [{}, {"n": 2}]}) == {
        "a": 7, "m": {"k": {"d": "x"}}, "l": [{"n": 1}, {"n": 2}]}
    assert cel._defaulted({"type": "string"}, "s") == "s"
    assert cel._defaulted({"type": "array"}, [1]) == [1]


def test_rules_are_found_at_every_path_they_apply_to():
    value = cel._defaulted(SCHEMA, {"m": {"k": {}}, "l": [{}, {}], "other": {"x": 1}})
    got = [(path, rule["rule"]) for path, rule, _ in cel._rules(SCHEMA, value, "self")]
    assert got == [("self", "self.a < 5"), ("self.m.k", "self.d == 'x'"), ("self.l[0]", "self.n > 0"),
                   ("self.l[1]", "self.n > 0")]
    assert list(cel._rules(SCHEMA, None, "self")) == []


def test_evaluate_counts_passes_and_names_each_failure_with_its_message():
    fails, unchecked, passed = cel.evaluate(SCHEMA, {"m": {"k": {}}, "l": [{}]})
    assert (fails, unchecked, passed) == ([], [], 3)
    fails, unchecked, passed = cel.evaluate(SCHEMA, {"a": 9, "m": {"k": {"d": "y"}}, "l": [{"n": 0}]})
    assert fails == [("self", "self.a < 5", "'a too big'"), ("self.m.k", "self.d == 'x'", "d must be x"),
                     ("self.l[0]", "self.n > 0", "failed")]
    assert passed == 0


def test_a_rule_that_is_no_boolean_is_unchecked():
    assert cel._evaluate_rule("self.a", {"a": 1}) == ("unchecked", "evaluated to IntType, not a boolean")
    assert cel._evaluate_rule("self.a == 1", {"a": 1}) == ("pass", "")
    assert cel._evaluate_rule("self.a == 2", {"a": 1}) == ("fail", "")
    assert cel._evaluate_rule("self == oldSelf", 1) == ("unchecked", "transition rule (oldSelf): evaluated on update only")


def test_the_k8s_string_functions_cel_python_lacks():
    f = cel._k8s_functions()
    assert list(f["split"]("a,b", ",")) == ["a", "b"]
    assert f["find"]("karpenter.sh/x", "karpenter.sh") == "karpenter.sh" and f["find"]("abc", "z") == ""
    assert (f["lowerAscii"]("AbC"), f["upperAscii"]("AbC"), f["trim"](" a ")) == ("abc", "ABC", "a")
    assert cel._evaluate_rule("self.split(',').size() == 2", "a,b") == ("pass", "")


def test_the_cel_check_reports_failures_and_passes_per_object_and_skips_unknown_kinds():
    so = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "s", "namespace": NS},
          "spec": {"scaleTargetRef": {"name": "m"}, "minReplicaCount": 5, "maxReplicaCount": 2,
                   "triggers": [{"type": "cpu", "metadata": {"value": "50"}, "metricType": "Utilization"}]}}
    found = cel.check(ctx([so, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}}]))
    assert {c.object for c in found} == {"ScaledObject llm-serving/s"}
    assert [c.verdict for c in found if c.verdict != "unchecked"] == ["fail"]     # no "pass" line beside a failure
    so["spec"]["minReplicaCount"] = 1
    ok = [c for c in cel.check(ctx([so])) if c.verdict == "pass"]
    assert len(ok) == 1 and ok[0].message.endswith("CEL rules hold")


def test_an_object_with_a_failed_rule_gets_no_pass_line_for_the_rules_that_held(monkeypatch):
    monkeypatch.setattr(cel.validate, "crd_index", lambda: {("x.io", "v1", "Thing")})
    monkeypatch.setattr(cel.validate, "schema", lambda *gvk: SCHEMA)
    thing = lambda spec: dict({"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"}}, **spec)
    found = [(c.object, c.verdict, c.message) for c in cel.check(ctx([thing({"a": 9, "l": [{}]})]))]
    assert found == [("Thing _cluster/t", "fail", "self: 'a too big' (rule: self.a < 5)")]
    found = [(c.object, c.verdict, c.message) for c in cel.check(ctx([thing({"l": [{}]})]))]
    assert found == [("Thing _cluster/t", "pass", "2 CEL rules hold")]


# --- hygiene ----------------------------------------------------------------------------------------------------

def pdb(**spec):
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b", "namespace": NS},
            "spec": dict({"selector": {"matchLabels": {"app": "m"}}}, **spec)}


@pytest.mark.parametrize("spec,replicas,allows", [
    ({"maxUnavailable": 1}, 2, True), ({"maxUnavailable": 0}, 2, False),
    ({"maxUnavailable": "1%"}, 2, True), ({"maxUnavailable": "0%"}, 2, False),
    ({"minAvailable": 1}, 2, True), ({"minAvailable": 2}, 2, False), ({"minAvailable": 1}, 1, False),
    ({"minAvailable": "50%"}, 2, True), ({"minAvailable": "51%"}, 2, False), ({"minAvailable": "100%"}, 3, False),
    ({}, 2, True), ({}, 1, False),                 # no field: minAvailable 1
    ({"maxUnavailable": None, "minAvailable": 1}, 2, True),
])
def test_a_budget_allows_a_disruption(spec, replicas, allows):
    assert hygiene._allows_disruption(pdb(**spec), replicas) is allows


def test_pdb_rule_messages_and_who_is_asked():
    dep = deployment("m", replicas=2)
    found = lambda objs: [(c.verdict, c.message) for c in hygiene.check(ctx(objs)) if c.name == "hygiene.pdb"]
    assert found([dep]) == [("fail", "up to 2 pods and no PodDisruptionBudget selects them: a node drain or upgrade "
                                     "may evict all at once")]
    assert found([dep, pdb(maxUnavailable=1)]) == [("pass", "up to 2 pods, budget b")]
    assert found([dep, pdb(minAvailable=2)]) == [
        ("fail", "PodDisruptionBudget b allows no disruption at 2 replica(s): it blocks every drain")]
    assert found([deployment("m", replicas=1)]) == []
    ds = deployment("m", replicas=3)
    ds["kind"] = "DaemonSet"
    assert found([ds]) == []
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": NS},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "m"}, "maxReplicas": 4}}
    assert found([deployment("m", replicas=1), hpa, pdb(minAvailable=1)]) == [
        ("fail", "PodDisruptionBudget b allows no disruption at 1 replica(s): it blocks every drain")]
    zero = deployment("m", replicas=0)
    assert found([zero, hpa, pdb(maxUnavailable=1)]) == [("pass", "up to 4 pods, budget b")]
    # Scaled to zero at rest: the budget is judged at one replica (50% of 1 rounds up to 1), not at none.
    assert found([zero, hpa, pdb(maxUnavailable="50%")]) == [("pass", "up to 4 pods, budget b")]


def test_probes_rule_names_what_is_missing():
    found = lambda c: [(x.verdict, x.message) for x in hygiene.check(ctx([deployment(containers=[c])]))
                       if x.name == "hygiene.probes"]
    probe = {"httpGet": {"path": "/", "port": 80}}
    assert found(container(readinessProbe=probe, livenessProbe=probe)) == [("pass", "readiness and liveness probes set")]
    assert found(container(readinessProbe=probe)) == [
        ("fail", "long-running container without livenessProbe: traffic reaches it before it is ready, or a hung "
                 "process is never restarted")]
    assert found(container())[0][1].startswith("long-running container without readinessProbe and livenessProbe")


def test_requests_may_come_from_limits_or_the_namespace_limitrange():
    found = lambda objs: [(x.verdict, x.message) for x in hygiene.check(ctx(objs)) if x.name == "hygiene.requests"]
    assert found([deployment(containers=[container(limits={"cpu": "1", "memory": "1Gi"})])]) == [
        ("pass", "cpu and memory requested")]
    assert found([deployment(containers=[container(requests={"cpu": "1"})])]) == [
        ("fail", "no memory request (none in the namespace's LimitRange either): the scheduler packs it as if free "
                 "and it is first to be evicted")]
    lr = limitrange(default={"memory": "1Gi"})
    assert found([lr, deployment(containers=[container(requests={"cpu": "1"})])]) == [
        ("pass", "cpu and memory requested (memory from the namespace's LimitRange)")]
    lr = limitrange(default_request={"cpu": "1", "memory": "1Gi"})
    assert found([lr, deployment(containers=[container()])]) == [
        ("pass", "cpu and memory requested (cpu, memory from the namespace's LimitRange)")]
    assert found([limitrange(default={"memory": "1Gi"}, ns="x"),
                  deployment(containers=[container(requests={"cpu": "1"})])])[0][0] == "fail"
    pod_item = limitrange(default={"memory": "1Gi"})
    pod_item["spec"]["limits"][0]["type"] = "Pod"
    assert found([pod_item, deployment(containers=[container(requests={"cpu": "1"})])])[0][0] == "fail"
    assert hygiene._limitrange_requests(ctx([limitrange(default={"cpu": "2"}, default_request={"cpu": "1"})]), NS) == \
        {"cpu": "1"}


# --- RBAC -------------------------------------------------------------------------------------------------------

def sa(name="app", ns=NS, **extra):
    return dict({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}}, **extra)


def binding(kind="RoleBinding", subjects=None, role=("Role", "r"), ns=NS):
    meta = {"name": "b", "namespace": ns} if kind == "RoleBinding" else {"name": "b"}
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
            "roleRef": {"kind": role[0], "name": role[1]}, "subjects": subjects or []}


def tokens(objs):
    return [(c.verdict, c.message) for c in rbac.check(ctx(objs)) if c.name == "rbac.token"]


def test_a_token_is_fine_only_for_a_bound_account_and_the_default_account_mounts():
    dep = deployment(serviceAccountName="app")
    assert tokens([dep, sa()]) == [("fail", "mounts an API token of ServiceAccount app, which no rendered binding "
                                            "grants anything: set automountServiceAccountToken: false")]
    subject = {"kind": "ServiceAccount", "name": "app"}
    assert tokens([dep, sa(), binding(subjects=[subject])]) == [("pass", "ServiceAccount app is bound to a role it uses")]
    assert tokens([dep, sa(), binding(subjects=[dict(subject, namespace="x")])])[0][0] == "fail"
    assert tokens([dep, sa(), binding("ClusterRoleBinding", [dict(subject, namespace=NS)])])[0][0] == "pass"
    assert tokens([dep, sa(), binding(subjects=[dict(subject, kind="User")])])[0][0] == "fail"
    assert tokens([deployment()]) == [("fail", "mounts an API token of ServiceAccount default, which no rendered "
                                               "binding grants anything: set automountServiceAccountToken: false")]
    assert tokens([deployment(), sa("default", automountServiceAccountToken=False)]) == [
        ("pass", "no API token mounted (ServiceAccount default has no role)")]
    assert tokens([deployment(automountServiceAccountToken=True),
                   sa("default", automountServiceAccountToken=False)])[0][0] == "fail"


def test_a_ray_head_with_in_tree_autoscaling_and_no_account_of_ours_gets_kuberays():
    def ray(autoscale, sa_name=None):
        head = {"spec": {"containers": [container()]}}
        if sa_name:
            head["spec"]["serviceAccountName"] = sa_name
        return {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "r", "namespace": NS},
                "spec": {"enableInTreeAutoscaling": autoscale, "headGroupSpec": {"template": head},
                         "workerGroupSpecs": [{"groupName": "w", "template": {"spec": {"containers": [container()]}}}]}}
    got = tokens([ray(True)])
    assert got[0][0] == "pass" and got[0][1].startswith("in-tree autoscaling: KubeRay gives the head")
    assert got[1][0] == "fail"                                     # the workers are not the head
    assert tokens([ray(False)])[0][0] == "fail"
    assert tokens([ray(True, "mine")])[0][0] == "fail"


def rules(objs):
    return [(c.object, c.verdict, c.message) for c in rbac.check(ctx(objs)) if c.name == "rbac.rules"]


def role(kind, *rule_list):
    meta = {"name": "r", "namespace": NS} if kind == "Role" else {"name": "r"}
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "rules": list(rule_list)}


def test_roles_without_wildcards_or_cluster_secret_reads_pass():
    ok = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
    assert rules([role("Role", ok)]) == [("Role llm-serving/r", "pass", "named verbs on named resources")]
    for key in ("verbs", "resources", "apiGroups"):
        assert rules([role("Role", dict(ok, **{key: ["*"]}))])[0][1:] == ("fail", f"rules[0].{key} has '*'")
    secrets = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["watch"]}
    assert rules([role("ClusterRole", ok, secrets)]) == [
        ("ClusterRole _cluster/r", "fail", "rules[1] reads Secrets in every namespace")]
    assert rules([role("Role", secrets)])[0][1] == "pass"
    assert rules([role("ClusterRole", dict(secrets, verbs=["create"]))])[0][1] == "pass"


@pytest.mark.parametrize("ref,verdict", [(("ClusterRole", "cluster-admin"), "fail"), (("ClusterRole", "admin"), "fail"),
                                         (("ClusterRole", "edit"), "fail"), (("ClusterRole", "view"), "pass"),
                                         (("Role", "admin"), "pass")])
def test_bindings_must_not_grant_the_broad_builtin_roles(ref, verdict):
    [(obj, v, msg)] = rules([binding(role=ref)])
    assert (obj, v) == ("RoleBinding llm-serving/b", verdict)
    assert msg == (f"grants the built-in ClusterRole {ref[1]}" if verdict == "fail" else f"grants {ref[0]} {ref[1]}")


# --- storage ----------------------------------------------------------------------------------------------------

def pvc(cls=None, modes=("ReadWriteOnce",), missing=False):
    spec = {"accessModes": list(modes)}
    if not missing:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c", "namespace": NS},
            "spec": spec}


def sc(name, prov, default=False):
    meta = {"name": name, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}} if default \
        else {"name": name}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta, "provisioner": prov}


def claims(objs, cloud="aws", resources=()):
    return [(c.verdict, c.message) for c in storage.check(ctx(objs, cloud=cloud, resources=resources))]


def test_a_claim_without_class_takes_the_default_or_stays_pending():
    assert claims([pvc(missing=True)], "gcp") == [("pass", "class 'standard-rwo' (gcp default)")]
    assert claims([pvc(missing=True)], "aws") == [
        ("fail", "no storageClassName and no default StorageClass on a new aws cluster (classes: ['gp2']): the claim "
                 "stays Pending")]
    assert claims([pvc(missing=True), sc("fast", "ebs.csi.aws.com", default=True)], "aws",
                  [rec("aws:eks/addon:Addon", "ebs", {"addonName": "aws-ebs-csi-driver"})]) == [
        ("pass", "class 'fast' (the plan)")]
    assert claims([pvc(missing=True), sc("fast", "ebs.csi.aws.com")], "aws")[0][0] == "fail"
    assert claims([pvc(missing=True)], "other") == [
        ("fail", "no storageClassName and no default StorageClass on a new other cluster (classes: none): the claim "
                 "stays Pending")]


def test_named_empty_and_unknown_classes():
    assert claims([pvc("")], "gcp") == [("fail", 'storageClassName "" asks for a pre-provisioned volume the plan does '
                                                 "not create")]
    assert claims([pvc("nope")], "gcp") == [("fail", "StorageClass 'nope' neither created by the plan nor provided by "
                                                     "gcp")]
    assert claims([pvc("premium-rwo")], "gcp") == [("pass", "class 'premium-rwo' (gcp default)")]


def test_rwx_needs_an_rwx_provisioner_and_ebs_needs_its_addon_on_aws_only():
    assert claims([pvc("azurefile-csi", ("ReadWriteMany",))], "azure")[0][0] == "pass"
    assert claims([pvc("managed-csi", ("ReadWriteMany",))], "azure") == [
        ("fail", "ReadWriteMany on class 'managed-csi' (disk.csi.azure.com), which cannot serve RWX")]
    assert claims([pvc("gp2")], "aws") == [
        ("fail", "class 'gp2' (kubernetes.io/aws-ebs) provisions nothing without the EKS add-on aws-ebs-csi-driver")]
    addon = rec("aws:eks/addon:Addon", "ebs", {"addonName": "aws-ebs-csi-driver"})
    assert claims([pvc("gp2")], "aws", [addon]) == [("pass", "class 'gp2' (aws default)")]
    efs = sc("efs", "efs.csi.aws.com")
    assert claims([pvc("efs", ("ReadWriteMany",)), efs], "aws") == [
        ("fail", "class 'efs' (efs.csi.aws.com) provisions nothing without the EKS add-on aws-efs-csi-driver")]
    assert claims([pvc("efs", ("ReadWriteMany",)), efs], "gcp")[0][0] == "pass"      # no EKS add-ons elsewhere


def test_claims_come_from_statefulsets_and_kube_prometheus_stack_values():
    sts = deployment("s")
    sts["kind"] = "StatefulSet"
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {"storageClassName": "nope"}}]
    assert [(c.object, c.verdict) for c in storage.check(ctx([sts], cloud="gcp"))] == [
        ("StatefulSet llm-serving/s claim data", "fail")]
    values = {"prometheus": {"prometheusSpec": {"storageSpec": {"volumeClaimTemplate": {"spec": {
                  "storageClassName": "nope"}}}}},
              "alertmanager": {"alertmanagerSpec": {"storageSpec": {"volumeClaimTemplate": {"spec": {}}}}},
              "grafana": {"persistence": {"enabled": True, "storageClassName": "premium-rwo"}}}
    kps = rec("kubernetes:helm.sh/v3:Release", "kps", {"chart": "kube-prometheus-stack", "version": "1",
                                                       "namespace": "monitoring", "values": values})
    got = [(c.object.split(") ")[-1], c.verdict) for c in storage.check(ctx([], cloud="gcp", resources=[kps]))]
    assert got == [("prometheus.prometheusSpec.storageSpec", "fail"), ("alertmanager.alertmanagerSpec.storageSpec", "pass"),
                   ("grafana.persistence", "pass")]
    values["grafana"]["persistence"]["enabled"] = False
    kps = rec("kubernetes:helm.sh/v3:Release", "kps", {"chart": "kube-prometheus-stack", "version": "1",
                                                       "namespace": "monitoring", "values": values})
    assert len(storage.check(ctx([], cloud="gcp", resources=[kps]))) == 2
    bare = rec("kubernetes:helm.sh/v3:Release", "kps", {"chart": "kube-prometheus-stack", "version": "1",
                                                        "namespace": "monitoring", "values": {}})
    assert storage.check(ctx([], cloud="gcp", resources=[bare])) == []
