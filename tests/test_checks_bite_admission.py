"""The admission rules' decisions one by one (plan/checks/admission.py): LimitRange defaulting and its boundaries,
extended resources, ResourceQuota counting, and every Pod Security check at baseline and restricted."""
import pytest

from plan.checks import admission
from tests.checks_kit import container, ctx, deployment, limitrange, namespace, rec

NS = "llm-serving"


def one(checks, name):
    found = [(c.verdict, c.message) for c in checks if c.name == name]
    assert len(found) == 1, found
    return found[0]


def lr_verdict(objs):
    return one(admission.check(ctx([namespace()] + objs)), "admission.limitrange")


def pod(requests=None, limits=None, **pod_fields):
    return deployment(containers=[container("a", requests=requests, limits=limits)], **pod_fields)


# --- resources --------------------------------------------------------------------------------------------------

def test_which_resources_are_extended():
    assert admission._is_extended("nvidia.com/gpu")
    assert not admission._is_extended("cpu") and not admission._is_extended("memory")
    assert not admission._is_extended("ephemeral-storage")
    assert not admission._is_extended("hugepages-2Mi") and not admission._is_extended("hugepages-x/y")
    assert not admission._is_extended("kubernetes.io/something")
    assert not admission._is_extended("gpu")


def test_limitrange_items_default_from_max_then_default_then_min():
    lr = limitrange(max={"cpu": "4"}, min={"memory": "1Gi"})
    lr["spec"]["limits"].append({"type": "Pod", "max": {"cpu": "1"}})
    [it] = admission._limitrange_items(lr)
    assert it["default"] == {"cpu": "4"}
    assert it["defaultRequest"] == {"cpu": "4", "memory": "1Gi"}
    [it] = admission._limitrange_items(limitrange(default={"cpu": "2"}, default_request={"cpu": "1"}, max={"cpu": "4"}))
    assert it["default"] == {"cpu": "2"} and it["defaultRequest"] == {"cpu": "1"}


def test_effective_resources_report_what_limitranger_set_and_keep_what_the_pod_sets():
    lr = limitrange(default={"cpu": "2", "memory": "1Gi"}, default_request={"cpu": "1"})
    p = pod(requests={"cpu": "500m"}, limits={"memory": "2Gi"})
    from plan.checks.pods import pod_templates
    [t] = pod_templates([p])
    [(name, req, lim, added)] = admission.effective_resources(t, ctx([lr, p]))
    assert name == "a"
    assert {k: str(v) for k, v in req.items()} == {"cpu": "1/2", "memory": str(2 * 2**30)}
    assert {k: str(v) for k, v in lim.items()} == {"cpu": "2", "memory": str(2 * 2**30)}
    assert added == ["cpu limit 2"]
    other_ns = limitrange(default={"cpu": "2"}, ns="other")
    [(_, _, lim, added)] = admission.effective_resources(t, ctx([other_ns, p]))
    assert "cpu" not in lim and added == []


def test_request_equal_to_limit_is_admitted_and_above_it_is_not():
    assert lr_verdict([pod({"cpu": "2"}, {"cpu": "2"})]) == (
        "pass", "requests and limits after LimitRange defaulting are admitted")
    assert lr_verdict([pod({"cpu": "2100m"}, {"cpu": "2"})]) == (
        "fail", "container a: requests.cpu 2100m must be less than or equal to cpu limit of 2")
    # An extended resource over its limit is the extended-resources rule's business, not LimitRanger's.
    assert lr_verdict([pod({"nvidia.com/gpu": "2"}, {"nvidia.com/gpu": "1"})])[0] == "pass"


def test_limitrange_min_max_and_ratio_boundaries():
    lr = limitrange(min={"cpu": "1"}, max={"memory": "2Gi"}, maxLimitRequestRatio={"cpu": "2"})
    assert lr_verdict([lr, pod({"cpu": "1"}, {"cpu": "2", "memory": "2Gi"})])[0] == "pass"
    assert lr_verdict([lr, pod({"cpu": "999m"}, {"cpu": "1", "memory": "2Gi"})]) == (
        "fail", "container a: minimum cpu usage per Container is 1, but request is 999m")
    assert lr_verdict([lr, pod({"cpu": "1"}, {"cpu": "2", "memory": "3Gi"})]) == (
        "fail", "container a: maximum memory usage per Container is 2Gi, but limit is 3221225472")
    assert lr_verdict([lr, pod({"cpu": "1"}, {"cpu": "2001m", "memory": "2Gi"})]) == (
        "fail", "container a: cpu max limit to request ratio per Container is 2, but provided ratio is 2.001000")


