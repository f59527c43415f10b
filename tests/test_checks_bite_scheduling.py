"""The scheduling and scale-from-zero rules' decisions one by one (plan/checks/scheduling.py,
plan/checks/scale_from_zero.py, plan/checks/match.py) on hand-built pods and node templates."""
from fractions import Fraction

from catalog.gpus import GPUS
from components.descriptors import PoolDescriptor
from plan.checks import match, scale_from_zero, scheduling
from plan.checks.nodes import NodeTemplate
from plan.checks.pods import pod_templates
from spec.pools import Sharing
from tests.checks_kit import container, ctx, deployment, eks_group, gpu_pod, rec

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


def node(cloud="aws", labels=None, taints=None, gpus=8, capacity="on-demand", **alloc):
    allocatable = {"pods": Fraction(110), "nvidia.com/gpu": Fraction(gpus)}
    allocatable.update({k: Fraction(v) for k, v in alloc.items()})
    return NodeTemplate("g", cloud, capacity, labels if labels is not None else {"llmfleet.io/pool": "h100"},
                        taints if taints is not None else [dict(GPU_TAINT)], allocatable, gpus=gpus)


def tmpl(obj):
    [t] = pod_templates([obj])
    return t


# --- match.py ---------------------------------------------------------------------------------------------------

def test_selector_expressions_each_operator():
    labels = {"a": "1", "n": "5"}
    e = lambda op, key="a", values=None: match._expr({"key": key, "operator": op, "values": values or []}, labels)
    assert e("In", values=["1", "2"]) and not e("In", values=["2"]) and not e("In", "x", ["1"])
    assert e("NotIn", values=["2"]) and not e("NotIn", values=["1"]) and e("NotIn", "x", ["1"])
    assert e("Exists") and not e("Exists", "x")
    assert e("DoesNotExist", "x") and not e("DoesNotExist")
    assert e("Gt", "n", ["4"]) and not e("Gt", "n", ["5"]) and not e("Gt", "x", ["1"])
    assert e("Lt", "n", ["6"]) and not e("Lt", "n", ["5"]) and not e("Gt", "a", ["x"]) and not e("Lt", "n", [])
    assert not e("Bogus")
    assert match._expr({"key": "n", "operator": "In", "values": [5]}, labels)     # values compare as text


def test_label_selectors_and_node_selection():
    assert match.selector_matches({}, {"a": "1"})
    assert match.selector_matches({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"})
    assert not match.selector_matches({"matchLabels": {"a": "1", "c": "3"}}, {"a": "1"})
    assert not match.selector_matches({"matchLabels": {"a": "1"},
                                       "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"})
    assert match.node_selected({}, {})
    assert not match.node_selected({"nodeSelector": {"a": "1"}}, {"a": "2"})
    terms = lambda *ts: {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": list(ts)}}}}
    t1 = {"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}
    t2 = {"matchExpressions": [{"key": "b", "operator": "In", "values": ["2"]}]}
    assert match.node_selected(terms(t1, t2), {"b": "2"})           # terms are ORed
    assert not match.node_selected(terms(t1), {"b": "2"})
    both = {"matchExpressions": t1["matchExpressions"] + t2["matchExpressions"]}
    assert not match.node_selected(terms(both), {"b": "2"}) and match.node_selected(terms(both), {"a": "1", "b": "2"})
    assert match.node_selected(terms(), {"x": "y"})


def test_tolerations_match_key_value_effect_and_exists():
    t = GPU_TAINT
    assert match.tolerates([{"key": "nvidia.com/gpu", "operator": "Exists"}], t)
    assert match.tolerates([{"operator": "Exists"}], t)                                  # tolerates everything
    assert match.tolerates([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}], t)
    assert not match.tolerates([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}], t)
    assert not match.tolerates([{"key": "other", "operator": "Exists"}], t)
    assert match.tolerates([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "present"}], t)
    assert match.tolerates([{"key": "nvidia.com/gpu", "value": "present"}], t)          # Equal by default
    assert not match.tolerates([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "absent"}], t)
    assert not match.tolerates([], t) and not match.tolerates(None, t)
    prefer = {"key": "x", "value": "", "effect": "PreferNoSchedule"}
    execute = {"key": "y", "value": "", "effect": "NoExecute"}
    assert match.untolerated([], [t, prefer, execute]) == [t, execute]


