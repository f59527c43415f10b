"""IAM documents: the grammar IAM evaluates, over every document of the shipped AWS stacks, and the Karpenter
controller policy statement by statement (components/aws/karpenter_iam.py, after the controller permissions of
Karpenter's v1.14 getting-started CloudFormation template). A misspelt condition operator or key is not a syntax
error IAM reports: an unknown key in a condition simply never matches (the statement never applies, or with
`...IfExists` always does), so only a check of the names catches it. tests/test_stacks_rendered.py checks actions."""
import functools
import json
import re

import pytest

from components.aws.iam import managed_policy, partition
from components.aws.karpenter_iam import controller_policy, event_pattern, queue_policy
from tests.harness import run_stack

AWS_STACKS = ("dev", "prod", "prod-karpenter")
plan_of = functools.lru_cache(maxsize=None)(run_stack)
# IAM condition operators (IAM User Guide, "Condition operators") this program may use, with set qualifiers.
BASE_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "ArnEquals", "ArnLike", "Bool",
                  "NumericLessThan", "NumericEquals", "IpAddress", "NotIpAddress"}
OPERATORS = BASE_OPERATORS | {f"{op}IfExists" for op in BASE_OPERATORS} | {
    f"{q}:{op}" for q in ("ForAllValues", "ForAnyValue") for op in BASE_OPERATORS}
# Global condition keys (IAM "AWS global condition context keys") and the service keys used here.
GLOBAL_KEYS = re.compile(r"aws:(RequestTag/.+|ResourceTag/.+|TagKeys|SourceArn|SecureTransport|RequestedRegion)")
SERVICE_KEYS = {"ec2:CreateAction", "iam:PassedToService"}
OIDC_KEY = re.compile(r"oidc\.eks\.[a-z0-9.-]+/id/[A-Za-z0-9-]+:(sub|aud)")
ARN = re.compile(r"arn:aws:[a-z0-9-]+:([a-z0-9-]*):(\d{12}|\*|aws)?:.+")
SERVICE_PRINCIPAL = re.compile(r"[a-z0-9-]+(\.eks)?\.amazonaws\.com")


def documents(plan):
    for r in plan.resources:
        for key in ("policy", "assumeRolePolicy"):
            doc = r.inputs.get(key)
            if r.type.startswith(("aws:iam/", "aws:sqs/")) and isinstance(doc, str):
                yield r.name, json.loads(doc)


def problems(name: str, doc: dict) -> list[str]:
    out = []
    for st in doc["Statement"]:
        where = f"{name} {st.get('Sid', '')}"
        for op, block in (st.get("Condition") or {}).items():
            if op not in OPERATORS:
                out.append(f"{where}: condition operator {op!r}")
            for key in block:
                if not (GLOBAL_KEYS.fullmatch(key) or key in SERVICE_KEYS or OIDC_KEY.fullmatch(key)):
                    out.append(f"{where}: condition key {key!r}")
        resources = st.get("Resource", [])
        for res in resources if isinstance(resources, list) else [resources]:
            if res != "*" and not ARN.fullmatch(res):
                out.append(f"{where}: resource {res!r}")
        principal = st.get("Principal")
        if isinstance(principal, dict):
            services = principal.get("Service", [])
            for s in services if isinstance(services, list) else [services]:
                if not SERVICE_PRINCIPAL.fullmatch(s):
                    out.append(f"{where}: service principal {s!r}")
            for f in [principal["Federated"]] if "Federated" in principal else []:
                if not re.fullmatch(r"arn:aws:iam::\d{12}:oidc-provider/.+", f):
                    out.append(f"{where}: federated principal {f!r}")
        elif principal not in (None, "*"):
            out.append(f"{where}: principal {principal!r}")
    return out


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_every_iam_document_uses_operators_keys_resources_and_principals_iam_knows(stack):
    docs = list(documents(plan_of(stack)))
    assert len(docs) >= 5
    bad = [p for name, doc in docs for p in problems(name, doc)]
    assert bad == []
    assert any(st.get("Condition") for _, doc in docs for st in doc["Statement"])