def test_a_limitrange_min_defaults_the_request_and_pod_items_are_not_simulated():
    lr = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr", "namespace": NS},
          "spec": {"limits": [{"type": "Container", "min": {"cpu": "1"}}]}}
    assert lr_verdict([lr, pod({"cpu": "1"})])[0] == "pass"
    assert lr_verdict([lr, pod()])[0] == "pass"          # min defaults the request to 1
    other = {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr", "namespace": NS},
             "spec": {"limits": [{"type": "Pod", "min": {"cpu": "1"}}]}}
    assert lr_verdict([other, pod()])[0] == "pass"       # Pod items are not simulated


def test_extended_resources_need_a_limit_equal_to_the_request():
    ev = lambda p: one(admission.check(ctx([p])), "admission.extended-resources")
    assert ev(pod({"nvidia.com/gpu": "1"}, {"nvidia.com/gpu": "1"})) == (
        "pass", "extended resources: limit set and equal to the request")
    assert ev(pod(None, {"nvidia.com/gpu": "1"}))[0] == "pass"
    assert ev(pod({"nvidia.com/gpu": "1"}, {"nvidia.com/gpu": "1000m"}))[0] == "pass"
    assert ev(pod({"nvidia.com/gpu": "1"})) == (
        "fail", "container a: nvidia.com/gpu: Limit must be set for non overcommitable resources")
    assert ev(pod({"cpu": "1", "hugepages-2Mi": "1Gi"}))[0] == "pass"


# --- quota ------------------------------------------------------------------------------------------------------

def quota(hard, **spec):
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "q", "namespace": NS},
            "spec": dict({"hard": hard}, **spec)}


def qv(objs):
    return one(admission.check(ctx(objs)), "admission.quota")


def test_quota_totals_at_the_boundary_pass_and_above_fail():
    p = pod({"cpu": "1", "memory": "1Gi"}, {"cpu": "1", "memory": "1Gi"}, replicas=2)
    assert qv([quota({"requests.cpu": "2", "pods": "2"}), p]) == (
        "pass", "1 pod templates at max replicas fit {'requests.cpu': '2', 'pods': '2'}")
    assert qv([quota({"requests.cpu": "1999m"}), p]) == (
        "fail", "requests.cpu: the namespace's pods at their maximum replicas use 2, over the quota's 1999m")
    assert qv([quota({"pods": "1"}), p]) == (
        "fail", "pods: the namespace's pods at their maximum replicas use 2, over the quota's 1")
    assert qv([quota({"cpu": "1"}), p])[0] == "fail"             # bare "cpu" is requests.cpu
    assert qv([quota({"limits.memory": "2Gi"}), p])[0] == "pass"
    assert qv([quota({"limits.memory": "2047Mi"}), p])[0] == "fail"
    assert qv([quota({"requests.cpu": "1"}), dict(p, metadata={"name": "m", "namespace": "other"})])[0] == "pass"


def test_quota_counts_the_larger_of_the_app_sum_and_the_largest_init_container():
    app = [container("a", requests={"cpu": "1"}), container("b", requests={"cpu": "1"})]
    small_init = [container("i", requests={"cpu": "1500m"})]
    big_init = [container("i", requests={"cpu": "3"})]
    assert qv([quota({"requests.cpu": "2"}), deployment(containers=app, initContainers=small_init)])[0] == "pass"
    assert qv([quota({"requests.cpu": "2"}), deployment(containers=app, initContainers=big_init)]) == (
        "fail", "requests.cpu: the namespace's pods at their maximum replicas use 3, over the quota's 2")


