"""The Gateway's references (docs/gateway.md, docs/cluster-checks.md): routes attach to a Gateway listener that
admits them; every backend a route names exists with the port it uses and selects model pods; policies target
objects that exist; the listener's certificate Secret is created by a Certificate whose issuer exists; the API-key
Secret exists; InferencePools select pods that have their target ports. Plus the network paths the data plane
needs (plan/checks/network.py proves them open).

AI Gateway turns each AIGatewayRoute into an HTTPRoute of the same name in its namespace
(envoyproxy/ai-gateway v1.1.0 internal/controller/ai_gateway_route.go): policies that target that HTTPRoute are
checked against the AIGatewayRoute.
"""
from typing import Optional

from plan.checks import Check
from plan.checks.context import obj_id
from plan.checks.match import selector_matches

GW = "gateway.networking.k8s.io"
POOL_GROUP = "inference.networking.k8s.io"
NS_LABEL = "kubernetes.io/metadata.name"
# Chart-created Services routes may name (release -> Service names; Open WebUI's Service is named after the release).
CHART_SERVICES = {"open-webui": "{release}"}
ENVOY_NAMESPACE = "envoy-gateway-system"


def _ns(o: dict) -> Optional[str]:
    return (o.get("metadata") or {}).get("namespace")


def _listener_admits(ctx, gw: dict, listener: dict, route_ns: str) -> Optional[str]:
    """Why a listener does not admit routes from `route_ns`, or None."""
    ns_rule = ((listener.get("allowedRoutes") or {}).get("namespaces") or {"from": "Same"})
    how = ns_rule.get("from", "Same")
    if how == "All":
        return None
    if how == "Same":
        return None if route_ns == _ns(gw) else f"listener {listener['name']} admits routes from its own namespace only"
    labels = {**(ctx.namespaces.get(route_ns) or {}), NS_LABEL: route_ns}
    if selector_matches(ns_rule.get("selector") or {}, labels):
        return None
    return f"listener {listener['name']}'s namespace selector does not select namespace {route_ns}"


def _parents(ctx, route: dict) -> list[str]:
    problems = []
    spec, rns = route.get("spec") or {}, _ns(route)
    for ref in spec.get("parentRefs") or []:
        if ref.get("kind", "Gateway") != "Gateway":
            problems.append(f"parentRef kind {ref.get('kind')} is not a Gateway")
            continue
        gw = ctx.get("Gateway", ref.get("namespace", rns), ref.get("name"))
        if gw is None:
            problems.append(f"parentRef Gateway {ref.get('namespace', rns)}/{ref.get('name')} is not in the plan")
            continue
        listeners = (gw.get("spec") or {}).get("listeners") or []
        if ref.get("sectionName"):
            listeners = [x for x in listeners if x.get("name") == ref["sectionName"]]
            if not listeners:
                problems.append(f"Gateway {ref.get('name')} has no listener {ref['sectionName']!r}")
                continue
        why = [_listener_admits(ctx, gw, x, rns) for x in listeners]
        if all(why):
            problems.append("; ".join(w for w in why if w))
        hosts = spec.get("hostnames") or []
        if hosts and not any(x.get("hostname") in (None, *hosts) for x in listeners):
            problems.append(f"hostnames {hosts} match no listener hostname of Gateway {ref.get('name')}")
    return problems


def _service_backend(ctx, ns: str, name: str, port) -> tuple[bool, str]:
    svc = ctx.get("Service", ns, name)
    if svc is None:
        for r in ctx.releases:
            if r.namespace == ns and CHART_SERVICES.get(r.chart, "").format(release=r.name) == name:
                return True, f"Service {ns}/{name} (created by chart {r.chart}; its ports are not rendered)"
        return False, f"Service {ns}/{name} is not in the plan"
    spec = svc.get("spec") or {}
    sp = next((p for p in spec.get("ports") or [] if p.get("port") == port), None)
    if sp is None:
        return False, f"Service {ns}/{name} has no port {port}"
    sel = spec.get("selector") or {}
    pods = [t for t in ctx.pods if t.namespace == ns and sel and all(t.labels.get(k) == v for k, v in sel.items())]
    if not pods:
        return False, f"Service {ns}/{name} selects no pod"
    target = sp.get("targetPort", port)
    if isinstance(target, str):
        missing = [t.owner for t in pods if target not in
                   {p.get("name") for c in t.containers() for p in c.get("ports") or []}]
        if missing:
            return False, f"Service {ns}/{name} targetPort {target!r} is not a port of {', '.join(missing)}"
    return True, f"Service {ns}/{name}:{port} -> {', '.join(t.owner for t in pods)}"


