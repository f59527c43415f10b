"""Node templates: what a node of each group looks like to the scheduler, and what the autoscaler imagines when
the group is at zero. Derived from the cloud resources the plan records (node group / node pool / agent pool /
Karpenter NodePool inputs, ASG and scale-set template tags) plus cloud_facts.NODE_ADDITIONS; pool descriptors are
used only for how GPUs are shared (MIG profile, time-slicing replicas), which the device plugin config decides."""
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Optional

from catalog.gpus import instance
from plan.checks import cloud_facts as F
from plan.checks.quantity import parse

_EFFECT = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


@dataclass
class NodeTemplate:
    group: str                   # node group / node pool / agent pool / NodePool name
    cloud: str                   # aws | gcp | azure | karpenter | existing
    capacity: str                # on-demand | spot | reserved, from the cloud's own setting
    labels: dict
    taints: list                 # [{"key", "value", "effect"}]
    allocatable: dict            # resource -> Fraction
    min_nodes: int = 0
    max_nodes: int = 0
    gpus: int = 0                # whole GPUs per node
    autoscaler: str = "none"     # cluster-autoscaler | karpenter | gke | none
    from_zero: Optional["NodeTemplate"] = None   # the autoscaler's template while the group has no node
    runtime_classes: tuple = ()
    image: str = ""              # node image / AMI type where the plan sets it
    notes: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.cloud} node group {self.group} ({self.capacity})"


def _fmt(values: dict, subs: dict) -> dict:
    return {k: str(v).format(**subs) for k, v in values.items()}


def _add_cloud_facts(t: NodeTemplate, cloud: str, conditions: set, subs: dict) -> None:
    for row_cloud, when, labels, taints, _source in F.NODE_ADDITIONS:
        if row_cloud == cloud and (when == "always" or when in conditions):
            t.labels.update(_fmt(labels, subs))
            for taint in taints:
                if not any(x["key"] == taint["key"] and x["effect"] == taint["effect"] for x in t.taints):
                    t.taints.append(dict(taint))


def _gpu_resources(whole: int, sharing, mig_strategy: str, gke_shared: int = 0) -> dict:
    """Allocatable GPU resources of a node (FACTS-cluster 1.5 resource names)."""
    if not whole:
        return {}
    mode = getattr(sharing, "mode", "none")
    if gke_shared:
        return {"nvidia.com/gpu": Fraction(whole * gke_shared)}
    if mode == "time-slicing":
        return {"nvidia.com/gpu": Fraction(whole * sharing.replicas)}
    if mode == "mig" and sharing.mig_profile:
        per = F.MIG_PER_GPU.get(int(sharing.mig_profile.split("g")[0]), 1) * whole
        if mig_strategy == "mixed":
            return {f"nvidia.com/mig-{sharing.mig_profile}": Fraction(per)}
        return {"nvidia.com/gpu": Fraction(per)}
    return {"nvidia.com/gpu": Fraction(whole)}


def _base_allocatable(cloud: str, itype: Optional[str]) -> dict:
    it = instance(cloud, itype) if itype else None
    if not it:
        return {"pods": Fraction(110)}
    return {"cpu": Fraction(it.vcpus), "memory": Fraction(it.memory_gib * 2**30), "pods": Fraction(110)}


def _parse_taint(s: str) -> dict:
    kv, _, effect = s.rpartition(":")
    k, _, v = kv.partition("=")
    return {"key": k, "value": v, "effect": effect}


def _aws(res, ctx) -> list[NodeTemplate]:
    tags_by_group = {}
    for r in res:
        if r.type == "aws:autoscaling/tag:Tag":
            for dep in r.dependencies:
                tags_by_group.setdefault(dep, []).append(r.inputs.get("tag") or {})
    out = []
    for r in res:
        if r.type != "aws:eks/nodeGroup:NodeGroup":
            continue
        i = r.inputs
        group = i.get("nodeGroupName") or r.name
        itype = (i.get("instanceTypes") or [None])[0]
        it = instance("aws", itype) if itype else None
        cap_type = i.get("capacityType", "ON_DEMAND")
        capacity = {"SPOT": "spot", "CAPACITY_BLOCK": "reserved"}.get(cap_type, "on-demand")
        labels = dict(i.get("labels") or {})
        taints = [{"key": t["key"], "value": t.get("value", ""), "effect": _EFFECT.get(t["effect"], t["effect"])}
                  for t in i.get("taints") or []]
        d = ctx.descriptor(group)
        scaling = i.get("scalingConfig") or {}
        t = NodeTemplate(group, "aws", capacity, labels, taints, _base_allocatable("aws", itype),
                         int(scaling.get("minSize", 0)), int(scaling.get("maxSize", 0)), it.gpus if it else 0,
                         "cluster-autoscaler")
        _add_cloud_facts(t, "aws", {capacity}, {"capacity_type": cap_type, "group": group, "instance_type": itype})
        t.allocatable.update(_gpu_resources(t.gpus, d.sharing if d else None, ctx.mig_strategy))
        t.image = i.get("amiType", "")
        if not it:
            t.notes.append(f"instance type {itype} not in catalog/gpus.py: CPU, memory and GPUs unknown")
        # Scale from zero: capacity from the instance type (nvidia.com/gpu = GPU count), MNG labels/taints via
        # DescribeNodegroup, ASG node-template tags on top; extended resources other than nvidia.com/gpu only
        # from `resources/` tags.
        z = NodeTemplate(group, "aws", capacity, dict(t.labels), [dict(x) for x in t.taints],
                         dict(_base_allocatable("aws", itype)), t.min_nodes, t.max_nodes, t.gpus, t.autoscaler)
        for k in ("node.kubernetes.io/instance-type",):
            z.labels[k] = itype
        if t.gpus:
            z.allocatable["nvidia.com/gpu"] = Fraction(t.gpus)
        for tag in tags_by_group.get(r.urn, []):
            key, value = tag.get("key", ""), str(tag.get("value", ""))
            if not key.startswith(F.AWS_TEMPLATE_TAG):
                continue
            kind, _, name = key[len(F.AWS_TEMPLATE_TAG):].partition("/")
            if kind == "label":
                z.labels[name] = value
            elif kind == "taint":
                v, _, eff = value.partition(":")
                z.taints = [x for x in z.taints if x["key"] != name] + [{"key": name, "value": v, "effect": eff}]
            elif kind == "resources":
                z.allocatable[name] = parse(value)
        t.from_zero = z
        out.append(t)
    return out


