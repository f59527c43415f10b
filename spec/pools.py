"""The cloud-neutral GPU pool spec (`llmfleet:gpuPools`), validated against the GPU catalog for the stack's cloud."""
from dataclasses import dataclass, field
from typing import Optional

from catalog.gpus import GPUS, GpuModel, InstanceType, instance, instances_for
from spec import limits as L
from spec.reader import DNS_LABEL, DNS_LABEL_HINT, Obj, one_of

CAPACITY_TYPES = ("on-demand", "spot", "reserved")
SHARING_MODES = ("none", "time-slicing", "mig")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
DRIVER_OWNERS = ("cloud", "operator")
# AMI families for EKS GPU pools. AL2 (`AL2_x86_64_GPU`) stopped being published 2025-11-26: rejected by name.
AWS_IMAGES = {"al2023-nvidia": "AL2023_x86_64_NVIDIA", "bottlerocket-nvidia": "BOTTLEROCKET_x86_64_NVIDIA"}
AWS_EOL_IMAGES = ("al2-gpu", "AL2_x86_64_GPU", "al2")
# A Kubernetes label value: the API server rejects nodeSelectors and taints with any other (apimachinery
# validation IsValidLabelValue): at most 63 characters, alphanumeric at both ends.
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?"
LABEL_VALUE_HINT = "a Kubernetes label value (at most 63 letters, digits, '-', '_', '.', alphanumeric at both ends)"
LABEL_KEY = r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
# Label keys the cluster components set on every node group they create (components/descriptors.py): the serving
# layer's affinity relies on them (a critical model excludes spot by llmfleet.io/capacity), so a pool's own
# `labels` may not replace them. On existing clusters the labels are the nodes' own and are left alone.
PROGRAM_LABEL_PREFIX = "llmfleet.io/"
# Taint effects that keep a pod without the matching toleration off a node.
REPELLING_EFFECTS = ("NoSchedule", "NoExecute")


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class Sharing:
    mode: str = "none"            # none | time-slicing | mig
    replicas: int = 1             # time-slicing: pods per GPU
    mig_profile: str = ""         # mig: one profile for every GPU of the node, e.g. "1g.10gb"


@dataclass(frozen=True)
class PoolSpec:
    name: str
    gpu: GpuModel
    gpus_per_node: int
    instance: Optional[InstanceType]       # None on an existing cluster
    capacity: tuple[str, ...]              # preference order: first = most preferred
    min_nodes: int
    max_nodes: int
    zones: tuple[str, ...] = ()
    disk_gb: int = 500
    labels: dict = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    sharing: Sharing = Sharing()
    image: str = "al2023-nvidia"           # AWS AMI family; ignored elsewhere
    driver: str = "cloud"                  # who installs the driver: the cloud/image, or the GPU Operator
    reservation: str = ""                  # capacity reservation id/name when "reserved" is in the chain
    price_per_hour: Optional[float] = None  # existing clusters: what a node costs, if anyone pays for it

    @property
    def spot_only(self) -> bool:
        return set(self.capacity) == {"spot"}