# --- requests and fit -------------------------------------------------------------------------------------------

def test_pod_requests_sum_app_containers_take_the_largest_init_and_default_to_limits():
    obj = deployment(containers=[container("a", requests={"cpu": "1"}, limits={"nvidia.com/gpu": "2"}),
                                 container("b", requests={"cpu": "2", "memory": "1Gi"})],
                     initContainers=[container("i", requests={"cpu": "5"}), container("j", requests={"cpu": "4",
                                                                                                     "memory": "1"})])
    assert scheduling.pod_requests(tmpl(obj)) == {"cpu": 5, "memory": 2**30, "nvidia.com/gpu": 2}
    small = deployment(containers=[container("a", requests={"cpu": "1"}), container("b", requests={"cpu": "1"})],
                       initContainers=[container("i", requests={"cpu": "1500m"})])
    assert scheduling.pod_requests(tmpl(small)) == {"cpu": 2}
    assert scheduling.gpu_resources({"nvidia.com/gpu": Fraction(0), "nvidia.com/mig-1g.10gb": Fraction(1),
                                     "cpu": Fraction(4)}) == {"nvidia.com/mig-1g.10gb": 1}


def test_why_not_names_the_first_reason_and_the_boundary_fits():
    p = tmpl(gpu_pod(gpus=8))
    assert scheduling.why_not(p, node()) == ""
    assert scheduling.why_not(p, node(gpus=7)) == "needs nvidia.com/gpu 8, a node has 7"
    assert scheduling.why_not(p, node(labels={})) == "node selector / required affinity does not match its labels"
    assert scheduling.why_not(tmpl(gpu_pod(tolerate=False)), node()) == \
        "untolerated taint nvidia.com/gpu=present:NoSchedule"
    assert scheduling.why_not(p, node(cpu=4)) == ""                       # cpu 4 requested, 4 allocatable
    assert scheduling.why_not(p, node(cpu=3)) == "needs cpu 4, a node has 3"
    assert scheduling.why_not(p, node(memory=1)) == ""                    # memory not requested
    mem_obj = gpu_pod()
    mem_obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"] = "1Ti"
    mem = tmpl(mem_obj)
    assert scheduling.why_not(mem, node()) == ""                          # instance memory unknown: not judged
    assert scheduling.why_not(mem, node(memory=2**30)) == "needs memory 1099511627776, a node has 1073741824"
    mig = tmpl(gpu_pod(resource="nvidia.com/mig-1g.10gb"))
    assert scheduling.why_not(mig, node()) == "needs nvidia.com/mig-1g.10gb 1, a node has 0"
    other = tmpl(deployment(containers=[container(requests={"example.com/fpga": "1", "cpu": "1"})]))
    assert scheduling.why_not(other, node(labels={}, taints=[])) == "needs example.com/fpga 1, a node has 0"
    plain = tmpl(deployment(containers=[container(requests={"ephemeral-storage": "1Ti", "cpu": "1"})]))
    assert scheduling.why_not(plain, node(labels={}, taints=[])) == ""    # unknown cpu, untracked storage


def test_gke_adds_the_gpu_toleration_to_gpu_pods_only():
    p = tmpl(gpu_pod(tolerate=False))
    assert scheduling.why_not(p, node("gcp")) == ""
    assert scheduling.why_not(p, node("azure")).startswith("untolerated taint")
    cpu_pod = tmpl(deployment(containers=[container(requests={"cpu": "1"})]))
    assert scheduling.tolerations_for(cpu_pod, node("gcp")) == []
    assert scheduling.tolerations_for(p, node("gcp")) == [{"key": "nvidia.com/gpu", "operator": "Exists"}]


# --- the rules --------------------------------------------------------------------------------------------------

def sched(objs, resources, **kw):
    return scheduling.check(ctx(objs, resources=resources, **kw))


def only(checks, name):
    found = [(c.verdict, c.message) for c in checks if c.name == name]
    assert len(found) == 1, found
    return found[0]


