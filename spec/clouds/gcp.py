"""GKE cluster settings (`llmfleet:cluster.gcp`): project, release channel, network ranges, location, system pool.

Workload Identity is not a setting: it is always on (the pool is `<project>.svc.id.goog`), because every layer above
the cluster authenticates to Google APIs through it and never through node credentials.
"""
import ipaddress
import re
from datetime import datetime
from dataclasses import dataclass
from typing import Optional, Sequence

from spec.environment import is_production
from spec import limits as L
from spec.reader import Obj, Problems

RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
# GCP project ids: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter
# (Resource Manager "Creating and managing projects"). Domain-scoped ids ("example.com:proj") are also valid.
PROJECT_ID = r"([a-z][-a-z0-9.]*:)?[a-z][-a-z0-9]{4,28}[a-z0-9]"
REGION = r"[a-z]+-[a-z]+[0-9]+"
ZONE = REGION + r"-[a-z]"
# A reservation in this project by name, or a shared one as projects/<project>/reservations/<name>.
RESERVATION = r"(projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/reservations/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
MACHINE_TYPE = r"[a-z][a-z0-9]*-[a-z0-9-]+"
# Custom ComputeClasses need GKE 1.30.3-gke.1451000 or later on Standard clusters (GKE "About custom
# ComputeClasses", FACTS-wave2.md section 1): a 1.30 minor may still run an older patch, so the first minor that
# is always new enough is 1.31. `priorities[].gpu.gpuSharing` (1.35.2+) and nodePoolAutoCreation in the class
# (1.33.3+) are not used: each priority names node pools only.
COMPUTE_CLASS_MIN_MINOR = (1, 31)
COMPUTE_CLASS_MIN_GKE = "1.30.3-gke.1451000"
# RFC 3339 "Zulu" times, as GKE returns them (other forms read back in UTC and diff forever, pulumi-gcp docs).
ZULU = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
RRULE = r"FREQ=(DAILY|WEEKLY)(;[A-Z]+=[A-Z0-9,]+)*"


@dataclass(frozen=True)
class MaintenanceWindow:
    """GKE recurring maintenance window (cluster maintenance_policy.recurring_window). The dates only anchor the
    recurrence; end - start is the window's length."""
    start: str = "2026-01-03T02:00:00Z"
    end: str = "2026-01-03T08:00:00Z"
    recurrence: str = "FREQ=WEEKLY;BYDAY=SA,SU"


@dataclass(frozen=True)
class GcpSettings:
    project: str
    release_channel: str = "REGULAR"
    zone: Optional[str] = None              # set: a zonal cluster in this zone; unset: a regional cluster
    nodes_cidr: str = "10.0.0.0/20"         # subnet primary range (node IPs)
    pods_cidr: str = "10.16.0.0/14"         # secondary range for pods (VPC-native)
    services_cidr: str = "10.20.0.0/20"     # secondary range for Services
    private_nodes: bool = True              # nodes get no external IP; Cloud NAT gives them egress
    authorized_networks: tuple[str, ...] = ()   # CIDRs allowed to reach the control plane; empty = any
    system_machine_type: str = "e2-standard-8"
    system_min_nodes: int = 2
    system_max_nodes: int = 6
    system_disk_gb: int = 100
    compute_class: bool = True              # render the capacity chain as GKE ComputeClasses (docs/gcp.md)
    deletion_protection: bool = True
    maintenance_window: MaintenanceWindow = MaintenanceWindow()
    # A NO_MINOR_UPGRADES exclusion until the minor's end of support: the program pins kubernetesVersion and
    # validates manifests against that minor, so GKE may patch but never move the minor on its own.
    pin_minor: bool = True
    private_endpoint: bool = False          # control plane reachable only from inside the VPC

    @property
    def regional(self) -> bool:
        return self.zone is None

    @property
    def workload_pool(self) -> str:
        return f"{self.project}.svc.id.goog"