def _fqdn_service(host: str) -> Optional[tuple[str, str]]:
    parts = host.split(".")
    if len(parts) >= 3 and parts[2] == "svc":
        return parts[1], parts[0]
    return None


def _routes(ctx) -> list[Check]:
    out = []
    for route in ctx.kind("HTTPRoute"):
        problems, found = _parents(ctx, route), []
        for rule in (route.get("spec") or {}).get("rules") or []:
            for b in rule.get("backendRefs") or []:
                if b.get("kind", "Service") != "Service" or b.get("group", "") != "":
                    problems.append(f"backendRef {b.get('kind')} {b.get('name')} is not a Service")
                    continue
                ok, what = _service_backend(ctx, b.get("namespace", _ns(route)), b["name"], b.get("port"))
                (found if ok else problems).append(what)
        out.append(Check("gateway.route", obj_id(route), "fail" if problems else "pass",
                         "; ".join(problems)
                         or "attached to its Gateway listener; " + ("; ".join(found) or "no backends")))
    for route in ctx.kind("AIGatewayRoute"):
        problems, found = _parents(ctx, route), []
        for rule in (route.get("spec") or {}).get("rules") or []:
            for b in rule.get("backendRefs") or []:
                ns = b.get("namespace", _ns(route))
                if b.get("kind") == "InferencePool":
                    pool = ctx.get("InferencePool", ns, b["name"])
                    (found if pool else problems).append(f"InferencePool {ns}/{b['name']}"
                                                         + ("" if pool else " is not in the plan"))
                    if pool and ns != _ns(route) and not _granted(ctx, _ns(route), ns, "AIGatewayRoute",
                                                                  "aigateway.envoyproxy.io"):
                        problems.append(f"rule {rule.get('name')}: no ReferenceGrant in {ns} lets AIGatewayRoutes "
                                        f"of {_ns(route)} name InferencePools (AI Gateway rejects the route)")
                    continue
                asb = ctx.get("AIServiceBackend", ns, b["name"])
                if asb is None:
                    problems.append(f"rule {rule.get('name')}: AIServiceBackend {ns}/{b['name']} is not in the plan")
                    continue
                ref = (asb.get("spec") or {}).get("backendRef") or {}
                backend = ctx.get("Backend", ref.get("namespace", ns), ref.get("name"))
                if backend is None:
                    problems.append(f"AIServiceBackend {b['name']}: Backend {ref.get('name')} is not in the plan")
                    continue
                for ep in (backend.get("spec") or {}).get("endpoints") or []:
                    fq = ep.get("fqdn") or {}
                    where = _fqdn_service(fq.get("hostname", ""))
                    if where is None:
                        found.append(f"{fq.get('hostname')} (outside the cluster)")
                        continue
                    ok, what = _service_backend(ctx, where[0], where[1], fq.get("port"))
                    (found if ok else problems).append(f"{b['name']}: {what}")
        out.append(Check("gateway.route", obj_id(route), "fail" if problems else "pass",
                         "; ".join(problems) or f"attached to its Gateway listener; {'; '.join(dict.fromkeys(found))}"))
    return out


def _targets(ctx, policy: dict) -> list[str]:
    problems = []
    ns = _ns(policy)
    for t in (policy.get("spec") or {}).get("targetRefs") or []:
        kind, name = t.get("kind"), t.get("name")
        if ctx.get(kind, ns, name) is not None:
            continue
        if kind == "HTTPRoute" and ctx.get("AIGatewayRoute", ns, name) is not None:
            continue        # the HTTPRoute AI Gateway generates from the AIGatewayRoute of that name
        problems.append(f"targets {kind} {ns}/{name}, which is not in the plan")
    return problems


def _secret_made(ctx, ns: str, name: str) -> Optional[str]:
    """What creates Secret ns/name: the plan itself or a Certificate there; None if nothing."""
    if ctx.get("Secret", ns, name) is not None:
        return "in the plan"
    for cert in ctx.kind("Certificate"):
        if _ns(cert) == ns and (cert.get("spec") or {}).get("secretName") == name:
            return f"written by Certificate {cert['metadata']['name']}"
    return None


