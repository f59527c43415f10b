"""References (issue 8 rule 5): what an object names must exist and select something real."""
from plan.checks import Check
from plan.checks.match import selector_matches
from plan.checks.secrets import secret_keys, written_secrets

# Objects a named chart creates, listed once (release chart -> kind -> names; "{release}" = the release name,
# "{fullname}" = fullnameOverride or the release name). Only what the plan's objects refer to needs a row.
CHART_CREATES = {
    "kube-prometheus-stack": {"Service": ["{fullname}-prometheus"], "ServiceAccount": ["{fullname}-prometheus"]},
    "gpu-operator": {"ServiceAccount": ["gpu-operator"], "Service": ["nvidia-dcgm-exporter"]},
    "keda": {"ServiceAccount": ["keda-operator"]},
    "kuberay-operator": {"ServiceAccount": ["{fullname}"]},
    "cluster-autoscaler": {"ServiceAccount": ["{fullname}"]},
    "karpenter": {"ServiceAccount": ["karpenter"]},
    "prometheus-adapter": {"Deployment": ["{fullname}"], "Service": ["{fullname}"]},
}
# A chart whose controller must start after another chart's CRDs exist (issue 9 item 15: KServe watches
# ScaledObjects only if KEDA's CRD exists when its controller starts).
INSTALL_AFTER = {"kserve-resources": ("keda",)}
# Namespaces whose pods the platform itself runs (not in the plan): a monitor selecting there cannot be checked.
PLATFORM_NAMESPACES = {
    "envoy-gateway-system": "Envoy Gateway's proxy pods (its controller creates them, AI Gateway's webhook adds the "
                            "extproc sidecar whose port the Gateway's PodMonitor scrapes; docs/gateway.md)",
    "gke-managed-system": "GKE's managed components (the managed DCGM exporter when monitoring_config enables DCGM; "
                          "its pod labels are unverified offline, docs/gcp.md)",
}
# What every cluster has: default ServiceAccount per namespace, the root CA ConfigMap, built-in PriorityClasses.
BUILTIN = {"ServiceAccount": {"default"}, "ConfigMap": {"kube-root-ca.crt"},
           "PriorityClass": {"system-cluster-critical", "system-node-critical"}}


def _exists(ctx, kind, ns, name) -> bool:
    if name in BUILTIN.get(kind, ()):
        return True
    if ctx.get(kind, None if kind == "PriorityClass" else ns, name) is not None:
        return True
    if kind == "Secret" and (ns, name) in written_secrets(ctx):
        return True     # an ExternalSecret's target or a SealedSecret's Secret (plan/checks/secrets.py)
    for r in ctx.releases:
        full = r.values.get("fullnameOverride") or r.name
        names = [n.format(release=r.name, fullname=full) for n in CHART_CREATES.get(r.chart, {}).get(kind, [])]
        if name in names and (kind == "PriorityClass" or r.namespace == ns):
            return True
    return False


def _named(pod):
    """(kind, name, where) for everything a pod spec names."""
    s = pod.spec
    if s.get("serviceAccountName"):
        yield "ServiceAccount", s["serviceAccountName"], "serviceAccountName"
    if s.get("priorityClassName"):
        yield "PriorityClass", s["priorityClassName"], "priorityClassName"
    for ps in s.get("imagePullSecrets") or []:
        yield "Secret", ps.get("name"), "imagePullSecrets"
    claims = {t["metadata"]["name"] for t in ((pod.obj.get("spec") or {}).get("volumeClaimTemplates") or [])}
    for v in s.get("volumes") or []:
        if "secret" in v:
            yield "Secret", v["secret"].get("secretName"), f"volume {v['name']}", v["secret"].get("optional")
        if "configMap" in v:
            yield "ConfigMap", v["configMap"].get("name"), f"volume {v['name']}", v["configMap"].get("optional")
        if "persistentVolumeClaim" in v and v["persistentVolumeClaim"].get("claimName") not in claims:
            yield "PersistentVolumeClaim", v["persistentVolumeClaim"].get("claimName"), f"volume {v['name']}"
    for c in pod.containers():
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            for kind, key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                if key in vf:
                    yield kind, vf[key].get("name"), f"container {c.get('name')} env {e.get('name')}", \
                        vf[key].get("optional")
        for ef in c.get("envFrom") or []:
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if key in ef:
                    yield kind, ef[key].get("name"), f"container {c.get('name')} envFrom", ef[key].get("optional")


def _volume_mounts(pod) -> list[str]:
    vols = {v["name"] for v in pod.spec.get("volumes") or []}
    vols |= {t["metadata"]["name"] for t in ((pod.obj.get("spec") or {}).get("volumeClaimTemplates") or [])}
    return [f"container {c.get('name')} mounts {m['name']}, which is no volume" for c in pod.containers()
            for m in c.get("volumeMounts") or [] if m["name"] not in vols]


