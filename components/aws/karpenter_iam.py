"""IAM and EventBridge documents for Karpenter, built locally (no invokes) so the plan shows the exact text.

The controller policy follows the permissions Karpenter v1.x documents for its controller (the getting-started
CloudFormation template of the v1.14 docs: node lifecycle, IAM integration, EKS integration, interruption, resource
discovery), written here as one document and scoped to this cluster, region, account, node role and queue.
Zonal shift permissions are left out: `settings.enableZonalShift` stays false.
"""
import json

# Tags Karpenter puts on everything it creates; the conditions below only let it touch resources carrying them.
NODEPOOL_TAG = "karpenter.sh/nodepool"
NODECLASS_TAG = "karpenter.k8s.aws/ec2nodeclass"

# EventBridge rules feeding the interruption queue: rule key -> (event source, detail type). Karpenter cordons and
# drains a node ahead of a Spot reclaim, a rebalance recommendation, a scheduled maintenance (AWS Health) or the
# reclaim of a capacity reservation, and notices instances that stopped or terminated underneath it.
INTERRUPTION_EVENTS = {
    "spot": ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
    "rebalance": ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
    "state-change": ("aws.ec2", "EC2 Instance State-change Notification"),
    "health": ("aws.health", "AWS Health Event"),
    "reservation": ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),
}


def event_pattern(key: str) -> str:
    source, detail_type = INTERRUPTION_EVENTS[key]
    return json.dumps({"source": [source], "detail-type": [detail_type]})


