"""Node templates (plan/checks/nodes.py) derived from recorded cloud resources, decision by decision: capacity,
labels and taints the platform adds, counts, GPU resources per sharing mode, and the autoscaler's scale-from-zero
template from ASG / scale-set tags."""
from fractions import Fraction

from catalog.gpus import GPUS
from components.descriptors import PoolDescriptor
from plan.checks import nodes
from spec.pools import Sharing, Taint
from tests.checks_kit import asg_tag, ctx, eks_group, rec

HELM = "kubernetes:helm.sh/v3:Release"


def templates(cloud, resources=(), objects=(), descriptors=()):
    return nodes.node_templates(ctx(list(objects), cloud=cloud, resources=list(resources),
                                    descriptors=list(descriptors)))


def desc(group, sharing, gpus=8, **kw):
    return PoolDescriptor(group, "aws", "on-demand", group, GPUS["h100-80gb"], gpus, None, sharing=sharing, **kw)


# --- GPU resources ----------------------------------------------------------------------------------------------

def test_gpu_resources_per_sharing_mode():
    assert nodes._gpu_resources(0, Sharing("time-slicing", 4), "single") == {}
    assert nodes._gpu_resources(2, None, "single") == {"nvidia.com/gpu": 2}
    assert nodes._gpu_resources(2, Sharing(), "single") == {"nvidia.com/gpu": 2}
    assert nodes._gpu_resources(2, Sharing("time-slicing", 4), "single") == {"nvidia.com/gpu": 8}
    assert nodes._gpu_resources(2, Sharing("time-slicing", 4), "single", gke_shared=3) == {"nvidia.com/gpu": 6}
    assert nodes._gpu_resources(2, Sharing("mig", mig_profile="1g.10gb"), "single") == {"nvidia.com/gpu": 14}
    assert nodes._gpu_resources(2, Sharing("mig", mig_profile="3g.40gb"), "mixed") == {"nvidia.com/mig-3g.40gb": 4}
    assert nodes._gpu_resources(1, Sharing("mig", mig_profile="7g.80gb"), "mixed") == {"nvidia.com/mig-7g.80gb": 1}
    assert nodes._gpu_resources(2, Sharing("mig", mig_profile=""), "single") == {"nvidia.com/gpu": 2}
    assert nodes._gpu_resources(2, Sharing("mig", mig_profile="5g.x"), "single") == {"nvidia.com/gpu": 2}  # unknown


def test_the_gpu_operator_mig_strategy_decides_the_resource_name():
    group = eks_group("h100")
    d = desc("h100", Sharing("mig", mig_profile="1g.10gb"))
    mixed = rec(HELM, "gpu-operator", {"chart": "gpu-operator", "values": {"mig": {"strategy": "mixed"}}})
    [t] = templates("aws", [group, mixed], descriptors=[d])
    assert t.allocatable["nvidia.com/mig-1g.10gb"] == 56 and "nvidia.com/gpu" not in t.allocatable
    # The autoscaler knows only the instance's GPU count.
    assert t.from_zero.allocatable["nvidia.com/gpu"] == 8 and "nvidia.com/mig-1g.10gb" not in t.from_zero.allocatable
    [t] = templates("aws", [group], descriptors=[d])
    assert t.allocatable["nvidia.com/gpu"] == 56


# --- AWS managed node groups ------------------------------------------------------------------------------------

def test_an_eks_group_template_capacity_labels_taints_counts_and_image():
    g = eks_group("h100", capacity="SPOT", min_size=2)
    [t] = templates("aws", [g])
    assert (t.group, t.cloud, t.capacity, t.min_nodes, t.max_nodes, t.gpus, t.autoscaler, t.image) == (
        "h100", "aws", "spot", 2, 4, 8, "cluster-autoscaler", "AL2023_x86_64_NVIDIA")
    assert t.taints == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert t.labels == {"llmfleet.io/pool": "h100", "eks.amazonaws.com/capacityType": "SPOT",
                        "eks.amazonaws.com/nodegroup": "h100", "node.kubernetes.io/instance-type": "p5.48xlarge",
                        "kubernetes.io/os": "linux"}
    assert t.allocatable == {"cpu": 192, "memory": 2048 * 2**30, "pods": 110, "nvidia.com/gpu": 8}
    assert t.name == "aws node group h100 (spot)" and t.notes == []
    assert [templates("aws", [eks_group("x", capacity=c)])[0].capacity for c in ("ON_DEMAND", "CAPACITY_BLOCK")] == \
        ["on-demand", "reserved"]


