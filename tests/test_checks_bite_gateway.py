"""The Gateway rule's decisions one by one (plan/checks/gateway.py) on small hand-built object sets: which
listener admits which route, what a backend must be, what a policy, Gateway, Certificate and InferencePool must
find, cert-manager's install order and the data plane's network paths."""
from plan.checks import gateway, network
from plan.checks.network import OUTSIDE
from tests.checks_kit import container, ctx, deployment, namespace, rec

GWNS = "llm-gateway"
NS = "llm-serving"


def gw(listeners, name="gw", ns=GWNS, cls="eg") -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": name, "namespace": ns},
            "spec": {"gatewayClassName": cls, "listeners": listeners}}


def listener(name="http", allowed=None, hostname=None, tls=None) -> dict:
    x = {"name": name, "port": 80, "protocol": "HTTP"}
    if allowed is not None:
        x["allowedRoutes"] = {"namespaces": allowed}
    if hostname is not None:
        x["hostname"] = hostname
    if tls is not None:
        x["tls"] = tls
    return x


def route(ns=GWNS, parents=None, backends=(), hostnames=None, name="r", kind="HTTPRoute") -> dict:
    spec = {"parentRefs": parents if parents is not None else [{"name": "gw", "namespace": GWNS}],
            "rules": [{"name": "rule", "backendRefs": list(backends)}]}
    if hostnames is not None:
        spec["hostnames"] = hostnames
    return {"apiVersion": "x", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}


def svc(name="m", ns=NS, selector=None, ports=None) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": selector if selector is not None else {"app": "m"},
                     "ports": ports if ports is not None else [{"port": 8000, "targetPort": "http"}]}}


def model(ns=NS):
    return deployment("m", [container(ports=[{"name": "http", "containerPort": 8000}])], ns=ns)


def helm(chart, ns, values=None, name=None, deps=()):
    return rec("kubernetes:helm.sh/v3:Release", name or chart,
               {"chart": f"oci://x/{chart}", "version": "1.0", "namespace": ns, "name": name or chart,
                "values": values or {}}, deps=deps)


def one(checks, name, obj=None):
    found = [c for c in checks if c.name == name and (obj is None or c.object == obj)]
    assert len(found) == 1, found
    return found[0].verdict, found[0].message


def route_verdict(objs, obj="HTTPRoute llm-gateway/r", resources=()):
    return one(gateway.check(ctx(objs, resources=resources)), "gateway.route", obj)


# --- listeners and parents --------------------------------------------------------------------------------------

