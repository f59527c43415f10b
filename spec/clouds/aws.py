"""AWS cluster settings (`llmfleet:cluster.aws`) and the AWS checks that need the whole spec (zones, reservations).

Everything here is validated before any resource exists. Defaults give a production-shaped EKS cluster: private
subnets for nodes, one NAT gateway per zone, API-mode access entries, IRSA, KMS envelope encryption of Secrets and
control-plane audit logs.
"""
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

from catalog.gpus import INSTANCE_TYPES
from spec.clouds.karpenter import check_karpenter
from spec.environment import is_production
from spec import limits as L
from spec.reader import Obj, Problems

ENDPOINT_ACCESS = ("public", "private", "public-and-private")
IDENTITY_MODES = ("irsa", "pod-identity")
# `none`: the stack installs no node autoscaler (bring your own, e.g. Karpenter managed elsewhere); node groups
# then stay at their minimum size. `karpenter`: GPU pools become Karpenter NodePools instead of managed node groups
# (components/aws/karpenter.py; pool checks in spec/clouds/karpenter.py).
AUTOSCALERS = ("cluster-autoscaler", "karpenter", "none")
# How a pool's `reservation` is consumed: an On-Demand Capacity Reservation (node group capacity type ON_DEMAND,
# launch template targets the reservation) or an EC2 Capacity Block for ML (capacity type CAPACITY_BLOCK, launch
# template market type `capacity-block`). Both ids look alike (`cr-...`), so the stack says which.
RESERVATION_TYPES = ("capacity-reservation", "capacity-block")
# EKS control-plane log types (EKS API `LogType`).
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
REGION = r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d"
RESERVATION_ID = r"cr-[0-9a-f]{17}"
INSTANCE_TYPE = r"[a-z][a-z0-9-]*\.[0-9a-z]+"
# Graviton families carry a `g` right after the generation digit (m7g, c7gn, r8g, t4g): arm64, rejected for the
# system group because several add-on images this program installs are published for amd64 only.
ARM_FAMILY = r"[a-z]+[0-9]+g[a-z]*\..*"
ROLE_ARN = r"arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]+"
# Environments treated as production: control-plane allow-list required, cluster/key/file system protected.
# Zone letters the default subnet layout carves (components/aws/network.py LAYOUT_LETTERS).
LAYOUT_LETTERS = "abc"

# Availability-zone names used when `llmfleet:cluster.zones` is not set. AZ *names* map to physical zones per
# account, and a few regions lack some letters (ap-northeast-1 has no `b` for accounts created since 2012): the
# table only lists letters that exist in every account of the region. Other regions must list zones explicitly.
DEFAULT_ZONES = {
    "us-east-1": ("a", "b", "c"),
    "us-east-2": ("a", "b", "c"),
    "us-west-2": ("a", "b", "c"),
    "eu-west-1": ("a", "b", "c"),
    "eu-central-1": ("a", "b", "c"),
    "eu-north-1": ("a", "b", "c"),
    # Only a and c: the default subnet layout carves letters a-c (zone_cidrs); list d with its subnetCidrs.
    "ap-northeast-1": ("a", "c"),
    "ap-southeast-2": ("a", "b", "c"),
}


