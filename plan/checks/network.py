"""NetworkPolicies as an enforcing CNI evaluates them (networking.k8s.io/v1 semantics): every path the plan needs is
open, every owned namespace denies by default, and a pod outside the allowed paths cannot call a model server.

A connection is allowed when the source pod's egress and the destination pod's ingress both allow it; a pod no
policy of that direction selects is not isolated in it. Two readings where the API leaves room:
- ipBlock for pod IPs is implementation-defined, and the API server's address is unknown offline: proving a
  needed path open treats an ipBlock as matching no pod and an address outside the cluster only for 0.0.0.0/0;
  proving a path closed treats any ipBlock as matching (the worst case for each question).
- Pods that charts render are not in the plan; where a rule needs one it uses the chart's pod labels below and
  says so in the message.
"""
import re
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlparse

from plan.checks import Check
from plan.checks.context import obj_id
from plan.checks.match import selector_matches
from spec.platform import DEFAULT_NAMESPACES

NS_LABEL = "kubernetes.io/metadata.name"       # the API server sets it on every namespace
# Pod labels of chart-rendered callers and targets (prometheus-operator's Prometheus pods, keda 2.20.2,
# prometheus-adapter 5.3.0, kuberay-operator 1.7.0 and CoreDNS/kube-dns on every supported distribution).
PROMETHEUS_POD = {"app.kubernetes.io/name": "prometheus", "prometheus": "kube-prometheus-stack-prometheus"}
CHART_SERVICES = {"kube-prometheus-stack-prometheus": (PROMETHEUS_POD, 9090)}
KEDA_OPERATOR_POD = {"app": "keda-operator", "app.kubernetes.io/name": "keda-operator"}
ADAPTER_POD = {"app.kubernetes.io/name": "prometheus-adapter"}
KUBERAY_POD = {"app.kubernetes.io/name": "kuberay-operator"}
KUBE_DNS_POD = {"k8s-app": "kube-dns"}
# Target ports of chart Services a rendered monitor names by port name: (selector label, value, port name) -> port.
CHART_TARGET_PORTS = {("app.kubernetes.io/name", "dcgm-exporter", "metrics"): 9400}
KSERVE_PORT = 8080          # KServe's Hugging Face runtime serves (and exposes metrics) here
RAY_GCS, RAY_DASHBOARD = 6379, 8265
_SVC_URL = re.compile(r"(?:[a-z]+://)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc"
                      r"(?:\.cluster\.local)?(?::(\d+))?")


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict
    what: str
    ports: tuple = ()       # container ports, for named ports


# An address outside the pod network: the API server, the internet, a node.
OUTSIDE = Pod("", {}, "an address outside the pod network")