def _policies_and_tls(ctx) -> list[Check]:
    out = []
    for p in ctx.kind("SecurityPolicy", "BackendTrafficPolicy", "ClientTrafficPolicy"):
        problems = _targets(ctx, p)
        for ref in (((p.get("spec") or {}).get("apiKeyAuth") or {}).get("credentialRefs") or []):
            if not _secret_made(ctx, ref.get("namespace", _ns(p)), ref["name"]):
                problems.append(f"API key Secret {ref['name']} is not in the plan")
        out.append(Check("gateway.policy", obj_id(p), "fail" if problems else "pass",
                         "; ".join(problems) or "targets and Secrets exist"))
    for gw in ctx.kind("Gateway"):
        problems = []
        cls = ctx.get("GatewayClass", None, (gw.get("spec") or {}).get("gatewayClassName"))
        if cls is None:
            problems.append(f"GatewayClass {(gw.get('spec') or {}).get('gatewayClassName')} is not in the plan")
        params = ((cls or {}).get("spec") or {}).get("parametersRef")
        if params and ctx.get(params.get("kind"), params.get("namespace"), params.get("name")) is None:
            problems.append(f"GatewayClass parametersRef {params.get('kind')} {params.get('namespace')}/"
                            f"{params.get('name')} is not in the plan")
        for listener in (gw.get("spec") or {}).get("listeners") or []:
            for ref in ((listener.get("tls") or {}).get("certificateRefs") or []):
                if not _secret_made(ctx, ref.get("namespace", _ns(gw)), ref["name"]):
                    problems.append(f"listener {listener['name']}: Secret {ref['name']} is neither in the plan nor "
                                    f"written by a Certificate")
        out.append(Check("gateway.gateway", obj_id(gw), "fail" if problems else "pass",
                         "; ".join(problems) or "class exists; every listener certificate is issued"))
    for cert in ctx.kind("Certificate"):
        ref = (cert.get("spec") or {}).get("issuerRef") or {}
        kind = ref.get("kind", "Issuer")
        issuer = ctx.get(kind, None if kind == "ClusterIssuer" else _ns(cert), ref.get("name"))
        problems = [] if issuer else [f"issuerRef {kind} {ref.get('name')} is not in the plan"]
        ca = ((issuer or {}).get("spec") or {}).get("ca") or {}
        if ca and not _secret_made(ctx, _ns(issuer), ca.get("secretName")):
            problems.append(f"CA Issuer {ref.get('name')}'s Secret {ca.get('secretName')} is never written")
        for solver in ((((issuer or {}).get("spec") or {}).get("acme") or {}).get("solvers") or []):
            route = (solver.get("http01") or {}).get("gatewayHTTPRoute")
            if route is not None:
                solver = {"metadata": cert["metadata"], "spec": {"parentRefs": route.get("parentRefs")}}
                problems += [f"ACME solver: {p}" for p in _parents(ctx, solver)]
        out.append(Check("gateway.certificate", obj_id(cert), "fail" if problems else "pass",
                         "; ".join(problems) or f"issued by {kind} {ref.get('name')}"))
    return out


def _granted(ctx, from_ns: str, to_ns: str, from_kind: str, from_group: str) -> bool:
    """A ReferenceGrant in `to_ns` lets `from_kind` objects of `from_ns` name InferencePools there."""
    for g in ctx.kind("ReferenceGrant"):
        if _ns(g) != to_ns:
            continue
        spec = g.get("spec") or {}
        if any(f.get("kind") == from_kind and f.get("group") == from_group and f.get("namespace") == from_ns
               for f in spec.get("from") or []) and \
                any(t.get("kind") == "InferencePool" and t.get("group") == POOL_GROUP for t in spec.get("to") or []):
            return True
    return False


def _picker_release(ctx, ns: str, service: str):
    """The llm-d-router-gateway release in `ns` whose chart creates EPP Service `service`, or None."""
    from components.gateway.picker import release_service
    return next((r for r in ctx.releases if r.chart == "llm-d-router-gateway" and r.namespace == ns
                 and release_service(r.name) == service), None)