@dataclass(frozen=True)
class SystemNodes:
    """The CPU node group for cluster add-ons (CoreDNS, cluster-autoscaler, operators, monitoring)."""
    instance_type: str = "m7i.xlarge"
    min_nodes: int = 2
    max_nodes: int = 4
    disk_gb: int = 100
    # Empty: every cluster zone. EKS node group subnets are fixed at creation, so a group spanning "every zone" is
    # rebuilt when a zone is added; listing today's zones first keeps it (docs/aws.md, "Adding a zone").
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class AwsSettings:
    vpc_cidr: str = "10.0.0.0/16"
    # One NAT gateway per zone survives a zone outage; a single one is cheaper (dev).
    single_nat_gateway: bool = False
    endpoint_access: str = "public-and-private"
    # Empty: not given, i.e. anywhere (EKS's default); rejected in prod environments.
    public_access_cidrs: tuple[str, ...] = ()
    system: SystemNodes = SystemNodes()
    identity: str = "irsa"
    autoscaler: str = "cluster-autoscaler"
    reservation_type: str = "capacity-reservation"
    control_plane_logs: tuple[str, ...] = ("api", "audit", "authenticator")
    log_retention_days: int = 90
    secrets_encryption: bool = True
    admin_role_arns: tuple[str, ...] = ()
    tags: dict = field(default_factory=dict)
    # None: on in prod environments (is_production). Protects the cluster, its KMS key and the EFS file system.
    protect: Optional[bool] = None
    # Zone -> (private, public) CIDRs overriding the default per-zone layout.
    subnet_cidrs: dict = field(default_factory=dict)


def zone_cidrs(cidr: str, zone: str, overrides: Optional[dict] = None) -> tuple[str, str]:
    """(private, public) CIDR of one zone, from the zone alone, so adding, removing or reordering zones never
    re-carves (replaces) another zone's subnets. The VPC is split into four blocks: block i is the private subnet
    of zone letter i (a, b, c: pods take VPC addresses through the VPC CNI, so these are large), and the last
    block is split into four small public subnets, again by letter. For zone lists [a, b] and [a, b, c] this is
    the layout earlier versions carved by list position. `overrides` (zone -> (private, public)) pins a zone's
    CIDRs, e.g. of subnets created by an earlier layout. Other letters need an override (check_aws says so)."""
    if overrides and zone in overrides:
        private, public = overrides[zone]
        return private, public
    index = LAYOUT_LETTERS.index(zone[-1])
    blocks = list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=2))
    return str(blocks[index]), str(list(blocks[-1].subnets(prefixlen_diff=2))[index])


def protected(cluster) -> bool:
    """Whether the stateful resources of the cluster (EKS cluster, KMS key, EFS file system) are protected."""
    s = cluster.settings
    explicit = getattr(s, "protect", None)
    return is_production(cluster.environment) if explicit is None else explicit


def _cidr(o: Obj, key: str, value: str, min_prefix: int, max_prefix: int) -> Optional[ipaddress.IPv4Network]:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError as e:
        o.error(key, f"must be an IPv4 CIDR such as 10.0.0.0/16, got {value!r} ({e})")
        return None
    if not (min_prefix <= net.prefixlen <= max_prefix):
        o.error(key, f"must have a prefix length between /{min_prefix} and /{max_prefix}, got /{net.prefixlen}")
        return None
    return net


