"""Issue 9, AWS items: claims bind (EBS CSI + default gp3 class), MIG/time-sliced scale-from-zero templates,
Capacity Block groups, the prod control-plane allow-list, Bottlerocket pools out of the GPU Operator's operands.

Each test failed before its fix (the component or check it names did not exist or did the opposite).
"""
import json

import pytest
import yaml

from tests.harness import PROD_BUDGET, changed, config_error, run_config, run_stack

NG = "aws:eks/nodeGroup:NodeGroup"
LT = "aws:ec2/launchTemplate:LaunchTemplate"
TAG = "aws:autoscaling/tag:Tag"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PIA = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SC = "kubernetes:storage.k8s.io/v1:StorageClass"
RELEASE = "kubernetes:helm.sh/v3:Release"
TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"

BASE = {
    "cloud": "aws",
    "cluster": {"name": "t1", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"]},
    "gpuPools": [{"name": "l4", "instanceType": "g6.xlarge", "capacity": ["spot", "on-demand"], "maxNodes": 2}],
}
H100 = {"name": "h100", "instanceType": "p5.48xlarge", "capacity": ["on-demand"], "maxNodes": 2}


def cfg(**changes):
    return changed(BASE, **changes)


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


@pytest.fixture(scope="module")
def kp():
    return run_stack("prod-karpenter")


def asg_tags(plan, group: str) -> dict:
    return {r.inputs["tag"]["key"]: r.inputs["tag"]["value"] for r in plan.of_type(TAG)
            if r.inputs["autoscalingGroupName"].startswith(f"eks-{group}-")}


# --- 2. claims bind: EBS CSI driver with its identity, default gp3 class ---------------------------------------

def test_ebs_csi_addon_with_irsa_role(prod):
    addon = prod.one(ADDON, "llm-prod-ebs-addon")
    assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
    assert addon.inputs["serviceAccountRoleArn"] == "arn:aws:iam::000000000000:role/llm-prod-ebs-csi-driver"
    trust = json.loads(prod.one(ROLE, "llm-prod-ebs-role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    sub = {k: v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")}
    assert list(sub.values()) == ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    assert prod.one(ATTACH, "llm-prod-ebs-policy").inputs["policyArn"] == \
        "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicyV2"
    # The controller needs a node, and credentials before its pods start.
    assert prod.waits_for(addon, prod.one(NG, "llm-prod-system-ng"))
    assert prod.waits_for(addon, prod.one(ATTACH, "llm-prod-ebs-policy"))


def test_ebs_csi_addon_with_pod_identity(kp):
    addon = kp.one(ADDON, "llm-prod-kp-ebs-addon")
    assert "serviceAccountRoleArn" not in addon.inputs
    assoc = kp.one(PIA, "llm-prod-kp-ebs-pod-identity")
    assert (assoc.inputs["namespace"], assoc.inputs["serviceAccount"], assoc.inputs["roleArn"]) == (
        "kube-system", "ebs-csi-controller-sa", "arn:aws:iam::000000000000:role/llm-prod-kp-ebs-csi-driver")
    assert kp.waits_for(addon, assoc)
    trust = json.loads(kp.one(ROLE, "llm-prod-kp-ebs-role").inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-karpenter"])
def test_one_default_class_gp3_encrypted_wait_for_first_consumer(stack):
    plan = run_stack(stack)
    defaults = [m for m in plan.manifests if m["kind"] == "StorageClass"
                and m["metadata"].get("annotations", {}).get(DEFAULT_CLASS) == "true"]
    assert [m["metadata"]["name"] for m in defaults] == ["gp3"]
    sc = defaults[0]
    assert sc["provisioner"] == "ebs.csi.aws.com"
    assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
    assert sc["parameters"]["type"] == "gp3" and sc["parameters"]["encrypted"] == "true"
    assert plan.waits_for(plan.one(SC, f"{plan.spec.cluster.name}-ebs-storageclass"),
                          plan.one(ADDON, f"{plan.spec.cluster.name}-ebs-addon"))


def test_prometheus_and_per_replica_claims_use_the_default_class(prod):
    kps = prod.one(RELEASE, "llm-prod-observability-kube-prometheus-stack")
    claim = kps.inputs["values"]["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert "storageClassName" not in claim        # -> the default class, gp3
    sts = prod.manifest("StatefulSet", "llama-70b", "llm-serving")
    templates = sts["spec"]["volumeClaimTemplates"]
    assert templates and all("storageClassName" not in t["spec"] for t in templates)
    # The StatefulSet is created after the class exists (no claim waits for a retroactive class assignment).
    ss = next(r for r in prod.resources if r.type == "kubernetes:apps/v1:StatefulSet")
    assert prod.waits_for(ss, prod.one(SC, "llm-prod-ebs-storageclass"))


# --- 10. scale from zero: MIG and time-slicing resources in the ASG template ----------------------------------

@pytest.mark.parametrize("strategy,expected", [
    ("mixed", {"nvidia.com/mig-1g.10gb": "56", "nvidia.com/gpu": "0"}),
    ("single", {"nvidia.com/gpu": "56"}),
])
def test_mig_pool_template_resources(strategy, expected):
    pool = {**H100, "sharing": {"mode": "mig", "migProfile": "1g.10gb"}}
    plan = run_config(cfg(gpuPools=[pool], nvidia={"migStrategy": strategy}))
    tags = asg_tags(plan, "h100-on-demand")
    resources = {k.removeprefix(f"{TEMPLATE}/resources/"): v for k, v in tags.items()
                 if k.startswith(f"{TEMPLATE}/resources/")}
    # 8 H100 x 7 instances of 1g.10gb; the same name and count the device plugin advertises.
    assert resources == expected
    # The MIG manager's label is in the template too (the node is partitioned from the label at boot).
    assert tags[f"{TEMPLATE}/label/nvidia.com/mig.config"] == "all-1g.10gb"


def test_time_sliced_and_unshared_pools():
    sliced = run_config(cfg(gpuPools__0__sharing={"mode": "time-slicing", "replicas": 3}))
    assert {k: v for k, v in asg_tags(sliced, "l4-on-demand").items() if "/resources/" in k} == {
        f"{TEMPLATE}/resources/nvidia.com/gpu": "3"}
    plain = run_config(cfg())
    assert not [k for k in asg_tags(plain, "l4-on-demand") if "/resources/" in k]
    # Labels and taints are tagged too: CA skips valueless taints from DescribeNodegroup (FACTS-cluster.md §2.1).
    assert asg_tags(plain, "l4-spot")[f"{TEMPLATE}/taint/nvidia.com/gpu"] == "present:NoSchedule"


# --- 18. Capacity Block groups: instance type in the launch template, desired 0 --------------------------------

BLOCK = {"name": "h100", "instanceType": "p5.48xlarge", "capacity": ["reserved"], "minNodes": 0, "maxNodes": 2,
         "reservation": "cr-0123456789abcdef0", "zones": ["us-east-1a"]}


def test_capacity_block_group_follows_the_aws_recipe():
    plan = run_config(cfg(gpuPools=[BLOCK], cluster__aws={"reservationType": "capacity-block"}))
    ng = next(r for r in plan.of_type(NG) if r.inputs["nodeGroupName"] == "h100-reserved").inputs
    lt = plan.one(LT, "t1-h100-reserved-lt").inputs
    assert lt["instanceType"] == "p5.48xlarge"
    assert "instanceTypes" not in ng
    assert ng["capacityType"] == "CAPACITY_BLOCK"
    assert (ng["scalingConfig"]["minSize"], ng["scalingConfig"]["desiredSize"]) == (0, 0)
    assert lt["instanceMarketOptions"] == {"marketType": "capacity-block"}
    # An On-Demand Capacity Reservation keeps the usual shape (type on the node group).
    odcr = run_config(cfg(gpuPools=[{**BLOCK, "minNodes": 1}]))
    assert "instanceType" not in odcr.one(LT, "t1-h100-reserved-lt").inputs
    assert next(r for r in odcr.of_type(NG) if r.inputs["nodeGroupName"] == "h100-reserved").inputs[
        "instanceTypes"] == ["p5.48xlarge"]


def test_capacity_block_pool_with_a_minimum_is_rejected():
    errors = config_error(cfg(gpuPools=[{**BLOCK, "minNodes": 1}], cluster__aws={"reservationType": "capacity-block"}))
    assert errors == ["llmfleet:gpuPools[0].minNodes: must be 0 for a pool whose first capacity is a Capacity Block "
                      "(reserved, reservationType capacity-block), got 1"]


# --- 20. prod control planes name an allow-list or go private --------------------------------------------------

def test_prod_environment_requires_an_allow_list():
    msg = ("llmfleet:cluster.aws.publicAccessCidrs: is required in the 'prod' environment (production): list the "
           "networks allowed to reach the public API endpoint (not 0.0.0.0/0), or set endpointAccess: private")
    assert config_error(cfg(environment="prod", budget=PROD_BUDGET)) == [msg]
    assert config_error(cfg(environment="prod", budget=PROD_BUDGET, cluster__aws={"publicAccessCidrs": ["0.0.0.0/0"]})) == [msg]
    assert config_error(cfg(environment="production-eu"))[0].startswith(
        "llmfleet:cluster.aws.publicAccessCidrs: is required in the 'production-eu' environment")
    private = run_config(cfg(environment="prod", budget=PROD_BUDGET, cluster__aws={"endpointAccess": "private"}))
    vpc = private.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False and "publicAccessCidrs" not in vpc
    listed = run_config(cfg(environment="prod", budget=PROD_BUDGET, cluster__aws={"publicAccessCidrs": ["198.51.100.0/24"]}))
    assert listed.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]["publicAccessCidrs"] == ["198.51.100.0/24"]


def test_other_environments_keep_the_open_default():
    plan = run_config(cfg(environment="staging"))
    assert plan.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]["publicAccessCidrs"] == ["0.0.0.0/0"]


# --- 21. Bottlerocket pools: out of every GPU Operator operand -------------------------------------------------

def test_bottlerocket_pool_is_out_of_every_operand(prod):
    nvidia = prod.stack.nvidia
    for group in ("h200-on-demand", "h200-spot"):
        labels = next(r for r in prod.of_type(NG) if r.inputs["nodeGroupName"] == group).inputs["labels"]
        # gpu-operator state_manager.go: operands=false turns off every operand on the node (GFD, DCGM exporter,
        # validator, MIG manager, device plugin, driver, toolkit), not just the three the image replaces.
        assert labels["nvidia.com/gpu.deploy.operands"] == "false"
    # The AL2023 pool still gets the operator's device plugin, GFD and DCGM exporter.
    h100 = next(r for r in prod.of_type(NG) if r.inputs["nodeGroupName"] == "h100-on-demand").inputs["labels"]
    assert "nvidia.com/gpu.deploy.operands" not in h100
    assert nvidia.chart == "gpu-operator" and nvidia.dcgm_source == "operator"


def test_bottlerocket_only_cluster_installs_no_nvidia_chart():
    pool = {**H100, "image": "bottlerocket-nvidia"}
    plan = run_config(cfg(gpuPools=[pool]))
    assert plan.stack.nvidia.chart is None and plan.stack.nvidia.releases == {}
    assert not [r for r in plan.of_type(RELEASE) if r.inputs["chart"] in ("gpu-operator", "nvidia-device-plugin",
                                                                          "dcgm-exporter")]
