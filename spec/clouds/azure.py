"""Azure (AKS) settings, `llmfleet:cluster.azure`, and the AKS rules every GPU pool must satisfy.

Facts used here (read 2026-11, each also noted where it is used):
- AKS agent pool names: lowercase letters and digits, starting with a letter, 1-12 characters for Linux pools
  (AKS "Create node pools" docs). This program names one agent pool per (pool, capacity type):
  `<pool name><suffix>`, suffix `od` (on-demand) or `spot`, so the two can never collide.
- AKS-managed MIG (`gpuInstanceProfile`) takes the GPU instance size only: MIG1g, MIG2g, MIG3g, MIG4g, MIG7g
  (enum in pulumi-azure-native 3.29.0 `containerservice.GPUInstanceProfile`). AKS's MIG page maps each to the
  smallest-memory profile of that size (on an A100 40GB: 1g.5gb, 2g.10gb, 3g.20gb, 4g.20gb, 7g.40gb), so
  profiles such as `1g.20gb` or `1g.10gb+me` have no AKS equivalent; the GPU Operator's MIG manager can set them
  when it owns the driver (`driver: operator`).
- Availability zones in Azure regions are named "1", "2", "3".
- Autoscaler profile formats (SDK docstrings): durations are an integer followed by `m`, except scan-interval,
  which is in seconds (`10s` is the form the AKS CLI docs use).
"""
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from catalog.gpus import GpuModel
from spec.environment import is_production
from spec import limits as L
from spec.reader import Obj, Problems

SKU_TIERS = ("Free", "Standard", "Premium")
IDENTITIES = ("userAssigned", "systemAssigned")
DATAPLANES = ("azure", "cilium")
NETWORK_POLICIES = ("none", "azure", "calico", "cilium")
OS_SKUS = ("Ubuntu", "AzureLinux")
# Only channels that keep the minor version this program pins: `stable`/`rapid` would move the cluster to a
# minor the stack file does not name, and the next `pulumi up` would try to move it back.
UPGRADE_CHANNELS = ("none", "patch")
NODE_OS_UPGRADE_CHANNELS = ("None", "Unmanaged", "NodeImage", "SecurityPatch")
ZONES = ("1", "2", "3")
REGION = r"[a-z]+[a-z0-9]*"

AKS_POOL_NAME_MAX = 12
CAPACITY_SUFFIX = {"on-demand": "od", "spot": "spot"}
MIG_SIZES = (1, 2, 3, 4, 7)          # AKS GPUInstanceProfile MIG<n>g
OS_DISK_MAX_GB = 2048                # containerservice ARM schema: osDiskSizeGB 0..2048

_MINUTES = r"[0-9]+m"
_SECONDS = r"[0-9]+s"


@dataclass(frozen=True)
class CpuPool:
    vm_size: str
    min_nodes: int
    max_nodes: int


@dataclass(frozen=True)
class AutoscalerProfile:
    """AKS cluster-autoscaler profile. The expander is always `priority`: the capacity chain is only honoured by
    the priority expander and its ConfigMap; any other expander silently ignores it."""
    scan_interval: str = "10s"
    scale_down_unneeded_time: str = "10m"
    scale_down_delay_after_add: str = "10m"
    # GPU VMs take longer than CPU VMs to boot and install drivers; AKS's default 15m is kept as the floor.
    max_node_provision_time: str = "15m"
    skip_nodes_with_local_storage: bool = False   # model caches live in emptyDir; they must not pin a GPU node
    skip_nodes_with_system_pods: bool = True
    max_graceful_termination_sec: int = 600
    expander: str = "priority"


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class MaintenanceWindow:
    """AKS planned maintenance (MaintenanceConfiguration `maintenanceWindow`, weekly): applies to the cluster
    upgrade channel (`aksManagedAutoUpgradeSchedule`) and the node OS channel (`aksManagedNodeOSUpgradeSchedule`).
    AKS asks for at least 4 hours (pulumi-azure-native 3.29.0 MaintenanceWindow.duration_hours: 4 to 24)."""
    day_of_week: str = "Saturday"
    start_time: str = "02:00"            # HH:MM in utc_offset
    duration_hours: int = 6
    utc_offset: str = "+00:00"