def read_gcp_settings(o: Obj) -> GcpSettings:
    d = GcpSettings(project="")
    project = o.str("project", pattern=PROJECT_ID,
                    hint="a GCP project id (6-30 lowercase letters, digits, '-', starting with a letter)")
    channel = o.str("releaseChannel", d.release_channel, choices=RELEASE_CHANNELS)
    zone = o.str("zone", None, pattern=ZONE, hint="a zone such as us-central1-a (set it for a zonal cluster)")
    nodes = _cidr(o, "nodesCidr", d.nodes_cidr)
    pods = _cidr(o, "podsCidr", d.pods_cidr)
    services = _cidr(o, "servicesCidr", d.services_cidr)
    _no_overlap(o, [("nodesCidr", nodes), ("podsCidr", pods), ("servicesCidr", services)])
    private = o.bool("privateNodes", d.private_nodes)
    authorized = []
    for path, item in o.list("authorizedNetworks"):
        net = _parse_cidr(item)
        if net is None:
            o.problems.add(path, f"must be an IPv4 CIDR such as 203.0.113.0/24, got {item!r}")
        else:
            authorized.append(str(net))
    machine = o.str("systemMachineType", d.system_machine_type, pattern=MACHINE_TYPE,
                    hint="a Compute Engine machine type such as e2-standard-8")
    sys_min = o.int("systemMinNodes", d.system_min_nodes, limit=L.SYSTEM_NODES)
    sys_max = o.int("systemMaxNodes", max(d.system_max_nodes, sys_min if isinstance(sys_min, int) else 0),
                    limit=L.SYSTEM_NODES)
    if o.valid("systemMinNodes", "systemMaxNodes") and sys_max < sys_min:
        o.reject("systemMaxNodes", f"must be >= systemMinNodes ({sys_min}), got {sys_max}")
    disk = o.int("systemDiskSizeGb", d.system_disk_gb, limit=L.GCP_SYSTEM_DISK_GB)
    compute_class = o.bool("computeClass", d.compute_class)
    protect = o.bool("deletionProtection", d.deletion_protection)
    window = _read_window(o.obj("maintenanceWindow"), d.maintenance_window)
    pin_minor = o.bool("pinMinorVersion", d.pin_minor)
    private_endpoint = o.bool("privateEndpoint", d.private_endpoint)
    if private_endpoint and not private:
        o.error("privateEndpoint", "needs privateNodes: true (a private control plane endpoint is a private cluster "
                                   "setting)")
    return GcpSettings(project=project or "", release_channel=channel, zone=zone,
                       nodes_cidr=str(nodes or d.nodes_cidr), pods_cidr=str(pods or d.pods_cidr),
                       services_cidr=str(services or d.services_cidr), private_nodes=private,
                       authorized_networks=tuple(authorized), system_machine_type=machine, system_min_nodes=sys_min,
                       system_max_nodes=sys_max, system_disk_gb=disk, compute_class=compute_class,
                       deletion_protection=protect, maintenance_window=window, pin_minor=pin_minor,
                       private_endpoint=private_endpoint)


def _read_window(o: Obj, d: MaintenanceWindow) -> MaintenanceWindow:
    start = o.str("start", d.start, pattern=ZULU, hint="an RFC 3339 UTC time such as 2026-01-03T02:00:00Z")
    end = o.str("end", d.end, pattern=ZULU, hint="an RFC 3339 UTC time such as 2026-01-03T08:00:00Z")
    recurrence = o.str("recurrence", d.recurrence, pattern=RRULE,
                       hint="an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=SA,SU")
    o.done()
    if re.fullmatch(ZULU, start or "") and re.fullmatch(ZULU, end or ""):
        hours = (datetime.fromisoformat(end[:-1]) - datetime.fromisoformat(start[:-1])).total_seconds() / 3600
        # GKE asks for occurrences of at least 4 hours (GKE "Maintenance windows and exclusions"; from the docs,
        # not re-read offline); over 24 hours the window would overlap itself on a daily rule.
        if hours < 4 or hours > 24:
            o.error("end", f"must be 4 to 24 hours after start ({start}), got {end}")
    return MaintenanceWindow(start or d.start, end or d.end, recurrence or d.recurrence)


def _parse_cidr(value) -> Optional[ipaddress.IPv4Network]:
    if not isinstance(value, str):
        return None
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


def _cidr(o: Obj, key: str, default: str) -> Optional[ipaddress.IPv4Network]:
    raw = o.str(key, default)
    net = _parse_cidr(raw)
    if net is None:
        o.error(key, f"must be an IPv4 CIDR with no host bits set, such as {default}, got {raw!r}")
        return None
    if not net.is_private:
        o.error(key, f"must be a private (RFC 1918) range, got {raw!r}")
    return net


def _no_overlap(o: Obj, ranges: list) -> None:
    """GKE rejects a subnet whose primary and secondary ranges overlap; say so before anything is created."""
    for i, (key_a, a) in enumerate(ranges):
        for key_b, b in ranges[i + 1:]:
            if a is not None and b is not None and a.overlaps(b):
                o.error(key_b, f"{b} overlaps {key_a} ({a}); the node, pod and service ranges must be disjoint")