def _pods_in(ctx, ns):
    return [p for p in ctx.pods if p.namespace == ns]


def _ports(pod) -> dict:
    return {p.get("name"): p.get("containerPort") for c in pod.spec.get("containers") or [] for p in c.get("ports") or []}


def _services(ctx) -> list[Check]:
    out = []
    for svc in ctx.kind("Service"):
        m, spec = svc["metadata"], svc.get("spec") or {}
        oid = f"Service {m.get('namespace')}/{m['name']}"
        sel = spec.get("selector")
        if not sel:
            out.append(Check("references.service", oid, "unchecked", "no selector (endpoints managed elsewhere)"))
            continue
        pods = [p for p in _pods_in(ctx, m.get("namespace")) if all(p.labels.get(k) == v for k, v in sel.items())]
        problems = [] if pods else [f"selector {sel} matches no pod template in {m.get('namespace')}"]
        for port in spec.get("ports") or []:
            tp = port.get("targetPort", port.get("port"))
            if isinstance(tp, str):
                missing = [p.owner for p in pods if tp not in _ports(p)]
                if missing:
                    problems.append(f"targetPort {tp!r} is not a named container port of {', '.join(missing)}")
        out.append(Check("references.service", oid, "fail" if problems else "pass",
                         "; ".join(problems) or f"selects {', '.join(p.owner for p in pods)}"))
    return out


def _monitors(ctx) -> list[Check]:
    out = []
    for mon in ctx.kind("ServiceMonitor", "PodMonitor"):
        m, spec = mon["metadata"], mon.get("spec") or {}
        oid = f"{mon['kind']} {m.get('namespace')}/{m['name']}"
        nss = (spec.get("namespaceSelector") or {})
        names = [m.get("namespace")] if not nss.get("any") and not nss.get("matchNames") else nss.get("matchNames")
        sel = spec.get("selector") or {}
        problems = []
        if names and all(n in PLATFORM_NAMESPACES for n in names):
            out.append(Check("references.monitor", oid, "unchecked",
                             "selects pods the platform runs: " + "; ".join(PLATFORM_NAMESPACES[n] for n in names)))
            continue
        if mon["kind"] == "ServiceMonitor":
            svcs = [s for s in ctx.kind("Service") if (names is None or s["metadata"].get("namespace") in names)
                    and selector_matches(sel, s["metadata"].get("labels") or {})]
            if not svcs:
                problems.append(f"selector {sel} matches no Service in {names or 'any namespace'}")
            for ep in spec.get("endpoints") or []:
                if ep.get("port") and svcs and not any(ep["port"] in [p.get("name") for p in
                                                                     (s.get("spec") or {}).get("ports") or []]
                                                      for s in svcs):
                    problems.append(f"endpoint port {ep['port']!r} is not a port name of the selected Services")
            found = ", ".join(f"Service {s['metadata'].get('namespace')}/{s['metadata']['name']}" for s in svcs)
        else:
            pods = [p for p in ctx.pods if (names is None or p.namespace in names) and selector_matches(sel, p.labels)]
            if not pods:
                problems.append(f"selector {sel} matches no pod template in {names or 'any namespace'}")
            for ep in spec.get("podMetricsEndpoints") or []:
                if ep.get("port") and pods and not any(ep["port"] in _ports(p) for p in pods):
                    problems.append(f"podMetricsEndpoints port {ep['port']!r} is not a container port name")
            found = ", ".join(p.owner for p in pods)
        out.append(Check("references.monitor", oid, "fail" if problems else "pass",
                         "; ".join(problems) or f"selects {found}"))
    return out


def _targets(ctx) -> list[Check]:
    out = []
    for o in ctx.kind("HorizontalPodAutoscaler", "ScaledObject", "VerticalPodAutoscaler"):
        m, spec = o["metadata"], o.get("spec") or {}
        ref = spec.get("scaleTargetRef") or spec.get("targetRef") or {}
        kind = ref.get("kind") or ("Deployment" if o["kind"] == "ScaledObject" else "")
        target = ctx.get(kind, m.get("namespace"), ref.get("name")) or \
            (_exists(ctx, kind, m.get("namespace"), ref.get("name")) or None)
        out.append(Check("references.scale-target", f"{o['kind']} {m.get('namespace')}/{m['name']}",
                         "pass" if target else "fail",
                         f"targets {kind} {ref.get('name')}" if target else
                         f"target {kind} {m.get('namespace')}/{ref.get('name')} is not in the plan"))
    for pdb in ctx.kind("PodDisruptionBudget"):
        m = pdb["metadata"]
        sel = (pdb.get("spec") or {}).get("selector") or {}
        pods = [p for p in _pods_in(ctx, m.get("namespace")) if selector_matches(sel, p.labels)]
        out.append(Check("references.pdb", f"PodDisruptionBudget {m.get('namespace')}/{m['name']}",
                         "pass" if pods else "fail",
                         f"selects {', '.join(p.owner for p in pods)}" if pods
                         else f"selector {sel} matches no pod template"))
    return out