@dataclass(frozen=True)
class AzureSettings:
    resource_group: str = ""                  # "" = derived from the cluster name (see resource_group_name)
    vnet_cidr: str = "10.224.0.0/12"
    subnet_cidr: str = "10.224.0.0/16"
    pod_cidr: str = "10.244.0.0/16"           # Azure CNI overlay: pod IPs come from here, not from the VNet
    service_cidr: str = "10.0.0.0/16"
    dns_service_ip: str = "10.0.0.10"
    network_plugin: str = "azure"
    network_plugin_mode: str = "overlay"
    network_dataplane: str = "cilium"
    network_policy: str = "cilium"
    identity: str = "userAssigned"
    sku_tier: str = "Standard"
    os_sku: str = "Ubuntu"
    system_pool: CpuPool = CpuPool("Standard_D4ds_v5", 2, 3)
    general_pool: CpuPool = CpuPool("Standard_D8ds_v5", 1, 5)
    autoscaler: AutoscalerProfile = AutoscalerProfile()
    spot_max_price: float = -1.0              # -1 = pay up to the on-demand price, never evicted for price
    upgrade_channel: str = "patch"
    node_os_upgrade_channel: str = "NodeImage"
    authorized_ip_ranges: tuple[str, ...] = ()
    private_cluster: bool = False             # API server only on a private endpoint in the VNet
    # Entra ID (AAD) authentication with Azure RBAC for Kubernetes authorization, local accounts (the static
    # clusterAdmin/clusterUser credentials) disabled. The deploying principal gets the cluster-admin role.
    entra_id: bool = True
    admin_group_object_ids: tuple[str, ...] = ()
    maintenance_window: MaintenanceWindow = MaintenanceWindow()
    tags: dict = field(default_factory=dict)
    # The API server's audit log to a Log Analytics workspace (components/azure/audit.py); None: on in a prod
    # environment, off elsewhere.
    audit_logs: Optional[bool] = None

    def resource_group_name(self, cluster_name: str) -> str:
        return self.resource_group or f"{cluster_name}-rg"


def read_azure_settings(o: Obj) -> AzureSettings:
    d = AzureSettings()
    rg = o.str("resourceGroup", "", pattern=r"[-\w.()]{0,89}[-\w()]",
               hint="an Azure resource group name (letters, digits, '-', '_', '.', '(', ')', at most 90, "
                    "not ending in '.')")
    vnet = _cidr(o, "vnetCidr", d.vnet_cidr)
    subnet = _cidr(o, "subnetCidr", d.subnet_cidr)
    pod = _cidr(o, "podCidr", d.pod_cidr)
    service = _cidr(o, "serviceCidr", d.service_cidr)
    dns_ip = o.str("dnsServiceIp", d.dns_service_ip)
    _check_network(o, vnet, subnet, pod, service, dns_ip)

    dataplane = o.str("networkDataplane", d.network_dataplane, choices=DATAPLANES)
    policy = o.str("networkPolicy", "cilium" if dataplane == "cilium" else "azure", choices=NETWORK_POLICIES)
    if not o.valid("networkDataplane", "networkPolicy"):
        pass                              # reported at the rejected key
    elif dataplane == "cilium" and policy not in ("cilium", "none"):
        o.error("networkPolicy", f"must be cilium or none with networkDataplane cilium, got {policy!r}")
    elif dataplane == "azure" and policy == "cilium":
        o.error("networkPolicy", "cilium needs networkDataplane cilium")

    identity = o.str("identity", d.identity, choices=IDENTITIES)
    tier = o.str("skuTier", d.sku_tier, choices=SKU_TIERS)
    os_sku = o.str("osSku", d.os_sku, choices=OS_SKUS)
    system = _read_cpu_pool(o.obj("systemPool"), d.system_pool, min_floor=1)
    general = _read_cpu_pool(o.obj("generalPool"), d.general_pool, min_floor=0)
    autoscaler = _read_autoscaler(o.obj("autoscaler"))
    spot_price = o.float("spotMaxPrice", d.spot_max_price, max=L.PRICE_PER_HOUR.hi)
    if o.valid("spotMaxPrice") and spot_price != -1 and spot_price <= 0:
        o.error("spotMaxPrice", f"must be -1 (up to the on-demand price) or a price > 0 in USD/hour, got {spot_price}")
    upgrade = o.str("upgradeChannel", d.upgrade_channel, choices=UPGRADE_CHANNELS)
    node_os = o.str("nodeOsUpgradeChannel", d.node_os_upgrade_channel, choices=NODE_OS_UPGRADE_CHANNELS)
    ranges = []
    for path, item in o.list("apiServerAuthorizedIpRanges"):
        if not isinstance(item, str) or not _is_network(item):
            o.problems.add(path, f"must be a CIDR such as 203.0.113.0/24, got {item!r}")
        else:
            ranges.append(item)
    private = o.bool("privateCluster", d.private_cluster)
    entra = o.bool("entraIdRbac", d.entra_id)
    groups = []
    for path, item in o.list("adminGroupObjectIds"):
        if not isinstance(item, str) or not re.fullmatch(_GUID, item):
            o.problems.add(path, f"must be an Entra ID group object id (a GUID), got {item!r}")
        else:
            groups.append(item)
    if groups and not entra:
        o.error("adminGroupObjectIds", "only applies with entraIdRbac: true")
    window = _read_window(o.obj("maintenanceWindow"))
    tags = o.str_map("tags")
    return AzureSettings(
        resource_group=rg, vnet_cidr=vnet or d.vnet_cidr, subnet_cidr=subnet or d.subnet_cidr,
        pod_cidr=pod or d.pod_cidr, service_cidr=service or d.service_cidr,
        dns_service_ip=dns_ip, network_dataplane=dataplane, network_policy=policy, identity=identity,
        sku_tier=tier, os_sku=os_sku, system_pool=system, general_pool=general, autoscaler=autoscaler,
        spot_max_price=spot_price, upgrade_channel=upgrade, node_os_upgrade_channel=node_os,
        authorized_ip_ranges=tuple(ranges), private_cluster=private, entra_id=entra,
        admin_group_object_ids=tuple(groups), maintenance_window=window, tags=tags,
        audit_logs=o.bool("auditLogs", None))