def controller_policy(cluster: str, region: str, partition: str, cluster_arn: str, node_role_arn: str,
                      queue_arn: str) -> str:
    """The controller's permissions. The account comes from the cluster ARN (no STS call)."""
    account = cluster_arn.split(":")[4]
    ec2 = f"arn:{partition}:ec2:{region}"
    profiles = f"arn:{partition}:iam::{account}:instance-profile/*"
    owned = {f"aws:ResourceTag/kubernetes.io/cluster/{cluster}": "owned"}
    request_owned = {f"aws:RequestTag/kubernetes.io/cluster/{cluster}": "owned",
                     "aws:RequestTag/eks:eks-cluster-name": cluster}
    launched = [f"{ec2}:*:{kind}/*" for kind in ("fleet", "instance", "volume", "network-interface",
                                                   "launch-template", "spot-instances-request")]
    pass_to = ["ec2.amazonaws.com.cn"] if partition == "aws-cn" else ["ec2.amazonaws.com"]
    statements = [
        # --- node lifecycle: launch into any subnet/SG/AMI it discovered, but only from its own launch templates
        # and only creating resources tagged for this cluster and a NodePool.
        {"Sid": "LaunchFromDiscoveredResources", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet"],
         "Resource": [f"{ec2}::image/*", f"{ec2}::snapshot/*", f"{ec2}:*:security-group/*", f"{ec2}:*:subnet/*",
                      f"{ec2}:*:capacity-reservation/*", f"{ec2}:*:placement-group/*"]},
        {"Sid": "LaunchFromOwnLaunchTemplates", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet"], "Resource": f"{ec2}:*:launch-template/*",
         "Condition": {"StringEquals": owned, "StringLike": {f"aws:ResourceTag/{NODEPOOL_TAG}": "*"}}},
        {"Sid": "CreateTaggedInstances", "Effect": "Allow",
         "Action": ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"], "Resource": launched,
         "Condition": {"StringEquals": request_owned, "StringLike": {f"aws:RequestTag/{NODEPOOL_TAG}": "*"}}},
        {"Sid": "TagOnCreate", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": launched,
         "Condition": {"StringEquals": {**request_owned,
                                        "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"]},
                       "StringLike": {f"aws:RequestTag/{NODEPOOL_TAG}": "*"}}},
        {"Sid": "TagOwnInstances", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": f"{ec2}:*:instance/*",
         "Condition": {"StringEquals": owned, "StringLike": {f"aws:ResourceTag/{NODEPOOL_TAG}": "*"},
                       "StringEqualsIfExists": {"aws:RequestTag/eks:eks-cluster-name": cluster},
                       "ForAllValues:StringEquals": {"aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim",
                                                                    "Name"]}}},
        {"Sid": "DeleteOwnInstances", "Effect": "Allow",
         "Action": ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
         "Resource": [f"{ec2}:*:instance/*", f"{ec2}:*:launch-template/*"],
         "Condition": {"StringEquals": owned, "StringLike": {f"aws:ResourceTag/{NODEPOOL_TAG}": "*"}}},
        # --- IAM integration: pass only the Karpenter node role, and manage only instance profiles it created for
        # an EC2NodeClass of this cluster in this region.
        {"Sid": "PassNodeRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": node_role_arn,
         "Condition": {"StringEquals": {"iam:PassedToService": pass_to}}},
        {"Sid": "CreateInstanceProfile", "Effect": "Allow", "Action": "iam:CreateInstanceProfile",
         "Resource": profiles,
         "Condition": {"StringEquals": {**request_owned, "aws:RequestTag/topology.kubernetes.io/region": region},
                       "StringLike": {f"aws:RequestTag/{NODECLASS_TAG}": "*"}}},
        {"Sid": "TagInstanceProfile", "Effect": "Allow", "Action": "iam:TagInstanceProfile", "Resource": profiles,
         "Condition": {"StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": region,
                                        **request_owned, "aws:RequestTag/topology.kubernetes.io/region": region},
                       "StringLike": {f"aws:ResourceTag/{NODECLASS_TAG}": "*",
                                      f"aws:RequestTag/{NODECLASS_TAG}": "*"}}},
        {"Sid": "ManageInstanceProfile", "Effect": "Allow",
         "Action": ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
         "Resource": profiles,
         "Condition": {"StringEquals": {**owned, "aws:ResourceTag/topology.kubernetes.io/region": region},
                       "StringLike": {f"aws:ResourceTag/{NODECLASS_TAG}": "*"}}},
        {"Sid": "ReadInstanceProfiles", "Effect": "Allow", "Action": "iam:GetInstanceProfile", "Resource": profiles},
        {"Sid": "ListInstanceProfiles", "Effect": "Allow", "Action": "iam:ListInstanceProfiles", "Resource": "*"},
        # --- EKS integration and interruption handling.
        {"Sid": "DescribeCluster", "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": cluster_arn},
        {"Sid": "ReadInterruptionQueue", "Effect": "Allow",
         "Action": ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"], "Resource": queue_arn},
        # --- discovery: describe calls have no resource-level permissions; pinned to the cluster's region.
        {"Sid": "DescribeRegion", "Effect": "Allow", "Resource": "*",
         "Action": ["ec2:DescribeCapacityReservations", "ec2:DescribeImages", "ec2:DescribeInstances",
                    "ec2:DescribeInstanceStatus", "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplates", "ec2:DescribePlacementGroups", "ec2:DescribeSecurityGroups",
                    "ec2:DescribeSpotPriceHistory", "ec2:DescribeSubnets"],
         "Condition": {"StringEquals": {"aws:RequestedRegion": region}}},
        # AMI aliases resolve through the public EKS/Bottlerocket SSM parameters.
        {"Sid": "ReadAmiParameters", "Effect": "Allow", "Action": "ssm:GetParameter",
         "Resource": f"arn:{partition}:ssm:{region}::parameter/aws/service/*"},
        {"Sid": "ReadPrices", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def queue_policy(queue_arn: str, rule_arns: list[str]) -> str:
    """Only this cluster's EventBridge rules may send to the queue, and only over TLS."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "EventBridgeRules", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
         "Action": "sqs:SendMessage", "Resource": queue_arn,
         "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}}},
        {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": queue_arn,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]})