def _karpenter(objs, ctx) -> list[NodeTemplate]:
    out = []
    for o in objs:
        if o.get("kind") != "NodePool" or not o.get("apiVersion", "").startswith("karpenter.sh/"):
            continue
        name = o["metadata"]["name"]
        tmpl = (o.get("spec") or {}).get("template") or {}
        spec = tmpl.get("spec") or {}
        labels = dict((tmpl.get("metadata") or {}).get("labels") or {})
        reqs = {r["key"]: r for r in spec.get("requirements") or []}
        itypes = (reqs.get("node.kubernetes.io/instance-type") or {}).get("values") or [None]
        caps = (reqs.get("karpenter.sh/capacity-type") or {}).get("values") or ["on-demand", "spot"]
        for key, r in reqs.items():
            if r.get("operator") == "In" and r.get("values") and key not in (
                    "karpenter.sh/capacity-type", "node.kubernetes.io/instance-type", "topology.kubernetes.io/zone"):
                labels.setdefault(key, r["values"][0])
        taints = [dict(t, value=t.get("value", "")) for t in spec.get("taints") or []]
        node_class = (spec.get("nodeClassRef") or {}).get("name", "")
        limits = (o.get("spec") or {}).get("limits") or {}
        for cap in caps:
            for itype in itypes:
                it = instance("aws", itype) if itype else None
                t = NodeTemplate(name, "karpenter", cap, dict(labels), [dict(x) for x in taints],
                                 _base_allocatable("aws", itype), 0, int(limits.get("nodes", 0) or 0),
                                 it.gpus if it else 0, "karpenter")
                _add_cloud_facts(t, "karpenter", {cap}, {"group": name, "node_class": node_class, "capacity": cap})
                if itype:
                    t.labels["node.kubernetes.io/instance-type"] = itype
                d = ctx.descriptor(name)
                t.allocatable.update(_gpu_resources(t.gpus, d.sharing if d else None, ctx.mig_strategy))
                # Karpenter knows an instance type's nvidia.com/gpu only (no MIG / time-sliced resources).
                z = replace(t, allocatable={**_base_allocatable("aws", itype),
                                            **({"nvidia.com/gpu": Fraction(t.gpus)} if t.gpus else {})},
                            labels=dict(t.labels), taints=[dict(x) for x in t.taints], notes=[])
                t.from_zero = z
                out.append(t)
    return out


def _gcp(res, ctx) -> list[NodeTemplate]:
    pools = [r for r in res if r.type == "gcp:container/nodePool:NodePool"]
    has_cpu_pool = any(not (r.inputs.get("nodeConfig") or {}).get("guestAccelerators") for r in pools)
    out = []
    for r in pools:
        i, nc = r.inputs, r.inputs.get("nodeConfig") or {}
        group = i.get("name") or r.name
        accs = nc.get("guestAccelerators") or []
        whole = int(sum(a.get("count", 0) for a in accs))
        shared = 0
        conds = set()
        acc_type = accs[0].get("type", "") if accs else ""
        for a in accs:
            cfg = a.get("gpuSharingConfig") or {}
            if cfg.get("gpuSharingStrategy") == "TIME_SHARING":
                shared = int(cfg.get("maxSharedClientsPerGpu", 1))
                conds.add("time_sharing")
        spot = bool(nc.get("spot") or nc.get("preemptible"))
        capacity = "spot" if spot else "on-demand"
        conds |= {capacity} | ({"gpu"} if whole else set()) | ({"gpu_and_cpu_pool"} if whole and has_cpu_pool else set())
        taints = [{"key": t["key"], "value": t.get("value", ""), "effect": _EFFECT.get(t["effect"], t["effect"])}
                  for t in nc.get("taints") or []]
        auto = i.get("autoscaling") or {}
        mn = int(auto.get("totalMinNodeCount", auto.get("minNodeCount", i.get("nodeCount", 0))) or 0)
        mx = int(auto.get("totalMaxNodeCount", auto.get("maxNodeCount", mn)) or mn)
        t = NodeTemplate(group, "gcp", capacity, dict(nc.get("labels") or {}), taints,
                         _base_allocatable("gcp", nc.get("machineType")), mn, mx, whole, "gke")
        _add_cloud_facts(t, "gcp", conds, {"group": group, "accelerator": acc_type, "max_shared": shared})
        d = ctx.descriptor(group)
        t.allocatable.update(_gpu_resources(whole, d.sharing if d else None, "single", shared))
        t.from_zero = replace(t, labels=dict(t.labels), taints=[dict(x) for x in t.taints],
                              allocatable=dict(t.allocatable), notes=["GKE builds the template itself"])
        out.append(t)
    return out