_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def _read_window(o: Obj) -> MaintenanceWindow:
    d = MaintenanceWindow()
    window = MaintenanceWindow(
        day_of_week=o.str("dayOfWeek", d.day_of_week, choices=WEEKDAYS),
        start_time=o.str("startTime", d.start_time, pattern=r"([01][0-9]|2[0-3]):[0-5][0-9]",
                         hint="HH:MM such as 02:00"),
        duration_hours=o.int("durationHours", d.duration_hours, min=4, max=24),
        utc_offset=o.str("utcOffset", d.utc_offset, pattern=r"[+-]([01][0-9]|2[0-3]):[0-5][0-9]",
                         hint="+HH:MM or -HH:MM such as +00:00"))
    o.done()
    return window


def _read_cpu_pool(o: Obj, default: CpuPool, min_floor: int) -> CpuPool:
    vm_size = o.str("vmSize", default.vm_size, pattern=r"Standard_[A-Za-z0-9_]+",
                    hint="an Azure VM size such as Standard_D4ds_v5")
    lo = o.int("minNodes", default.min_nodes, min=min_floor, max=L.AKS_POOL_NODES.hi)
    hi = o.int("maxNodes", max(default.max_nodes, lo if isinstance(lo, int) else 0), min=max(min_floor, 1),
               max=L.AKS_POOL_NODES.hi)
    if o.valid("minNodes", "maxNodes") and hi < lo:
        o.reject("maxNodes", f"must be >= minNodes ({lo}), got {hi}")
    o.done()
    return CpuPool(vm_size, lo, hi)


def _read_autoscaler(o: Obj) -> AutoscalerProfile:
    d = AutoscalerProfile()
    if o.has("expander"):
        o.seen.add("expander")
        o.error("expander", "is always priority: the capacity chain is carried by the priority expander's "
                            "ConfigMap, and any other expander ignores it")
    profile = AutoscalerProfile(
        scan_interval=o.str("scanInterval", d.scan_interval, pattern=_SECONDS,
                            hint="whole seconds such as 10s"),
        scale_down_unneeded_time=o.str("scaleDownUnneededTime", d.scale_down_unneeded_time, pattern=_MINUTES,
                                       hint="whole minutes such as 10m (AKS accepts only minutes here)"),
        scale_down_delay_after_add=o.str("scaleDownDelayAfterAdd", d.scale_down_delay_after_add,
                                         pattern=_MINUTES, hint="whole minutes such as 10m (AKS accepts only "
                                                                "minutes here)"),
        max_node_provision_time=o.str("maxNodeProvisionTime", d.max_node_provision_time, pattern=_MINUTES,
                                      hint="whole minutes such as 15m (AKS accepts only minutes here)"),
        skip_nodes_with_local_storage=o.bool("skipNodesWithLocalStorage", d.skip_nodes_with_local_storage),
        skip_nodes_with_system_pods=o.bool("skipNodesWithSystemPods", d.skip_nodes_with_system_pods),
        max_graceful_termination_sec=o.int("maxGracefulTerminationSec", d.max_graceful_termination_sec,
                                           limit=L.AKS_GRACEFUL_TERMINATION_SEC),
    )
    o.done()
    return profile


