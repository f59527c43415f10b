"""Storage (FACTS-cluster 3): every claim names a class that exists on a new cluster (created by the plan or by
the cloud), or there is a default class; RWX claims use an RWX-capable provisioner; an EBS/EFS class needs its
EKS add-on."""
from plan.checks import Check
from plan.checks import cloud_facts as F

_DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def _classes(ctx) -> dict:
    classes = {k: dict(v, source=f"{ctx.cloud} default") for k, v in F.CLOUD_STORAGE_CLASSES.get(ctx.cloud, {}).items()}
    for sc in ctx.kind("StorageClass"):
        ann = sc["metadata"].get("annotations") or {}
        prov = sc.get("provisioner", "")
        classes[sc["metadata"]["name"]] = {"default": ann.get(_DEFAULT_ANNOTATION) == "true", "provisioner": prov,
                                           "rwx": prov in F.RWX_PROVISIONERS, "source": "the plan",
                                           "needs_addon": F.EKS_ADDON_FOR_PROVISIONER.get(prov)
                                           if ctx.cloud == "aws" else None}
    return classes


def _claims(ctx):
    """(object id, claim spec) for PVCs, StatefulSet claim templates and chart values that make claims."""
    for pvc in ctx.kind("PersistentVolumeClaim"):
        m = pvc["metadata"]
        yield f"PersistentVolumeClaim {m.get('namespace')}/{m['name']}", pvc.get("spec") or {}
    for sts in ctx.kind("StatefulSet"):
        m = sts["metadata"]
        for t in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            yield (f"StatefulSet {m.get('namespace')}/{m['name']} claim {t['metadata']['name']}", t.get("spec") or {})
    for r in ctx.releases:
        if r.chart == "kube-prometheus-stack":
            for comp, spec_key in (("prometheus", "prometheusSpec"), ("alertmanager", "alertmanagerSpec")):
                st = ((r.values.get(comp) or {}).get(spec_key) or {}).get("storageSpec") or {}
                vct = st.get("volumeClaimTemplate")
                if vct:
                    yield f"{r.id} {comp}.{spec_key}.storageSpec", vct.get("spec") or {}
            g = r.values.get("grafana") or {}
            if (g.get("persistence") or {}).get("enabled"):
                yield f"{r.id} grafana.persistence", {"storageClassName": g["persistence"].get("storageClassName"),
                                                     "accessModes": g["persistence"].get("accessModes", [])}


def check(ctx) -> list[Check]:
    classes = _classes(ctx)
    addons = {r.inputs.get("addonName") for r in ctx.resources if r.type == "aws:eks/addon:Addon"}
    defaults = [k for k, v in classes.items() if v["default"]]
    out = []
    for oid, spec in _claims(ctx):
        name = spec.get("storageClassName")
        problems = []
        if name is None:
            if not defaults:
                problems.append(f"no storageClassName and no default StorageClass on a new {ctx.cloud} cluster "
                                f"(classes: {sorted(classes) or 'none'}): the claim stays Pending")
            name = defaults[0] if defaults else None
        elif name == "":
            problems.append("storageClassName \"\" asks for a pre-provisioned volume the plan does not create")
        elif name not in classes:
            problems.append(f"StorageClass {name!r} neither created by the plan nor provided by {ctx.cloud}")
        c = classes.get(name) if name else None
        if c:
            if "ReadWriteMany" in (spec.get("accessModes") or []) and not c["rwx"]:
                problems.append(f"ReadWriteMany on class {name!r} ({c['provisioner']}), which cannot serve RWX")
            if c.get("needs_addon") and c["needs_addon"] not in addons:
                problems.append(f"class {name!r} ({c['provisioner']}) provisions nothing without the EKS add-on "
                                f"{c['needs_addon']}")
        out.append(Check("storage.claims", oid, "fail" if problems else "pass",
                         "; ".join(problems) or f"class {name!r} ({c['source']})"))
    return out