class Policies:
    def __init__(self, objects: list, namespaces: dict):
        self.items = [o for o in objects if o.get("kind") == "NetworkPolicy"]
        self.namespaces = namespaces

    def ns_labels(self, ns: str) -> dict:
        return {**(self.namespaces.get(ns) or {}), NS_LABEL: ns}

    @staticmethod
    def types(pol: dict) -> list:
        spec = pol.get("spec") or {}
        return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))

    def selecting(self, pod: Pod, direction: str) -> list:
        return [p for p in self.items if (p.get("metadata") or {}).get("namespace") == pod.namespace
                and direction in self.types(p)
                and selector_matches((p.get("spec") or {}).get("podSelector") or {}, pod.labels)]

    def _peer(self, peer: dict, pol_ns: str, other: Optional[Pod], strict: bool) -> bool:
        if "ipBlock" in peer:
            b = peer["ipBlock"]
            if other is OUTSIDE:
                return not strict or (b.get("cidr") in ("0.0.0.0/0", "::/0") and not b.get("except"))
            return not strict
        if other is OUTSIDE:
            return False
        ns_sel = peer.get("namespaceSelector")
        ns_ok = other.namespace == pol_ns if ns_sel is None else selector_matches(ns_sel, self.ns_labels(other.namespace))
        return ns_ok and selector_matches(peer.get("podSelector") or {}, other.labels)

    @staticmethod
    def _port(rule_ports: list, port: Optional[int], proto: str, dst: Optional[Pod], strict: bool) -> bool:
        if not rule_ports:
            return True
        for rp in rule_ports:
            if rp.get("protocol", "TCP") != proto:
                continue
            p = rp.get("port")
            if p is None:
                return True
            if port is None:
                if not strict:
                    return True
                continue
            if isinstance(p, str) and not p.isdigit():
                named = [c.get("containerPort") for c in (dst.ports if dst else ()) if c.get("name") == p]
                if (named and port in named) or (not named and not strict):
                    return True
                continue
            if int(p) <= port <= int(rp.get("endPort", p)):
                return True
        return False

    def allows(self, src: Optional[Pod], dst: Optional[Pod], port: Optional[int], proto: str = "TCP",
               strict: bool = True) -> tuple[bool, str]:
        """(allowed, why not)."""
        for direction, me, other, key, peers in (("Egress", src, dst, "egress", "to"),
                                                 ("Ingress", dst, src, "ingress", "from")):
            if me is OUTSIDE:
                continue
            pols = self.selecting(me, direction)
            if not pols:
                continue
            ok = any(self._port(r.get("ports") or [], port, proto, dst, strict)
                     and (not r.get(peers) or any(self._peer(pe, p["metadata"]["namespace"], other, strict)
                                                  for pe in r[peers]))
                     for p in pols for r in (p.get("spec") or {}).get(key) or [])
            if not ok:
                names = ", ".join(sorted(p["metadata"]["name"] for p in pols))
                return False, f"{direction.lower()} of {me.what} ({me.namespace}) allows no such peer ({names})"
        return True, ""


def _pod(t, what=None) -> Pod:
    ports = tuple(p for c in t.containers() for p in c.get("ports") or [])
    return Pod(t.namespace, t.labels, what or t.owner, ports)


def _service_targets(ctx, svc: dict, port_name_or_num) -> list[tuple[Pod, Optional[int]]]:
    """Pods behind a rendered Service and the container port a Service port (by name or number) reaches."""
    ns = svc["metadata"]["namespace"]
    spec = svc.get("spec") or {}
    sp = next((p for p in spec.get("ports") or [] if p.get("name") == port_name_or_num
               or p.get("port") == port_name_or_num), None)
    if sp is None:
        return []
    target = sp.get("targetPort", sp.get("port"))
    out = []
    for t in ctx.pods:
        if t.namespace == ns and spec.get("selector") and selector_matches({"matchLabels": spec["selector"]}, t.labels):
            pod = _pod(t)
            if isinstance(target, str) and not target.isdigit():
                nums = [p.get("containerPort") for p in pod.ports if p.get("name") == target]
                out.append((pod, nums[0] if nums else None))
            else:
                out.append((pod, int(target)))
    return out


def _resolve_url(ctx, url: str) -> list[tuple[Optional[Pod], Optional[int], str]]:
    """What a URL or host:port reaches: rendered pods behind the Service, a chart Service's pods, or outside."""
    m = _SVC_URL.fullmatch(url.split("/", 3)[2] if "://" in url else url) if url else None
    u = urlparse(url if "://" in url else f"tcp://{url}")
    port = u.port or (443 if u.scheme == "https" else 80)
    if m is None:
        host = u.hostname or url
        if "." not in host or host.endswith((".svc", ".cluster.local")):
            return [(Pod("?", {}, host), port, f"{host}: not a Service this plan can name")]
        return [(OUTSIDE, port, f"{host} (outside the cluster)")]
    name, ns = m.group(1), m.group(3)
    svc = ctx.get("Service", ns, name)
    if svc is not None:
        found = _service_targets(ctx, svc, port)
        return [(p, n, f"Service {ns}/{name} -> {p.what}") for p, n in found] or \
            [(None, None, f"Service {ns}/{name} selects no rendered pod on port {port}")]
    labels, target = CHART_SERVICES.get(name, ({}, port))
    how = "pod labels and target port from the chart" if name in CHART_SERVICES else \
        "not rendered by the plan: any pod of the namespace, target port = Service port"
    return [(Pod(ns, labels, f"Service {ns}/{name}"), target, f"Service {ns}/{name} ({how})")]


