"""Karpenter mode on EKS (`cluster.aws.autoscaler: karpenter`): NodePools and EC2NodeClasses instead of managed GPU
node groups, the controller's identity and placement, the interruption queue, and the config checks.

Every test runs the real program (tests/harness.py) and asserts exact inputs of the recorded resources.
"""
import json
import re

import pytest

from catalog.versions import KARPENTER_AMI_ALIASES
from components.aws.karpenter_objects import nodepool_weights
from plan.validate import validate_object
from tests.harness import changed, config_error, run_config, run_stack

NG = "aws:eks/nodeGroup:NodeGroup"
RELEASE = "kubernetes:helm.sh/v3:Release"
NODEPOOL = "kubernetes:karpenter.sh/v1:NodePool"
NODECLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
ROLE = "aws:iam/role:Role"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}

BASE = {
    "cloud": "aws",
    "cluster": {"name": "t1", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
                "aws": {"autoscaler": "karpenter"}},
    "gpuPools": [{"name": "l4", "instanceType": "g6.xlarge", "capacity": ["spot", "on-demand"], "maxNodes": 2}],
}


def cfg(**changes):
    return changed(BASE, **changes)


@pytest.fixture(scope="module")
def kp():
    return run_stack("prod-karpenter")


@pytest.fixture(scope="module")
def irsa():
    return run_config(cfg(cluster__aws={"autoscaler": "karpenter", "identity": "irsa"}))


def values(plan):
    return plan.one(RELEASE, f"{plan.spec.cluster.name}-karpenter-release").inputs["values"]


# --- NodePools and EC2NodeClasses ---------------------------------------------------------------------------

H100_LABELS = {"llmfleet.io/pool": "h100", "llmfleet.io/gpu": "h100-80gb",
               "k8s.amazonaws.com/accelerator": "h100-80gb",
               "nvidia.com/gpu.deploy.driver": "false", "nvidia.com/gpu.deploy.container-toolkit": "false"}


def test_nodepool_content(kp):
    np = kp.manifest("NodePool", "h100-on-demand")
    assert np["metadata"] == {"name": "h100-on-demand", "labels": {"app.kubernetes.io/managed-by": "llmfleet"}}
    assert np["spec"] == {
        "weight": 100,
        "template": {
            "metadata": {"labels": {**H100_LABELS, "llmfleet.io/capacity": "on-demand"}},
            "spec": {
                "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "al2023-nvidia-1000gb"},
                "requirements": [
                    {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p5.48xlarge"]},
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
                    {"key": "topology.kubernetes.io/zone", "operator": "In",
                     "values": ["us-east-1a", "us-east-1b", "us-east-1c"]}],
                "taints": [GPU_TAINT],
                "expireAfter": "Never",
            },
        },
        "limits": {"nodes": 4, "nvidia.com/gpu": 32},
        "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "10m", "budgets": [{"nodes": "1"}]},
    }
    spot = kp.manifest("NodePool", "h100-spot")["spec"]
    assert spot["weight"] == 90
    assert spot["template"]["spec"]["requirements"][1] == {
        "key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]}
    assert spot["template"]["metadata"]["labels"]["llmfleet.io/capacity"] == "spot"


def test_nodeclass_content(kp):
    nc = kp.manifest("EC2NodeClass", "al2023-nvidia-1000gb")
    assert nc["spec"] == {
        "role": "llm-prod-kp-karpenter-node",
        "amiSelectorTerms": [{"alias": "al2023@v20260818"}],
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "llm-prod-kp"}}],
        "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": "llm-prod-kp"}}],
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "rootVolume": True, "ebs": {
            "volumeSize": "1000Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}}],
        "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpPutResponseHopLimit": 1,
                            "httpTokens": "required"},
        "tags": {"team": "ml-platform", "cost-center": "inference", "llmfleet.io/cluster": "llm-prod-kp",
                 "llmfleet.io/environment": "prod", "environment": "prod", "owner": "ml-platform"},
    }
    assert [m["metadata"]["name"] for m in kp.manifests if m["kind"] == "EC2NodeClass"] == ["al2023-nvidia-1000gb"]


