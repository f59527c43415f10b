"""ClusterAutoscaler: the cluster-autoscaler Helm release, its least-privilege IAM identity and the priority expander
ConfigMap that turns each pool's capacity chain into the order in which node groups are grown."""
import json
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from catalog.versions import CLUSTER_AUTOSCALER_IMAGE, CLUSTER_AUTOSCALER_TAGS
from components import priority_expander
from components.aws import iam
from components.helm import chart_release
from components.platform import MANAGED_BY

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
# The ConfigMap name and key are fixed by the priority expander; it must live in the autoscaler's namespace.
PRIORITY_CONFIGMAP = priority_expander.CONFIGMAP_NAME


def asg_regex(node_group_name: str) -> str:
    """Matches the Auto Scaling group EKS creates for a managed node group. On AWS the autoscaler's node group
    names are ASG names, which EKS builds as `eks-<node group name>-<uuid>`. The suffix class is UUID characters
    only: every node group name of this program ends in a capacity word with non-hex letters (on-demand, spot,
    reserved, system), so a name can never match another group whose name extends it (`h100-spot` vs
    `h100-spot-x-on-demand`)."""
    return f"^eks-{node_group_name}-[0-9a-f-]+$"


def priority_config(groups: Sequence[tuple[int, str]]) -> str:
    """The `priorities` document for (priority, node group name) pairs."""
    return priority_expander.document((priority, asg_regex(group)) for priority, group in groups)


def autoscaler_policy(cluster_name: str, cluster_arn: str) -> str:
    """Least privilege: read anything (describe calls have no resource-level permissions), but resize and
    terminate only Auto Scaling groups tagged as owned by this cluster (EKS tags every managed node group's ASG
    `k8s.io/cluster-autoscaler/<cluster>=owned`), and describe only this cluster's node groups."""
    node_groups = cluster_arn.replace(":cluster/", ":nodegroup/", 1) + "/*/*"
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Discover", "Effect": "Allow", "Resource": "*", "Action": [
            "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
            "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
            "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
            "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements"]},
        {"Sid": "ScaleOwnedGroups", "Effect": "Allow", "Resource": "*",
         "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
         "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}}},
        {"Sid": "ReadManagedNodeGroups", "Effect": "Allow", "Resource": node_groups,
         "Action": ["eks:DescribeNodegroup"]},
    ]})


class ClusterAutoscalerArgs(TypedDict):
    cluster_name: str
    """EKS cluster name (auto-discovery tag suffix)."""
    eks_cluster_name: pulumi.Input[str]
    """The cluster's name as an output of the cluster resource (orders the pod identity association after it)."""
    cluster_arn: pulumi.Input[str]
    """EKS cluster ARN; scopes eks:DescribeNodegroup to its node groups."""
    region: str
    """AWS region."""
    kubernetes_version: str
    """Cluster minor version; picks the matching autoscaler image."""
    identity: str
    """irsa or pod-identity."""
    oidc_provider_arn: pulumi.Input[str]
    """IAM OIDC provider of the cluster (IRSA)."""
    oidc_issuer: pulumi.Input[str]
    """OIDC issuer URL of the cluster (IRSA)."""
    priorities: Sequence[tuple[int, str]]
    """(priority, node group name) for every node group; higher = grown first."""
    node_selector: dict
    """Where the autoscaler runs: the system node group (never a GPU node)."""
    depends_on: Sequence[pulumi.Resource]
    """What must exist before the release is installed (the system node group, the pod identity agent)."""
    tags: dict
    """Tags for AWS resources."""


class ClusterAutoscaler(pulumi.ComponentResource):
    role: aws.iam.Role
    """IAM role the autoscaler's service account assumes."""
    priority_configmap: k8s.core.v1.ConfigMap
    """The priority expander ConfigMap."""
    release: k8s.helm.v3.Release
    """The cluster-autoscaler Helm release."""

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:aws:ClusterAutoscaler", name, None, opts)
        child = ResourceOptions(parent=self)
        cluster, irsa = args["cluster_name"], args["identity"] == "irsa"

        trust = (iam.irsa_trust(args["oidc_provider_arn"], args["oidc_issuer"], NAMESPACE, [SERVICE_ACCOUNT])
                 if irsa else iam.pod_identity_trust())
        self.role = aws.iam.Role(f"{name}-role", name=f"{cluster}-cluster-autoscaler", assume_role_policy=trust,
                                 description=f"cluster-autoscaler of EKS cluster {cluster}", tags=args["tags"],
                                 opts=child)
        policy = aws.iam.RolePolicy(
            f"{name}-policy", role=self.role.id, name="cluster-autoscaler",
            policy=pulumi.Output.from_input(args["cluster_arn"]).apply(lambda arn: autoscaler_policy(cluster, arn)),
            opts=child)
        identity_deps: list = [policy]
        if not irsa:
            identity_deps.append(aws.eks.PodIdentityAssociation(
                f"{name}-pod-identity", cluster_name=args["eks_cluster_name"], namespace=NAMESPACE, service_account=SERVICE_ACCOUNT,
                role_arn=self.role.arn, tags=args["tags"], opts=child))

        # Created before the release: the expander reads it at start (and watches it afterwards).
        self.priority_configmap = k8s.core.v1.ConfigMap(
            f"{name}-priorities",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PRIORITY_CONFIGMAP, namespace=NAMESPACE, labels=MANAGED_BY),
            data={"priorities": priority_config(args["priorities"])},
            opts=child)

        sa_annotations = {"eks.amazonaws.com/role-arn": self.role.arn} if irsa else {}
        values = {
            "cloudProvider": "aws",
            "awsRegion": args["region"],
            "autoDiscovery": {"clusterName": cluster},
            "fullnameOverride": "cluster-autoscaler",
            "image": {"repository": CLUSTER_AUTOSCALER_IMAGE,
                      "tag": CLUSTER_AUTOSCALER_TAGS[args["kubernetes_version"]]},
            "rbac": {"serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": sa_annotations}},
            "extraArgs": {
                # Without it the autoscaler silently uses `random` and ignores the ConfigMap.
                "expander": "priority",
                # Model servers mount an emptyDir (/dev/shm, model cache); by default that pins their node and an
                # idle GPU node would never be removed.
                "skip-nodes-with-local-storage": False,
            },
            # The ConfigMap above is ours; an empty expanderPriorities keeps the chart from rendering another.
            "expanderPriorities": {},
            "nodeSelector": dict(args["node_selector"]),
            # Explicitly none: the autoscaler must never land on (or keep alive) a GPU node.
            "tolerations": [],
            "priorityClassName": "system-cluster-critical",
            "resources": {"requests": {"cpu": "100m", "memory": "600Mi"}, "limits": {"memory": "600Mi"}},
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containerSecurityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                         "capabilities": {"drop": ["ALL"]}},
        }
        self.release = chart_release(
            f"{name}-release", "cluster-autoscaler", NAMESPACE, values, parent=self,
            depends_on=[self.priority_configmap, *identity_deps, *args["depends_on"]])
        self.register_outputs({"roleArn": self.role.arn})