def needed_paths(ctx) -> list[tuple[str, Optional[Pod], Optional[Pod], Optional[int], str, str]]:
    """(object, source, destination, port, protocol, what) for every path a rendered object needs."""
    out = []
    kps = ctx.release("kube-prometheus-stack")
    prom = Pod(kps.namespace if kps else "monitoring", PROMETHEUS_POD, "Prometheus")
    for mon in ctx.kind("ServiceMonitor", "PodMonitor"):
        spec = mon.get("spec") or {}
        sel = spec.get("selector") or {}
        ns_list = (spec.get("namespaceSelector") or {}).get("matchNames") or [mon["metadata"]["namespace"]]
        endpoints = spec.get("endpoints") or spec.get("podMetricsEndpoints") or []
        for ns in ns_list:
            for ep in endpoints:
                port = ep.get("portNumber") or ep.get("targetPort") or ep.get("port")
                targets = []
                if mon["kind"] == "ServiceMonitor":
                    for svc in ctx.kind("Service"):
                        if svc["metadata"].get("namespace") == ns and selector_matches(sel, svc["metadata"].get("labels") or {}):
                            targets += _service_targets(ctx, svc, port)
                else:
                    for t in ctx.pods:
                        if t.namespace == ns and selector_matches(sel, t.labels):
                            pod = _pod(t)
                            nums = [p.get("containerPort") for p in pod.ports if p.get("name") == port]
                            targets.append((pod, port if isinstance(port, int) else (nums[0] if nums else None)))
                if not targets:    # a chart's exporter: its pods are not in the plan
                    labels = sel.get("matchLabels") or {}
                    num = port if isinstance(port, int) else next(
                        (v for (k, val, name), v in CHART_TARGET_PORTS.items() if labels.get(k) == val and name == port),
                        None)
                    targets = [(Pod(ns, labels, f"chart pods {labels} in {ns}"), num)]
                for pod, num in targets:
                    out.append((obj_id(mon), prom, pod, num, "TCP", f"Prometheus scrapes {pod.what} port {port}"))

    keda = ctx.release("keda")
    for so in ctx.kind("ScaledObject"):
        src = Pod(keda.namespace if keda else "llm-system", KEDA_OPERATOR_POD, "KEDA operator")
        for trig in (so.get("spec") or {}).get("triggers") or []:
            md = trig.get("metadata") or {}
            addr = md.get("serverAddress") if trig.get("type") == "prometheus" else \
                md.get("address") if trig.get("type") == "redis" else None
            for dst, num, what in (_resolve_url(ctx, addr) if addr else []):
                out.append((obj_id(so), src, dst, num, "TCP", f"KEDA {trig['type']} trigger -> {what}"))

    adapter = ctx.release("prometheus-adapter")
    if adapter is not None:
        pv = adapter.values.get("prometheus") or {}
        url = f"{pv.get('url', '')}:{int(float(pv.get('port', 80)))}"
        for dst, num, what in _resolve_url(ctx, url):
            out.append((adapter.id, Pod(adapter.namespace, ADAPTER_POD, "prometheus-adapter"), dst, num, "TCP",
                        f"prometheus-adapter queries {what}"))

    for t in ctx.pods:    # rendered pods that call a Service by its cluster DNS name
        texts = [str(e.get("value", "")) for c in t.containers() for e in c.get("env") or []] + \
                [str(a) for c in t.containers() for a in (c.get("args") or []) + (c.get("command") or [])]
        for text in texts:
            for m in _SVC_URL.finditer(text):
                for dst, num, what in _resolve_url(ctx, m.group(0)):
                    out.append((t.owner, _pod(t), dst, num, "TCP", f"{t.owner} calls {what}"))

    owned = set(ctx.namespaces)
    for t in ctx.pods:
        if t.namespace in owned:
            out.append((t.owner, _pod(t), Pod("kube-system", KUBE_DNS_POD, "kube-dns"), 53, "UDP", "DNS"))
        if t.labels.get("llmfleet.io/engine"):
            out.append((t.owner, _pod(t), OUTSIDE, 443, "TCP", "weights from Hugging Face (HTTPS)"))
    from components.security.paths import KNATIVE_SERVING, QUEUE_PROXY
    for isvc in ctx.kind("InferenceService"):
        mode = ((isvc["metadata"].get("annotations") or {}).get("serving.kserve.io/deploymentMode"))
        if mode not in ("Knative", "Serverless"):
            continue
        for t in ctx.pods:
            if t.kind == "InferenceService" and t.name == isvc["metadata"]["name"] and t.namespace == isvc["metadata"]["namespace"]:
                for p in QUEUE_PROXY:
                    out.append((obj_id(isvc), Pod(KNATIVE_SERVING, {}, "Knative activator/autoscaler"), _pod(t),
                                p.port, "TCP", "Knative calls the queue-proxy"))
    for rs in ctx.kind("RayService"):
        ns, name = rs["metadata"]["namespace"], rs["metadata"]["name"]
        ray = [t for t in ctx.pods if t.kind == "RayService" and t.name == name and t.namespace == ns]
        head = next((t for t in ray if t.owner.endswith(" head")), None)
        kuberay = ctx.release("kuberay-operator")
        if head is None:
            continue
        for w in ray:
            if w is not head:
                out.append((obj_id(rs), _pod(w), _pod(head), RAY_GCS, "TCP", "Ray worker joins the head (GCS)"))
        if kuberay is not None:
            out.append((obj_id(rs), Pod(kuberay.namespace, KUBERAY_POD, "KubeRay operator"), _pod(head),
                        RAY_DASHBOARD, "TCP", "KubeRay deploys Serve through the head's dashboard"))
        if ((rs.get("spec") or {}).get("rayClusterConfig") or {}).get("enableInTreeAutoscaling"):
            out.append((obj_id(rs), _pod(head), OUTSIDE, 443, "TCP",
                        "the Ray autoscaler sidecar in the head calls the API server"))

    from components.security.paths import API_SERVER, WEBHOOKS
    for r in ctx.releases:
        if r.chart == "vpa" and (r.values.get("metrics-server") or {}).get("enabled"):
            out.append((r.id, Pod(r.namespace, {"app.kubernetes.io/name": "metrics-server"}, "metrics-server"), OUTSIDE,
                        10250, "TCP", "metrics-server scrapes every kubelet"))
        if r.namespace in owned:
            out.append((r.id, Pod(r.namespace, _chart_pod_labels(r), f"{r.chart} pods"), OUTSIDE,
                        API_SERVER[0].port, "TCP", "the chart's controllers call the API server"))
        for p in WEBHOOKS.get(r.chart, ()):
            out.append((r.id, OUTSIDE, Pod(r.namespace, {}, f"{r.chart} webhook pods"), p.port, p.protocol,
                        f"the API server calls {r.chart}'s webhook / aggregated API"))
    from plan.checks import gateway
    out += gateway.needed_paths(ctx, lambda url: _resolve_url(ctx, url), _pod)
    return out