def test_ami_aliases_are_pinned():
    for image, alias in KARPENTER_AMI_ALIASES.items():
        family, version = alias.split("@")
        assert family == image.split("-")[0]
        assert version != "latest" and re.fullmatch(r"v[0-9][0-9.]*", version), alias


def test_custom_resources_validate_against_crds(kp):
    objs = [m for m in kp.manifests if m["kind"] in ("NodePool", "EC2NodeClass")]
    assert len(objs) == 3
    for obj in objs:
        assert validate_object(obj, "1.34") == []
    # The plan's validator does not run CEL rules: the ones our objects could break, checked here.
    for np in (m for m in objs if m["kind"] == "NodePool"):
        keys = list(np["spec"]["template"]["metadata"]["labels"]) + [
            r["key"] for r in np["spec"]["template"]["spec"]["requirements"]]
        for key in keys:
            domain = key.split("/")[0] if "/" in key else ""
            assert key != "kubernetes.io/hostname" and key != "karpenter.sh/nodepool"
            assert not domain.endswith("karpenter.sh") or key == "karpenter.sh/capacity-type", key
            assert not domain.endswith("karpenter.k8s.aws") or key == "karpenter.k8s.aws/capacity-reservation-id"
        assert 1 <= np["spec"]["weight"] <= 100


def test_custom_resources_wait_for_the_release(kp):
    release = kp.one(RELEASE, "llm-prod-kp-karpenter-release")
    custom = kp.of_type(NODEPOOL) + kp.of_type(NODECLASS)
    assert len(custom) == 3          # h100 on-demand and spot NodePools, one EC2NodeClass
    for r in custom:
        assert kp.waits_for(r, release), r.name
    node_class = kp.one(NODECLASS)
    assert kp.waits_for(kp.one(NODEPOOL, "llm-prod-kp-karpenter-nodepool-h100-spot"), node_class)
    assert kp.waits_for(node_class, kp.one("aws:eks/accessEntry:AccessEntry"))


def test_bottlerocket_and_reserved_pools():
    pools = [
        {"name": "h100", "instanceType": "p5.48xlarge", "capacity": ["reserved", "spot"], "maxNodes": 2,
         "reservation": "cr-0123456789abcdef0", "zones": ["us-east-1a"], "diskSizeGb": 800},
        {"name": "h200", "instanceType": "p5en.48xlarge", "capacity": ["on-demand"], "maxNodes": 1,
         "image": "bottlerocket-nvidia", "diskSizeGb": 900},
    ]
    plan = run_config(cfg(gpuPools=pools))
    al = plan.manifest("EC2NodeClass", "al2023-nvidia-800gb")["spec"]
    assert al["capacityReservationSelectorTerms"] == [{"id": "cr-0123456789abcdef0"}]
    br = plan.manifest("EC2NodeClass", "bottlerocket-nvidia-900gb")["spec"]
    assert br["amiSelectorTerms"] == [{"alias": KARPENTER_AMI_ALIASES["bottlerocket-nvidia"]}]
    # Bottlerocket: small OS volume, the pool's disk is the data volume the kubelet uses.
    assert br["blockDeviceMappings"] == [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": "4Gi", "volumeType": "gp3", "encrypted": True,
                                            "deleteOnTermination": True}},
        {"deviceName": "/dev/xvdb", "rootVolume": True, "ebs": {"volumeSize": "900Gi", "volumeType": "gp3",
                                                                "encrypted": True, "deleteOnTermination": True}}]
    assert "capacityReservationSelectorTerms" not in br
    reserved = plan.manifest("NodePool", "h100-reserved")["spec"]["template"]["spec"]["requirements"]
    assert reserved == [
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["p5.48xlarge"]},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["reserved"]},
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]},
        {"key": "karpenter.k8s.aws/capacity-reservation-id", "operator": "In", "values": ["cr-0123456789abcdef0"]}]
    spot = plan.manifest("NodePool", "h100-spot")["spec"]["template"]["spec"]
    assert [r["key"] for r in spot["requirements"]] == [
        "node.kubernetes.io/instance-type", "karpenter.sh/capacity-type", "topology.kubernetes.io/zone"]
    assert plan.manifest("NodePool", "h200-on-demand")["spec"]["template"]["spec"]["nodeClassRef"]["name"] == \
        "bottlerocket-nvidia-900gb"
    for m in plan.manifests:
        if m["kind"] in ("NodePool", "EC2NodeClass"):
            assert validate_object(m, "1.34") == [], m["metadata"]["name"]