def test_a_listener_admits_its_own_namespace_by_default_and_others_only_when_told():
    base = [namespace("apps")]
    assert route_verdict(base + [gw([listener()]), route()]) == (
        "pass", "attached to its Gateway listener; no backends")
    assert route_verdict(base + [gw([listener()]), route(ns="apps")], "HTTPRoute apps/r") == (
        "fail", "listener http admits routes from its own namespace only")
    assert route_verdict(base + [gw([listener(allowed={})]), route(ns="apps")], "HTTPRoute apps/r") == (
        "fail", "listener http admits routes from its own namespace only")
    assert route_verdict(base + [gw([listener(allowed={"from": "All"})]), route(ns="apps")], "HTTPRoute apps/r")[0] \
        == "pass"
    sel = {"from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}
    assert route_verdict(base + [gw([listener(allowed=sel)]), route(ns="apps")], "HTTPRoute apps/r")[0] == "pass"
    sel_other = {"from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}}
    assert route_verdict(base + [gw([listener(allowed=sel_other)]), route(ns="apps")], "HTTPRoute apps/r") == (
        "fail", "listener http's namespace selector does not select namespace apps")
    # `from` defaults to Same even when a selector is given; All admits whatever a selector would say.
    no_from = {"selector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}
    assert route_verdict(base + [gw([listener(allowed=no_from)]), route(ns="apps")], "HTTPRoute apps/r") == (
        "fail", "listener http admits routes from its own namespace only")
    all_sel = dict(sel_other, **{"from": "All"})
    assert route_verdict(base + [gw([listener(allowed=all_sel)]), route(ns="apps")], "HTTPRoute apps/r")[0] == "pass"
    by_label = {"from": "Selector", "selector": {"matchLabels": {"pod-security.kubernetes.io/enforce": "baseline"}}}
    assert route_verdict(base + [gw([listener(allowed=by_label)]), route(ns="apps")], "HTTPRoute apps/r")[0] == "pass"


def test_one_admitting_listener_is_enough_and_every_refusal_is_named():
    two = gw([listener("a"), listener("b", allowed={"from": "All"})])
    assert route_verdict([two, route(ns="apps")], "HTTPRoute apps/r")[0] == "pass"
    none = gw([listener("a"), listener("b")])
    assert route_verdict([none, route(ns="apps")], "HTTPRoute apps/r") == (
        "fail", "listener a admits routes from its own namespace only; "
                "listener b admits routes from its own namespace only")


def test_parent_refs_must_name_a_gateway_in_the_plan_and_an_existing_section():
    g = gw([listener("http")])
    assert route_verdict([g, route(parents=[{"kind": "Service", "name": "gw"}])]) == (
        "fail", "parentRef kind Service is not a Gateway")
    assert route_verdict([g, route(parents=[{"name": "gw"}])])[0] == "pass"       # namespace: the route's
    assert route_verdict([g, route(parents=[{"name": "nope"}])]) == (
        "fail", "parentRef Gateway llm-gateway/nope is not in the plan")
    assert route_verdict([g, route(ns="apps", parents=[{"name": "gw"}])], "HTTPRoute apps/r") == (
        "fail", "parentRef Gateway apps/gw is not in the plan")
    assert route_verdict([g, route(parents=[{"name": "gw", "sectionName": "http"}])])[0] == "pass"
    assert route_verdict([g, route(parents=[{"name": "gw", "sectionName": "https"}])]) == (
        "fail", "Gateway gw has no listener 'https'")


def test_route_hostnames_must_match_a_listener_hostname_or_a_listener_without_one():
    named = gw([listener(hostname="a.example.com")])
    assert route_verdict([named, route(hostnames=["a.example.com"])])[0] == "pass"
    assert route_verdict([named, route(hostnames=["b.example.com"])]) == (
        "fail", "hostnames ['b.example.com'] match no listener hostname of Gateway gw")
    assert route_verdict([gw([listener()]), route(hostnames=["b.example.com"])])[0] == "pass"
    assert route_verdict([named, route()])[0] == "pass"


# --- backends ---------------------------------------------------------------------------------------------------

def test_a_service_backend_needs_the_port_selected_pods_and_their_named_target_port():
    g = gw([listener()])
    ref = {"name": "m", "namespace": NS, "port": 8000}
    assert route_verdict([g, model(), svc(), route(backends=[ref])]) == (
        "pass", "attached to its Gateway listener; Service llm-serving/m:8000 -> Deployment llm-serving/m")
    assert route_verdict([g, model(), svc(), route(backends=[dict(ref, port=8001)])]) == (
        "fail", "Service llm-serving/m has no port 8001")
    assert route_verdict([g, model(), svc(selector={"app": "x"}), route(backends=[ref])]) == (
        "fail", "Service llm-serving/m selects no pod")
    assert route_verdict([g, model(), svc(selector={}), route(backends=[ref])]) == (
        "fail", "Service llm-serving/m selects no pod")
    assert route_verdict([g, model("other"), svc(), route(backends=[ref])]) == (
        "fail", "Service llm-serving/m selects no pod")
    wrong_name = svc(ports=[{"port": 8000, "targetPort": "grpc"}])
    assert route_verdict([g, model(), wrong_name, route(backends=[ref])]) == (
        "fail", "Service llm-serving/m targetPort 'grpc' is not a port of Deployment llm-serving/m")
    numeric = svc(ports=[{"port": 8000}])
    assert route_verdict([g, model(), numeric, route(backends=[ref])])[0] == "pass"
    assert route_verdict([g, route(backends=[ref])]) == ("fail", "Service llm-serving/m is not in the plan")
    # The backend's namespace defaults to the route's.
    assert route_verdict([g, model(GWNS), svc(ns=GWNS), route(backends=[{"name": "m", "port": 8000}])])[0] == "pass"


def test_a_backend_that_is_not_a_core_service_fails():
    g = gw([listener()])
    assert route_verdict([g, route(backends=[{"kind": "InferencePool", "name": "p"}])]) == (
        "fail", "backendRef InferencePool p is not a Service")
    assert route_verdict([g, model(), svc(), route(backends=[{"group": "x.io", "kind": "Service", "name": "m",
                                                              "namespace": NS, "port": 8000}])]) == (
        "fail", "backendRef Service m is not a Service")


def test_a_chart_created_service_counts_only_for_its_chart_release_and_namespace():
    g = gw([listener()])
    ref = {"name": "webui", "namespace": "rag", "port": 80}
    assert route_verdict([g, route(backends=[ref])], resources=[helm("open-webui", "rag", name="webui")]) == (
        "pass", "attached to its Gateway listener; Service rag/webui (created by chart open-webui; its ports are not "
                "rendered)")
    assert route_verdict([g, route(backends=[ref])], resources=[helm("open-webui", "other", name="webui")])[0] == "fail"
    assert route_verdict([g, route(backends=[ref])], resources=[helm("redis", "rag", name="webui")])[0] == "fail"


def ai_objects(hostname="m.llm-serving.svc.cluster.local", port=8000, backend_ns=GWNS):
    asb = {"apiVersion": "x", "kind": "AIServiceBackend", "metadata": {"name": "b", "namespace": GWNS},
           "spec": {"backendRef": {"name": "be", "namespace": backend_ns}}}
    be = {"apiVersion": "x", "kind": "Backend", "metadata": {"name": "be", "namespace": GWNS},
          "spec": {"endpoints": [{"fqdn": {"hostname": hostname, "port": port}}]}}
    return [gw([listener()]), asb, be, route(kind="AIGatewayRoute", backends=[{"name": "b"}])]


def test_an_ai_route_follows_its_backend_to_the_service_pods_or_outside():
    ai = "AIGatewayRoute llm-gateway/r"
    assert route_verdict(ai_objects() + [model(), svc()], ai) == (
        "pass", "attached to its Gateway listener; b: Service llm-serving/m:8000 -> Deployment llm-serving/m")
    assert route_verdict(ai_objects(port=9000) + [model(), svc()], ai) == (
        "fail", "b: Service llm-serving/m has no port 9000")
    assert route_verdict(ai_objects(hostname="api.openai.com", port=443), ai) == (
        "pass", "attached to its Gateway listener; api.openai.com (outside the cluster)")
    assert route_verdict(ai_objects(hostname="m.llm-serving", port=8000), ai)[0] == "pass"    # not a .svc name
    assert route_verdict(ai_objects(hostname="m.llm-serving.svc", port=9000) + [model(), svc()], ai) == (
        "fail", "b: Service llm-serving/m has no port 9000")
    assert route_verdict(ai_objects(backend_ns="elsewhere") + [model(), svc()], ai) == (
        "fail", "AIServiceBackend b: Backend be is not in the plan")
    objs = [o for o in ai_objects() if o["kind"] != "AIServiceBackend"]
    assert route_verdict(objs, ai) == ("fail", "rule rule: AIServiceBackend llm-gateway/b is not in the plan")


def grant(ns=NS, from_ns=GWNS, kind="AIGatewayRoute", group="aigateway.envoyproxy.io",
          to_kind="InferencePool", to_group="inference.networking.k8s.io") -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
            "metadata": {"name": "g", "namespace": ns},
            "spec": {"from": [{"group": group, "kind": kind, "namespace": from_ns}],
                     "to": [{"group": to_group, "kind": to_kind}]}}


def test_an_ai_route_to_an_inference_pool_in_another_namespace_needs_a_reference_grant_there():
    ai = "AIGatewayRoute llm-gateway/r"
    pool = {"apiVersion": "x", "kind": "InferencePool", "metadata": {"name": "p", "namespace": NS}, "spec": {}}
    r = route(kind="AIGatewayRoute", backends=[{"kind": "InferencePool", "name": "p", "namespace": NS}])
    base = [gw([listener()]), pool, r]
    assert route_verdict(base + [grant()], ai) == ("pass", "attached to its Gateway listener; InferencePool llm-serving/p")
    refused = ("fail", "rule rule: no ReferenceGrant in llm-serving lets AIGatewayRoutes of llm-gateway name "
                       "InferencePools (AI Gateway rejects the route)")
    assert route_verdict(base, ai) == refused
    for bad in (grant(ns=GWNS), grant(from_ns="apps"), grant(kind="HTTPRoute"), grant(group="x"),
                grant(to_kind="Service"), grant(to_group="x")):
        assert route_verdict(base + [bad], ai) == refused, bad
    assert route_verdict([gw([listener()]), r], ai) == ("fail", "InferencePool llm-serving/p is not in the plan")
    same = route(kind="AIGatewayRoute", backends=[{"kind": "InferencePool", "name": "p"}])
    local = dict(pool, metadata={"name": "p", "namespace": GWNS})
    assert route_verdict([gw([listener()]), local, same], ai)[0] == "pass"


# --- policies, Gateways, Certificates ---------------------------------------------------------------------------

def policy(targets, keys=()) -> dict:
    spec = {"targetRefs": targets}
    if keys:
        spec["apiKeyAuth"] = {"credentialRefs": list(keys)}
    return {"apiVersion": "x", "kind": "SecurityPolicy", "metadata": {"name": "p", "namespace": GWNS}, "spec": spec}


def test_a_policy_targets_objects_of_its_namespace_and_an_http_route_may_be_an_ai_routes():
    g = gw([listener()])
    pv = lambda objs: one(gateway.check(ctx(objs)), "gateway.policy")
    assert pv([g, policy([{"kind": "Gateway", "name": "gw"}])]) == ("pass", "targets and Secrets exist")
    assert pv([g, policy([{"kind": "Gateway", "name": "nope"}])]) == (
        "fail", "targets Gateway llm-gateway/nope, which is not in the plan")
    assert pv([gw([listener()], ns="x"), policy([{"kind": "Gateway", "name": "gw"}])])[0] == "fail"
    ai = route(kind="AIGatewayRoute")
    assert pv([g, ai, policy([{"kind": "HTTPRoute", "name": "r"}])])[0] == "pass"
    assert pv([g, ai, policy([{"kind": "GRPCRoute", "name": "r"}])])[0] == "fail"


def test_an_api_key_secret_must_be_in_the_plan_or_written_by_a_certificate_of_its_namespace():
    g = gw([listener()])
    sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "keys", "namespace": GWNS}}
    pv = lambda objs: one(gateway.check(ctx(objs)), "gateway.policy")
    p = policy([{"kind": "Gateway", "name": "gw"}], keys=[{"name": "keys"}])
    assert pv([g, p, sec])[0] == "pass"
    assert pv([g, p]) == ("fail", "API key Secret keys is not in the plan")
    assert pv([g, p, dict(sec, metadata={"name": "keys", "namespace": "x"})])[0] == "fail"
    cert = {"apiVersion": "x", "kind": "Certificate", "metadata": {"name": "c", "namespace": GWNS},
            "spec": {"secretName": "keys", "issuerRef": {"name": "i"}}}
    assert pv([g, p, cert])[0] == "pass"
    assert pv([g, p, dict(cert, metadata={"name": "c", "namespace": "x"})])[0] == "fail"


