"""Scheduling and scale-from-zero rules, on node templates derived from the recorded cloud resources."""
from components.descriptors import PoolDescriptor
from catalog.gpus import GPUS
from plan.checks import scale_from_zero, scheduling
from spec.pools import Sharing
from tests.checks_kit import asg_tag, ctx, eks_group, failed, gpu_pod, rec, verdicts


def test_a_gpu_pod_without_the_taint_toleration_fits_nothing():
    c = ctx([gpu_pod(tolerate=False)], resources=[eks_group("h100-od")])
    (msg,) = failed(scheduling.check(c), "scheduling.gpu-fit")
    assert "untolerated taint nvidia.com/gpu=present:NoSchedule" in msg
    assert not failed(scheduling.check(ctx([gpu_pod()], resources=[eks_group("h100-od")])), "scheduling.gpu-fit")


def test_node_labels_come_from_the_node_group_not_the_descriptor():
    # The descriptor says the group carries llmfleet.io/pool=h100; the real node group does not: caught.
    d = PoolDescriptor("h100", "aws", "on-demand", "h100-od", GPUS["h100-80gb"], 8, "p5.48xlarge",
                       node_labels={"llmfleet.io/pool": "h100"})
    c = ctx([gpu_pod()], resources=[eks_group("h100-od", labels={"llmfleet.io/pool": "other"})], descriptors=[d])
    assert "does not match its labels" in failed(scheduling.check(c), "scheduling.gpu-fit")[0]


def test_more_gpus_than_a_node_has():
    c = ctx([gpu_pod(gpus=16)], resources=[eks_group("h100-od")])
    assert "needs nvidia.com/gpu 16, a node has 8" in failed(scheduling.check(c), "scheduling.gpu-fit")[0]


def _critical(**extra):
    return gpu_pod(priorityClassName="llm-critical", **extra)


def test_a_critical_model_that_also_matches_spot_groups_is_caught():
    groups = [eks_group("h100-od"), eks_group("h100-spot", capacity="SPOT", min_size=0)]
    (msg,) = failed(scheduling.check(ctx([_critical()], resources=groups)), "scheduling.critical-not-on-spot")
    assert "aws node group h100-spot (spot)" in msg
    # A required term on the platform's own capacity label excludes spot (EKS adds eks.amazonaws.com/capacityType).
    pod = _critical()
    terms = pod["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    terms[0]["matchExpressions"].append({"key": "eks.amazonaws.com/capacityType", "operator": "NotIn",
                                         "values": ["SPOT"]})
    checks = scheduling.check(ctx([pod], resources=groups))
    assert [c.verdict for c in verdicts(checks, "scheduling.critical-not-on-spot")] == ["pass"]


def test_every_listed_pool_must_take_the_models_pods():
    class M:
        name, pools = "m", ("h100", "h200")
    groups = [eks_group("h100-od"), eks_group("h200-od", itype="p5en.48xlarge", labels={"llmfleet.io/pool": "h200"})]
    (msg,) = failed(scheduling.check(ctx([gpu_pod()], resources=groups, models=[M])), "scheduling.model-pools")
    assert "can never run on ['h200']" in msg


def test_aks_operands_with_the_default_runtime_class_never_start():
    pool = rec("azure-native:containerservice:AgentPool", "h100", {
        "agentPoolName": "h100", "vmSize": "Standard_ND96isr_H100_v5", "gpuProfile": {"driver": "Install"},
        "nodeLabels": {"llmfleet.io/pool": "h100"}, "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"],
        "minCount": 1, "maxCount": 2})
    op = rec("kubernetes:helm.sh/v3:Release", "gpu-operator", {"chart": "gpu-operator", "version": "v26.7.0",
                                                                "namespace": "gpu-operator", "values": {}})
    (msg,) = failed(scheduling.check(ctx([], cloud="azure", resources=[pool, op])), "scheduling.nvidia-daemonsets")
    assert "runtimeClassName 'nvidia'" in msg and "nvidia-container-runtime" in msg
    op.inputs["values"] = {"operator": {"runtimeClass": "nvidia-container-runtime"}}
    assert not failed(scheduling.check(ctx([], cloud="azure", resources=[pool, op])), "scheduling.nvidia-daemonsets")


