"""IAM documents built locally with json.dumps (no provider invokes, so the offline plan and `pulumi preview` show
the exact policy text), plus the ARNs of the AWS-managed policies this program attaches."""
import json
from typing import Sequence

import pulumi


def partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def managed_policy(region: str, name: str) -> str:
    """ARN of an AWS-managed policy, e.g. AmazonEKSWorkerNodePolicy."""
    return f"arn:{partition(region)}:iam::aws:policy/{name}"


def service_trust(*services: str) -> str:
    """Trust policy letting AWS services (eks.amazonaws.com, ec2.amazonaws.com) assume the role."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": list(services)}, "Action": "sts:AssumeRole"}]})


def pod_identity_trust() -> str:
    """EKS Pod Identity: the agent assumes the role and tags the session with the pod's namespace/service account;
    which service account may use the role is decided by the PodIdentityAssociation."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"]}]})


def irsa_trust(oidc_provider_arn: pulumi.Input[str], issuer_url: pulumi.Input[str], namespace: str,
               service_accounts: Sequence[str]) -> pulumi.Output[str]:
    """IRSA: only the named service accounts, presenting a token for STS from this cluster's OIDC issuer."""
    def build(args):
        arn, issuer = args
        host = issuer.removeprefix("https://")
        subjects = [f"system:serviceaccount:{namespace}:{sa}" for sa in service_accounts]
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{host}:sub": subjects[0] if len(subjects) == 1 else subjects,
                f"{host}:aud": "sts.amazonaws.com",
            }},
        }]})
    return pulumi.Output.all(oidc_provider_arn, issuer_url).apply(build)