def test_the_grammar_check_bites():
    doc = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                          "Principal": {"Service": "ec2.amazonaws.comm"},
                          "Condition": {"StringEqual": {"aws:RequestTags/x": "y"}}}]}
    assert problems("d", doc) == ["d : condition operator 'StringEqual'", "d : condition key 'aws:RequestTags/x'",
                                  "d : service principal 'ec2.amazonaws.comm'"]


C, R, P = "t1", "us-east-1", "aws"
CLUSTER_ARN = "arn:aws:eks:us-east-1:000000000000:cluster/t1"
NODE_ROLE = "arn:aws:iam::000000000000:role/t1-karpenter-node"
QUEUE = "arn:aws:sqs:us-east-1:000000000000:t1-karpenter"
EC2 = "arn:aws:ec2:us-east-1"
PROFILES = "arn:aws:iam::000000000000:instance-profile/*"
OWNED = {"aws:ResourceTag/kubernetes.io/cluster/t1": "owned"}
REQUEST_OWNED = {"aws:RequestTag/kubernetes.io/cluster/t1": "owned", "aws:RequestTag/eks:eks-cluster-name": "t1"}
LAUNCHED = [f"{EC2}:*:{k}/*" for k in ("fleet", "instance", "volume", "network-interface", "launch-template",
                                       "spot-instances-request")]


def statements(partition_: str = P) -> dict:
    doc = json.loads(controller_policy(C, R, partition_, CLUSTER_ARN, NODE_ROLE, QUEUE))
    assert doc["Version"] == "2012-10-17"
    return {s.pop("Sid"): s for s in doc["Statement"]}


