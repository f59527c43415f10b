"""Who installs the NVIDIA driver, container toolkit and device plugin on a pool's nodes, per cloud and node image:
the ownership table of shared/FACTS.md, as this program implements it. Facts only (no Pulumi, no spec): the spec
checks, the cluster components and the NVIDIA layer read it.
"""
from dataclasses import dataclass

OWNERS = ("image", "cloud", "operator", "host")


@dataclass(frozen=True)
class DriverOwnership:
    """Exactly one owner per component; `operator` means the GPU Operator / device plugin chart must install it."""
    driver: str
    toolkit: str
    device_plugin: str
    note: str = ""


def driver_ownership(cloud: str, image: str, driver: str) -> DriverOwnership:
    """The table in shared/FACTS.md, as this program implements it."""
    if cloud == "aws":
        if image == "bottlerocket-nvidia":
            return DriverOwnership("image", "image", "image", "Bottlerocket NVIDIA variant ships all three")
        return DriverOwnership("image", "image", "operator", "AL2023 NVIDIA AMI: driver+toolkit in the image")
    if cloud == "gcp":
        if driver == "operator":
            return DriverOwnership("operator", "operator", "operator", "GKE driver INSTALLATION_DISABLED")
        return DriverOwnership("cloud", "cloud", "cloud", "GKE-managed driver and device plugin")
    if cloud == "azure":
        if driver == "operator":
            return DriverOwnership("operator", "operator", "operator", "AKS gpuProfile.driver None")
        return DriverOwnership("cloud", "cloud", "operator", "AKS gpuProfile.driver Install")
    # existing clusters: `cloud` means the host already has the driver (e.g. k3s on a GPU box)
    if driver == "operator":
        return DriverOwnership("operator", "operator", "operator", "existing cluster, operator owns all")
    return DriverOwnership("host", "operator", "operator", "existing cluster, driver preinstalled on the host")