def test_gpu_fit_passes_naming_the_groups_and_fails_naming_every_reason():
    groups = [eks_group("a"), eks_group("b", labels={"llmfleet.io/pool": "other"})]
    assert only(sched([gpu_pod()], groups), "scheduling.gpu-fit") == (
        "pass", "fits aws node group a (on-demand)")
    assert only(sched([gpu_pod(gpus=9)], groups), "scheduling.gpu-fit") == (
        "fail", "asks nvidia.com/gpu=9 and fits no node template: aws node group a (on-demand): needs nvidia.com/gpu "
                "9, a node has 8; aws node group b (on-demand): node selector / required affinity does not match its "
                "labels")
    assert [c for c in sched([deployment()], groups) if c.name == "scheduling.gpu-fit"] == []


def test_critical_pods_must_not_fit_spot_and_other_tiers_are_not_asked():
    groups = [eks_group("od"), eks_group("spot", capacity="SPOT", min_size=0)]
    crit = gpu_pod(priorityClassName="llm-critical")
    verdict, msg = only(sched([crit], groups), "scheduling.critical-not-on-spot")
    assert verdict == "fail" and msg.startswith("a critical model's pods fit spot capacity: aws node group spot (spot)")
    assert only(sched([crit], [eks_group("od")]), "scheduling.critical-not-on-spot") == (
        "pass", "no spot node template admits these pods")
    std = gpu_pod(priorityClassName="llm-standard")
    assert [c for c in sched([std], groups) if c.name == "scheduling.critical-not-on-spot"] == []


class Model:
    def __init__(self, name, pools):
        self.name, self.pools = name, pools


