"""Which NVIDIA labels a GPU pool's nodes carry from creation: the label contract, written once.

Pure functions (no Pulumi): the spec checks, the cluster components (which put these labels on their node groups)
and the NVIDIA/serving layers all call them (components/nvidia/labels.py adds what depends on pool descriptors).

Why labels: the GPU Operator labels every GPU node `nvidia.com/gpu.deploy.<operand>=true`, but "if a required state
label already exists on the node, honor the current value" (gpu-operator controllers/state_manager.go,
addGPUStateLabels). A node group that is created with `nvidia.com/gpu.deploy.driver=false` therefore never gets the
operator's driver, even when another pool needs it. That is how pools that disagree (a Bottlerocket pool next to an
AL2023 pool, an AKS pool next to a GKE-style pool) share one operator install. `nvidia.com/gpu.deploy.operands=false`
turns every operand off on a node (state_manager.go hasOperandsDisabled).
"""
from catalog.drivers import DriverOwnership
from spec.pools import Sharing

LABEL_DEVICE_PLUGIN_CONFIG = "nvidia.com/device-plugin.config"   # selects the device plugin config entry per node
LABEL_MIG_CONFIG = "nvidia.com/mig.config"                      # the MIG manager partitions the node's GPUs to it
LABEL_OPERANDS = "nvidia.com/gpu.deploy.operands"
DEPLOY_LABELS = {
    "driver": "nvidia.com/gpu.deploy.driver",
    "toolkit": "nvidia.com/gpu.deploy.container-toolkit",
    "device_plugin": "nvidia.com/gpu.deploy.device-plugin",
    "mig_manager": "nvidia.com/gpu.deploy.mig-manager",
}
GKE_NO_DEVICE_PLUGIN = "gke-no-default-nvidia-gpu-device-plugin"
DEFAULT_CONFIG_KEY = "default"          # device plugin config entry for nodes without a config label
MIG_SLICES = 7                          # compute slices of a MIG-capable GPU (A100, H100, H200)
MIG_MEMORY_SLICES = 8                   # memory slices of the same GPUs


def cloud_managed(own: DriverOwnership) -> bool:
    """GKE-managed pools: the cloud owns driver, toolkit and device plugin; the operator stays off the node."""
    return own.driver == own.toolkit == own.device_plugin == "cloud"


def image_managed(own: DriverOwnership) -> bool:
    """Bottlerocket NVIDIA pools: the image ships driver, toolkit and device plugin. The GPU Operator does not list
    Bottlerocket among its host OSes, so the whole pool is kept out of its operands (GFD, DCGM exporter, validator,
    MIG manager too), as GKE-managed pools are. Nothing runs there in their place: no program object selects on GFD
    labels, the image's device plugin is not the operator's (no MIG manager or time-slicing: spec/nvidia.py rejects
    sharing there), and a DCGM exporter on Bottlerocket is unverified (docs/aws.md, "Bottlerocket GPU pools")."""
    return own.driver == own.toolkit == own.device_plugin == "image"


def operand_free(own: DriverOwnership) -> bool:
    """Pools on which the NVIDIA layer installs nothing at all (GKE-managed, Bottlerocket)."""
    return cloud_managed(own) or image_managed(own)


def device_plugin_config_key(pool_name: str) -> str:
    """Config entry (and node label value) of a time-sliced pool. The prefix keeps it apart from `default`."""
    return f"pool-{pool_name}"


def mig_config_name(profile: str) -> str:
    """The MIG manager's config that puts every GPU of a node into `profile`, e.g. all-1g.10gb."""
    return f"all-{profile}"


def mig_partitioned_by(cloud: str, own: DriverOwnership) -> str:
    """Who partitions MIG GPUs: GKE (gpu_partition_size) and AKS (gpuInstanceProfile) do it at pool creation when
    they own the driver; everywhere else the GPU Operator's MIG manager does it from the node label."""
    if cloud in ("gcp", "azure") and own.driver == "cloud":
        return "cloud"
    return "operator"


def sharing_applied_by(own: DriverOwnership) -> str:
    """Time-slicing is a device plugin setting: whoever runs the device plugin applies it."""
    return "nvidia" if own.device_plugin == "operator" else own.device_plugin


def nvidia_node_labels(pool_name: str, cloud: str, own: DriverOwnership, sharing: Sharing) -> dict[str, str]:
    """Labels every node of the pool must carry from creation, for the NVIDIA layer to install exactly one driver,
    toolkit and device plugin there and to apply the pool's GPU sharing. Cluster components merge these into the
    node group's labels (they do not depend on other pools or on the chosen chart)."""
    if operand_free(own):
        return {LABEL_OPERANDS: "false"}
    labels: dict[str, str] = {}
    if cloud == "gcp" and own.device_plugin == "operator":
        # GKE runs its own device plugin on every GPU node unless the node carries this label (GKE docs, "Manage
        # the GPU stack with the NVIDIA GPU Operator"; NVIDIA's GKE setup guide): two plugins must never register
        # nvidia.com/gpu on one node.
        labels[GKE_NO_DEVICE_PLUGIN] = "true"
    for part in ("driver", "toolkit", "device_plugin"):
        if getattr(own, part) != "operator":
            labels[DEPLOY_LABELS[part]] = "false"
    if sharing.mode == "time-slicing" and own.device_plugin == "operator":
        labels[LABEL_DEVICE_PLUGIN_CONFIG] = device_plugin_config_key(pool_name)
    if sharing.mode == "mig":
        if mig_partitioned_by(cloud, own) == "operator":
            labels[LABEL_MIG_CONFIG] = mig_config_name(sharing.mig_profile)
        else:
            # The cloud already partitioned the GPUs; the operator's MIG manager would reset them to its default.
            labels[DEPLOY_LABELS["mig_manager"]] = "false"
    return labels


def operator_flags(owners) -> dict[str, bool]:
    """Chart-wide switches: an operand is on when at least one pool needs it from the operator (the other pools
    opt out per node with the labels above)."""
    owners = list(owners)
    return {part: any(getattr(o, part) == "operator" for o in owners) for part in ("driver", "toolkit", "device_plugin")}
