"""The IAM role and the EKS add-on of an AWS CSI driver (EBS, EFS): one way to give a driver's service accounts
the AWS managed policy, with IRSA or Pod Identity as the stack chooses, and the add-on after the identity exists."""
from typing import Sequence

import pulumi
import pulumi_aws as aws
from pulumi import ResourceOptions

from components.aws import iam


def driver_role_and_addon(parent: pulumi.Resource, name: str, args: dict, *, addon: str, policy: str,
                          namespace: str, service_accounts: dict, label: str,
                          depends_on: Sequence[pulumi.Resource] = ()) -> tuple[aws.iam.Role, aws.eks.Addon]:
    """`service_accounts` maps each service account to the name of its Pod Identity association resource (names are
    part of the resources' URNs: keep them). `args` carries cluster_name, eks_cluster_name, region, identity,
    oidc_provider_arn, oidc_issuer, addon_version, depends_on and tags."""
    child = ResourceOptions(parent=parent)
    cluster, tags = args["cluster_name"], dict(args["tags"])
    irsa = args["identity"] == "irsa"
    trust = (iam.irsa_trust(args["oidc_provider_arn"], args["oidc_issuer"], namespace, list(service_accounts))
             if irsa else iam.pod_identity_trust())
    role = aws.iam.Role(f"{name}-role", name=f"{cluster}-{label.lower()}-csi-driver", assume_role_policy=trust,
                        description=f"{label} CSI driver of EKS cluster {cluster}", tags=tags, opts=child)
    identity: list = [aws.iam.RolePolicyAttachment(
        f"{name}-policy", role=role.name, policy_arn=iam.managed_policy(args["region"], policy), opts=child)]
    if not irsa:
        # Pod Identity injects credentials when a pod is created: the associations exist before the add-on's pods.
        identity += [aws.eks.PodIdentityAssociation(
            res_name, cluster_name=args["eks_cluster_name"], namespace=namespace, service_account=sa,
            role_arn=role.arn, tags=tags, opts=child) for sa, res_name in service_accounts.items()]
    # EKS's default version for the cluster's Kubernetes minor, as for the other add-ons of the cluster.
    addon_res = aws.eks.Addon(
        f"{name}-addon", cluster_name=args["eks_cluster_name"], addon_name=addon,
        addon_version=args["addon_version"], service_account_role_arn=role.arn if irsa else None,
        resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE", tags=tags,
        opts=ResourceOptions(parent=parent, depends_on=[*identity, *depends_on, *args["depends_on"]]))
    return role, addon_res