def _chart_pod_labels(r) -> dict:
    """The pod labels of a release whose pods' labels the pinned chart fixes and the program relies on ({} =
    any pod of the namespace): the endpoint picker's (components/gateway/picker.py)."""
    if r.chart == "llm-d-router-gateway":
        from components.gateway.picker import release_creates_pool, release_pod_labels
        return release_pod_labels(r.name, release_creates_pool(r.values))
    return {}


def model_endpoints(ctx) -> list[tuple[Pod, int, object]]:
    """Every model server pod and the port its clients call."""
    out = []
    for t in ctx.pods:
        if not t.labels.get("llmfleet.io/engine"):
            continue
        pod = _pod(t)
        if t.kind == "InferenceService":
            out.append((pod, KSERVE_PORT, t))
        port = next((p.get("containerPort") for p in pod.ports if p.get("name") in ("http", "serve")), None)
        if port is not None:
            out.append((pod, port, t))
    return out


def check(ctx) -> list[Check]:
    policies = Policies(ctx.objects, ctx.namespaces)
    if not policies.items:
        return [Check("network.policies", "_cluster", "unchecked",
                      "no NetworkPolicy rendered (llmfleet:security.networkPolicies false): every pod reaches every "
                      "other")]
    out = []
    # The namespaces the program owns (components/security/paths.py NetworkInputs.owned); a user's own namespace
    # in llmfleet:platform is theirs to police.
    owned = set(DEFAULT_NAMESPACES) | {t.namespace for t in ctx.pods if t.labels.get("llmfleet.io/engine")}
    for ns in sorted(owned & set(ctx.namespaces)):
        deny = [p for p in policies.items if p["metadata"].get("namespace") == ns
                and not (p["spec"].get("podSelector") or {}).get("matchLabels")
                and not (p["spec"].get("podSelector") or {}).get("matchExpressions")
                and set(policies.types(p)) == {"Ingress", "Egress"}
                and not p["spec"].get("ingress") and not p["spec"].get("egress")]
        out.append(Check("network.default-deny", f"Namespace {ns}", "pass" if deny else "fail",
                         "denies ingress and egress by default" if deny else
                         "no default-deny policy (podSelector {}, policyTypes Ingress and Egress, no rules)"))

    for obj, src, dst, port, proto, what in needed_paths_cache(ctx):
        if dst is None or (dst is not OUTSIDE and dst.namespace == "?"):
            out.append(Check("network.reachable", obj, "unchecked", what))
            continue
        if port is None and (dst is OUTSIDE or dst.namespace in ctx.namespaces):
            out.append(Check("network.reachable", obj, "unchecked", f"{what}: port unknown to the plan"))
            continue
        ok, why = policies.allows(src, dst, port, proto, strict=True)
        out.append(Check("network.reachable", obj, "pass" if ok else "fail",
                         f"{what}: {proto} {port or 'any'} open" if ok else f"{what}: {proto} {port} blocked: {why}"))

    clients = set(ctx.model_clients)
    for pod, port, t in model_endpoints(ctx):
        mine = clients or {pod.namespace}
        for ns in sorted(mine):
            ok, why = policies.allows(Pod(ns, {}, f"a pod in {ns}"), pod, port, strict=True)
            out.append(Check("network.model-clients", t.owner, "pass" if ok else "fail",
                             f"a client pod in {ns} reaches port {port}" if ok else
                             f"a client pod in {ns} (llmfleet:security.modelClients) cannot reach port {port}: {why}"))
        # Outsiders: a namespace nobody listed, and every owned namespace that is not a client. Monitoring
        # scrapes the model's own port where metrics share it; that path is reported, not counted as a leak.
        metrics_ns = {p.namespace for _, src, d, n, _, _ in needed_paths_cache(ctx) if src and d == pod and n == port
                      for p in (src,)}
        outsiders = sorted(({"default"} | set(ctx.namespaces)) - mine - metrics_ns)
        leaks = [ns for ns in outsiders
                 if policies.allows(Pod(ns, {}, f"a pod in {ns}"), pod, port, strict=False)[0]]
        out.append(Check("network.model-isolated", t.owner, "fail" if leaks else "pass",
                         f"pods in {', '.join(leaks)} can reach port {port} (not in llmfleet:security.modelClients)"
                         if leaks else f"no pod in {', '.join(outsiders)} reaches port {port}"
                         + (f"; {', '.join(sorted(metrics_ns))} scrapes it" if metrics_ns else "")))
    return out


def needed_paths_cache(ctx):
    cached = getattr(ctx, "_network_paths", None)
    if cached is None:
        cached = needed_paths(ctx)
        ctx._network_paths = cached
    return cached