def read_pool(o: Obj, cloud: str) -> PoolSpec:
    name = o.str("name", pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    if len(name) > 20:
        # Node group / node pool names carry the pool name plus a capacity suffix; clouds cap them (AKS at 12).
        o.reject("name", f"must be at most 20 characters, got {len(name)}")
    gpu_key = o.str("gpu", None, choices=GPUS)
    gpus = o.int("gpusPerNode", None, limit=L.GPUS_PER_NODE)
    type_name = o.str("instanceType", None)
    inst: Optional[InstanceType] = None

    # Each rule below runs on the keys that are valid: a rejected key is reported once, at itself.
    if cloud is None:
        pass                              # no catalog to match against without a valid cloud
    elif cloud == "existing":
        if type_name is not None:
            o.reject("instanceType", "is not used on an existing cluster; give gpu and gpusPerNode")
        if gpu_key is None and o.valid("gpu"):
            o.reject("gpu", f"is required on an existing cluster: {one_of(GPUS)}")
        if gpus is None and o.valid("gpusPerNode"):
            o.reject("gpusPerNode", "is required on an existing cluster")
    elif type_name is not None:
        inst = instance(cloud, type_name)
        if inst is None:
            known = sorted(t.name for t in instances_for(cloud, gpu_key))
            o.error("instanceType", f"{type_name!r} is not a GPU type this program knows on {cloud}; "
                                    f"allowed: {', '.join(known)}")
        else:
            if gpu_key is not None and gpu_key != inst.gpu:
                o.error("gpu", f"{type_name} carries {inst.gpu}, not {gpu_key}")
            if gpus is not None and gpus != inst.gpus:
                o.error("gpusPerNode", f"{type_name} has {inst.gpus} GPU(s), got {gpus}")
    elif not o.valid("instanceType"):
        pass
    elif gpu_key is not None:
        offered = instances_for(cloud, gpu_key)
        if not offered:
            clouds_with = sorted({t.name for t in instances_for(cloud)})
            o.error("gpu", f"{gpu_key} is not offered on {cloud} by any known type; "
                           f"{cloud} GPUs: {', '.join(sorted({GPUS[t.gpu].key for t in instances_for(cloud)}))}"
                    if clouds_with else f"{gpu_key} is not offered on {cloud}")
        else:
            want = gpus or max(t.gpus for t in offered)
            exact = [t for t in offered if t.gpus == want]
            if not exact:
                o.error("gpusPerNode", f"{cloud} offers {gpu_key} with {', '.join(str(n) for n in sorted({t.gpus for t in offered}))} "
                                       f"GPU(s) per node, got {want}")
            else:
                # Several types may carry the same count (e.g. a3-highgpu-8g and a3-megagpu-8g): take the
                # first listed; users wanting another name it with instanceType.
                inst = exact[0]
    elif o.valid("gpu"):
        o.reject("gpu", "is required (or give instanceType)")

    # Which GPU the pool has is known only from a valid type or gpu key; MIG rules need it.
    gpu_known = inst is not None or (gpu_key in GPUS and o.valid("gpu"))
    gpu = inst.gpu_model if inst else GPUS.get(gpu_key or "", GPUS["h100-80gb"])
    gpus_per_node = inst.gpus if inst else (gpus or 1)

    capacity = tuple(o.str_list("capacity", ["on-demand"], choices=CAPACITY_TYPES, min_items=1))
    if len(set(capacity)) != len(capacity):
        o.error("capacity", f"lists a capacity type twice: {list(capacity)}")
    if cloud == "existing" and capacity != ("on-demand",) and o.has("capacity"):
        o.error("capacity", "is not used on an existing cluster (its nodes are already there)")
    if inst is not None and o.valid("capacity"):
        for c in capacity:
            if c not in inst.capacity:
                o.error("capacity", f"{inst.name} is not offered as {c} on {cloud}; allowed: {', '.join(inst.capacity)}")
    reservation = o.str("reservation", "")
    if "reserved" in capacity and not reservation:
        o.error("reservation", "is required when capacity includes 'reserved' (the reservation id or name)")
    if reservation and "reserved" not in capacity:
        o.error("reservation", "is set but capacity does not include 'reserved'")

    min_nodes = o.int("minNodes", 0, limit=L.POOL_NODES)
    max_nodes = o.int("maxNodes", max(1, min_nodes), limit=L.POOL_NODES)
    if o.valid("minNodes", "maxNodes") and max_nodes < min_nodes:
        o.reject("maxNodes", f"must be >= minNodes ({min_nodes}), got {max_nodes}")

    zones = tuple(o.str_list("zones"))
    disk_gb = o.int("diskSizeGb", 500, limit=L.POOL_DISK_GB)
    labels = o.str_map("labels", key_pattern=LABEL_KEY, hint="a Kubernetes label key",
                       value_pattern=LABEL_VALUE, value_hint=LABEL_VALUE_HINT)
    if cloud != "existing":
        for key in labels:
            if key.startswith(PROGRAM_LABEL_PREFIX):
                o.error("labels", f"{key} is set by the program on every node group (keys under "
                                  f"{PROGRAM_LABEL_PREFIX} say which pool, capacity type and GPU a node is); "
                                  f"use another key")
    taints = tuple(_read_taints(o))
    if cloud == "existing" and not labels and not o.has("labels"):
        o.error("labels", "is required on an existing cluster: the labels its GPU nodes already carry, to select them")
    sharing = _read_sharing(o.obj("sharing"), gpu, gpu_known)
    image = o.str("image", "al2023-nvidia")
    if image in AWS_EOL_IMAGES:
        o.error("image", f"{image!r} is end-of-life (AL2 GPU AMIs stopped being published 2025-11-26); "
                         f"use {one_of(AWS_IMAGES)}")
    elif image not in AWS_IMAGES:
        o.error("image", f"must be {one_of(AWS_IMAGES)}, got {image!r}")
    elif cloud is not None and cloud != "aws" and o.has("image"):
        o.error("image", "is an EKS AMI family; it only applies when cloud is aws")
    driver = o.str("driver", "cloud", choices=DRIVER_OWNERS)
    price = o.float("pricePerHour", None, limit=L.NODE_PRICE_PER_HOUR)
    if price is not None and cloud is not None and cloud != "existing":
        o.error("pricePerHour", "only applies on an existing cluster; override cloud prices with llmfleet:prices")
    return PoolSpec(name=name, gpu=gpu, gpus_per_node=gpus_per_node, instance=inst, capacity=capacity,
                    min_nodes=min_nodes, max_nodes=max_nodes, zones=zones, disk_gb=disk_gb, labels=labels,
                    taints=taints, sharing=sharing, image=image, driver=driver, reservation=reservation,
                    price_per_hour=price)


def _read_taints(o: Obj) -> list[Taint]:
    out = []
    for path, item in o.list("taints"):
        t = Obj(item, path, o.problems)
        if not t.ok:
            if item is None:
                o.problems.add(path, "must be an object, got null")
            continue
        key = t.str("key", pattern=LABEL_KEY, hint="a Kubernetes label key")
        value = t.str("value", "", pattern=LABEL_VALUE, hint=LABEL_VALUE_HINT)
        effect = t.str("effect", "NoSchedule", choices=TAINT_EFFECTS)
        t.done()
        out.append(Taint(key, value, effect))
    return out


def _read_sharing(o: Obj, gpu: GpuModel, gpu_known: bool = True) -> Sharing:
    if not o.ok:
        return Sharing()
    mode = o.str("mode", "none", choices=SHARING_MODES)
    replicas = o.int("replicas", 1 if mode != "time-slicing" else 4, limit=L.TIME_SLICES)
    profile = o.str("migProfile", "")
    if not o.valid("mode"):
        o.seen.update(("replicas", "migProfile"))   # they depend on the mode: no verdict without one
        o.done()
        return Sharing()
    if mode != "time-slicing" and o.has("replicas"):
        o.error("replicas", "only applies with mode time-slicing")
    if mode == "time-slicing" and o.valid("replicas") and replicas < 2:
        o.reject("replicas", f"must be >= 2 for time-slicing, got {replicas}")
    if mode == "mig" and not gpu_known:
        pass                              # the pool's GPU was rejected at its key: no MIG verdict
    elif mode == "mig":
        if not gpu.mig_profiles:
            o.error("mode", f"{gpu.display} does not support MIG; use time-slicing or none")
        elif not o.valid("migProfile"):
            pass                          # reported at its key
        elif not profile:
            o.error("migProfile", f"is required with mode mig: {one_of(gpu.mig_profiles)}")
        elif profile not in gpu.mig_profiles:
            o.error("migProfile", f"{gpu.display} supports {', '.join(gpu.mig_profiles)}, got {profile!r}")
    elif profile:
        o.error("migProfile", "only applies with mode mig")
    o.done()
    return Sharing(mode, replicas if mode == "time-slicing" else 1, profile if mode == "mig" else "")


def check_untainted_node(gpu_only: bool, pools, problems, path: str) -> None:
    """A cluster made only of the declared GPU pools (`llmfleet:cluster.gpuOnly`) must take pods that tolerate
    nothing: Prometheus, Grafana, kube-state-metrics and the operator controllers carry no GPU toleration and would
    stay Pending. Managed clusters always have untainted CPU nodes of their own."""
    if not gpu_only:
        return
    for i, pool in enumerate(pools):
        for t in pool.taints:
            if t.effect in REPELLING_EFFECTS:
                problems.add(f"{path}[{i}].taints",
                             f"{t.key}={t.value}:{t.effect} keeps Prometheus, Grafana and the operator controllers "
                             f"off the cluster's only nodes (llmfleet:cluster.gpuOnly is true): untaint the nodes "
                             f"(kubectl taint nodes <node> {t.key}-) and drop the taint here, or add an untainted "
                             f"node and set gpuOnly to false")


def pool_groups(pools, models) -> dict[str, str]:
    """Pool name -> the first pool (stack order) of its group: pools that one model's pod template may use in
    turn (a model's allowed pools), joined transitively. GKE renders one ComputeClass per group, because a pod
    selects exactly one class and a node pool belongs to exactly one class."""
    leader = {p.name: p.name for p in pools}
    order = {p.name: i for i, p in enumerate(pools)}

    def find(name: str) -> str:
        while leader[name] != name:
            name = leader[name]
        return name

    for m in models:
        names = [n for n in (m.placement.pools if m.placement else ()) if n in leader]
        for other in names[1:]:
            a, b = find(names[0]), find(other)
            if a != b:
                first, second = sorted((a, b), key=order.get)
                leader[second] = first
    return {name: find(name) for name in leader}