def read_aws_settings(o: Obj) -> AwsSettings:
    d = AwsSettings()
    vpc_cidr = o.str("vpcCidr", d.vpc_cidr)
    # /16../20: six subnets are carved out of it and the VPC CNI gives every pod a VPC address, so small VPCs run
    # out of IPs long before they run out of GPUs.
    net = _cidr(o, "vpcCidr", vpc_cidr, 16, 20) if isinstance(vpc_cidr, str) else None
    if net is not None and not (net.is_private or net.subnet_of(ipaddress.IPv4Network("100.64.0.0/10"))):
        o.error("vpcCidr", f"must be a private range (RFC 1918 or 100.64.0.0/10), got {vpc_cidr}")
    single_nat = o.bool("singleNatGateway", d.single_nat_gateway)
    access = o.str("endpointAccess", d.endpoint_access, choices=ENDPOINT_ACCESS)
    cidrs = o.str_list("publicAccessCidrs", [])
    for i, c in enumerate(cidrs):
        _cidr(o, f"publicAccessCidrs[{i}]", c, 0, 32)
    if access == "private" and o.has("publicAccessCidrs"):
        o.error("publicAccessCidrs", "only applies when endpointAccess is public or public-and-private")

    system = _read_system(o.obj("systemNodes"))
    identity = o.str("identity", d.identity, choices=IDENTITY_MODES)
    autoscaler = o.str("autoscaler", d.autoscaler, choices=AUTOSCALERS)
    reservation_type = o.str("reservationType", d.reservation_type, choices=RESERVATION_TYPES)
    logs = o.str_list("controlPlaneLogs", list(d.control_plane_logs), choices=LOG_TYPES)
    retention = o.int("logRetentionDays", d.log_retention_days, limit=L.AWS_LOG_RETENTION_DAYS)
    encryption = o.bool("secretsEncryption", d.secrets_encryption)
    admins = []
    for path, arn in o.list("adminRoleArns"):
        if not isinstance(arn, str) or not re.fullmatch(ROLE_ARN, arn):
            o.problems.add(path, f"must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got {arn!r}")
        else:
            admins.append(arn)
    protect = o.bool("protect", None)
    subnets = _read_subnet_cidrs(o, net)
    tags = o.str_map("tags")
    for k in tags:
        if k.lower().startswith("aws:"):
            o.problems.add(f"{o.key_path('tags')}.{k}", "keys starting with 'aws:' are reserved by AWS")
    return AwsSettings(vpc_cidr=vpc_cidr, single_nat_gateway=single_nat, endpoint_access=access,
                       public_access_cidrs=tuple(cidrs), system=system, identity=identity, autoscaler=autoscaler,
                       reservation_type=reservation_type, control_plane_logs=tuple(logs),
                       log_retention_days=retention, secrets_encryption=encryption, admin_role_arns=tuple(admins),
                       tags=tags, protect=protect, subnet_cidrs=subnets)


def _read_subnet_cidrs(o: Obj, vpc: Optional[ipaddress.IPv4Network]) -> dict:
    """`subnetCidrs: {us-east-1a: {private: 10.0.0.0/18, public: 10.0.192.0/20}}`: pins a zone's subnets (e.g.
    those an earlier layout made, read with `aws ec2 describe-subnets`), or carves zones past the letter c."""
    out = {}
    m = o.obj("subnetCidrs")
    if not m.ok:
        return out
    for zone in list(m.raw):
        z = m.obj(zone)
        private, public = z.str("private"), z.str("public")
        nets = [(k, _cidr(z, k, v, 16, 28)) for k, v in (("private", private), ("public", public))
                if isinstance(v, str)]
        for k, n in nets:
            if n is not None and vpc is not None and not n.subnet_of(vpc):
                z.error(k, f"must lie inside vpcCidr {vpc}, got {n}")
        z.done()
        if isinstance(private, str) and isinstance(public, str):
            out[zone] = (private, public)
    m.done()
    return out


def _read_system(o: Obj) -> SystemNodes:
    d = SystemNodes()
    if not o.ok:
        return d
    itype = o.str("instanceType", d.instance_type, pattern=INSTANCE_TYPE, hint="an EC2 instance type such as m7i.xlarge")
    if ("aws", itype) in INSTANCE_TYPES:
        o.error("instanceType", f"{itype} is a GPU type; the system node group runs add-ons on CPU instances")
    elif isinstance(itype, str) and re.fullmatch(ARM_FAMILY, itype):
        o.error("instanceType", f"{itype} is an arm64 (Graviton) type; use an x86_64 type such as m7i.xlarge")
    min_nodes = o.int("minNodes", d.min_nodes, limit=L.SYSTEM_NODES)
    max_nodes = o.int("maxNodes", max(d.max_nodes, min_nodes if isinstance(min_nodes, int) else 0),
                      limit=L.SYSTEM_NODES)
    if o.valid("minNodes", "maxNodes") and max_nodes < min_nodes:
        o.reject("maxNodes", f"must be >= minNodes ({min_nodes}), got {max_nodes}")
    disk = o.int("diskSizeGb", d.disk_gb, limit=L.AWS_SYSTEM_DISK_GB)
    zones = tuple(o.str_list("zones", []))
    o.done()
    return SystemNodes(itype, min_nodes, max_nodes, disk, zones)