def test_quota_forcing_names_every_container_without_the_field_init_containers_too():
    p = deployment(containers=[container("a", requests={"cpu": "1"})], initContainers=[container("i")])
    assert qv([quota({"requests.cpu": "10", "limits.memory": "10Gi"}), p]) == (
        "fail", "must specify limits.memory for: Deployment llm-serving/m container a, Deployment llm-serving/m "
                "container i; must specify requests.cpu for: Deployment llm-serving/m container i")
    assert qv([quota({"requests.nvidia.com/gpu": "4"}), p])[0] == "pass"     # not a forcing resource


def test_scoped_quotas_are_unchecked():
    assert qv([quota({"pods": "1"}, scopes=["BestEffort"])]) == ("unchecked", "scoped quotas are not simulated")
    assert qv([quota({"pods": "1"}, scopeSelector={"matchExpressions": [{"operator": "Exists",
                                                                         "scopeName": "PriorityClass"}]})])[0] == \
        "unchecked"


# --- Pod Security -----------------------------------------------------------------------------------------------

def ps(level, spec):
    return admission.pod_security_violations(level, spec)


def c(name="a", **fields):
    return dict({"name": name, "image": "x:1"}, **fields)


@pytest.mark.parametrize("spec,violation", [
    ({"hostPID": True}, "hostNamespaces: hostPID=true"),
    ({"hostIPC": True}, "hostNamespaces: hostIPC=true"),
    ({"volumes": [{"name": "v", "hostPath": {"path": "/"}}]}, "hostPathVolumes: volume v"),
    ({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}}, "sysctls: kernel.msgmax"),
    ({"securityContext": {"windowsOptions": {"hostProcess": True}}}, "windowsHostProcess: pod"),
    ({"securityContext": {"seccompProfile": {"type": "Unconfined"}}}, "seccompProfile: pod Unconfined"),
    ({"containers": [c(securityContext={"appArmorProfile": {"type": "Unconfined"}})]}, "appArmorProfile: a Unconfined"),
    ({"containers": [c(securityContext={"seLinuxOptions": {"type": "spc_t"}})]}, "seLinuxOptions: a"),
    ({"containers": [c(securityContext={"seLinuxOptions": {"user": "u"}})]}, "seLinuxOptions: a"),
    ({"containers": [c(securityContext={"seLinuxOptions": {"role": "r"}})]}, "seLinuxOptions: a"),
    ({"containers": [c(securityContext={"capabilities": {"add": ["SYS_ADMIN", "CHOWN"]}})]},
     "capabilities: container a adds ['SYS_ADMIN']"),
    ({"containers": [c(securityContext={"procMount": "Unmasked"})]}, "procMount: container a"),
    ({"containers": [c(ports=[{"containerPort": 80, "hostPort": 80}])]}, "hostPorts: container a hostPort 80"),
    ({"containers": [c(livenessProbe={"httpGet": {"host": "1.2.3.4", "port": 80}})]},
     "hostProbesAndHostLifecycle: container a livenessProbe"),
    ({"containers": [c(startupProbe={"tcpSocket": {"host": "1.2.3.4", "port": 80}})]},
     "hostProbesAndHostLifecycle: container a startupProbe"),
    ({"containers": [c(lifecycle={"preStop": {"httpGet": {"host": "h", "port": 80}}})]},
     "hostProbesAndHostLifecycle: container a preStop"),
    ({"containers": [c(lifecycle={"postStart": {"tcpSocket": {"host": "h", "port": 80}}})]},
     "hostProbesAndHostLifecycle: container a postStart"),
    ({"containers": [c()], "initContainers": [c("i", securityContext={"privileged": True})]}, "privileged: container i"),
    ({"containers": [c()], "ephemeralContainers": [c("e", securityContext={"privileged": True})]},
     "privileged: container e"),
])
def test_each_baseline_check_fires_at_baseline_and_restricted_but_not_privileged(spec, violation):
    spec = dict({"containers": [c()]}, **spec)
    assert violation in ps("baseline", spec)
    assert violation in ps("restricted", spec)
    assert ps("privileged", spec) == []