def test_an_eks_group_defaults_and_unknown_instance_types():
    r = rec("aws:eks/nodeGroup:NodeGroup", "res-name", {"instanceTypes": ["m7i.large"],
                                                        "taints": [{"key": "a", "effect": "NO_EXECUTE"},
                                                                   {"key": "b", "value": "v", "effect": "PREFER_NO_SCHEDULE"}]})
    [t] = templates("aws", [r])
    assert (t.group, t.capacity, t.min_nodes, t.max_nodes, t.gpus) == ("res-name", "on-demand", 0, 0, 0)
    assert t.labels["eks.amazonaws.com/capacityType"] == "ON_DEMAND"
    assert t.taints == [{"key": "a", "value": "", "effect": "NoExecute"},
                        {"key": "b", "value": "v", "effect": "PreferNoSchedule"}]
    assert t.allocatable == {"pods": 110}
    assert t.notes == ["instance type m7i.large not in catalog/gpus.py: CPU, memory and GPUs unknown"]
    assert "nvidia.com/gpu" not in t.from_zero.allocatable


def test_an_eks_group_scale_from_zero_template_takes_its_asg_tags():
    g = eks_group("h100")
    prefix = "k8s.io/cluster-autoscaler/node-template/"
    tags = [asg_tag(g, prefix + "label/extra", "yes"), asg_tag(g, prefix + "taint/nvidia.com/gpu", "other:NoExecute"),
            asg_tag(g, prefix + "taint/dedicated", "ml:NoSchedule"),
            asg_tag(g, prefix + "resources/nvidia.com/mig-1g.10gb", "56"),
            asg_tag(g, "k8s.io/cluster-autoscaler/enabled", "true"), asg_tag(g, prefix + "other/x", "1"),
            asg_tag(g, "X" * len(prefix) + "label/not-a-template-tag", "1")]
    other = eks_group("other")
    [t, o] = templates("aws", [g, other] + tags)
    z = t.from_zero
    assert z.labels["extra"] == "yes" and "extra" not in t.labels
    assert z.labels["node.kubernetes.io/instance-type"] == "p5.48xlarge"
    assert z.taints == [{"key": "nvidia.com/gpu", "value": "other", "effect": "NoExecute"},
                        {"key": "dedicated", "value": "ml", "effect": "NoSchedule"}]
    assert t.taints == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert z.allocatable["nvidia.com/mig-1g.10gb"] == 56 and z.allocatable["nvidia.com/gpu"] == 8
    assert "not-a-template-tag" not in z.labels
    assert "k8s.io/cluster-autoscaler/enabled" not in z.labels and "x" not in z.labels and "x" not in z.allocatable
    assert (z.min_nodes, z.max_nodes, z.gpus, z.capacity) == (1, 4, 8, "on-demand")
    assert "extra" not in o.from_zero.labels       # tags belong to the group they depend on


# --- Karpenter --------------------------------------------------------------------------------------------------

def nodepool(reqs, labels=None, taints=None, limits=None, api="karpenter.sh/v1"):
    spec = {"template": {"metadata": {"labels": labels or {}},
                         "spec": {"requirements": reqs, "nodeClassRef": {"name": "gpu"},
                                  "taints": taints or []}}}
    if limits is not None:
        spec["limits"] = limits
    return {"apiVersion": api, "kind": "NodePool", "metadata": {"name": "np"}, "spec": spec}