def _endpoint_picker(ctx, pool: dict) -> tuple[list[str], str]:
    """(problems, what) for the pool's endpointPickerRef: a Service in the plan with that port, or the EPP Service a
    picker release there creates, whose EPP serves the pool's pods on the pool's ports."""
    spec, ns = pool.get("spec") or {}, _ns(pool)
    ref = spec.get("endpointPickerRef")
    if not ref:
        return [], ""
    name, port = ref.get("name"), (ref.get("port") or {}).get("number")
    svc = ctx.get("Service", ns, name)
    if svc is not None:
        ports = {p.get("port") for p in (svc.get("spec") or {}).get("ports") or []}
        return ([] if port in ports else [f"endpointPickerRef Service {ns}/{name} has no port {port}"]), \
            f"endpoint picker Service {ns}/{name}:{port}"
    r = _picker_release(ctx, ns, name)
    if r is None:
        return [f"endpointPickerRef Service {ns}/{name} is neither in the plan nor created by an llm-d-router-gateway "
                f"release in {ns}"], ""
    from components.gateway.picker import EXT_PROC_PORT, release_creates_pool
    router = r.values.get("router") or {}
    problems = []
    chart_port = (router.get("epp") or {}).get("extProcPort", EXT_PROC_PORT)
    if port != chart_port:
        problems.append(f"endpointPickerRef port {port} is not the EPP's ext_proc port {chart_port} ({r.id})")
    if release_creates_pool(r.values):
        problems.append(f"{r.id} renders its own InferencePool too (router.inferencePool.create is not false)")
    servers = router.get("modelServers") or {}
    if servers.get("matchLabels") != (spec.get("selector") or {}).get("matchLabels"):
        problems.append(f"{r.id} picks among pods {servers.get('matchLabels')}, the pool selects "
                        f"{(spec.get('selector') or {}).get('matchLabels')}")
    if [p.get("number") for p in servers.get("targetPorts") or []] != \
            [p.get("number") for p in spec.get("targetPorts") or []]:
        problems.append(f"{r.id} targets ports {servers.get('targetPorts')}, the pool {spec.get('targetPorts')}")
    return problems, f"endpoint picker {ns}/{name}:{port} (created by {r.id}, same pods and ports)"


def _inference_pools(ctx) -> list[Check]:
    out = []
    for pool in ctx.kind("InferencePool"):
        spec = pool.get("spec") or {}
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        pods = [t for t in ctx.pods if t.namespace == _ns(pool) and sel and selector_matches({"matchLabels": sel},
                                                                                           t.labels)]
        problems = [] if pods else [f"selector {sel} matches no pod template in {_ns(pool)}"]
        for tp in spec.get("targetPorts") or []:
            missing = [t.owner for t in pods if tp.get("number") not in
                       {p.get("containerPort") for c in t.containers() for p in c.get("ports") or []}]
            if missing:
                problems.append(f"targetPort {tp.get('number')} is not a container port of {', '.join(missing)}")
        epp_problems, epp = _endpoint_picker(ctx, pool)
        problems += epp_problems
        out.append(Check("gateway.inferencepool", obj_id(pool), "fail" if problems else "pass",
                         "; ".join(problems) or f"selects {', '.join(t.owner for t in pods)}"
                         + (f"; {epp}" if epp else "")))
        if epp and not epp_problems and ctx.get("Service", _ns(pool), spec["endpointPickerRef"]["name"]) is None:
            out.append(Check("gateway.endpoint-picker", obj_id(pool), "unchecked",
                             "the EPP's Deployment and Service are rendered by the chart, not by the plan: that it "
                             "starts, scrapes the pods and answers Envoy's ext_proc is checked after `pulumi up` "
                             "(docs/gateway.md)"))
    return out


def _install(ctx) -> list[Check]:
    """cert-manager with its Gateway API integration crashes until the Gateway API CRDs exist
    (cert-manager v1.21.1 pkg/controller/context.go): it must install after Envoy Gateway's chart."""
    from plan.checks.references import _install_order_waits
    out = []
    for r in ctx.resources:
        if not (r.type.startswith("kubernetes:helm.sh/") and r.custom
                and str(r.inputs.get("chart", "")).endswith("/cert-manager")):
            continue
        if not (((r.inputs.get("values") or {}).get("config") or {}).get("gatewayAPI") or {}).get("enabled"):
            continue
        egs = [x for x in ctx.resources if x.type.startswith("kubernetes:helm.sh/") and x.custom
               and str(x.inputs.get("chart", "")).endswith("/gateway-helm")]
        ok = bool(egs) and all(_install_order_waits(ctx, r.urn, e.urn) for e in egs)
        out.append(Check("gateway.install-order", f"helm release {r.inputs.get('name')}", "pass" if ok else "fail",
                         "installs after gateway-helm (Gateway API CRDs)" if ok else
                         "enables Gateway API support but does not wait for gateway-helm, which brings the Gateway "
                         "API CRDs: cert-manager would crash-loop and Helm's wait time out"))
    return out


def _charts(ctx) -> list[Check]:
    return [Check("gateway.chart-pods", r.id, "unchecked",
                  "the chart's controller and Envoy proxy pods are not rendered offline: that they land on untainted "
                  "system nodes (no GPU toleration in the chart's defaults) is not checked")
            for r in ctx.releases if r.chart in ("gateway-helm", "ai-gateway-helm")]