def test_a_gateway_needs_its_class_the_class_parameters_and_issued_listener_certificates():
    cls = {"apiVersion": "x", "kind": "GatewayClass", "metadata": {"name": "eg"}, "spec": {}}
    gv = lambda objs: one(gateway.check(ctx(objs)), "gateway.gateway")
    assert gv([gw([listener()]), cls]) == ("pass", "class exists; every listener certificate is issued")
    assert gv([gw([listener()])]) == ("fail", "GatewayClass eg is not in the plan")
    params = {"kind": "EnvoyProxy", "namespace": "envoy-gateway-system", "name": "proxy"}
    with_params = dict(cls, spec={"parametersRef": params})
    assert gv([gw([listener()]), with_params]) == (
        "fail", "GatewayClass parametersRef EnvoyProxy envoy-gateway-system/proxy is not in the plan")
    proxy = {"apiVersion": "x", "kind": "EnvoyProxy", "metadata": {"name": "proxy", "namespace": "envoy-gateway-system"}}
    assert gv([gw([listener()]), with_params, proxy])[0] == "pass"
    tls = listener("https", tls={"certificateRefs": [{"name": "tls"}]})
    assert gv([gw([tls]), cls]) == (
        "fail", "listener https: Secret tls is neither in the plan nor written by a Certificate")
    cert = {"apiVersion": "x", "kind": "Certificate", "metadata": {"name": "c", "namespace": GWNS},
            "spec": {"secretName": "tls", "issuerRef": {"name": "i"}}}
    assert gv([gw([tls]), cls, cert])[0] == "pass"


