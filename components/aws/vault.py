"""AwsVault: the Hugging Face token in AWS Secrets Manager, and the IAM role External Secrets Operator assumes to
read it (IRSA, trusted for one ServiceAccount of the cluster's OIDC issuer), for components/security/secrets.py.

The entry's value is written from `llmfleet:hfToken` (a Pulumi secret; encrypted in state). Secrets Manager
encrypts it with the account's `aws/secretsmanager` key. The role may read this one entry and nothing else.
IRSA, not Pod Identity, even on `identity: pod-identity` clusters: the SecretStore authenticates as its own
ServiceAccount (a token ESO requests for it), which only IRSA supports; the cluster's OIDC provider exists in both
modes (components/aws/cluster.py).
"""
import json
from typing import Optional, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi import ResourceOptions

from components.aws import iam

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
# What ESO calls for a plain-string entry (GetSecretValue; DescribeSecret for the version metadata).
READ_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]


def read_policy(secret_arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": READ_ACTIONS, "Resource": secret_arn}]})


def entry_name(cluster: str) -> str:
    return f"llmfleet/{cluster}/hf-token"


class AwsVaultArgs(TypedDict):
    cluster_name: str
    """EKS cluster name (entry and role names)."""
    region: str
    """The region of the cluster and of the entry."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider (EksCluster.oidc_provider_arn)."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL (EksCluster.oidc_issuer)."""
    namespace: str
    """Namespace of the ServiceAccount the role trusts."""
    service_account: str
    """The ServiceAccount the SecretStore authenticates as."""
    token: pulumi.Input[str]
    """The Hugging Face token (secret output)."""
    recovery_days: int
    """Days a deleted entry stays recoverable (7-30); production keeps the maximum."""
    tags: dict
    """Tags for the entry and the role."""


class AwsVault(pulumi.ComponentResource):
    secret: aws.secretsmanager.Secret
    role: aws.iam.Role
    provider: dict
    """`spec.provider` of the SecretStore."""
    annotations: dict
    """ServiceAccount annotations that bind it to the role."""
    remote_key: str

    def __init__(self, name: str, args: AwsVaultArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:aws:AwsVault", name, None, opts)
        child = ResourceOptions(parent=self)
        cluster, tags = args["cluster_name"], dict(args["tags"])
        self.remote_key = entry_name(cluster)
        self.secret = aws.secretsmanager.Secret(
            f"{name}-hf-token", name=self.remote_key, description=f"Hugging Face token of EKS cluster {cluster}",
            recovery_window_in_days=args["recovery_days"], tags=tags, opts=child)
        version = aws.secretsmanager.SecretVersion(
            f"{name}-hf-token-value", secret_id=self.secret.id, secret_string=args["token"], opts=child)
        self.role = aws.iam.Role(
            f"{name}-reader", name=f"{cluster}-secrets-reader",
            assume_role_policy=iam.irsa_trust(args["oidc_provider_arn"], args["oidc_issuer"], args["namespace"],
                                              [args["service_account"]]),
            description=f"External Secrets Operator reads the Hugging Face token of {cluster}", tags=tags,
            opts=child)
        policy = aws.iam.RolePolicy(f"{name}-reader-policy", role=self.role.id,
                                    policy=self.secret.arn.apply(read_policy), opts=child)
        self.provider = {"aws": {"service": "SecretsManager", "region": args["region"],
                                 "auth": {"jwt": {"serviceAccountRef": {"name": args["service_account"]}}}}}
        self.annotations = {ROLE_ANNOTATION: self.role.arn}
        self.ready = [version, policy]
        self.register_outputs({"secretArn": self.secret.arn, "roleArn": self.role.arn})