def test_every_listed_pool_needs_a_group_the_pods_fit_and_critical_models_exclude_spot():
    groups = [eks_group("od"), eks_group("spot", capacity="SPOT", min_size=0,
                                         labels={"llmfleet.io/pool": "spotpool"})]
    pod = gpu_pod()
    terms = pod["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    terms[0]["matchExpressions"][0]["values"] = ["h100", "spotpool"]
    assert only(sched([pod], groups, models=[Model("m", ("h100", "spotpool"))]), "scheduling.model-pools") == (
        "pass", "every pool the model lists (h100, spotpool) can take its pods")
    crit = pod
    crit["spec"]["template"]["spec"]["priorityClassName"] = "llm-critical"
    assert only(sched([crit], groups, models=[Model("m", ("h100", "spotpool"))]), "scheduling.model-pools") == (
        "fail", "model m lists pools ['h100', 'spotpool'] but its pods can never run on ['spotpool']: no placement "
                "is rendered for them")
    assert [c for c in sched([pod], groups, models=[Model("m", ())]) if c.name == "scheduling.model-pools"] == []
    assert [c for c in sched([pod], groups, models=[Model("x", ("h100",))]) if c.name == "scheduling.model-pools"] \
        == []


def test_a_descriptor_names_the_pool_of_its_group():
    d = PoolDescriptor("named", "aws", "on-demand", "od", GPUS["h100-80gb"], 8, "p5.48xlarge")
    found = sched([gpu_pod()], [eks_group("od")], models=[Model("m", ("named",))], descriptors=[d])
    assert only(found, "scheduling.model-pools")[0] == "pass"
    found = sched([gpu_pod()], [eks_group("od")], models=[Model("m", ("h100",))], descriptors=[d])
    assert only(found, "scheduling.model-pools")[0] == "fail"


def gke_pool(name, spot=False, labels=None):
    nc = {"machineType": "a3-highgpu-8g", "spot": spot,
          "labels": labels or {"llmfleet.io/pool": "h100", "cloud.google.com/compute-class": "h100"},
          "guestAccelerators": [{"type": "nvidia-h100-80gb", "count": 8}]}
    return rec("gcp:container/nodePool:NodePool", name, {"name": name, "nodeConfig": nc,
                                                         "autoscaling": {"totalMinNodeCount": 0,
                                                                         "totalMaxNodeCount": 2}})


def test_gke_fallback_needs_an_existing_compute_class_only_when_pods_fit_two_pools_or_capacities():
    two = [gke_pool("od"), gke_pool("spot", spot=True)]
    verdict, msg = only(sched([gpu_pod()], two, cloud="gcp"), "scheduling.gke-fallback-order")
    assert verdict == "fail" and msg == ("fits 2 GKE node pools but selects no ComputeClass in the plan: GKE scales "
                                         "the cheapest pool first, ignoring the declared fallback chain")
    cc_pod = gpu_pod(nodeSelector={"cloud.google.com/compute-class": "h100"})
    verdict, msg = only(sched([cc_pod], two, cloud="gcp"), "scheduling.gke-fallback-order")
    assert verdict == "fail" and "('h100' is not created)" in msg
    cc = {"apiVersion": "cloud.google.com/v1", "kind": "ComputeClass", "metadata": {"name": "h100"}}
    assert only(sched([cc_pod, cc], two, cloud="gcp"), "scheduling.gke-fallback-order") == (
        "pass", "selects ComputeClass h100")
    assert [c for c in sched([gpu_pod()], [gke_pool("od"), gke_pool("od2")], cloud="gcp")
            if c.name == "scheduling.gke-fallback-order"] == []                   # same pool, same capacity
    assert [c for c in sched([gpu_pod()], [eks_group("a"), eks_group("b", capacity="SPOT")])
            if c.name == "scheduling.gke-fallback-order"] == []                   # not GKE


def test_the_cluster_needs_an_untainted_group_when_charts_are_installed():
    chart = rec("kubernetes:helm.sh/v3:Release", "kps", {"chart": "kube-prometheus-stack"})
    prefer = eks_group("soft", itype="m7i.large", labels={}, taints=[{"key": "x", "effect": "PREFER_NO_SCHEDULE"}])
    assert only(sched([], [eks_group("gpu"), prefer, chart]), "scheduling.untainted-node") == (
        "pass", "untainted groups: soft")
    execute = eks_group("ex", itype="m7i.large", labels={}, taints=[{"key": "x", "effect": "NO_EXECUTE"}])
    assert only(sched([], [eks_group("gpu"), execute, chart]), "scheduling.untainted-node")[0] == "fail"
    assert [c for c in sched([], [eks_group("gpu")]) if c.name == "scheduling.untainted-node"] == []
    assert [c for c in sched([], [chart]) if c.name == "scheduling.untainted-node"] == []


def op(values=None):
    return rec("kubernetes:helm.sh/v3:Release", "gpu-operator", {"chart": "gpu-operator", "values": values or {}})


def test_gpu_operator_daemonsets_default_toleration_custom_tolerations_and_opt_out():
    spot_taint = {"key": "dedicated", "value": "ml", "effect": "NO_SCHEDULE"}
    g = eks_group("g", taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}, spot_taint])
    assert only(sched([], [g, op()]), "scheduling.nvidia-daemonsets") == (
        "fail", "GPU Operator DaemonSets do not tolerate dedicated=ml:NoSchedule")
    assert only(sched([], [eks_group("g"), op()]), "scheduling.nvidia-daemonsets") == (
        "pass", "GPU Operator operands are tolerated and can start")
    everything = op({"daemonsets": {"tolerations": [{"operator": "Exists"}]}})
    assert only(sched([], [g, everything]), "scheduling.nvidia-daemonsets")[0] == "pass"
    nothing = op({"daemonsets": {"tolerations": []}})
    assert only(sched([], [eks_group("g"), nothing]), "scheduling.nvidia-daemonsets")[0] == "fail"
    out = eks_group("g", labels={"nvidia.com/gpu.deploy.operands": "false"}, taints=[spot_taint])
    assert only(sched([], [out, op()]), "scheduling.nvidia-daemonsets") == (
        "pass", "operands opted out on this group (nvidia.com/gpu.deploy.operands=false)")
    br = eks_group("br", labels={"nvidia.com/gpu.deploy.operands": "false"})
    br.inputs["amiType"] = "BOTTLEROCKET_x86_64_NVIDIA"
    assert only(sched([], [br, op()]), "scheduling.nvidia-daemonsets")[0] == "pass"
    assert [c for c in sched([], [eks_group("g")]) if c.name == "scheduling.nvidia-daemonsets"] == []
    cpu = eks_group("cpu", itype="m7i.large", labels={}, taints=[])
    assert [c for c in sched([], [cpu, op()]) if c.name == "scheduling.nvidia-daemonsets"] == []


# --- scale from zero --------------------------------------------------------------------------------------------

def sfz(objs, resources, **kw):
    return [(c.object, c.verdict, c.message) for c in scale_from_zero.check(ctx(objs, resources=resources, **kw))
            if c.name == "scale-from-zero.template"]