def cert(issuer_ref) -> dict:
    return {"apiVersion": "x", "kind": "Certificate", "metadata": {"name": "c", "namespace": GWNS},
            "spec": {"secretName": "tls", "issuerRef": issuer_ref}}


def issuer(kind="Issuer", ns=GWNS, spec=None) -> dict:
    meta = {"name": "i"} if kind == "ClusterIssuer" else {"name": "i", "namespace": ns}
    return {"apiVersion": "x", "kind": kind, "metadata": meta, "spec": spec or {"selfSigned": {}}}


def test_a_certificate_needs_its_issuer_of_the_right_kind_and_namespace():
    cv = lambda objs: one(gateway.check(ctx(objs)), "gateway.certificate")
    assert cv([cert({"name": "i"}), issuer()]) == ("pass", "issued by Issuer i")
    assert cv([cert({"name": "i"})]) == ("fail", "issuerRef Issuer i is not in the plan")
    assert cv([cert({"name": "i"}), issuer(ns="x")])[0] == "fail"
    assert cv([cert({"name": "i"}), issuer("ClusterIssuer")])[0] == "fail"
    assert cv([cert({"name": "i", "kind": "ClusterIssuer"}), issuer("ClusterIssuer")]) == (
        "pass", "issued by ClusterIssuer i")


def test_a_ca_issuer_needs_its_secret_written_and_an_acme_solver_a_listener():
    cv = lambda objs: one(gateway.check(ctx(objs)), "gateway.certificate", "Certificate llm-gateway/c")
    ca = issuer(spec={"ca": {"secretName": "ca"}})
    assert cv([cert({"name": "i"}), ca]) == ("fail", "CA Issuer i's Secret ca is never written")
    ca_cert = {"apiVersion": "x", "kind": "Certificate", "metadata": {"name": "ca", "namespace": GWNS},
               "spec": {"secretName": "ca", "issuerRef": {"name": "i"}}}
    assert cv([cert({"name": "i"}), ca, ca_cert])[0] == "pass"
    acme = issuer(spec={"acme": {"solvers": [{"http01": {"gatewayHTTPRoute": {
        "parentRefs": [{"name": "gw", "sectionName": "http"}]}}}]}})
    assert cv([cert({"name": "i"}), acme, gw([listener("http")])])[0] == "pass"
    assert cv([cert({"name": "i"}), acme, gw([listener("web")])]) == (
        "fail", "ACME solver: Gateway gw has no listener 'http'")


# --- InferencePools and their endpoint picker -------------------------------------------------------------------

def pool(ref=None, ports=(8000,), labels=None) -> dict:
    spec = {"selector": {"matchLabels": labels if labels is not None else {"app": "m"}},
            "targetPorts": [{"number": n} for n in ports]}
    if ref is not None:
        spec["endpointPickerRef"] = ref
    return {"apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": {"name": "p", "namespace": NS}, "spec": spec}


def picker(values=None):
    v = {"router": {"inferencePool": {"create": False},
                    "modelServers": {"matchLabels": {"app": "m"}, "targetPorts": [{"number": 8000}]}}}
    if values:
        v["router"].update(values)
    return helm("llm-d-router-gateway", NS, v, name="m-router")


