"""The AKS control plane's managed identity and its one right: Network Contributor on the node subnet.

AKS needs to join nodes and internal load balancers to a subnet it did not create ("bring your own VNet"). With a
user-assigned identity the grant exists before the cluster does, so the first create cannot race it; with a
system-assigned identity the principal only exists after the cluster is created and the grant follows it.
"""
from typing import Optional

import pulumi
from pulumi import ResourceOptions
from pulumi_azure_native import authorization, managedidentity, network

# Built-in role "Network Contributor" (Azure built-in roles reference, read 2026-11). Built-in role ids are the
# same GUID in every tenant.
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"


def role_definition_id(role_guid: str, parent: pulumi.Resource) -> pulumi.Output:
    config = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    return config.subscription_id.apply(
        lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}")


def make_control_plane_identity(name: str, cluster_name: str, resource_group: pulumi.Input[str], region: str,
                                tags: dict, parent: pulumi.Resource) -> managedidentity.UserAssignedIdentity:
    return managedidentity.UserAssignedIdentity(
        f"{name}-identity",
        resource_group_name=resource_group,
        resource_name_=f"{cluster_name}-control-plane",
        location=region,
        tags=tags,
        opts=ResourceOptions(parent=parent))


def grant_subnet(name: str, subnet: network.Subnet, principal_id: pulumi.Input[str], parent: pulumi.Resource,
                 depends_on: Optional[list] = None) -> authorization.RoleAssignment:
    return authorization.RoleAssignment(
        f"{name}-subnet-network-contributor",
        scope=subnet.id,
        principal_id=principal_id,
        # Naming the principal type lets ARM skip the directory lookup that fails for identities created
        # seconds earlier (replication delay).
        principal_type="ServicePrincipal",
        role_definition_id=role_definition_id(NETWORK_CONTRIBUTOR, parent),
        opts=ResourceOptions(parent=parent, depends_on=depends_on or []))
