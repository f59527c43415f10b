"""GkeNetwork: a custom-mode VPC and one subnet with the pod and service secondary ranges a VPC-native cluster needs,
plus Cloud Router + Cloud NAT so private nodes (no external IPs) can still pull images and model weights."""
from typing import Optional, TypedDict

import pulumi
import pulumi_gcp as gcp
from pulumi import ResourceOptions

from spec.clouds.gcp import GcpSettings

PODS_RANGE = "pods"
SERVICES_RANGE = "services"


class GkeNetworkArgs(TypedDict):
    settings: GcpSettings
    """Project, CIDRs and whether nodes are private."""
    region: str
    """Region of the subnet, router and NAT (the cluster's region)."""


class GkeNetwork(pulumi.ComponentResource):
    network: gcp.compute.Network
    """The VPC."""
    subnet: gcp.compute.Subnetwork
    """The node subnet; its secondary ranges are named PODS_RANGE and SERVICES_RANGE."""
    nat: Optional[gcp.compute.RouterNat]
    """Cloud NAT for private nodes, else None."""

    def __init__(self, name: str, args: GkeNetworkArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:gcp:GkeNetwork", name, None, opts)
        s, region = args["settings"], args["region"]
        child = ResourceOptions(parent=self)
        self.network = gcp.compute.Network(
            f"{name}-vpc", name=f"{name}-vpc", project=s.project,
            # Custom mode: auto mode would create a subnet in every region with ranges we did not choose.
            auto_create_subnetworks=False, routing_mode="REGIONAL", opts=child)
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-nodes", name=f"{name}-nodes", project=s.project, region=region, network=self.network.id,
            ip_cidr_range=s.nodes_cidr,
            secondary_ip_ranges=[{"range_name": PODS_RANGE, "ip_cidr_range": s.pods_cidr},
                                 {"range_name": SERVICES_RANGE, "ip_cidr_range": s.services_cidr}],
            # Private nodes reach Google APIs (Artifact Registry, GCS model buckets) without leaving Google's network.
            private_ip_google_access=True, opts=child)
        self.nat = None
        if s.private_nodes:
            router = gcp.compute.Router(f"{name}-router", name=f"{name}-router", project=s.project, region=region,
                                        network=self.network.id, opts=child)
            self.nat = gcp.compute.RouterNat(
                f"{name}-nat", name=f"{name}-nat", project=s.project, region=region, router=router.name,
                nat_ip_allocate_option="AUTO_ONLY",
                source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
                log_config={"enable": True, "filter": "ERRORS_ONLY"}, opts=child)
        self.register_outputs({"network": self.network.id, "subnet": self.subnet.id})