def pool_checks(objs, resources=()):
    return [c for c in gateway.check(ctx(objs, resources=resources)) if c.name.startswith("gateway.inference")
            or c.name == "gateway.endpoint-picker"]


def test_an_inference_pool_selects_pods_that_have_its_target_ports():
    assert [(c.verdict, c.message) for c in pool_checks([model(), pool()])] == [
        ("pass", "selects Deployment llm-serving/m")]
    assert [(c.verdict, c.message) for c in pool_checks([model(), pool(labels={})])] == [
        ("fail", "selector {} matches no pod template in llm-serving")]
    assert [c.verdict for c in pool_checks([model("x"), pool()])] == ["fail"]
    assert [(c.verdict, c.message) for c in pool_checks([model(), pool(ports=(8000, 9000))])] == [
        ("fail", "targetPort 9000 is not a container port of Deployment llm-serving/m")]


def test_an_endpoint_picker_service_in_the_plan_needs_the_referenced_port():
    ref = {"name": "epp", "port": {"number": 9002}}
    epp = svc("epp", ports=[{"port": 9002}])
    assert [(c.verdict, c.message) for c in pool_checks([model(), pool(ref), epp])] == [
        ("pass", "selects Deployment llm-serving/m; endpoint picker Service llm-serving/epp:9002")]
    assert [(c.verdict, c.message) for c in pool_checks([model(), pool(dict(ref, port={"number": 9003})), epp])] == [
        ("fail", "endpointPickerRef Service llm-serving/epp has no port 9003")]


def test_an_endpoint_picker_from_a_router_release_must_serve_the_same_pods_on_the_ext_proc_port():
    ref = {"name": "m-router-epp", "port": {"number": 9002}}
    found = pool_checks([model(), pool(ref)], [picker()])
    assert [(c.name, c.verdict) for c in found] == [("gateway.inferencepool", "pass"),
                                                    ("gateway.endpoint-picker", "unchecked")]
    assert found[0].message.endswith("endpoint picker llm-serving/m-router-epp:9002 (created by helm release "
                                     "llm-serving/m-router (llm-d-router-gateway 1.0), same pods and ports)")
    bad_port = pool_checks([model(), pool(dict(ref, port={"number": 9003}))], [picker()])
    assert [c.verdict for c in bad_port] == ["fail"]
    assert bad_port[0].message.startswith("endpointPickerRef port 9003 is not the EPP's ext_proc port 9002")
    custom = picker({"epp": {"extProcPort": 9003}})
    assert [c.verdict for c in pool_checks([model(), pool(dict(ref, port={"number": 9003}))], [custom])] == \
        ["pass", "unchecked"]
    creates = picker({"inferencePool": {}})
    msg = pool_checks([model(), pool(ref)], [creates])[0].message
    assert "renders its own InferencePool too (router.inferencePool.create is not false)" in msg
    other_pods = picker({"modelServers": {"matchLabels": {"app": "x"}, "targetPorts": [{"number": 8000}]}})
    assert "picks among pods {'app': 'x'}, the pool selects {'app': 'm'}" in \
        pool_checks([model(), pool(ref)], [other_pods])[0].message
    other_ports = picker({"modelServers": {"matchLabels": {"app": "m"}, "targetPorts": [{"number": 8001}]}})
    assert "targets ports [{'number': 8001}], the pool [{'number': 8000}]" in \
        pool_checks([model(), pool(ref)], [other_ports])[0].message
    elsewhere = helm("llm-d-router-gateway", "x", picker().inputs["values"], name="m-router")
    [c] = pool_checks([model(), pool(ref)], [elsewhere])
    assert (c.verdict, c.message) == ("fail", "endpointPickerRef Service llm-serving/m-router-epp is neither in the "
                                              "plan nor created by an llm-d-router-gateway release in llm-serving")


# --- install order and chart pods -------------------------------------------------------------------------------

def test_cert_manager_with_gateway_api_must_wait_for_envoy_gateway():
    eg = helm("gateway-helm", "envoy-gateway-system")
    on = {"config": {"gatewayAPI": {"enabled": True}}}
    waits = helm("cert-manager", "cert-manager", on, deps=[eg.urn])
    found = [c for c in gateway.check(ctx([], resources=[eg, waits])) if c.name == "gateway.install-order"]
    assert [(c.object, c.verdict, c.message) for c in found] == [
        ("helm release cert-manager", "pass", "installs after gateway-helm (Gateway API CRDs)")]
    alone = helm("cert-manager", "cert-manager", on)
    found = [c for c in gateway.check(ctx([], resources=[eg, alone])) if c.name == "gateway.install-order"]
    assert [c.verdict for c in found] == ["fail"] and "does not wait for gateway-helm" in found[0].message
    found = [c for c in gateway.check(ctx([], resources=[alone])) if c.name == "gateway.install-order"]
    assert [c.verdict for c in found] == ["fail"]           # no Envoy Gateway chart at all: no CRDs
    off = helm("cert-manager", "cert-manager", {"config": {"gatewayAPI": {"enabled": False}}})
    assert not [c for c in gateway.check(ctx([], resources=[eg, off])) if c.name == "gateway.install-order"]