def check(ctx) -> list[Check]:
    return _routes(ctx) + _policies_and_tls(ctx) + _inference_pools(ctx) + _install(ctx) + _charts(ctx)


def needed_paths(ctx, resolve, pod_of) -> list[tuple]:
    """Network paths of the Gateway's data plane, in plan/checks/network.py's form
    (object, source, destination, port, protocol, what)."""
    from components.gateway.values import ENVOY_PROXY_LABELS
    from components.security.paths import ACME_SOLVER, ACME_SOLVER_PORT
    from plan.checks.network import OUTSIDE, Pod
    out = []
    if not ctx.kind("Gateway"):
        return out
    envoy = Pod(ENVOY_NAMESPACE, ENVOY_PROXY_LABELS, "Envoy proxy")
    for b in ctx.kind("Backend"):
        for ep in (b.get("spec") or {}).get("endpoints") or []:
            fq = ep.get("fqdn") or {}
            for dst, num, what in resolve(f"http://{fq.get('hostname')}:{fq.get('port')}"):
                out.append((obj_id(b), envoy, dst, num, "TCP", f"Envoy calls backend {what}"))
    for route in ctx.kind("HTTPRoute"):
        for rule in (route.get("spec") or {}).get("rules") or []:
            for ref in rule.get("backendRefs") or []:
                ns = ref.get("namespace", _ns(route))
                for dst, num, what in resolve(f"http://{ref['name']}.{ns}.svc:{ref.get('port')}"):
                    out.append((obj_id(route), envoy, dst, num, "TCP", f"Envoy calls {what}"))
    for pool in ctx.kind("InferencePool"):
        out += _picker_paths(ctx, pool, envoy, pod_of)
    cm = ctx.release("cert-manager")
    for issuer in ctx.kind("Issuer", "ClusterIssuer"):
        acme = (issuer.get("spec") or {}).get("acme")
        if not acme:
            continue
        for gw in ctx.kind("Gateway"):
            out.append((obj_id(issuer), envoy, Pod(_ns(gw), ACME_SOLVER, "cert-manager HTTP-01 solver"),
                        ACME_SOLVER_PORT, "TCP", "Envoy serves the HTTP-01 challenge from cert-manager's solver"))
        if cm is not None:
            src = Pod(cm.namespace, {}, "cert-manager pods")
            out.append((obj_id(issuer), src, OUTSIDE, 443, "TCP", "cert-manager calls the ACME directory"))
            out.append((obj_id(issuer), src, OUTSIDE, 80, "TCP",
                        "cert-manager's HTTP-01 self-check fetches the challenge from the public hostname"))
    eg = ctx.release("gateway-helm")
    redis = ((((eg.values.get("config") or {}).get("envoyGateway") or {}).get("rateLimit") or {}).get("backend")
             or {}).get("redis", {}).get("url") if eg else None
    if redis:
        src = Pod(eg.namespace, {"app.kubernetes.io/component": "ratelimit"}, "Envoy Gateway rate-limit service")
        for dst, num, what in resolve(redis):
            out.append((eg.id, src, dst, num, "TCP", f"the rate-limit service counts in {what}"))
    return out


def _picker_paths(ctx, pool: dict, envoy, pod_of) -> list[tuple]:
    """Envoy asks the pool's endpoint picker (ext_proc), then calls the picked pod on a target port; the picker
    scrapes every pod of the pool on those ports. The EPP pods are the chart's: their labels from the chart."""
    from components.gateway.picker import release_creates_pool, release_pod_labels
    from plan.checks.network import Pod
    spec, ns = pool.get("spec") or {}, _ns(pool)
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    pods = [t for t in ctx.pods if t.namespace == ns and sel and selector_matches({"matchLabels": sel}, t.labels)]
    ports = [p.get("number") for p in spec.get("targetPorts") or []]
    out = [(obj_id(pool), envoy, pod_of(t), n, "TCP", f"Envoy calls the picked pod {t.owner}")
           for t in pods for n in ports]
    ref = spec.get("endpointPickerRef") or {}
    r = _picker_release(ctx, ns, ref.get("name")) if ref else None
    if r is None:
        return out
    epp = Pod(ns, release_pod_labels(r.name, release_creates_pool(r.values)), f"endpoint picker ({r.id})")
    out.append((obj_id(pool), envoy, epp, (ref.get("port") or {}).get("number"), "TCP",
                "Envoy asks the endpoint picker (ext_proc)"))
    out += [(obj_id(pool), epp, pod_of(t), n, "TCP", f"the endpoint picker scrapes {t.owner}'s metrics")
            for t in pods for n in ports]
    return out