def _azure_tag_key(rest: str, resources: bool) -> str:
    return rest.replace("~2", "/") if resources else rest.replace("_", "/").replace("~2", "_")


def _azure(res, ctx) -> list[NodeTemplate]:
    out = []
    for r in res:
        if r.type != "azure-native:containerservice:AgentPool":
            continue
        i = r.inputs
        group = i.get("agentPoolName") or r.name
        vm = i.get("vmSize")
        it = instance("azure", vm) if vm else None
        spot = i.get("scaleSetPriority") == "Spot"
        capacity = "spot" if spot else "on-demand"
        gpus = it.gpus if it else 0
        conds = {capacity} | ({"gpu"} if gpus else set())
        taints = [_parse_taint(s) for s in i.get("nodeTaints") or []]
        t = NodeTemplate(group, "azure", capacity, dict(i.get("nodeLabels") or {}), taints,
                         _base_allocatable("azure", vm), int(i.get("minCount", i.get("count", 0)) or 0),
                         int(i.get("maxCount", i.get("count", 0)) or 0), gpus, "cluster-autoscaler")
        _add_cloud_facts(t, "azure", conds, {"group": group, "mode": i.get("mode", "User")})
        d = ctx.descriptor(group)
        t.allocatable.update(_gpu_resources(gpus, d.sharing if d else None, ctx.mig_strategy))
        driver = (i.get("gpuProfile") or {}).get("driver")
        if gpus:
            t.runtime_classes = F.NODE_RUNTIME_CLASSES.get(("azure", "cloud" if driver != "None" else "operator"), ())
        # Scale from zero (VMSS tags): labels from tags (every tag, and node-template label tags), agentpool
        # prediction, nodeLabels per AZURE_TEMPLATE_HAS_NODE_LABELS; taints from tags only; GPU count from the
        # static SKU list; other extended resources from `resources_` tags only.
        tags = {k: str(v) for k, v in (i.get("tags") or {}).items()}
        zl = dict(tags, **{"kubernetes.azure.com/agentpool": group, "agentpool": group})
        if F.AZURE_TEMPLATE_HAS_NODE_LABELS:
            zl.update(i.get("nodeLabels") or {})
        z = NodeTemplate(group, "azure", capacity, zl, [], _base_allocatable("azure", vm), t.min_nodes, t.max_nodes,
                         gpus, t.autoscaler)
        if gpus:
            z.allocatable["nvidia.com/gpu"] = Fraction(gpus)
        for k, v in tags.items():
            if not k.startswith(F.AZURE_TEMPLATE_TAG):
                continue
            kind, _, rest = k[len(F.AZURE_TEMPLATE_TAG):].partition("_")
            if kind == "label":
                z.labels[_azure_tag_key(rest, False)] = v
            elif kind == "taint":
                val, _, eff = v.partition(":")
                z.taints.append({"key": _azure_tag_key(rest, False), "value": val, "effect": eff})
            elif kind == "resources":
                z.allocatable[_azure_tag_key(rest, True)] = parse(v)
        t.from_zero = z
        out.append(t)
    return out


def _existing(ctx) -> list[NodeTemplate]:
    out = []
    for d in ctx.descriptors:
        taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in d.taints]
        t = NodeTemplate(d.node_group, "existing", d.capacity, dict(d.node_labels), taints, {"pods": Fraction(110)},
                         d.min_nodes, d.max_nodes, d.gpus_per_node, "none")
        t.allocatable.update(_gpu_resources(d.gpus_per_node, d.sharing, ctx.mig_strategy))
        t.notes.append("existing cluster: labels and taints as declared in llmfleet:gpuPools")
        out.append(t)
    return out


def node_templates(ctx) -> list[NodeTemplate]:
    res = ctx.resources
    if ctx.cloud == "existing":
        return _existing(ctx)
    out = {"aws": _aws, "gcp": _gcp, "azure": _azure}.get(ctx.cloud, lambda *_: [])(res, ctx)
    return out + _karpenter(ctx.objects, ctx)
