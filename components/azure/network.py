"""Resource group, virtual network and the node subnet for one AKS cluster.

With Azure CNI overlay, pods take addresses from a private overlay range (`podCidr`), so the subnet only needs
one address per node: a /16 leaves room for every GPU and CPU node this program can ask for.
"""
from dataclasses import dataclass

import pulumi
from pulumi import ResourceOptions
from pulumi_azure_native import network, resources

from spec.clouds.azure import AzureSettings

SUBNET_NAME = "nodes"


@dataclass
class Network:
    resource_group: resources.ResourceGroup
    vnet: network.VirtualNetwork
    subnet: network.Subnet


def make_network(name: str, cluster_name: str, region: str, settings: AzureSettings, tags: dict,
                 parent: pulumi.Resource) -> Network:
    child = ResourceOptions(parent=parent)
    rg = resources.ResourceGroup(
        f"{name}-rg",
        resource_group_name=settings.resource_group_name(cluster_name),
        location=region,
        tags=tags,
        opts=child)
    vnet = network.VirtualNetwork(
        f"{name}-vnet",
        resource_group_name=rg.name,
        virtual_network_name=f"{cluster_name}-vnet",
        location=region,
        address_space=network.AddressSpaceArgs(address_prefixes=[settings.vnet_cidr]),
        # No inline `subnets`: the subnet is its own resource below. Since network API 2023-09-01 a VNet PUT
        # without the property keeps existing subnets (pulumi-azure-native#611), so the two never fight.
        tags=tags,
        opts=child)
    subnet = network.Subnet(
        f"{name}-subnet",
        resource_group_name=rg.name,
        virtual_network_name=vnet.name,
        subnet_name=SUBNET_NAME,
        address_prefix=settings.subnet_cidr,
        opts=child)
    return Network(rg, vnet, subnet)