# --- weights ---------------------------------------------------------------------------------------------------

def test_weights_follow_capacity_priorities():
    pools = [
        {"name": "h100", "instanceType": "p5.48xlarge", "capacity": ["on-demand", "spot"], "maxNodes": 2},
        {"name": "h200", "instanceType": "p5en.48xlarge", "capacity": ["spot", "on-demand"], "maxNodes": 2},
    ]
    plan = run_config(cfg(gpuPools=pools))
    weights = {m["metadata"]["name"]: m["spec"]["weight"] for m in plan.manifests if m["kind"] == "NodePool"}
    assert weights == {"h100-on-demand": 100, "h100-spot": 90, "h200-spot": 80, "h200-on-demand": 70}
    priorities = {d.node_group: d.priority for d in plan.stack.cluster.pools}
    assert sorted(weights, key=weights.get) == sorted(priorities, key=priorities.get)


def test_weight_mapping_keeps_order_within_bounds():
    assert nodepool_weights({"a": 220, "b": 210, "c": 120, "d": 110}) == {"a": 100, "b": 90, "c": 80, "d": 70}
    assert nodepool_weights({"only": 120}) == {"only": 100}
    many = {f"p{i}": 10 * i for i in range(1, 101)}
    w = nodepool_weights(many)
    assert (min(w.values()), max(w.values())) == (1, 100)
    assert len(set(w.values())) == 100
    assert sorted(many, key=many.get) == sorted(w, key=w.get)
    w40 = nodepool_weights({f"p{i}": i for i in range(40)})
    assert sorted(w40.values()) == list(range(22, 101, 2)) and w40["p39"] == 100
    with pytest.raises(ValueError):
        nodepool_weights({f"p{i}": i for i in range(101)})


# --- what karpenter mode leaves out ---------------------------------------------------------------------------

def test_no_managed_gpu_node_groups_and_no_cluster_autoscaler(kp):
    assert [r.inputs["nodeGroupName"] for r in kp.of_type(NG)] == ["system"]
    assert not kp.of_type("llmfleet:aws:ClusterAutoscaler")
    assert [r.name for r in kp.of_type("aws:ec2/launchTemplate:LaunchTemplate")] == ["llm-prod-kp-system-lt"]
    assert [r.inputs["chart"] for r in kp.of_type(RELEASE) if "autoscaler" in r.inputs["chart"]] == []
    assert not [m for m in kp.manifests if m["metadata"]["name"] == "cluster-autoscaler-priority-expander"]
    assert kp.one("llmfleet:aws:Karpenter").name == "llm-prod-kp-karpenter"


def test_other_modes_have_no_karpenter():
    for mode in ("cluster-autoscaler", "none"):
        plan = run_config(cfg(cluster__aws={"autoscaler": mode}))
        assert not plan.of_type("llmfleet:aws:Karpenter")
        assert not plan.of_type(NODEPOOL) and not plan.of_type(NODECLASS)
        assert sorted(r.inputs["nodeGroupName"] for r in plan.of_type(NG)) == ["l4-on-demand", "l4-spot", "system"]


