"""EKS add-on versions: the version EKS marks as default for the cluster's Kubernetes minor.

An add-on without `addonVersion` keeps the version EKS chose when it was created; a control-plane upgrade then
leaves kube-proxy, CoreDNS, the VPC CNI and the CSI drivers on versions made for the old minor. Asking EKS for its
default per minor (DescribeAddonVersions, the `aws.eks.getAddonVersion` function) upgrades them with every
`kubernetesVersion` bump, and only then. Not pinned in catalog/versions.py: EKS build tags (`v1.19.2-eksbuild.1`)
differ per minor and region rollout and cannot be checked offline; a wrong pin would fail `pulumi up`.
"""
import pulumi
import pulumi_aws as aws


def addon_version(addon: str, kubernetes_version: pulumi.Input[str], provider: aws.Provider) -> pulumi.Output[str]:
    """EKS's default version of `addon` for `kubernetes_version` (most_recent=False: the default, not the newest
    build), asked through the cluster's own AWS provider (invokes do not inherit a component's providers)."""
    return aws.eks.get_addon_version_output(addon_name=addon, kubernetes_version=kubernetes_version,
                                            most_recent=False,
                                            opts=pulumi.InvokeOutputOptions(provider=provider)).version