def test_controller_launches_only_from_discovered_resources_and_its_own_templates():
    s = statements()
    run = ["ec2:RunInstances", "ec2:CreateFleet"]
    assert s["LaunchFromDiscoveredResources"] == {"Effect": "Allow", "Action": run, "Resource": [
        f"{EC2}::image/*", f"{EC2}::snapshot/*", f"{EC2}:*:security-group/*", f"{EC2}:*:subnet/*",
        f"{EC2}:*:capacity-reservation/*", f"{EC2}:*:placement-group/*"]}
    assert s["LaunchFromOwnLaunchTemplates"] == {
        "Effect": "Allow", "Action": run, "Resource": f"{EC2}:*:launch-template/*",
        "Condition": {"StringEquals": OWNED, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"}}}
    assert s["CreateTaggedInstances"] == {
        "Effect": "Allow", "Action": [*run, "ec2:CreateLaunchTemplate"], "Resource": LAUNCHED,
        "Condition": {"StringEquals": REQUEST_OWNED, "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}}
    # Tags only while creating those resources, and afterwards only the three keys Karpenter adds itself.
    assert s["TagOnCreate"] == {
        "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": LAUNCHED,
        "Condition": {"StringEquals": {**REQUEST_OWNED,
                                       "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                      "StringLike": {"aws:RequestTag/karpenter.sh/nodepool": "*"}}}
    assert s["TagOwnInstances"] == {
        "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": f"{EC2}:*:instance/*",
        "Condition": {"StringEquals": OWNED, "StringLike": {"aws:ResourceTag/karpenter.sh/nodepool": "*"},
                      "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": "t1"},
                      "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim",
                                                                    "Name"]}}}
    assert s["DeleteOwnInstances"]["Action"] == ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"]
    assert s["DeleteOwnInstances"]["Resource"] == [f"{EC2}:*:instance/*", f"{EC2}:*:launch-template/*"]


def test_controller_manages_only_its_own_instance_profiles_in_its_region():
    s = statements()
    nodeclass = "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass"
    assert s["CreateInstanceProfile"] == {
        "Effect": "Allow", "Action": "iam:CreateInstanceProfile", "Resource": PROFILES,
        "Condition": {"StringEquals": {**REQUEST_OWNED, "aws:RequestTag/topology.kubernetes.io/region": R},
                      "StringLike": {"aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}}
    assert s["TagInstanceProfile"] == {
        "Effect": "Allow", "Action": "iam:TagInstanceProfile", "Resource": PROFILES,
        "Condition": {"StringEquals": {**OWNED, "aws:ResourceTag/topology.kubernetes.io/region": R,
                                       **REQUEST_OWNED, "aws:RequestTag/topology.kubernetes.io/region": R},
                      "StringLike": {nodeclass: "*", "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*"}}}
    assert s["ManageInstanceProfile"] == {
        "Effect": "Allow", "Resource": PROFILES,
        "Action": ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
        "Condition": {"StringEquals": {**OWNED, "aws:ResourceTag/topology.kubernetes.io/region": R},
                      "StringLike": {nodeclass: "*"}}}
    assert s["ReadInstanceProfiles"] == {"Effect": "Allow", "Action": "iam:GetInstanceProfile", "Resource": PROFILES}
    assert s["ListInstanceProfiles"] == {"Effect": "Allow", "Action": "iam:ListInstanceProfiles", "Resource": "*"}


def test_controller_discovery_ami_parameters_and_prices():
    s = statements()
    assert s["DescribeRegion"]["Action"] == [
        "ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
        "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates", "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"]
    # AMI aliases resolve through the public SSM parameters of EKS and Bottlerocket, in the cluster's region.
    assert s["ReadAmiParameters"] == {"Effect": "Allow", "Action": "ssm:GetParameter",
                                      "Resource": "arn:aws:ssm:us-east-1::parameter/aws/service/*"}
    assert s["ReadPrices"] == {"Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"}
    assert s["DescribeCluster"] == {"Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": CLUSTER_ARN}
    # Zonal shift permissions stay out (settings.enableZonalShift is false): 17 statements in all.
    assert len(s) == 17


def test_china_partition_passes_the_node_role_to_its_ec2_principal():
    cn = statements("aws-cn")
    assert cn["PassNodeRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com.cn"]}}
    assert cn["ReadAmiParameters"]["Resource"] == "arn:aws-cn:ssm:us-east-1::parameter/aws/service/*"
    assert statements("aws-us-gov")["PassNodeRole"]["Condition"]["StringEquals"]["iam:PassedToService"] == [
        "ec2.amazonaws.com"]
    assert (partition("cn-north-1"), partition("us-gov-west-1"), partition("eu-west-1")) == ("aws-cn", "aws-us-gov",
                                                                                            "aws")
    assert managed_policy("cn-north-1", "AmazonEKSClusterPolicy") == \
        "arn:aws-cn:iam::aws:policy/AmazonEKSClusterPolicy"


def test_interruption_queue_accepts_only_this_clusters_rules_over_tls():
    doc = json.loads(queue_policy(QUEUE, ["arn:b", "arn:a"]))
    allow, deny = doc["Statement"]
    assert allow == {"Sid": "EventBridgeRules", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                     "Action": "sqs:SendMessage", "Resource": QUEUE,
                     "Condition": {"ArnEquals": {"aws:SourceArn": ["arn:a", "arn:b"]}}}
    assert deny == {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": QUEUE,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert json.loads(event_pattern("health")) == {"source": ["aws.health"], "detail-type": ["AWS Health Event"]}


# AWS managed policies this program attaches (IAM "AWS managed policies" reference; EKS user guide's cluster and
# node IAM roles, the EBS/EFS CSI drivers' documented policies). A misspelt name fails only at `pulumi up`.
MANAGED_POLICIES = {"AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
                    "AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPullOnly",
                    "AmazonSSMManagedInstanceCore", "service-role/AmazonEBSCSIDriverPolicyV2",
                    "service-role/AmazonEFSCSIDriverPolicy"}
EKS_ADDONS = {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "aws-efs-csi-driver", "eks-pod-identity-agent"}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_attached_managed_policies_and_addons_exist(stack):
    plan = plan_of(stack)
    arns = {r.inputs["policyArn"] for r in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    names = {a.removeprefix("arn:aws:iam::aws:policy/") for a in arns}
    assert names <= MANAGED_POLICIES and all(a.startswith("arn:aws:iam::aws:policy/") for a in arns)
    # The cluster role, the nodes (worker, CNI, image pull, SSM) and the EBS CSI driver at least.
    assert {"AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
            "AmazonSSMManagedInstanceCore", "service-role/AmazonEBSCSIDriverPolicyV2"} <= names
    addons = {r.inputs["addonName"] for r in plan.of_type("aws:eks/addon:Addon")}
    assert {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"} <= addons <= EKS_ADDONS