# --- checks that need the cluster and the pools together ---------------------------------------------------------

def cluster_zones(cluster) -> tuple[str, ...]:
    """The zones the VPC spans: `llmfleet:cluster.zones`, else the region's default letters."""
    if cluster.zones:
        return tuple(cluster.zones)
    return tuple(cluster.region + letter for letter in DEFAULT_ZONES.get(cluster.region, ()))


def check_aws(cluster, pools: Sequence, problems: Problems, prefix: str = "llmfleet",
              paths: Optional[Sequence[str]] = None) -> None:
    """Zones belong to the region, pools only use the cluster's zones, reservations name one zone and a real id."""
    region = cluster.region
    # A bad region is reported once; the zone rules need it, the pool rules below do not and still run.
    region_ok = bool(re.fullmatch(REGION, region))
    if not region_ok:
        problems.add(f"{prefix}:cluster.region", f"must be an AWS region such as us-east-1, got {region!r}")
    zones = cluster_zones(cluster) if region_ok else None
    # With a wrong cluster zone the cluster's zone list is unknown: a pool zone is then only checked against the
    # region (not against a list it may have been meant to match), so the wrong zone is reported once.
    zones_known = zones is not None and _check_zones(cluster, region, zones, problems, prefix)
    s = cluster.settings
    if zones_known:
        overrides = getattr(s, "subnet_cidrs", {}) or {}
        for i, z in enumerate(zones):
            if z not in overrides and z[-1:] not in LAYOUT_LETTERS:
                at = f"{prefix}:cluster.zones[{i}]" if cluster.zones else f"{prefix}:cluster.zones"
                problems.add(at, f"{z}: the default subnet layout carves zones ending in a, b or c only; give this "
                                 f"zone's CIDRs in {prefix}:cluster.aws.subnetCidrs.{z} (private, public)")
        for j, z in enumerate(getattr(getattr(s, "system", None), "zones", ()) or ()):
            if z not in zones:
                problems.add(f"{prefix}:cluster.aws.systemNodes.zones[{j}]",
                             f"must be one of the cluster's zones ({', '.join(zones)}), got {z!r}")
        for z in overrides:
            if z not in zones:
                problems.add(f"{prefix}:cluster.aws.subnetCidrs.{z}",
                             f"is not one of the cluster's zones ({', '.join(zones)})")
        _check_overlaps(cluster, zones, overrides, problems, prefix)
    if s is not None and is_production(cluster.environment):
        # Issue 16: the API server's audit trail and envelope encryption of Secrets stay on in production.
        if "audit" not in s.control_plane_logs:
            problems.add(f"{prefix}:cluster.aws.controlPlaneLogs",
                         f"must include audit in the {cluster.environment!r} environment (production): the API "
                         f"server's audit log is the record of who changed what, got [{', '.join(s.control_plane_logs)}]")
        if not s.secrets_encryption:
            problems.add(f"{prefix}:cluster.aws.secretsEncryption",
                         f"must stay true in the {cluster.environment!r} environment (production): Secrets are "
                         f"envelope-encrypted with the cluster's KMS key")
    if s is not None and is_production(cluster.environment) and s.endpoint_access != "private":
        if not s.public_access_cidrs or "0.0.0.0/0" in s.public_access_cidrs:
            problems.add(f"{prefix}:cluster.aws.publicAccessCidrs",
                         f"is required in the {cluster.environment!r} environment (production): list the networks "
                         f"allowed to reach the public API endpoint (not 0.0.0.0/0), or set endpointAccess: private")
    for i, pool in enumerate(pools):
        path = paths[i] if paths else f"{prefix}:gpuPools[{i}]"
        if (getattr(s, "reservation_type", None) == "capacity-block" and pool.capacity[:1] == ("reserved",)
                and pool.min_nodes > 0 and getattr(s, "autoscaler", None) != "karpenter"):   # karpenter: own check
            # The Capacity Block group starts at 0 (it cannot launch outside the block's window) and the
            # autoscaler grows it while the block is active.
            problems.add(f"{path}.minNodes", f"must be 0 for a pool whose first capacity is a Capacity Block "
                                             f"(reserved, reservationType capacity-block), got {pool.min_nodes}")
        if pool.max_nodes < 1:
            problems.add(f"{path}.maxNodes", "must be >= 1 on aws (an EKS node group's maximum size is at least 1), "
                                             f"got {pool.max_nodes}")
        for j, z in enumerate(pool.zones if region_ok else ()):
            if zones_known and z not in zones:
                problems.add(f"{path}.zones[{j}]", f"must be one of the cluster's zones ({', '.join(zones)}), got {z!r}")
            elif not zones_known and not re.fullmatch(re.escape(region) + r"[a-z]", z):
                problems.add(f"{path}.zones[{j}]", f"must be an availability zone of {region}, got {z!r}")
        if "reserved" in pool.capacity:
            if pool.reservation and not re.fullmatch(RESERVATION_ID, pool.reservation):
                problems.add(f"{path}.reservation", f"must be an EC2 capacity reservation id (cr- and 17 hex "
                                                    f"digits), got {pool.reservation!r}")
            if len(pool.zones) != 1:
                # A reservation lives in one zone; a node group spanning others would launch outside it.
                problems.add(f"{path}.zones", f"must name exactly the one zone of reservation {pool.reservation}, "
                                              f"got {list(pool.zones)}")
    if getattr(cluster.settings, "autoscaler", None) == "karpenter":
        check_karpenter(pools, problems, prefix, paths)