def _kserve_credentials(ctx) -> list[Check]:
    """KServe's storage initializer gets HF_TOKEN only from a Secret attached to the predictor's ServiceAccount
    (kserve pkg/credentials/hf/hf_secret.go, service_account_credentials.go; issue 9 item 6)."""
    out = []
    for isvc in ctx.kind("InferenceService"):
        m, pred = isvc["metadata"], (isvc.get("spec") or {}).get("predictor") or {}
        model = pred.get("model") or {}
        if not str(model.get("storageUri", "")).startswith("hf://"):
            continue
        wants_token = any(e.get("name") == "HF_TOKEN" for e in model.get("env") or [])
        if not wants_token:
            continue
        sa_name = pred.get("serviceAccountName", "default")
        sa = ctx.get("ServiceAccount", m.get("namespace"), sa_name)
        ok = False
        for ref in (sa or {}).get("secrets") or []:
            ok = ok or "HF_TOKEN" in secret_keys(ctx, m.get("namespace"), ref.get("name"))
        out.append(Check("references.kserve-hf-credentials", f"InferenceService {m.get('namespace')}/{m['name']}",
                         "pass" if ok else "fail",
                         f"ServiceAccount {sa_name} carries a Secret with key HF_TOKEN" if ok else
                         f"gated weights ({model['storageUri']}) but ServiceAccount {sa_name!r} has no Secret with "
                         f"key HF_TOKEN: the storage initializer cannot download them (the container's env does not "
                         f"reach it)"))
    return out


def _model_monitoring(ctx) -> list[Check]:
    """Every model's pods are scraped (a ServiceMonitor through a Service, or a PodMonitor): autoscaling and
    alerts read their metrics (issue 9 item 17)."""
    out = []
    for pod in ctx.pods:
        if not pod.model or "head" in pod.owner:
            continue
        via = []
        for mon in ctx.kind("PodMonitor"):
            if mon["metadata"].get("namespace") == pod.namespace and \
                    selector_matches((mon.get("spec") or {}).get("selector") or {}, pod.labels):
                via.append(f"PodMonitor {mon['metadata']['name']}")
        for svc in ctx.kind("Service"):
            sel = (svc.get("spec") or {}).get("selector") or {}
            if svc["metadata"].get("namespace") != pod.namespace or not sel or \
                    any(pod.labels.get(k) != v for k, v in sel.items()):
                continue
            for mon in ctx.kind("ServiceMonitor"):
                if selector_matches((mon.get("spec") or {}).get("selector") or {}, svc["metadata"].get("labels") or {}):
                    via.append(f"ServiceMonitor {mon['metadata']['name']}")
        out.append(Check("references.model-metrics", pod.owner, "pass" if via else "fail",
                         f"scraped via {', '.join(via)}" if via else
                         f"no ServiceMonitor or PodMonitor scrapes model {pod.model}'s pods: its autoscaling and "
                         f"alerts get no data"))
    return out


# Readiness paths that answer only once the model is loaded, per serving container (issue 9 item 17): KServe's
# model server answers `/` as soon as the process is up; its per-model endpoints wait for the model.
READY_PATHS = {"kserve-container": ("/v1/models/", "/v2/models/", "/v2/health/ready")}


def _model_readiness(ctx) -> list[Check]:
    out = []
    for pod in ctx.pods:
        for c in pod.spec.get("containers") or []:
            wanted = READY_PATHS.get(c.get("name"))
            if not wanted or not pod.model:
                continue
            path = ((c.get("readinessProbe") or {}).get("httpGet") or {}).get("path")
            ok = bool(path) and path.startswith(wanted)
            out.append(Check("references.model-readiness", f"{pod.owner} container {c['name']}",
                             "pass" if ok else "fail",
                             f"readiness waits for the model ({path})" if ok else
                             f"readiness probe path {path!r} answers before the model is loaded; use one of "
                             f"{', '.join(wanted)} (per-model endpoints)"))
    return out