def test_operands_must_tolerate_every_gpu_taint_and_skip_bottlerocket():
    spot = rec("azure-native:containerservice:AgentPool", "s", {
        "agentPoolName": "s", "vmSize": "Standard_ND96isr_H100_v5", "scaleSetPriority": "Spot",
        "gpuProfile": {"driver": "None"}, "nodeTaints": [], "minCount": 0, "maxCount": 2})
    op = rec("kubernetes:helm.sh/v3:Release", "gpu-operator", {"chart": "gpu-operator", "values": {}})
    assert "do not tolerate kubernetes.azure.com/scalesetpriority=spot:NoSchedule" in failed(
        scheduling.check(ctx([], cloud="azure", resources=[spot, op])), "scheduling.nvidia-daemonsets")[0]
    br = eks_group("h200")
    br.inputs["amiType"] = "BOTTLEROCKET_x86_64_NVIDIA"
    assert "not a host OS the GPU Operator supports" in failed(
        scheduling.check(ctx([], resources=[br, op])), "scheduling.nvidia-daemonsets")[0]


def _gke_pool(name, spot=False, gpu=True):
    nc = {"machineType": "a3-highgpu-8g" if gpu else "e2-standard-8", "spot": spot,
          "labels": {"llmfleet.io/pool": "h100"} if gpu else {}}
    if gpu:
        nc["guestAccelerators"] = [{"type": "nvidia-h100-80gb", "count": 8}]
    return rec("gcp:container/nodePool:NodePool", name, {"name": name, "nodeConfig": nc, "initialNodeCount": 0,
                                                         "nodeLocations": ["a", "b"],
                                                         "autoscaling": {"totalMinNodeCount": 0,
                                                                         "totalMaxNodeCount": 2}})


def test_gke_adds_the_gpu_taint_and_the_toleration_and_needs_a_compute_class_for_order():
    pools = [_gke_pool("system", gpu=False), _gke_pool("h100-od"), _gke_pool("h100-spot", spot=True)]
    c = ctx([gpu_pod(tolerate=False)], cloud="gcp", resources=pools)
    checks = scheduling.check(c)
    node = next(n for n in c.nodes if n.group == "h100-spot")
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in node.taints
    assert node.labels["cloud.google.com/gke-spot"] == "true"
    assert not failed(checks, "scheduling.gpu-fit")          # ExtendedResourceToleration
    assert "selects no ComputeClass" in failed(checks, "scheduling.gke-fallback-order")[0]


def test_gke_initial_node_count_is_per_zone():
    p = _gke_pool("h100-od")
    p.inputs["initialNodeCount"] = 1
    p.inputs["autoscaling"]["totalMinNodeCount"] = 1
    assert "= 2 GPU nodes at first up, over the minimum 1" in failed(
        scale_from_zero.check(ctx([], cloud="gcp", resources=[p])), "scale.initial-size")[0]


def test_a_cluster_of_only_tainted_nodes_leaves_chart_pods_pending():
    op = rec("kubernetes:helm.sh/v3:Release", "kps", {"chart": "kube-prometheus-stack", "values": {}})
    assert failed(scheduling.check(ctx([], resources=[eks_group("only"), op])), "scheduling.untainted-node")
    system = eks_group("system", itype="m7i.2xlarge", labels={}, taints=[])
    assert not failed(scheduling.check(ctx([], resources=[eks_group("only"), system, op])),
                      "scheduling.untainted-node")


def _mig_descriptor(group):
    return PoolDescriptor("a100mig", "aws", "on-demand", group, GPUS["a100-80gb"], 8, "p4de.24xlarge",
                          sharing=Sharing("mig", 1, "3g.40gb"))