def _check_zones(cluster, region: str, zones: tuple, problems: Problems, prefix: str) -> bool:
    """The cluster's zone rules; False when a listed zone is not a zone of the region."""
    ok = True
    if not cluster.zones and not zones:
        problems.add(f"{prefix}:cluster.zones", f"is required in {region} (no default zones known for it): list 2 or "
                                                f"3 availability zones, e.g. [{region}a, {region}b]")
    for i, z in enumerate(cluster.zones):
        if not re.fullmatch(re.escape(region) + r"[a-z]", z):
            ok = False
            problems.add(f"{prefix}:cluster.zones[{i}]", f"must be an availability zone of {region} "
                                                         f"({region}a, {region}b, ...), got {z!r}")
    if cluster.zones and len(set(cluster.zones)) < 2:
        problems.add(f"{prefix}:cluster.zones", f"must list at least 2 distinct zones (EKS needs subnets in two), "
                                                f"got {list(cluster.zones)}")
    if len(set(zones)) != len(zones):
        problems.add(f"{prefix}:cluster.zones", f"lists a zone twice: {list(zones)}")
    if len(zones) > 6:
        problems.add(f"{prefix}:cluster.zones", f"must list at most 6 zones, got {len(zones)}")
    return ok


def _check_overlaps(cluster, zones, overrides, problems: Problems, prefix: str) -> None:
    """Subnets of different zones (default layout and overrides) must not overlap."""
    s = cluster.settings
    if s is None or not overrides:
        return
    seen: list = []
    for z in zones:
        if z not in overrides and z[-1:] not in LAYOUT_LETTERS:
            continue
        for kind, c in zip(("private", "public"), zone_cidrs(s.vpc_cidr, z, overrides)):
            try:
                net = ipaddress.IPv4Network(c)
            except ValueError:
                continue
            for other_z, other_kind, other in seen:
                if net.overlaps(other):
                    problems.add(f"{prefix}:cluster.aws.subnetCidrs", f"{z} {kind} subnet {net} overlaps {other_z} "
                                                                      f"{other_kind} subnet {other}")
            seen.append((z, kind, net))