def _gpu_metrics(ctx) -> list[Check]:
    """Dashboards and alert rules that read DCGM metrics need an exporter on every GPU group: the GPU Operator's
    (operands not opted out), a standalone dcgm-exporter chart, or GKE's managed DCGM (monitoring_config DCGM
    component with managed Prometheus; issue 9 item 16)."""
    import json
    readers = [o for o in ctx.kind("PrometheusRule", "ConfigMap") if "DCGM_FI_" in json.dumps(o)]
    gpu_nodes = [n for n in ctx.nodes if n.gpus]
    if not readers or not gpu_nodes:
        return []
    op = ctx.release("gpu-operator")
    op_dcgm = op is not None and ((op.values.get("dcgmExporter") or {}).get("enabled", True) is not False)
    standalone = ctx.release("dcgm-exporter") is not None
    gke_managed = False
    for r in ctx.resources:
        if r.type == "gcp:container/cluster:Cluster":
            mc = r.inputs.get("monitoringConfig") or {}
            gke_managed = "DCGM" in (mc.get("enableComponents") or []) and \
                bool((mc.get("managedPrometheus") or {}).get("enabled"))
    unexported = [n for n in gpu_nodes if not (standalone or gke_managed or (
        op_dcgm and n.labels.get("nvidia.com/gpu.deploy.operands") != "false"
        and n.labels.get("nvidia.com/gpu.deploy.dcgm-exporter") != "false"))]
    # A pool that opts out of every operator operand does so by design (Bottlerocket: the image runs its own
    # device plugin, and DCGM exporter fails to initialise NVML there, bottlerocket-os/bottlerocket#3992): its GPUs
    # are reported, not hidden, as unwatched.
    by_design = [n.name for n in unexported if n.labels.get("nvidia.com/gpu.deploy.operands") == "false"]
    dark = [n.name for n in unexported if n.name not in by_design]
    names = ", ".join(f"{o['kind']} {o['metadata']['name']}" for o in readers)
    out = [Check("references.gpu-metrics", "cluster", "fail" if dark else "pass",
                 f"{names} read DCGM metrics, but no exporter runs on {', '.join(dark)}" if dark
                 else f"every GPU group that runs operator operands has a DCGM exporter for {names}")]
    if by_design:
        out.append(Check("references.gpu-metrics", "cluster", "unchecked",
                         f"no DCGM exporter on {', '.join(by_design)} (operands opted out: Bottlerocket, docs/aws.md): "
                         f"GPU dashboards and alerts do not see these GPUs"))
    return out


def _install_order_waits(ctx, urn, target) -> bool:
    """Pulumi waits for every dependency, and for a component dependency's whole subtree."""
    deps = {r.urn: set(r.dependencies) for r in ctx.resources}
    children = {}
    for r in ctx.resources:
        children.setdefault(r.parent, set()).add(r.urn)
    seen, todo = set(), list(deps.get(urn, ()))
    while todo:
        d = todo.pop()
        if d == target:
            return True
        if d in seen:
            continue
        seen.add(d)
        todo.extend(children.get(d, ()))
        todo.extend(deps.get(d, ()))
    return False


def _install_order(ctx) -> list[Check]:
    out = []
    helm = [r for r in ctx.resources if r.type.startswith("kubernetes:helm.sh/") and r.custom]
    chart_of = {r.urn: str(r.inputs.get("chart", "")).rsplit("/", 1)[-1] for r in helm}

    def waits_for(urn, target) -> bool:
        return _install_order_waits(ctx, urn, target)

    for r in helm:
        for need in INSTALL_AFTER.get(chart_of[r.urn], ()):
            others = [u for u, c in chart_of.items() if c == need]
            if not others:
                continue
            ok = all(waits_for(r.urn, u) for u in others)
            out.append(Check("references.install-order", f"helm release {r.inputs.get('name', r.name)}",
                             "pass" if ok else "fail",
                             f"installs after {need}" if ok else
                             f"installs in parallel with {need}; its controller must start after {need}'s CRDs exist"))
    return out


def check(ctx) -> list[Check]:
    out = []
    for pod in ctx.pods:
        problems = []
        for kind, name, where, *opt in _named(pod):
            if opt and opt[0]:
                continue
            if not name or not _exists(ctx, kind, pod.namespace, name):
                problems.append(f"{where} names {kind} {name!r}, which neither the plan nor a listed chart creates")
        problems += _volume_mounts(pod)
        out.append(Check("references.pod", pod.owner, "fail" if problems else "pass",
                         "; ".join(problems) or "every Secret, ConfigMap, ServiceAccount, PVC and PriorityClass it "
                                                "names exists"))
    return out + _services(ctx) + _monitors(ctx) + _targets(ctx) + _kserve_credentials(ctx) \
        + _model_monitoring(ctx) + _install_order(ctx) + _gpu_metrics(ctx) \
        + _model_readiness(ctx)