def test_pool_descriptors_name_the_nodepools(kp):
    d = {p.node_group: p for p in kp.stack.cluster.pools}
    assert sorted(d) == ["h100-on-demand", "h100-spot"]
    for name, desc in d.items():
        assert desc.min_nodes == 0 and desc.max_nodes == 4
        np = kp.manifest("NodePool", name)["spec"]["template"]
        assert desc.node_labels == np["metadata"]["labels"]
        assert [{"key": t.key, "value": t.value, "effect": t.effect} for t in desc.taints] == np["spec"]["taints"]
    assert d["h100-spot"].node_selector() == {"llmfleet.io/pool": "h100"}


# --- controller ---------------------------------------------------------------------------------------------

def test_release_chart_and_values(kp):
    release = kp.one(RELEASE, "llm-prod-kp-karpenter-release").inputs
    assert (release["chart"], release["version"], release["namespace"], release["name"]) == (
        "oci://public.ecr.aws/karpenter/karpenter", "1.14.1", "kube-system", "karpenter")
    assert "repositoryOpts" not in release
    v = release["values"]
    assert v["settings"] == {"clusterName": "llm-prod-kp", "clusterEndpoint": "https://llm-prod-kp.eks.example.invalid",
                             "interruptionQueue": "llm-prod-kp-karpenter"}
    assert v["serviceAccount"] == {"create": True, "name": "karpenter", "annotations": {}}
    assert v["replicas"] == 2
    assert v["controller"]["env"] == [{"name": "AWS_REGION", "value": "us-east-1"}]


def test_controller_runs_on_system_nodes_without_gpu_toleration(kp):
    v = values(kp)
    assert v["nodeSelector"] == {"kubernetes.io/os": "linux", "llmfleet.io/node-role": "system"}
    assert v["affinity"]["nodeAffinity"] == {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "karpenter.sh/nodepool", "operator": "DoesNotExist"},
                              {"key": "llmfleet.io/node-role", "operator": "In", "values": ["system"]}]}]}}
    assert v["tolerations"] == []
    assert "nvidia.com/gpu" not in json.dumps(v)
    system = [r for r in kp.of_type(NG) if r.inputs["nodeGroupName"] == "system"][0]
    assert system.inputs["labels"] == {"llmfleet.io/node-role": "system"}
    assert kp.waits_for(kp.one(RELEASE, "llm-prod-kp-karpenter-release"), system)


def test_single_system_node_gets_one_controller_replica():
    plan = run_config(cfg(cluster__aws={"autoscaler": "karpenter", "systemNodes": {"minNodes": 1}}))
    assert values(plan)["replicas"] == 1


def test_chart_values_exist_in_the_chart():
    """Every top-level and nested key we set is a key of the chart's default values (karpenter 1.14.1)."""
    import yaml
    from pathlib import Path
    defaults = yaml.safe_load((Path(__file__).resolve().parents[2] / "shared" / "chart-values" /
                               "karpenter-1.14.1.yaml").read_text())
    plan = run_config(BASE)
    v = values(plan)
    for key in v:
        assert key in defaults, key
    for key in v["settings"]:
        assert key in defaults["settings"], key
    for key in v["controller"]:
        assert key in defaults["controller"], key
    for key in v["serviceAccount"]:
        assert key in defaults["serviceAccount"], key


# --- identity -----------------------------------------------------------------------------------------------