def _is_network(value: str, version: Optional[int] = None) -> bool:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return "/" in value and (version is None or net.version == version)


def _cidr(o: Obj, key: str, default: str) -> Optional[str]:
    """The IPv4 CIDR at `key`, or None when it was rejected (the network rules then skip it)."""
    value = o.str(key, default)
    if not o.valid(key):
        return None
    if not _is_network(value, version=4):
        o.reject(key, f"must be an IPv4 CIDR with no host bits set, such as {default}, got {value!r}")
        return None
    return value


def _check_network(o: Obj, vnet: Optional[str], subnet: Optional[str], pod: Optional[str],
                   service: Optional[str], dns_ip: str) -> None:
    """Each rule runs on the ranges that were accepted; a rejected range is reported once, at its key."""
    v, s, p, svc = (ipaddress.ip_network(x) if x else None for x in (vnet, subnet, pod, service))
    if s and v and not s.subnet_of(v):
        o.error("subnetCidr", f"must lie inside vnetCidr {vnet}, got {subnet}")
    # Overlay pod and service ranges are virtual; AKS rejects them when they overlap the node network.
    for key, net in (("podCidr", p), ("serviceCidr", svc)):
        if net and v and net.overlaps(v):
            o.error(key, f"must not overlap vnetCidr {vnet}, got {net}")
    if p and svc and p.overlaps(svc):
        o.error("serviceCidr", f"must not overlap podCidr {pod}, got {service}")
    if not o.valid("dnsServiceIp"):
        return
    try:
        ip = ipaddress.IPv4Address(dns_ip)
    except ValueError:
        o.reject("dnsServiceIp", f"must be an IPv4 address inside serviceCidr {service or 'the service range'}, "
                                 f"got {dns_ip!r}")
        return
    if svc is None:
        return
    if ip not in svc or ip == svc.network_address + 1 or ip in (svc.network_address, svc.broadcast_address):
        # .1 of the service range is the `kubernetes` Service's ClusterIP.
        o.error("dnsServiceIp", f"must be inside serviceCidr {service} and not its first address, got {dns_ip}")


# --- GPU pool rules on AKS ----------------------------------------------------------------------------------

def aks_pool_name(pool_name: str, capacity: str) -> str:
    """The AKS agent pool name for one (pool, capacity type)."""
    return f"{pool_name}{CAPACITY_SUFFIX[capacity]}"


def mig_instance_profile(gpu: GpuModel, profile: str) -> Optional[str]:
    """The AKS `gpuInstanceProfile` for a MIG profile, or None when AKS has no equivalent.

    AKS picks, for each GPU instance size, the first (smallest-memory, no media extension) profile of that size."""
    m = re.fullmatch(r"([0-9])g\.[0-9]+gb", profile)
    if not m or int(m.group(1)) not in MIG_SIZES:
        return None
    size = m.group(1)
    first = next((p for p in gpu.mig_profiles if p.startswith(f"{size}g.") and "+" not in p), None)
    return f"MIG{size}g" if first == profile else None


def aks_mig_profiles(gpu: GpuModel) -> list[str]:
    return [p for p in gpu.mig_profiles if mig_instance_profile(gpu, p)]