def check_gcp(cluster, pools: Sequence, problems: Problems, prefix: str = "llmfleet",
              paths: Optional[Sequence[str]] = None) -> None:
    """Zones belong to the region (and to a zonal cluster's zone), reservations are zonal and well-formed.

    Whether a zone offers the accelerator, and whether the project has quota for it, cannot be known offline:
    docs/gcp.md says how to check both with gcloud.
    """
    settings: GcpSettings = cluster.settings
    region = cluster.region
    if not re.fullmatch(REGION, region):
        # Reported once; the zone rules need the region, the reservation rules below still run.
        problems.add(f"{prefix}:cluster.region", f"must be a GCP region such as us-central1, got {region!r}")
        for i, pool in enumerate(pools):
            _check_reservation(paths[i] if paths else f"{prefix}:gpuPools[{i}]", pool, problems, None, False)
        return
    zones_ok = True
    for i, z in enumerate(cluster.zones):
        if not z.startswith(region + "-") or not re.fullmatch(ZONE, z):
            zones_ok = False
            problems.add(f"{prefix}:cluster.zones[{i}]", f"must be a zone of {region} ({region}-a, {region}-b, ...), "
                                                         f"got {z!r}")
    if len(set(cluster.zones)) != len(cluster.zones):
        problems.add(f"{prefix}:cluster.zones", f"lists a zone twice: {list(cluster.zones)}")
    if settings is not None and settings.zone is not None:
        if not settings.zone.startswith(region + "-"):
            problems.add(f"{prefix}:cluster.gcp.zone", f"must be a zone of {region}, got {settings.zone!r}")
        elif cluster.zones and list(cluster.zones) != [settings.zone]:
            problems.add(f"{prefix}:cluster.zones", f"a zonal cluster ({settings.zone}) keeps its nodes in its own "
                                                    f"zone: leave zones unset or set [{settings.zone}], "
                                                    f"got {list(cluster.zones)}")
    if settings is not None:
        _check_prod_and_versions(cluster, settings, problems, prefix)
    allowed = _allowed_zones(cluster)
    for i, pool in enumerate(pools):
        path = paths[i] if paths else f"{prefix}:gpuPools[{i}]"
        # A wrong cluster zone is reported once; pool zones are compared only with a list that is right.
        for j, z in enumerate(pool.zones):
            if not zones_ok:              # the cluster's zone list is unknown: check against the region only
                if not z.startswith(region + "-") or not re.fullmatch(ZONE, z):
                    problems.add(f"{path}.zones[{j}]", f"must be a zone of {region} ({region}-a, ...), got {z!r}")
            elif allowed is not None and z not in allowed:
                problems.add(f"{path}.zones[{j}]", f"must be one of the cluster's zones ({', '.join(allowed)}), "
                                                   f"got {z!r}")
            elif allowed is None and (not z.startswith(region + "-") or not re.fullmatch(ZONE, z)):
                problems.add(f"{path}.zones[{j}]", f"must be a zone of {region} ({region}-a, ...), got {z!r}")
        _check_reservation(path, pool, problems, allowed)


def _check_reservation(path: str, pool, problems: Problems, allowed: Optional[list], zone_rules: bool = True) -> None:
    if "reserved" in pool.capacity and pool.reservation:
        if not re.fullmatch(RESERVATION, pool.reservation):
            problems.add(f"{path}.reservation", f"must be a Compute Engine reservation name, or "
                                                f"projects/<project>/reservations/<name> for a shared one, "
                                                f"got {pool.reservation!r}")
        # A reservation holds VMs in exactly one zone; a pool spread over others could never consume it there.
        zones = pool.zones or (allowed or ())
        if zone_rules and len(zones) != 1:
            problems.add(f"{path}.zones", f"must name exactly one zone when capacity includes 'reserved' "
                                          f"(a reservation lives in one zone), got {list(pool.zones)}")


def minor_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def _check_prod_and_versions(cluster, s: GcpSettings, problems: Problems, prefix: str) -> None:
    """Version needs of the features used, and what a prod stack must not leave open."""
    path = f"{prefix}:cluster.gcp"
    if s.compute_class and minor_tuple(cluster.kubernetes_version) < COMPUTE_CLASS_MIN_MINOR:
        problems.add(f"{path}.computeClass", f"needs GKE {COMPUTE_CLASS_MIN_GKE} or later; kubernetesVersion "
                                             f"{cluster.kubernetes_version} may run an older patch: use "
                                             f"{'.'.join(map(str, COMPUTE_CLASS_MIN_MINOR))} or later, or set "
                                             f"computeClass: false")
    if not is_production(cluster.environment):
        return
    if not s.authorized_networks and not s.private_endpoint:
        problems.add(f"{path}.authorizedNetworks", "must list the CIDRs allowed to reach the control plane in a "
                                                   "prod stack (or set privateEndpoint: true); empty means the "
                                                   "whole internet")
    if not s.pin_minor:
        problems.add(f"{path}.pinMinorVersion", "must stay true in a prod stack: without the minor-upgrade "
                                                "exclusion GKE moves the cluster to a minor the stack file does "
                                                "not name")
    if not s.deletion_protection:
        problems.add(f"{path}.deletionProtection", "must stay true in a prod stack")
    if not s.private_nodes:
        problems.add(f"{path}.privateNodes", "must stay true in a prod stack: nodes without it get external IP "
                                             "addresses")


def _allowed_zones(cluster) -> Optional[list]:
    """The zones nodes may use: a zonal cluster's zone, else the cluster's zones, else any zone of the region."""
    settings = cluster.settings
    if settings is not None and settings.zone is not None:
        return [settings.zone]
    return list(cluster.zones) or None