def test_pod_identity(kp):
    assoc = kp.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "llm-prod-kp-karpenter-pod-identity").inputs
    assert (assoc["namespace"], assoc["serviceAccount"], assoc["roleArn"], assoc["clusterName"]) == (
        "kube-system", "karpenter", "arn:aws:iam::000000000000:role/llm-prod-kp-karpenter", "llm-prod-kp")
    trust = json.loads(kp.one(ROLE, "llm-prod-kp-karpenter-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                   "Action": ["sts:AssumeRole", "sts:TagSession"]}]


def test_irsa(irsa):
    assert not irsa.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    trust = json.loads(irsa.one(ROLE, "t1-karpenter-role").inputs["assumeRolePolicy"])
    [stmt] = trust["Statement"]
    assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert stmt["Principal"] == {"Federated": "arn:aws:iam::000000000000:oidc-provider/oidc.eks.example.invalid/id/T1"}
    assert stmt["Condition"] == {"StringEquals": {
        "oidc.eks.example.invalid/id/T1:sub": "system:serviceaccount:kube-system:karpenter",
        "oidc.eks.example.invalid/id/T1:aud": "sts.amazonaws.com"}}
    assert values(irsa)["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::000000000000:role/t1-karpenter"}


def test_controller_policy_is_scoped(irsa):
    policy = json.loads(irsa.one("aws:iam/rolePolicy:RolePolicy", "t1-karpenter-policy").inputs["policy"])
    # IAM's limit for all inline policies of a role, without whitespace.
    assert len(json.dumps(policy, separators=(",", ":"))) < 10240
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["PassNodeRole"]["Resource"] == "arn:aws:iam::000000000000:role/t1-karpenter-node"
    assert by_sid["PassNodeRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com"]}}
    assert by_sid["DescribeCluster"]["Resource"] == "arn:aws:eks:us-east-1:000000000000:cluster/t1"
    assert by_sid["ReadInterruptionQueue"] == {
        "Sid": "ReadInterruptionQueue", "Effect": "Allow",
        "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
        "Resource": "arn:aws:sqs:us-east-1:000000000000:t1-karpenter"}
    assert by_sid["DeleteOwnInstances"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/kubernetes.io/cluster/t1": "owned"},
        "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}
    assert by_sid["CreateTaggedInstances"]["Condition"]["StringEquals"] == {
        "aws:RequestTag/kubernetes.io/cluster/t1": "owned", "aws:RequestTag/eks:eks-cluster-name": "t1"}
    assert by_sid["CreateInstanceProfile"]["Resource"] == "arn:aws:iam::000000000000:instance-profile/*"
    assert by_sid["DescribeRegion"]["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
    # Mutating actions are never granted on "*" without a condition.
    for s in policy["Statement"]:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        if s["Resource"] == "*" and "Condition" not in s:
            assert actions in (["iam:ListInstanceProfiles"], ["pricing:GetProducts"]), s["Sid"]


def test_node_role_access_entry_and_security_group_tag(kp):
    node_role = kp.one(ROLE, "llm-prod-kp-karpenter-node-role").inputs
    assert node_role["name"] == "llm-prod-kp-karpenter-node"
    assert json.loads(node_role["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": ["ec2.amazonaws.com"]}
    entry = kp.one("aws:eks/accessEntry:AccessEntry").inputs
    assert (entry["type"], entry["principalArn"], entry["clusterName"]) == (
        "EC2_LINUX", "arn:aws:iam::000000000000:role/llm-prod-kp-karpenter-node", "llm-prod-kp")
    attached = sorted(r.inputs["policyArn"].rsplit("/", 1)[1]
                      for r in kp.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                      if r.name.startswith("llm-prod-kp-karpenter-node-"))
    assert attached == ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                        "AmazonSSMManagedInstanceCore"]
    tag = kp.one("aws:ec2/tag:Tag").inputs
    assert tag == {"resourceId": "sg-0123456789abcdef0", "key": "karpenter.sh/discovery", "value": "llm-prod-kp"}


# --- interruption queue -------------------------------------------------------------------------------------

def test_interruption_queue_and_rules(kp):
    queue = kp.one("aws:sqs/queue:Queue").inputs
    assert (queue["name"], queue["messageRetentionSeconds"], queue["sqsManagedSseEnabled"]) == (
        "llm-prod-kp-karpenter", 300.0, True)
    patterns = {r.inputs["name"]: json.loads(r.inputs["eventPattern"]) for r in kp.of_type(RULE)}
    assert patterns == {
        "llm-prod-kp-karpenter-spot": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
        "llm-prod-kp-karpenter-rebalance": {"source": ["aws.ec2"],
                                            "detail-type": ["EC2 Instance Rebalance Recommendation"]},
        "llm-prod-kp-karpenter-state-change": {"source": ["aws.ec2"],
                                               "detail-type": ["EC2 Instance State-change Notification"]},
        "llm-prod-kp-karpenter-health": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
        "llm-prod-kp-karpenter-reservation": {
            "source": ["aws.ec2"], "detail-type": ["EC2 Capacity Reservation Instance Interruption Warning"]},
    }
    assert all(len(name) <= 64 for name in patterns)          # EventBridge rule name limit
    targets = {(t.inputs["rule"], t.inputs["arn"]) for t in kp.of_type(TARGET)}
    assert targets == {(name, "arn:aws:sqs:us-east-1:000000000000:llm-prod-kp-karpenter") for name in patterns}
    policy = json.loads(kp.one("aws:sqs/queuePolicy:QueuePolicy").inputs["policy"])
    allow, deny = policy["Statement"]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"} and allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": sorted(
        f"arn:aws:events:us-east-1:000000000000:rule/{n}" for n in patterns)}}
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- config errors ------------------------------------------------------------------------------------------