def test_the_gateway_charts_pods_are_reported_unchecked():
    rs = [helm("gateway-helm", "eg"), helm("ai-gateway-helm", "aieg"), helm("cert-manager", "cm")]
    found = [c for c in gateway.check(ctx([], resources=rs)) if c.name == "gateway.chart-pods"]
    assert [(c.object, c.verdict) for c in found] == [
        ("helm release eg/gateway-helm (gateway-helm 1.0)", "unchecked"),
        ("helm release aieg/ai-gateway-helm (ai-gateway-helm 1.0)", "unchecked")]


# --- data-plane paths -------------------------------------------------------------------------------------------

def gw_paths(objs, resources=()):
    return [p for p in network.needed_paths(ctx(objs, resources=resources))
            if p[1] is not None and p[1].what == "Envoy proxy" or "cert-manager" in p[5] or "rate-limit" in p[5]]


def test_no_gateway_no_data_plane_paths():
    objs = [model(), svc(), route(backends=[{"name": "m", "namespace": NS, "port": 8000}])] + ai_objects()[1:]
    c = ctx(objs)
    assert gateway.needed_paths(c, lambda url: network._resolve_url(c, url), network._pod) == []
    c = ctx(objs + [gw([listener()])])
    assert len(gateway.needed_paths(c, lambda url: network._resolve_url(c, url), network._pod)) == 2


def test_envoy_calls_route_and_backend_targets_and_the_picked_pods():
    objs = [gw([listener()]), model(), svc(), route(backends=[{"name": "m", "namespace": NS, "port": 8000}])]
    got = [(o, d.what, n) for o, s, d, n, _, _ in gw_paths(objs)]
    assert got == [("HTTPRoute llm-gateway/r", "Deployment llm-serving/m", 8000)]
    objs = ai_objects() + [model(), svc()]
    got = [(o, d.what, n, what) for o, s, d, n, _, what in gw_paths(objs)]
    assert got == [("Backend llm-gateway/be", "Deployment llm-serving/m", 8000,
                    "Envoy calls backend Service llm-serving/m -> Deployment llm-serving/m")]
    ref = {"name": "m-router-epp", "port": {"number": 9002}}
    got = network.needed_paths(ctx([gw([listener()]), model(), pool(ref)], resources=[picker()]))
    rows = [(s.what, d.what, n, what) for o, s, d, n, _, what in got if o == "InferencePool llm-serving/p"]
    epp = "endpoint picker (helm release llm-serving/m-router (llm-d-router-gateway 1.0))"
    assert rows == [("Envoy proxy", "Deployment llm-serving/m", 8000, "Envoy calls the picked pod Deployment llm-serving/m"),
                    ("Envoy proxy", epp, 9002, "Envoy asks the endpoint picker (ext_proc)"),
                    (epp, "Deployment llm-serving/m", 8000,
                     "the endpoint picker scrapes Deployment llm-serving/m's metrics")]


def test_an_acme_issuer_needs_the_solver_path_and_cert_manager_the_internet():
    acme = issuer(spec={"acme": {"solvers": []}})
    objs = [gw([listener()]), acme]
    got = [(s.what, d.what if d is not OUTSIDE else "outside", n) for o, s, d, n, _, _ in
           network.needed_paths(ctx(objs, resources=[helm("cert-manager", "cert-manager")]))
           if o == "Issuer llm-gateway/i"]
    assert got == [("Envoy proxy", "cert-manager HTTP-01 solver", 8089), ("cert-manager pods", "outside", 443),
                   ("cert-manager pods", "outside", 80)]
    plain = [p for p in network.needed_paths(ctx([gw([listener()]), issuer()])) if p[0].startswith("Issuer")]
    assert plain == []


def test_the_rate_limit_service_reaches_its_redis():
    eg = helm("gateway-helm", "envoy-gateway-system", {"config": {"envoyGateway": {"rateLimit": {"backend": {
        "redis": {"url": "redis.llm-gateway.svc.cluster.local:6379"}}}}}})
    got = [p for p in network.needed_paths(ctx([gw([listener()])], resources=[eg])) if "rate-limit" in p[5]]
    assert [(s.namespace, s.labels, d.namespace, n) for _, s, d, n, _, _ in got] == [
        ("envoy-gateway-system", {"app.kubernetes.io/component": "ratelimit"}, GWNS, 6379)]


# --- every item of a list is looked at, and every problem is named ----------------------------------------------