def test_a_karpenter_nodepool_is_one_template_per_capacity_type_and_instance_type():
    np = nodepool([{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p5.48xlarge", "g5.xlarge"]},
                   {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
                   {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]},
                   {"key": "llmfleet.io/pool", "operator": "In", "values": ["h100", "x"]},
                   {"key": "other", "operator": "NotIn", "values": ["y"]}],
                  taints=[{"key": "nvidia.com/gpu", "effect": "NoSchedule"}], limits={"nodes": 3})
    ts = templates("aws", objects=[np])
    assert [(t.capacity, t.labels["node.kubernetes.io/instance-type"], t.gpus) for t in ts] == [
        ("spot", "p5.48xlarge", 8), ("spot", "g5.xlarge", 1)]
    t = ts[0]
    assert (t.cloud, t.autoscaler, t.min_nodes, t.max_nodes) == ("karpenter", "karpenter", 0, 3)
    assert t.labels["llmfleet.io/pool"] == "h100" and "other" not in t.labels
    assert "topology.kubernetes.io/zone" not in t.labels
    assert t.labels["karpenter.sh/capacity-type"] == "spot" and t.labels["karpenter.sh/nodepool"] == "np"
    assert t.labels["karpenter.k8s.aws/ec2nodeclass"] == "gpu"
    assert t.taints == [{"key": "nvidia.com/gpu", "effect": "NoSchedule", "value": ""}]
    assert t.from_zero.allocatable["nvidia.com/gpu"] == 8 and t.from_zero.notes == []


def test_a_karpenter_nodepool_defaults_to_both_capacity_types_and_no_node_limit():
    ts = templates("aws", objects=[nodepool([])])
    assert [(t.capacity, t.gpus, t.max_nodes) for t in ts] == [("on-demand", 0, 0), ("spot", 0, 0)]
    assert "node.kubernetes.io/instance-type" not in ts[0].labels
    assert templates("aws", objects=[nodepool([], api="other.io/v1")]) == []
    assert templates("azure", objects=[nodepool([])])[0].cloud == "karpenter"


# --- GKE node pools ---------------------------------------------------------------------------------------------

def gke_pool(name, machine="a2-highgpu-1g", accs=None, spot=False, preemptible=False, taints=None, **inputs):
    nc = {"machineType": machine, "labels": {"llmfleet.io/pool": name}, "taints": taints or []}
    if accs is not None:
        nc["guestAccelerators"] = accs
    if spot:
        nc["spot"] = True
    if preemptible:
        nc["preemptible"] = True
    return rec("gcp:container/nodePool:NodePool", name, dict({"name": name, "nodeConfig": nc}, **inputs))


def test_a_gke_gpu_pool_gets_the_gpu_taint_only_when_a_cpu_pool_exists():
    gpu = gke_pool("a100", accs=[{"type": "nvidia-tesla-a100", "count": 1}])
    cpu = gke_pool("sys", machine="n2-standard-8")
    [t] = templates("gcp", [gpu])
    assert t.taints == [] and t.labels["cloud.google.com/gke-accelerator"] == "nvidia-tesla-a100"
    a, c = templates("gcp", [gpu, cpu])
    assert a.taints == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert c.taints == [] and "cloud.google.com/gke-accelerator" not in c.labels
    assert (a.gpus, a.allocatable["nvidia.com/gpu"], a.autoscaler, a.labels["cloud.google.com/gke-nodepool"]) == (
        1, 1, "gke", "a100")
    assert a.from_zero.allocatable == a.allocatable and a.from_zero.notes == ["GKE builds the template itself"]
    # A taint the pool already sets is not added twice.
    own = gke_pool("a100", accs=[{"type": "t", "count": 1}],
                   taints=[{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}])
    assert templates("gcp", [own, cpu])[0].taints == [{"key": "nvidia.com/gpu", "value": "present",
                                                        "effect": "NoSchedule"}]


def test_a_gke_pool_spot_and_time_sharing_and_counts():
    shared = gke_pool("l4", machine="g2-standard-8", spot=True, accs=[{"type": "nvidia-l4", "count": 2,
        "gpuSharingConfig": {"gpuSharingStrategy": "TIME_SHARING", "maxSharedClientsPerGpu": 4}}],
        autoscaling={"totalMinNodeCount": 1, "totalMaxNodeCount": 5})
    [t] = templates("gcp", [shared])
    assert (t.capacity, t.gpus, t.allocatable["nvidia.com/gpu"], t.min_nodes, t.max_nodes) == ("spot", 2, 8, 1, 5)
    assert t.labels["cloud.google.com/gke-spot"] == "true"
    assert t.labels["cloud.google.com/gke-gpu-sharing-strategy"] == "time-sharing"
    assert t.labels["cloud.google.com/gke-max-shared-clients-per-gpu"] == "4"
    pre = gke_pool("p", preemptible=True, accs=[{"type": "t", "count": 1}],
                   autoscaling={"minNodeCount": 2, "maxNodeCount": 3})
    [t] = templates("gcp", [pre])
    assert (t.capacity, t.min_nodes, t.max_nodes) == ("spot", 2, 3)
    assert "cloud.google.com/gke-gpu-sharing-strategy" not in t.labels
    fixed = gke_pool("f", accs=[{"type": "t", "count": 1}], nodeCount=3)
    [t] = templates("gcp", [fixed])
    assert (t.capacity, t.min_nodes, t.max_nodes) == ("on-demand", 3, 3)
    assert "cloud.google.com/gke-spot" not in t.labels
    default_share = gke_pool("d", accs=[{"type": "t", "count": 2, "gpuSharingConfig": {
        "gpuSharingStrategy": "TIME_SHARING"}}])
    [t] = templates("gcp", [default_share])
    assert t.allocatable["nvidia.com/gpu"] == 2 and t.labels["cloud.google.com/gke-max-shared-clients-per-gpu"] == "1"
    only_min = gke_pool("m", accs=[{"type": "t", "count": 1}], autoscaling={"minNodeCount": 2})
    assert templates("gcp", [only_min])[0].max_nodes == 2


# --- AKS agent pools --------------------------------------------------------------------------------------------

def agent_pool(name="a100", vm="Standard_NC24ads_A100_v4", **inputs):
    return rec("azure-native:containerservice:AgentPool", name,
               dict({"agentPoolName": name, "vmSize": vm, "nodeLabels": {"llmfleet.io/pool": name},
                     "nodeTaints": ["nvidia.com/gpu=present:NoSchedule"]}, **inputs))


def test_an_aks_pool_capacity_labels_taints_counts_and_runtime_class():
    [t] = templates("azure", [agent_pool(scaleSetPriority="Spot", minCount=1, maxCount=3, mode="User",
                                         gpuProfile={"driver": "Install"})])
    assert (t.capacity, t.gpus, t.min_nodes, t.max_nodes, t.autoscaler) == ("spot", 1, 1, 3, "cluster-autoscaler")
    assert t.taints == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
                        {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}]
    assert t.labels["kubernetes.azure.com/accelerator"] == "nvidia" and t.labels["agentpool"] == "a100"
    assert t.labels["kubernetes.azure.com/mode"] == "User"
    assert t.runtime_classes == ("nvidia-container-runtime",)
    [t] = templates("azure", [agent_pool(gpuProfile={"driver": "None"}, count=2)])
    assert (t.capacity, t.min_nodes, t.max_nodes, t.runtime_classes) == ("on-demand", 2, 2, ())
    assert t.labels["kubernetes.azure.com/mode"] == "User"
    assert "kubernetes.azure.com/scalesetpriority" not in t.labels
    [t] = templates("azure", [agent_pool(vm="Standard_D4s_v5", nodeTaints=["CriticalAddonsOnly=true:NoSchedule"],
                                         mode="System")])
    assert (t.gpus, t.runtime_classes, t.labels["kubernetes.azure.com/mode"]) == (0, (), "System")
    assert t.taints == [{"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}]
    assert "kubernetes.azure.com/accelerator" not in t.labels


def test_an_aks_pool_scale_from_zero_template_reads_scale_set_tags():
    prefix = "k8s.io_cluster-autoscaler_node-template_"
    tags = {prefix + "label_llmfleet.io_pool": "a100", prefix + "label_a~2b": "v",
            prefix + "taint_nvidia.com_gpu": "present:NoSchedule",
            prefix + "resources_nvidia.com~2gpu": "4", "team": "ml"}
    [t] = templates("azure", [agent_pool(tags=tags, minCount=0, maxCount=2)])
    z = t.from_zero
    assert z.labels["llmfleet.io/pool"] == "a100" and z.labels["a_b"] == "v" and z.labels["team"] == "ml"
    assert z.labels["agentpool"] == "a100" and z.labels["kubernetes.azure.com/agentpool"] == "a100"
    assert z.taints == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert z.allocatable["nvidia.com/gpu"] == 4
    assert (z.min_nodes, z.max_nodes, z.gpus) == (0, 2, 1)
    [t] = templates("azure", [agent_pool()])
    assert t.from_zero.taints == [] and t.from_zero.allocatable["nvidia.com/gpu"] == 1
    assert t.from_zero.labels["llmfleet.io/pool"] == "a100"      # nodeLabels (AZURE_TEMPLATE_HAS_NODE_LABELS)
    assert nodes._azure_tag_key("nvidia.com~2mig-1g.10gb", True) == "nvidia.com/mig-1g.10gb"
    assert nodes._azure_tag_key("a_b~2c", False) == "a/b_c"


# --- existing clusters ------------------------------------------------------------------------------------------

def test_an_existing_cluster_takes_groups_from_the_descriptors():
    d = PoolDescriptor("h100", "existing", "on-demand", "gpu-nodes", GPUS["h100-80gb"], 4, None,
                       node_labels={"gpu": "h100"}, taints=(Taint("nvidia.com/gpu", "present", "NoSchedule"),),
                       sharing=Sharing("time-slicing", 2), min_nodes=1, max_nodes=2)
    [t] = templates("existing", [eks_group("ignored")], objects=[nodepool([])], descriptors=[d])
    assert (t.group, t.cloud, t.capacity, t.labels, t.min_nodes, t.max_nodes, t.gpus, t.autoscaler) == (
        "gpu-nodes", "existing", "on-demand", {"gpu": "h100"}, 1, 2, 4, "none")
    assert t.taints == [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}]
    assert t.allocatable == {"pods": Fraction(110), "nvidia.com/gpu": Fraction(8)}
    assert t.notes == ["existing cluster: labels and taints as declared in llmfleet:gpuPools"]
    assert t.from_zero is None