def test_min_nodes_is_rejected_with_karpenter():
    assert config_error(cfg(gpuPools__0__minNodes=1)) == [
        "llmfleet:gpuPools[0].minNodes: must be 0 with cluster.aws.autoscaler karpenter (a Karpenter NodePool has no "
        "minimum size; keep nodes warm with a model's replicas.min), got 1"]


def test_gpu_sharing_is_rejected_with_karpenter():
    errors = config_error(cfg(gpuPools=[
        {"name": "l4", "instanceType": "g6.xlarge", "capacity": ["spot"], "maxNodes": 2,
         "sharing": {"mode": "time-slicing", "replicas": 4}},
        {"name": "h100", "instanceType": "p5.48xlarge", "capacity": ["spot"], "maxNodes": 1,
         "sharing": {"mode": "mig", "migProfile": "1g.10gb"}}]))
    assert errors == [
        "llmfleet:gpuPools[0].sharing.mode: time-slicing needs cluster.aws.autoscaler cluster-autoscaler (Karpenter "
        "plans nodes by whole GPUs); use sharing mode none with karpenter",
        "llmfleet:gpuPools[1].sharing.mode: mig needs cluster.aws.autoscaler cluster-autoscaler (Karpenter plans "
        "nodes by whole GPUs); use sharing mode none with karpenter"]


def test_min_nodes_and_sharing_stay_allowed_with_cluster_autoscaler():
    plan = run_config(cfg(cluster__aws={"autoscaler": "cluster-autoscaler"}, gpuPools__0__minNodes=1,
                          gpuPools__0__sharing={"mode": "time-slicing", "replicas": 4}))
    assert plan.of_type("llmfleet:aws:ClusterAutoscaler")


def test_unknown_autoscaler():
    assert config_error(cfg(cluster__aws={"autoscaler": "karpentr"})) == [
        "llmfleet:cluster.aws.autoscaler: must be one of cluster-autoscaler, karpenter, none, got 'karpentr' "
        "(did you mean 'karpenter'?)"]


def test_too_many_nodepools():
    pools = [{"name": f"p{i}", "instanceType": "g6.xlarge", "capacity": ["spot", "on-demand", "reserved"],
              "maxNodes": 1, "reservation": "cr-0123456789abcdef0", "zones": ["us-east-1a"]} for i in range(34)]
    errors = config_error(cfg(gpuPools=pools))
    assert errors == ["llmfleet:gpuPools: with karpenter every (pool, capacity type) is a NodePool with its own "
                      "weight (1-100): at most 100, got 102"]