def test_every_parent_and_backend_of_a_route_is_checked_and_each_problem_named():
    parents = [{"kind": "Service", "name": "x"}, {"name": "nope"}, {"name": "gw", "sectionName": "tls"},
               {"name": "gw2"}]
    backends = [{"kind": "InferencePool", "name": "p"}, {"name": "gone", "namespace": NS, "port": 1},
                {"name": "m", "namespace": NS, "port": 8000}]
    objs = [gw([listener()]), gw([listener()], name="gw2"), model(), svc(), route(parents=parents, backends=backends)]
    assert route_verdict(objs) == ("fail", "parentRef kind Service is not a Gateway; parentRef Gateway llm-gateway/nope "
                                           "is not in the plan; Gateway gw has no listener 'tls'; backendRef "
                                           "InferencePool p is not a Service; Service llm-serving/gone is not in the plan")
    ok = route(parents=[{"name": "gw"}, {"name": "gw2"}], backends=backends[2:] + [dict(backends[2])])
    assert route_verdict(objs[:4] + [ok]) == (
        "pass", "attached to its Gateway listener; Service llm-serving/m:8000 -> Deployment llm-serving/m; "
                "Service llm-serving/m:8000 -> Deployment llm-serving/m")


def test_every_backend_of_an_ai_route_is_checked():
    ai = "AIGatewayRoute llm-gateway/r"
    pool = {"apiVersion": "x", "kind": "InferencePool", "metadata": {"name": "p", "namespace": NS}, "spec": {}}
    be2 = {"apiVersion": "x", "kind": "Backend", "metadata": {"name": "be2", "namespace": GWNS},
           "spec": {"endpoints": [{"fqdn": {"hostname": "api.example.com", "port": 443}},
                                  {"fqdn": {"hostname": "m.llm-serving.svc", "port": 9}}]}}
    asb2 = {"apiVersion": "x", "kind": "AIServiceBackend", "metadata": {"name": "b2", "namespace": GWNS},
            "spec": {"backendRef": {"name": "be2"}}}
    asb3 = {"apiVersion": "x", "kind": "AIServiceBackend", "metadata": {"name": "b3", "namespace": GWNS},
            "spec": {"backendRef": {"name": "none"}}}
    r = route(kind="AIGatewayRoute", backends=[{"kind": "InferencePool", "name": "p", "namespace": NS},
                                               {"name": "missing"}, {"name": "b3"}, {"name": "b2"}])
    assert route_verdict([gw([listener()]), pool, be2, asb2, asb3, model(), svc(), r], ai) == (
        "fail", "rule rule: no ReferenceGrant in llm-serving lets AIGatewayRoutes of llm-gateway name InferencePools "
                "(AI Gateway rejects the route); rule rule: AIServiceBackend llm-gateway/missing is not in the plan; "
                "AIServiceBackend b3: Backend none is not in the plan; b2: Service llm-serving/m has no port 9")
    # The same backend found twice is named once.
    twice = route(kind="AIGatewayRoute", backends=[{"name": "b"}, {"name": "b"}])
    assert route_verdict(ai_objects()[:3] + [twice, model(), svc()], ai) == (
        "pass", "attached to its Gateway listener; b: Service llm-serving/m:8000 -> Deployment llm-serving/m")


def test_every_policy_kind_and_target_and_key_reference_is_checked():
    g = gw([listener()])
    for kind in ("SecurityPolicy", "BackendTrafficPolicy", "ClientTrafficPolicy"):
        p = dict(policy([{"kind": "Gateway", "name": "gw"}, {"kind": "Gateway", "name": "nope"}]), kind=kind)
        assert one(gateway.check(ctx([g, p])), "gateway.policy") == (
            "fail", "targets Gateway llm-gateway/nope, which is not in the plan")
    keys = policy([{"kind": "Gateway", "name": "gw"}], keys=[{"name": "a"}, {"name": "b", "namespace": "vault"}])
    sec_b = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b", "namespace": "vault"}}
    assert one(gateway.check(ctx([g, keys, sec_b])), "gateway.policy") == ("fail", "API key Secret a is not in the plan")
    wrong_ns = dict(sec_b, metadata={"name": "b", "namespace": GWNS})
    sec_a = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a", "namespace": GWNS}}
    assert one(gateway.check(ctx([g, keys, sec_a, wrong_ns])), "gateway.policy") == (
        "fail", "API key Secret b is not in the plan")


def test_gateway_class_parameters_and_listener_certificates_in_their_namespaces():
    cls = {"apiVersion": "x", "kind": "GatewayClass", "metadata": {"name": "eg"},
           "spec": {"parametersRef": {"kind": "EnvoyProxy", "namespace": "envoy-gateway-system", "name": "proxy"}}}
    proxy_elsewhere = {"apiVersion": "x", "kind": "EnvoyProxy", "metadata": {"name": "proxy", "namespace": "other"}}
    assert one(gateway.check(ctx([gw([listener()]), cls, proxy_elsewhere])), "gateway.gateway")[0] == "fail"
    tls = listener("https", tls={"certificateRefs": [{"name": "a"}, {"name": "b", "namespace": "certs"}]})
    cert = lambda name, ns: {"apiVersion": "x", "kind": "Certificate", "metadata": {"name": name, "namespace": ns},
                             "spec": {"secretName": name, "issuerRef": {"name": "i"}}}
    bare = dict(cls, spec={})
    assert one(gateway.check(ctx([gw([tls]), bare, cert("a", GWNS), cert("b", "certs")])), "gateway.gateway")[0] == \
        "pass"
    assert one(gateway.check(ctx([gw([tls]), bare, cert("a", GWNS), cert("b", GWNS)])), "gateway.gateway") == (
        "fail", "listener https: Secret b is neither in the plan nor written by a Certificate")
    # Two problems, both named.
    assert one(gateway.check(ctx([gw([tls])])), "gateway.gateway") == (
        "fail", "GatewayClass eg is not in the plan; listener https: Secret a is neither in the plan nor written by a "
                "Certificate; listener https: Secret b is neither in the plan nor written by a Certificate")