def test_mig_pods_cannot_scale_a_group_from_zero_without_resource_tags():
    group = eks_group("mig", itype="p4de.24xlarge", labels={"llmfleet.io/pool": "a100mig"}, min_size=0)
    op = rec("kubernetes:helm.sh/v3:Release", "gpu-operator", {"chart": "gpu-operator",
                                                                "values": {"mig": {"strategy": "mixed"}}})
    pod = gpu_pod(pool="a100mig", resource="nvidia.com/mig-3g.40gb")
    c = ctx([pod], resources=[group, op], descriptors=[_mig_descriptor("mig")])
    assert not failed(scheduling.check(c), "scheduling.gpu-fit")     # a running node advertises the slices
    (msg,) = failed(scale_from_zero.check(c), "scale-from-zero.template")
    assert "needs nvidia.com/mig-3g.40gb 1, a node has 0" in msg
    tag = asg_tag(group, "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/mig-3g.40gb", "16")
    c = ctx([pod], resources=[group, op, tag], descriptors=[_mig_descriptor("mig")])
    assert not failed(scale_from_zero.check(c), "scale-from-zero.template")


def test_azure_time_sliced_pools_scale_from_zero_only_with_scale_set_tags():
    pool = rec("azure-native:containerservice:AgentPool", "l4", {
        "agentPoolName": "l4", "vmSize": "Standard_ND96isr_H100_v5", "gpuProfile": {"driver": "Install"},
        "nodeLabels": {"llmfleet.io/pool": "h100"}, "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"],
        "minCount": 0, "maxCount": 2, "tags": {}})
    d = PoolDescriptor("h100", "azure", "on-demand", "l4", GPUS["h100-80gb"], 8, "Standard_ND96isr_H100_v5",
                       sharing=Sharing("time-slicing", 4))
    pod = gpu_pod(gpus=20)
    c = ctx([pod], cloud="azure", resources=[pool], descriptors=[d])
    assert "needs nvidia.com/gpu 20, a node has 8" in failed(scale_from_zero.check(c), "scale-from-zero.template")[0]
    pool.inputs["tags"] = {"k8s.io_cluster-autoscaler_node-template_resources_nvidia.com~2gpu": "32"}
    c = ctx([pod], cloud="azure", resources=[pool], descriptors=[d])
    assert not failed(scale_from_zero.check(c), "scale-from-zero.template")


def test_a_template_with_fewer_time_sliced_gpus_than_a_node_over_provisions():
    group = eks_group("ts", itype="p5.48xlarge", min_size=0)
    d = PoolDescriptor("h100", "aws", "on-demand", "ts", GPUS["h100-80gb"], 8, "p5.48xlarge",
                       sharing=Sharing("time-slicing", 4))
    c = ctx([gpu_pod()], resources=[group], descriptors=[d])
    assert "template advertises 8, a running node 32" in failed(scale_from_zero.check(c),
                                                                "scale-from-zero.template")[0]
    tag = asg_tag(group, "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu", "32")
    c = ctx([gpu_pod()], resources=[group, tag], descriptors=[d])
    assert not failed(scale_from_zero.check(c), "scale-from-zero.template")


def test_an_aks_pool_without_autoscaling_bounds_takes_its_fixed_count():
    """A fixed-size agent pool (no minCount/maxCount, only `count`, like AKS's system pool) is a template of exactly
    that many nodes: the scheduling rules must not see an empty (0-node) group."""
    from plan.checks import nodes
    from plan.checks.context import Context
    from plan.runtime import Recorded
    pool = Recorded("azure-native:containerservice:AgentPool", "system", "urn:system", "", True,
                    {"agentPoolName": "system", "vmSize": "Standard_D4s_v5", "count": 3, "mode": "System"})
    scaled = Recorded("azure-native:containerservice:AgentPool", "gpu", "urn:gpu", "", True,
                      {"agentPoolName": "gpu", "vmSize": "Standard_D4s_v5", "count": 1, "minCount": 0, "maxCount": 4})
    by_group = {t.group: t for t in nodes.node_templates(Context("azure", "1.34", [], [pool, scaled]))}
    assert (by_group["system"].min_nodes, by_group["system"].max_nodes) == (3, 3)
    assert (by_group["gpu"].min_nodes, by_group["gpu"].max_nodes) == (0, 4)