def check_azure(cluster, pools: Sequence, problems: Problems, prefix: str = "llmfleet",
                paths: Optional[Sequence[str]] = None) -> None:
    """AKS rules that need the cluster and the pools together: region and zone names, agent pool names, MIG.

    Whether the region offers a VM size, and whether the subscription has quota for it, cannot be known offline:
    docs/azure.md says how to check both with `az`."""
    if not re.fullmatch(REGION, cluster.region):
        problems.add(f"{prefix}:cluster.region", f"must be an Azure region name such as eastus, got {cluster.region!r}")
    for i, zone in enumerate(cluster.zones):
        if zone not in ZONES:
            problems.add(f"{prefix}:cluster.zones[{i}]", f"must be an Azure availability zone ({', '.join(ZONES)}), "
                                                         f"got {zone!r}")
    for i, pool in enumerate(pools):
        _check_pool(paths[i] if paths else f"{prefix}:gpuPools[{i}]", pool, problems)
    _check_drivers(pools, problems, prefix)
    settings = cluster.settings
    if settings is not None and is_production(cluster.environment):
        path = f"{prefix}:cluster.azure"
        if not settings.authorized_ip_ranges and not settings.private_cluster:
            problems.add(f"{path}.apiServerAuthorizedIpRanges", "must list the CIDRs allowed to reach the API server "
                                                                "in a prod stack (or set privateCluster: true); "
                                                                "empty means the whole internet")
        if not settings.entra_id:
            problems.add(f"{path}.entraIdRbac", "must stay true in a prod stack (Entra ID with Azure RBAC, local "
                                                "accounts disabled)")
        if settings.audit_logs is False:
            problems.add(f"{path}.auditLogs", "must stay true in a prod stack: AKS keeps no API server audit log "
                                              "unless a diagnostic setting collects it")


def _check_drivers(pools: Sequence, problems: Problems, prefix: str) -> None:
    """AKS-installed and GPU Operator-installed drivers cannot share a cluster: the operator's operands run with
    one runtime class cluster-wide (`nvidia-container-runtime` where AKS installed the driver, `nvidia` where the
    operator's toolkit did), and Azure documents the two driver modes as exclusive per cluster."""
    drivers = {p.driver for p in pools if p.name}
    if len(drivers) > 1:
        names = {d: [p.name for p in pools if p.driver == d] for d in sorted(drivers)}
        problems.add(f"{prefix}:gpuPools", f"mixes AKS-installed drivers (driver: cloud: {', '.join(names['cloud'])}) "
                                           f"and GPU Operator drivers (driver: operator: {', '.join(names['operator'])})"
                                           f"; AKS supports one or the other per cluster: give every pool the same "
                                           f"driver")


def _check_pool(path: str, pool, problems: Problems) -> None:
    if not pool.name:
        return
    if not re.fullmatch(r"[a-z][a-z0-9]*", pool.name):
        hint = re.sub(r"[^a-z0-9]", "", pool.name)
        suggestion = f"; try {hint!r}" if hint[:1].isalpha() else ""
        problems.add(f"{path}.name", f"{pool.name!r} cannot name an AKS agent pool (lowercase letters and digits "
                                     f"only, starting with a letter){suggestion}")
    else:
        suffixes = [CAPACITY_SUFFIX[c] for c in pool.capacity if c in CAPACITY_SUFFIX]
        longest = pool.name + max(suffixes, key=len, default="")
        if len(longest) > AKS_POOL_NAME_MAX:
            room = AKS_POOL_NAME_MAX - max(len(x) for x in suffixes)
            problems.add(f"{path}.name", f"{pool.name!r} gives AKS agent pool name {longest!r} ({len(longest)} "
                                         f"characters); AKS allows at most {AKS_POOL_NAME_MAX}: use a pool name of at "
                                         f"most {room} characters")
    if pool.max_nodes < 1:
        problems.add(f"{path}.maxNodes", "must be >= 1 on azure (an autoscaled AKS agent pool needs a maximum of at "
                                         "least 1)")
    if pool.disk_gb > OS_DISK_MAX_GB:
        problems.add(f"{path}.diskSizeGb", f"must be <= {OS_DISK_MAX_GB} on azure (AKS osDiskSizeGB limit), "
                                           f"got {pool.disk_gb}")
    for j, zone in enumerate(pool.zones):
        if zone not in ZONES:
            problems.add(f"{path}.zones[{j}]", f"must be an Azure availability zone ({', '.join(ZONES)}), "
                                               f"got {zone!r}")
    profile = pool.sharing.mig_profile
    if pool.sharing.mode == "mig" and pool.driver == "cloud" and profile in pool.gpu.mig_profiles:
        if mig_instance_profile(pool.gpu, profile) is None:
            problems.add(f"{path}.sharing.migProfile",
                         f"{profile!r} has no AKS gpuInstanceProfile; AKS offers "
                         f"{', '.join(aks_mig_profiles(pool.gpu))} on {pool.gpu.display}, or set driver: operator "
                         f"to let the GPU Operator partition the GPUs")