def test_what_baseline_allows():
    spec = {"containers": [c(securityContext={"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN"]},
                                              "procMount": "Default", "seccompProfile": {"type": "RuntimeDefault"},
                                              "seLinuxOptions": {"type": "container_t"}},
                             ports=[{"containerPort": 80}], readinessProbe={"httpGet": {"port": 80}})],
            "securityContext": {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]},
            "volumes": [{"name": "v", "emptyDir": {}}], "hostNetwork": False}
    assert ps("baseline", spec) == []


def restricted_ok(**over):
    sc = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]},
          "seccompProfile": {"type": "RuntimeDefault"}}
    sc.update(over)
    return {"containers": [c(securityContext=sc)]}


def test_restricted_passes_the_good_spec_and_names_each_gap():
    assert ps("restricted", restricted_ok()) == []
    assert ps("restricted", restricted_ok(seccompProfile={"type": "Localhost", "localhostProfile": "p"})) == []
    assert ps("restricted", restricted_ok(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})) == []
    assert ps("restricted", restricted_ok(allowPrivilegeEscalation=True)) == [
        "allowPrivilegeEscalation != false (container a)"]
    unset = restricted_ok()
    del unset["containers"][0]["securityContext"]["allowPrivilegeEscalation"]
    assert ps("restricted", unset) == ["allowPrivilegeEscalation != false (container a)"]
    assert ps("restricted", restricted_ok(runAsNonRoot=False)) == ["runAsNonRoot != true (container a)"]
    assert ps("restricted", restricted_ok(runAsUser=0)) == ["runAsUser=0 (container a)"]
    assert ps("restricted", restricted_ok(seccompProfile={})) == [
        "seccompProfile (container a must set RuntimeDefault or Localhost)"]
    assert ps("restricted", restricted_ok(capabilities={"drop": ["NET_RAW"]})) == [
        "unrestricted capabilities (container a must drop ALL)"]
    assert ps("restricted", restricted_ok(capabilities={"drop": ["ALL"], "add": ["CHOWN"]})) == [
        "unrestricted capabilities (container a adds ['CHOWN'])"]
    assert ps("baseline", restricted_ok(allowPrivilegeEscalation=True)) == []


def test_restricted_pod_level_settings_and_volumes():
    spec = restricted_ok()
    del spec["containers"][0]["securityContext"]["runAsNonRoot"]
    del spec["containers"][0]["securityContext"]["seccompProfile"]
    assert ps("restricted", spec) == ["runAsNonRoot != true (container a)",
                                      "seccompProfile (container a must set RuntimeDefault or Localhost)"]
    spec["securityContext"] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
    assert ps("restricted", spec) == []
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = False
    assert ps("restricted", spec) == ["runAsNonRoot != true (container a)"]
    spec["containers"][0]["securityContext"]["runAsNonRoot"] = True
    spec["securityContext"]["runAsUser"] = 0
    assert ps("restricted", spec) == ["runAsUser: pod runAsUser=0"]
    del spec["securityContext"]["runAsUser"]
    spec["volumes"] = [{"name": "ok", "projected": {}}, {"name": "nfs", "nfs": {"server": "x", "path": "/"}}]
    assert ps("restricted", spec) == ["restrictedVolumes: volume nfs (nfs)"]


def test_the_namespace_enforce_label_sets_the_level_and_no_label_is_privileged():
    bad = deployment(containers=[container("a", securityContext={"privileged": True})])
    assert one(admission.check(ctx([namespace(enforce="baseline"), bad])), "admission.pod-security") == (
        "fail", 'violates PodSecurity "baseline": privileged: container a')
    unlabeled = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}
    assert one(admission.check(ctx([unlabeled, bad])), "admission.pod-security") == (
        "pass", "meets the namespace's enforce level 'privileged'")
    assert one(admission.check(ctx([bad])), "admission.pod-security")[0] == "pass"


def test_chart_pods_are_reported_unchecked_per_release():
    r = rec("kubernetes:helm.sh/v3:Release", "x", {"chart": "keda", "version": "2", "namespace": "k"})
    found = [(c.object, c.verdict) for c in admission.check(ctx([], resources=[r])) if c.name == "admission.chart-pods"]
    assert found == [("helm release k/x (keda 2)", "unchecked")]