def test_a_certificate_names_every_problem():
    ca = issuer(spec={"ca": {"secretName": "ca"}, "acme": {"solvers": [
        {"http01": {"gatewayHTTPRoute": {"parentRefs": [{"name": "gw", "sectionName": "x"}]}}}]}})
    assert one(gateway.check(ctx([cert({"name": "i"}), ca, gw([listener()])])), "gateway.certificate") == (
        "fail", "CA Issuer i's Secret ca is never written; ACME solver: Gateway gw has no listener 'x'")


def test_a_grant_elsewhere_does_not_hide_the_right_one():
    ai = "AIGatewayRoute llm-gateway/r"
    pool_obj = {"apiVersion": "x", "kind": "InferencePool", "metadata": {"name": "p", "namespace": NS}, "spec": {}}
    r = route(kind="AIGatewayRoute", backends=[{"kind": "InferencePool", "name": "p", "namespace": NS}])
    assert route_verdict([gw([listener()]), pool_obj, r, grant(ns="elsewhere"), grant()], ai)[0] == "pass"


def test_a_pool_selects_only_its_labels_pods_of_its_namespace():
    other = deployment("o", [container(ports=[{"name": "http", "containerPort": 8000}])], labels={"app": "o"})
    twin = deployment("m", [container(ports=[{"name": "http", "containerPort": 8000}])], ns="elsewhere")
    assert [(c.verdict, c.message) for c in pool_checks([model(), other, twin, pool()])] == [
        ("pass", "selects Deployment llm-serving/m")]
    ref = {"name": "m-router-epp", "port": {"number": 9002}}
    got = network.needed_paths(ctx([gw([listener()]), model(), other, twin, pool(ref)], resources=[picker()]))
    picked = {d.what for o, s, d, n, _, what in got if o == "InferencePool llm-serving/p" and what.startswith("Envoy calls")}
    assert picked == {"Deployment llm-serving/m"}


def test_only_cert_manager_with_gateway_api_is_asked_to_wait():
    on = {"config": {"gatewayAPI": {"enabled": True}}}
    other = helm("not-cert-manager", "x", on)
    assert [c for c in gateway.check(ctx([], resources=[other])) if c.name == "gateway.install-order"] == []


def test_data_plane_paths_are_tcp_and_say_what_they_are():
    objs = ai_objects() + [model(), svc(), route(name="h", backends=[{"name": "m", "namespace": NS, "port": 8000}])]
    got = [(o, proto) for o, s, d, n, proto, what in network.needed_paths(ctx(objs)) if s.what == "Envoy proxy"]
    assert got == [("Backend llm-gateway/be", "TCP"), ("HTTPRoute llm-gateway/h", "TCP")]
    ref = {"name": "m-router-epp", "port": {"number": 9002}}
    got = network.needed_paths(ctx([gw([listener()]), model(), pool(ref)], resources=[picker()]))
    assert {proto for o, _, _, _, proto, _ in got if o == "InferencePool llm-serving/p"} == {"TCP"}
    eg = helm("gateway-helm", "envoy-gateway-system", {"config": {"envoyGateway": {"rateLimit": {"backend": {
        "redis": {"url": "redis.llm-gateway.svc.cluster.local:6379"}}}}}})
    [row] = [p for p in network.needed_paths(ctx([gw([listener()])], resources=[eg])) if "rate-limit" in p[5]]
    assert (row[1].what, row[4], row[5]) == ("Envoy Gateway rate-limit service", "TCP",
                                             "the rate-limit service counts in Service llm-gateway/redis (not rendered "
                                             "by the plan: any pod of the namespace, target port = Service port)")


def test_acme_paths_for_cluster_issuers_too_and_each_acme_issuer():
    plain = issuer()
    acme = issuer("ClusterIssuer", spec={"acme": {"solvers": []}})
    got = [(o, s.what, d.what if d is not OUTSIDE else "outside", n, proto, what) for o, s, d, n, proto, what in
           network.needed_paths(ctx([gw([listener()]), plain, acme], resources=[helm("cert-manager", "cm")]))
           if o.startswith(("Issuer", "ClusterIssuer"))]
    assert got == [
        ("ClusterIssuer _cluster/i", "Envoy proxy", "cert-manager HTTP-01 solver", 8089, "TCP",
         "Envoy serves the HTTP-01 challenge from cert-manager's solver"),
        ("ClusterIssuer _cluster/i", "cert-manager pods", "outside", 443, "TCP", "cert-manager calls the ACME directory"),
        ("ClusterIssuer _cluster/i", "cert-manager pods", "outside", 80, "TCP",
         "cert-manager's HTTP-01 self-check fetches the challenge from the public hostname")]