def test_only_gpu_groups_at_zero_with_pods_meant_for_them_are_judged():
    assert sfz([gpu_pod()], [eks_group("z", min_size=0)]) == [
        ("aws node group z (on-demand)", "pass",
         "the cluster-autoscaler template at 0 nodes admits Deployment llm-serving/m")]
    assert sfz([gpu_pod()], [eks_group("one", min_size=1)]) == []
    assert sfz([deployment()], [eks_group("z", min_size=0)]) == []
    assert sfz([gpu_pod(pool="other")], [eks_group("z", min_size=0)]) == []
    cpu = eks_group("cpu", itype="m7i.large", labels={"llmfleet.io/pool": "h100"}, taints=[], min_size=0)
    assert sfz([gpu_pod()], [cpu]) == []
    assert sfz([gpu_pod()], [eks_group("z", min_size=0)], cloud="existing") == []     # no template at all


def test_a_template_with_as_many_slices_as_a_node_passes_and_fewer_fails():
    group = eks_group("ts", min_size=0)
    d = PoolDescriptor("h100", "aws", "on-demand", "ts", GPUS["h100-80gb"], 8, "p5.48xlarge",
                       sharing=Sharing("time-slicing", 2))
    [(_, verdict, msg)] = sfz([gpu_pod()], [group], descriptors=[d])
    assert verdict == "fail" and msg == ("at 0 nodes the cluster-autoscaler template would not admit: nvidia.com/gpu "
                                         "per node: template advertises 8, a running node 16: the autoscaler "
                                         "over-provisions")
    from tests.checks_kit import asg_tag
    tag = asg_tag(group, "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu", "16")
    assert sfz([gpu_pod()], [group, tag], descriptors=[d])[0][1] == "pass"
    # A template without the resource at all says so once (the pod does not fit it), not as over-provisioning.
    mig = PoolDescriptor("h100", "aws", "on-demand", "ts", GPUS["h100-80gb"], 8, "p5.48xlarge",
                         sharing=Sharing("mig", mig_profile="1g.10gb"))
    mixed = rec("kubernetes:helm.sh/v3:Release", "gpu-operator", {"chart": "gpu-operator",
                                                                   "values": {"mig": {"strategy": "mixed"}}})
    [(_, verdict, msg)] = sfz([gpu_pod(resource="nvidia.com/mig-1g.10gb")], [group, mixed], descriptors=[mig])
    assert (verdict, msg) == ("fail", "at 0 nodes the cluster-autoscaler template would not admit: Deployment "
                                      "llm-serving/m: needs nvidia.com/mig-1g.10gb 1, a node has 0")
    more = asg_tag(group, "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu", "17")
    assert sfz([gpu_pod()], [group, more], descriptors=[d])[0][1] == "pass"


def init_pool(initial, zones=2, mn=None, total_min=None, gpu=True):
    nc = {"machineType": "a3-highgpu-8g"}
    if gpu:
        nc["guestAccelerators"] = [{"type": "nvidia-h100-80gb", "count": 8}]
    auto = {}
    if mn is not None:
        auto["minNodeCount"] = mn
    if total_min is not None:
        auto["totalMinNodeCount"] = total_min
    return rec("gcp:container/nodePool:NodePool", "p", {"name": "p", "nodeConfig": nc, "initialNodeCount": initial,
                                                        "nodeLocations": [f"z{i}" for i in range(zones)],
                                                        "autoscaling": auto})


def test_gke_initial_node_count_counts_per_zone_against_the_minimum():
    iv = lambda r: [(c.verdict, c.message) for c in scale_from_zero.check(ctx([], cloud="gcp", resources=[r]))
                    if c.name == "scale.initial-size"][0]
    assert iv(init_pool(1, total_min=2)) == ("pass", "starts with 2 node(s), minimum 2")
    assert iv(init_pool(1, total_min=1)) == (
        "fail", "initialNodeCount 1 per zone x 2 zones = 2 GPU nodes at first up, over the minimum 1")
    assert iv(init_pool(1, mn=1)) == ("pass", "starts with 2 node(s), minimum 2")      # per-zone minimum
    assert iv(init_pool(1, zones=0, total_min=1)) == ("pass", "starts with 1 node(s), minimum 1")
    assert iv(init_pool(0)) == ("pass", "starts with 0 node(s), minimum 0")
    assert iv(init_pool(3, gpu=False))[0] == "pass"                                     # CPU pools may start big
