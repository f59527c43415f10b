"""The network rule's decisions one by one (plan/checks/network.py): policy types, peers, ports and port ranges,
the paths rendered objects need, and where each rule must fire and where it must not."""
from plan.checks import network
from plan.checks.network import OUTSIDE, Pod, Policies
from tests.checks_kit import container, ctx, deployment, namespace, rec, verdicts

NS = "llm-serving"
SRC = Pod(NS, {"app": "src"}, "the source")
DST = Pod("monitoring", {"app": "dst"}, "the target", ({"name": "metrics", "containerPort": 9100},))


def pol(name, ns=NS, selector=None, types=None, ingress=None, egress=None) -> dict:
    spec = {"podSelector": selector if selector is not None else {}}
    if types is not None:
        spec["policyTypes"] = types
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def policies(*pols, namespaces=None) -> Policies:
    return Policies(list(pols), namespaces if namespaces is not None else {NS: {}, "monitoring": {"team": "obs"}})


def egress_to(peer=None, ports=None) -> Policies:
    rule = {}
    if peer is not None:
        rule["to"] = [peer]
    if ports is not None:
        rule["ports"] = ports
    return policies(pol("out", types=["Egress"], egress=[rule]))


# --- policy types -----------------------------------------------------------------------------------------------

def test_a_policy_without_policy_types_is_ingress_and_egress_only_when_it_has_egress_rules():
    assert Policies.types(pol("a", ingress=[])) == ["Ingress"]
    assert Policies.types(pol("a", egress=[])) == ["Ingress", "Egress"]
    assert Policies.types(pol("a", types=["Egress"], ingress=[])) == ["Egress"]


def test_an_ingress_only_policy_does_not_isolate_egress():
    deny_in = policies(pol("deny-in", ingress=[]))     # no policyTypes: Ingress only
    assert deny_in.allows(SRC, OUTSIDE, 443) == (True, "")
    ok, why = deny_in.allows(OUTSIDE, SRC, 443)
    assert not ok and why == "ingress of the source (llm-serving) allows no such peer (deny-in)"
    deny_out = policies(pol("deny-out", egress=[]))   # egress key: Ingress and Egress
    assert not deny_out.allows(SRC, OUTSIDE, 443)[0]


def test_a_policy_selects_only_pods_of_its_namespace_and_its_selector():
    p = policies(pol("deny", types=["Egress"], selector={"matchLabels": {"app": "other"}}, egress=[]))
    assert p.allows(SRC, OUTSIDE, 443)[0]
    p = policies(pol("deny", ns="monitoring", types=["Egress"], egress=[]))
    assert p.allows(SRC, OUTSIDE, 443)[0]
    assert [x["metadata"]["name"] for x in policies(pol("deny", types=["Egress"], egress=[])).selecting(SRC, "Egress")] \
        == ["deny"]


def test_the_reason_names_the_direction_the_pod_and_every_selecting_policy_sorted():
    p = policies(pol("zz", types=["Egress"], egress=[]), pol("aa", types=["Egress"], egress=[]))
    assert p.allows(SRC, DST, 9100) == (False, "egress of the source (llm-serving) allows no such peer (aa, zz)")


# --- peers ------------------------------------------------------------------------------------------------------

def test_an_ipblock_reaches_outside_only_when_it_is_everything_without_exceptions():
    assert egress_to({"ipBlock": {"cidr": "0.0.0.0/0"}}).allows(SRC, OUTSIDE, 443)[0]
    assert egress_to({"ipBlock": {"cidr": "::/0"}}).allows(SRC, OUTSIDE, 443)[0]
    assert not egress_to({"ipBlock": {"cidr": "10.0.0.0/8"}}).allows(SRC, OUTSIDE, 443)[0]
    excepted = egress_to({"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}})
    assert not excepted.allows(SRC, OUTSIDE, 443)[0]
    # Proving a path closed (strict=False) counts any ipBlock as matching.
    assert excepted.allows(SRC, OUTSIDE, 443, strict=False)[0]
    assert egress_to({"ipBlock": {"cidr": "10.0.0.0/8"}}).allows(SRC, OUTSIDE, 443, strict=False)[0]


def test_an_ipblock_proves_no_pod_reachable_but_may_match_one_when_proving_closed():
    p = egress_to({"ipBlock": {"cidr": "0.0.0.0/0"}})
    assert not p.allows(SRC, DST, 9100)[0]
    assert p.allows(SRC, DST, 9100, strict=False)[0]


def test_a_pod_selector_peer_never_matches_an_address_outside_the_pod_network():
    assert not egress_to({"namespaceSelector": {}}).allows(SRC, OUTSIDE, 443)[0]
    ingress = policies(pol("in", types=["Ingress"], ingress=[{"from": [{"podSelector": {}}]}]))
    assert not ingress.allows(OUTSIDE, SRC, 443)[0]
    ingress = policies(pol("in", types=["Ingress"], ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]))
    assert ingress.allows(OUTSIDE, SRC, 443)[0]


def test_a_peer_without_namespace_selector_is_the_policy_namespace_only():
    p = egress_to({"podSelector": {"matchLabels": {"app": "dst"}}})
    assert not p.allows(SRC, DST, 9100)[0]                              # DST is in monitoring
    assert p.allows(SRC, Pod(NS, {"app": "dst"}, "same ns"), 9100)[0]
    assert not p.allows(SRC, Pod(NS, {"app": "else"}, "same ns"), 9100)[0]


def test_a_namespace_selector_matches_namespace_labels_and_the_name_label():
    by_label = egress_to({"namespaceSelector": {"matchLabels": {"team": "obs"}}})
    assert by_label.allows(SRC, DST, 9100)[0]
    assert not by_label.allows(SRC, Pod("apps", {}, "x"), 9100)[0]
    by_name = egress_to({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}})
    assert by_name.allows(SRC, DST, 9100)[0]
    both = egress_to({"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "nope"}}})
    assert not both.allows(SRC, DST, 9100)[0]


def test_a_rule_without_peers_allows_every_peer():
    assert egress_to(ports=[{"port": 9100}]).allows(SRC, DST, 9100)[0]
    assert egress_to(ports=[{"port": 9100}]).allows(SRC, OUTSIDE, 9100)[0]


# --- ports ------------------------------------------------------------------------------------------------------

def test_a_port_range_includes_both_ends_and_nothing_beyond():
    p = egress_to(ports=[{"protocol": "TCP", "port": 8000, "endPort": 8010}])
    assert [p.allows(SRC, DST, n)[0] for n in (7999, 8000, 8005, 8010, 8011)] == [False, True, True, True, False]
    single = egress_to(ports=[{"port": 8000}])
    assert [single.allows(SRC, DST, n)[0] for n in (7999, 8000, 8001)] == [False, True, False]
    as_text = egress_to(ports=[{"port": "8000"}])
    assert [as_text.allows(SRC, DST, n)[0] for n in (7999, 8000, 8001)] == [False, True, False]


def test_a_port_without_protocol_is_tcp():
    p = egress_to(ports=[{"port": 53}])
    assert p.allows(SRC, DST, 53, "TCP")[0]
    assert not p.allows(SRC, DST, 53, "UDP")[0]
    udp = egress_to(ports=[{"protocol": "UDP", "port": 53}])
    assert udp.allows(SRC, DST, 53, "UDP")[0] and not udp.allows(SRC, DST, 53, "TCP")[0]


def test_a_protocol_without_port_allows_every_port_and_no_ports_allows_everything():
    p = egress_to(ports=[{"protocol": "TCP"}])
    assert p.allows(SRC, DST, 1)[0] and p.allows(SRC, DST, None)[0]
    assert not p.allows(SRC, DST, 1, "UDP")[0]
    assert egress_to(ports=[]).allows(SRC, DST, 1, "SCTP")[0]


def test_an_unknown_port_is_allowed_only_when_proving_closed():
    p = egress_to(ports=[{"port": 9100}])
    assert not p.allows(SRC, DST, None)[0]
    assert p.allows(SRC, DST, None, strict=False)[0]


def test_a_named_port_resolves_against_the_destination_and_unknown_names_count_only_when_proving_closed():
    p = egress_to(ports=[{"port": "metrics"}])
    assert p.allows(SRC, DST, 9100)[0]
    assert not p.allows(SRC, DST, 9101)[0]
    assert not p.allows(SRC, DST, 9101, strict=False)[0]     # the name is known: it is 9100
    unknown = egress_to(ports=[{"port": "grpc"}])
    assert not unknown.allows(SRC, DST, 9100)[0]
    assert unknown.allows(SRC, DST, 9100, strict=False)[0]
    assert unknown.allows(SRC, OUTSIDE, 9100, strict=False)[0]


def test_a_later_rule_port_still_counts_after_a_non_matching_one():
    p = egress_to(ports=[{"protocol": "UDP", "port": 53}, {"port": "grpc"}, {"port": 9100}])
    assert p.allows(SRC, DST, 9100)[0]
    p = egress_to(ports=[{"port": 9100}, {"port": 9200}])
    assert p.allows(SRC, DST, None, strict=False)[0]


# --- URLs -------------------------------------------------------------------------------------------------------

def svc(name, ns, selector, ports) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": selector},
            "spec": {"selector": selector, "ports": ports}}


def test_urls_resolve_to_outside_unnamed_chart_and_rendered_service_targets():
    c = ctx([])
    [(dst, port, what)] = network._resolve_url(c, "https://huggingface.co/x")
    assert (dst, port, what) == (OUTSIDE, 443, "huggingface.co (outside the cluster)")
    assert network._resolve_url(c, "http://example.com/x")[0][:2] == (OUTSIDE, 80)
    assert network._resolve_url(c, "example.com:8443")[0][:2] == (OUTSIDE, 8443)
    [(dst, port, what)] = network._resolve_url(c, "redis:6379")
    assert (dst.namespace, port, what) == ("?", 6379, "redis: not a Service this plan can name")
    [(dst, port, what)] = network._resolve_url(c, "http://kube-prometheus-stack-prometheus.monitoring.svc:9090")
    assert (dst.namespace, dst.labels, port) == ("monitoring", network.PROMETHEUS_POD, 9090)
    assert "pod labels and target port from the chart" in what
    [(dst, port, what)] = network._resolve_url(c, "http://other.monitoring.svc.cluster.local:7000")
    assert (dst.namespace, dst.labels, port) == ("monitoring", {}, 7000) and "not rendered by the plan" in what


def test_a_rendered_service_url_reaches_its_pods_on_the_target_port_by_name_or_number():
    dep = deployment("r", [container(ports=[{"name": "redis", "containerPort": 6380}])], ns="data")
    elsewhere = deployment("r", [container(ports=[{"name": "redis", "containerPort": 6380}])], ns="other")
    objs = [dep, elsewhere, svc("r", "data", {"app": "r"}, [{"name": "tcp", "port": 6379, "targetPort": "redis"},
                                                {"name": "num", "port": 7000, "targetPort": 7001},
                                                {"name": "same", "port": 7100}])]
    c = ctx(objs)
    [(dst, port, what)] = network._resolve_url(c, "r.data.svc:6379")
    assert (dst.namespace, port, what) == ("data", 6380, "Service data/r -> Deployment data/r")
    assert network._resolve_url(c, "r.data.svc:7000")[0][1] == 7001
    assert network._resolve_url(c, "r.data.svc:7100")[0][1] == 7100
    [(dst, port, what)] = network._resolve_url(c, "r.data.svc:9999")
    assert (dst, port) == (None, None) and what == "Service data/r selects no rendered pod on port 9999"
    # A Service without selector selects no pod.
    nosel = svc("r", "data", {}, [{"name": "tcp", "port": 6379}])
    assert network._resolve_url(ctx([dep, nosel]), "r.data.svc:6379")[0][0] is None


# --- needed paths -----------------------------------------------------------------------------------------------

def paths(objs, resources=()):
    return network.needed_paths(ctx(objs, resources=resources))


def helm(chart, ns, values=None, name=None):
    return rec("kubernetes:helm.sh/v3:Release", name or chart, {"chart": chart, "version": "1.0", "namespace": ns,
                                                                "values": values or {}})


def test_a_podmonitor_scrapes_matching_pods_on_the_named_container_port_of_its_own_namespace():
    dep = deployment("m", [container(ports=[{"name": "metrics", "containerPort": 9400}])], ns="gpu-operator")
    other = deployment("m", [container(ports=[{"name": "metrics", "containerPort": 1}])], ns="elsewhere")
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
           "metadata": {"name": "pm", "namespace": "gpu-operator"},
           "spec": {"selector": {"matchLabels": {"app": "m"}}, "podMetricsEndpoints": [{"port": "metrics"}]}}
    got = [p for p in paths([dep, other, mon]) if p[0] == "PodMonitor gpu-operator/pm"]
    assert [(s.what, s.namespace, d.what, n, proto) for _, s, d, n, proto, _ in got] == [
        ("Prometheus", "monitoring", "Deployment gpu-operator/m", 9400, "TCP")]
    assert got[0][5] == "Prometheus scrapes Deployment gpu-operator/m port metrics"


def test_prometheus_is_where_kube_prometheus_stack_is_installed():
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
           "metadata": {"name": "sm", "namespace": NS},
           "spec": {"selector": {"matchLabels": {"x": "y"}}, "endpoints": [{"port": 8080}]}}
    got = [p for p in paths([mon], [helm("kube-prometheus-stack", "obs")]) if p[0] == "ServiceMonitor llm-serving/sm"]
    assert [(s.namespace, s.labels, d.namespace, n) for _, s, d, n, _, _ in got] == [
        ("obs", network.PROMETHEUS_POD, NS, 8080)]
    # The monitor's namespaceSelector lists where its targets are.
    mon["spec"]["namespaceSelector"] = {"matchNames": ["a", "b"]}
    got = [p for p in paths([mon]) if p[0] == "ServiceMonitor llm-serving/sm"]
    assert sorted(d.namespace for _, _, d, _, _, _ in got) == ["a", "b"]


def test_keda_triggers_need_their_prometheus_and_redis_addresses_from_the_keda_namespace():
    so = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so", "namespace": NS},
          "spec": {"scaleTargetRef": {"name": "m"}, "triggers": [
              {"type": "prometheus", "metadata": {"serverAddress": "http://p.monitoring.svc:9090"}},
              {"type": "redis", "metadata": {"address": "q.data.svc:6379"}},
              {"type": "cpu", "metadata": {"address": "ignored.data.svc:1"}}]}}
    got = [p for p in paths([so]) if p[0] == "ScaledObject llm-serving/so"]
    assert [(s.namespace, s.labels, d.namespace, n) for _, s, d, n, _, _ in got] == [
        ("llm-system", network.KEDA_OPERATOR_POD, "monitoring", 9090),
        ("llm-system", network.KEDA_OPERATOR_POD, "data", 6379)]
    assert got[0][5].startswith("KEDA prometheus trigger -> ") and got[1][5].startswith("KEDA redis trigger -> ")
    got = [p for p in paths([so], [helm("keda", "keda-ns")]) if p[0] == "ScaledObject llm-serving/so"]
    assert {s.namespace for _, s, _, _, _, _ in got} == {"keda-ns"}


def test_prometheus_adapter_queries_its_configured_url_and_port():
    r = helm("prometheus-adapter", "llm-system", {"prometheus": {"url": "http://p.monitoring.svc", "port": 9090}})
    got = [p for p in paths([], [r]) if p[0].startswith("helm release llm-system/prometheus-adapter")]
    [(_, s, d, n, proto, what)] = [g for g in got if "queries" in g[5]]
    assert (s.namespace, s.labels, d.namespace, n, proto) == ("llm-system", network.ADAPTER_POD, "monitoring", 9090,
                                                              "TCP")
    r = helm("prometheus-adapter", "llm-system", {"prometheus": {"url": "http://p.monitoring.svc"}})
    [g] = [g for g in paths([], [r]) if "queries" in g[5]]
    assert g[3] == 80


def test_a_pod_that_names_a_service_in_env_args_or_command_needs_that_path():
    for field in ({"env": [{"name": "U", "value": "http://a.data.svc:81"}]}, {"args": ["--u=a.data.svc:81"]},
                  {"command": ["run", "a.data.svc:81"]}):
        dep = deployment("c", [container(**field)], ns="apps")
        got = [p for p in paths([dep]) if p[0] == "Deployment apps/c" and p[2] is not OUTSIDE
               and p[2].namespace == "data"]
        assert [(s.namespace, n, what) for _, s, _, n, _, what in got] == [
            ("apps", 81, "Deployment apps/c calls Service data/a (not rendered by the plan: any pod of the namespace, "
                         "target port = Service port)")]


def test_dns_is_needed_from_owned_namespaces_and_weights_from_engine_pods():
    dep = deployment("m", labels={"app": "m", "llmfleet.io/engine": "vllm"})
    plain = deployment("p", ns="theirs")
    got = paths([namespace(NS), dep, plain])
    dns = [p for p in got if p[5] == "DNS"]
    assert [(o, d.namespace, d.labels, n, proto) for o, _, d, n, proto, _ in dns] == [
        ("Deployment llm-serving/m", "kube-system", network.KUBE_DNS_POD, 53, "UDP")]
    hf = [p for p in got if p[2] is OUTSIDE and p[3] == 443]
    assert [(o, what) for o, _, _, _, _, what in hf] == [("Deployment llm-serving/m", "weights from Hugging Face (HTTPS)")]


def test_a_chart_in_an_owned_namespace_needs_the_api_server_and_vpa_metrics_server_the_kubelets():
    vpa = helm("vpa", "llm-system", {"metrics-server": {"enabled": True}})
    got = paths([namespace("llm-system")], [vpa])
    assert [(s.labels, n, what) for _, s, d, n, _, what in got if d is OUTSIDE and n == 10250] == [
        ({"app.kubernetes.io/name": "metrics-server"}, 10250, "metrics-server scrapes every kubelet")]
    assert any(d is OUTSIDE and what == "the chart's controllers call the API server" for _, _, d, _, _, what in got)
    other = helm("keda", "llm-system", {"metrics-server": {"enabled": True}})
    assert not [p for p in paths([], [other]) if p[5] == "metrics-server scrapes every kubelet"]
    off = helm("vpa", "llm-system", {"metrics-server": {"enabled": False}})
    got = paths([], [off])
    assert not [p for p in got if p[5] == "metrics-server scrapes every kubelet"]
    assert not [p for p in got if p[5] == "the chart's controllers call the API server"]    # not an owned namespace


# --- the rule ---------------------------------------------------------------------------------------------------

def test_default_deny_needs_an_empty_selector_both_types_and_no_rules():
    def deny_verdict(p):
        found = network.check(ctx([namespace("monitoring"), p]))
        return verdicts(found, "network.default-deny", "Namespace monitoring")[0].verdict
    good = pol("d", ns="monitoring", types=["Ingress", "Egress"])
    assert deny_verdict(good) == "pass"
    assert deny_verdict(pol("d", ns="monitoring", types=["Ingress"])) == "fail"
    assert deny_verdict(pol("d", ns="monitoring", types=["Egress"])) == "fail"
    assert deny_verdict(pol("d", ns="monitoring", types=["Ingress", "Egress"],
                            selector={"matchLabels": {"a": "b"}})) == "fail"
    assert deny_verdict(pol("d", ns="monitoring", types=["Ingress", "Egress"],
                            selector={"matchExpressions": [{"key": "a", "operator": "Exists"}]})) == "fail"
    assert deny_verdict(pol("d", ns="monitoring", types=["Ingress", "Egress"], ingress=[{}])) == "fail"
    assert deny_verdict(pol("d", ns="monitoring", types=["Ingress", "Egress"], egress=[{}])) == "fail"
    assert deny_verdict(pol("d", ns="apps", types=["Ingress", "Egress"])) == "fail"
    found = network.check(ctx([namespace("monitoring"), good]))
    assert verdicts(found, "network.default-deny")[0].message == "denies ingress and egress by default"


def test_a_users_own_namespace_is_not_required_to_deny_by_default():
    found = network.check(ctx([namespace("theirs"), pol("x", ns="theirs", types=["Ingress"])]))
    assert not [c for c in found if c.name == "network.default-deny"]


def test_a_path_to_an_unknown_port_or_unnamed_service_is_unchecked_not_passed():
    dep = deployment("c", [container(env=[{"name": "U", "value": "redis:6379"}])], ns="monitoring")
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
           "metadata": {"name": "sm", "namespace": "monitoring"},
           "spec": {"selector": {"matchLabels": {"x": "y"}}, "endpoints": [{"port": "web"}]}}
    found = network.check(ctx([namespace("monitoring"), dep, mon, pol("d", ns="monitoring", types=["Ingress"])]))
    sm = verdicts(found, "network.reachable", "ServiceMonitor monitoring/sm")
    assert [(c.verdict, c.message) for c in sm] == [
        ("unchecked", "Prometheus scrapes chart pods {'x': 'y'} in monitoring port web: port unknown to the plan")]
    # `redis:6379` is no cluster DNS name the rule can follow; only `.svc` names are scanned.
    assert not [c for c in found if "redis" in c.message]


def test_a_reachable_path_reports_protocol_and_port_and_a_blocked_one_why():
    dep = deployment("m", [container(ports=[{"name": "http", "containerPort": 8000}])], ns=NS,
                     labels={"app": "m", "llmfleet.io/engine": "vllm"})
    objs = [namespace(NS), dep, pol("deny", types=["Ingress", "Egress"])]
    found = network.check(ctx(objs))
    dns = [c for c in verdicts(found, "network.reachable", "Deployment llm-serving/m") if c.message.startswith("DNS")]
    assert [(c.verdict, c.message) for c in dns] == [
        ("fail", "DNS: UDP 53 blocked: egress of Deployment llm-serving/m (llm-serving) allows no such peer (deny)")]
    dns_ok = pol("dns", types=["Egress"], egress=[{"ports": [{"protocol": "UDP", "port": 53}]}])
    found = network.check(ctx(objs + [dns_ok]))
    dns = [c for c in verdicts(found, "network.reachable", "Deployment llm-serving/m") if c.message.startswith("DNS")]
    assert [(c.verdict, c.message) for c in dns] == [("pass", "DNS: UDP 53 open")]


def test_model_endpoints_are_the_http_or_serve_port_and_kserve_8080():
    dep = deployment("m", [container(ports=[{"name": "metrics", "containerPort": 9000},
                                            {"name": "serve", "containerPort": 8001}])],
                     labels={"app": "m", "llmfleet.io/engine": "vllm"})
    plain = deployment("p", [container(ports=[{"name": "http", "containerPort": 80}])])
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "k", "namespace": NS},
            "spec": {"predictor": {"labels": {"llmfleet.io/engine": "kserve"}, "model": {"modelFormat": {"name": "x"}}}}}
    got = [(p.what, port) for p, port, _ in network.model_endpoints(ctx([dep, plain, isvc]))]
    assert got == [("Deployment llm-serving/m", 8001), ("InferenceService llm-serving/k predictor", 8080)]


def test_model_isolation_names_the_leaking_namespaces_and_clients_their_reach():
    dep = deployment("m", [container(ports=[{"name": "http", "containerPort": 8000}])],
                     labels={"app": "m", "llmfleet.io/engine": "vllm"})
    only_apps = pol("in", types=["Ingress"], ingress=[{"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "apps"}}}], "ports": [{"port": 8000}]}])
    c = ctx([namespace(NS), namespace("apps"), dep, only_apps])
    c.model_clients = ("apps",)
    found = network.check(c)
    assert [(x.verdict, x.message) for x in verdicts(found, "network.model-clients")] == [
        ("pass", "a client pod in apps reaches port 8000")]
    iso = verdicts(found, "network.model-isolated")[0]
    assert (iso.verdict, iso.message) == ("pass", "no pod in default, llm-serving reaches port 8000")
    c = ctx([namespace(NS), namespace("apps"), dep, only_apps])
    found = network.check(c)        # no clients configured: the model's own namespace is its client
    [cl] = verdicts(found, "network.model-clients")
    assert cl.verdict == "fail" and cl.message.startswith(
        "a client pod in llm-serving (llmfleet:security.modelClients) cannot reach port 8000: ingress of")
    iso = verdicts(found, "network.model-isolated")[0]
    assert (iso.verdict, iso.message) == (
        "fail", "pods in apps can reach port 8000 (not in llmfleet:security.modelClients)")


# --- more needed paths ------------------------------------------------------------------------------------------

def isvc(mode=None, name="k"):
    ann = {"serving.kserve.io/deploymentMode": mode} if mode else {}
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": name, "namespace": NS, "annotations": ann},
            "spec": {"predictor": {"labels": {"app": name}, "containers": [container()]}}}


def test_knative_calls_the_queue_proxy_of_serverless_inference_services_only():
    for mode in ("Knative", "Serverless"):
        got = [(o, s.namespace, d.what, n) for o, s, d, n, _, what in paths([isvc(mode)])
               if what == "Knative calls the queue-proxy"]
        assert got == [("InferenceService llm-serving/k", "knative-serving", "InferenceService llm-serving/k predictor",
                        8012), ("InferenceService llm-serving/k", "knative-serving",
                                "InferenceService llm-serving/k predictor", 9090)]
    for mode in (None, "RawDeployment", "Standard"):
        assert not [p for p in paths([isvc(mode)]) if p[5] == "Knative calls the queue-proxy"]
    # Only the service's own predictor pods.
    got = {d.what for o, s, d, n, _, what in paths([isvc("Knative", "a"), isvc(None, "b")])
           if what == "Knative calls the queue-proxy"}
    assert got == {"InferenceService llm-serving/a predictor"}


def ray(autoscale=False, head=True):
    tmpl = lambda role: {"metadata": {"labels": {"ray": role}}, "spec": {"containers": [container()]}}
    cluster = {"workerGroupSpecs": [{"groupName": "gpu", "template": tmpl("worker")}],
               "enableInTreeAutoscaling": autoscale}
    if head:
        cluster["headGroupSpec"] = {"template": tmpl("head")}
    return {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "r", "namespace": NS},
            "spec": {"rayClusterConfig": cluster}}


def test_ray_workers_join_the_head_kuberay_deploys_through_it_and_its_autoscaler_calls_the_api_server():
    got = [(s.what, d.what if d is not OUTSIDE else "outside", n, what) for o, s, d, n, _, what in
           paths([ray(autoscale=True)], [helm("kuberay-operator", "llm-system")]) if o == "RayService llm-serving/r"]
    assert got == [
        ("RayService llm-serving/r worker gpu", "RayService llm-serving/r head", 6379, "Ray worker joins the head (GCS)"),
        ("KubeRay operator", "RayService llm-serving/r head", 8265,
         "KubeRay deploys Serve through the head's dashboard"),
        ("RayService llm-serving/r head", "outside", 443, "the Ray autoscaler sidecar in the head calls the API server")]
    got = [what for o, _, _, _, _, what in paths([ray()]) if o == "RayService llm-serving/r"]
    assert got == ["Ray worker joins the head (GCS)"]
    assert [p for p in paths([ray(head=False)]) if p[0] == "RayService llm-serving/r"] == []


def test_the_api_server_calls_each_charts_webhook_ports():
    got = [(d.namespace, n, proto, what) for o, s, d, n, proto, what in paths([], [helm("keda", "llm-system")])
           if s is OUTSIDE]
    assert got == [("llm-system", 9443, "TCP", "the API server calls keda's webhook / aggregated API"),
                   ("llm-system", 6443, "TCP", "the API server calls keda's webhook / aggregated API")]


def test_the_endpoint_picker_chart_pods_are_selected_by_their_labels_and_others_by_namespace():
    from components.gateway.picker import release_pod_labels
    r = helm("llm-d-router-gateway", NS, {"router": {"inferencePool": {"create": False}}}, name="m-router")
    got = [s.labels for o, s, d, n, _, what in paths([namespace(NS)], [r])
           if what == "the chart's controllers call the API server"]
    assert got == [release_pod_labels("m-router", False)]
    creates = helm("llm-d-router-gateway", NS, {}, name="m-router")
    got = [s.labels for o, s, d, n, _, what in paths([namespace(NS)], [creates])
           if what == "the chart's controllers call the API server"]
    assert got == [release_pod_labels("m-router", True)]
    got = [s.labels for o, s, d, n, _, what in paths([namespace(NS)], [helm("keda", NS)])
           if what == "the chart's controllers call the API server"]
    assert got == [{}]


def test_a_path_to_no_rendered_pod_is_unchecked():
    # A ScaledObject whose Prometheus Service is rendered but selects no pod: nothing to prove.
    prom = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "p", "namespace": "monitoring"},
            "spec": {"selector": {"app": "none"}, "ports": [{"name": "web", "port": 9090}]}}
    so = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so", "namespace": NS},
          "spec": {"triggers": [{"type": "prometheus", "metadata": {"serverAddress": "http://p.monitoring.svc:9090"}}]}}
    found = network.check(ctx([namespace(NS), namespace("monitoring"), prom, so, pol("d", types=["Ingress"])]))
    assert [(c.verdict, c.message) for c in verdicts(found, "network.reachable", "ScaledObject")] == [
        ("unchecked", "KEDA prometheus trigger -> Service monitoring/p selects no rendered pod on port 9090")]


def test_metrics_scrapers_of_the_model_port_are_reported_not_counted_as_leaks():
    dep = deployment("m", [container(ports=[{"name": "http", "containerPort": 8000}])],
                     labels={"app": "m", "llmfleet.io/engine": "vllm"})
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {"name": "pm", "namespace": NS},
           "spec": {"selector": {"matchLabels": {"app": "m"}}, "podMetricsEndpoints": [{"port": "http"}]}}
    only_prom = pol("in", types=["Ingress"], ingress=[{"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}], "ports": [{"port": 8000}]}])
    found = network.check(ctx([namespace(NS), namespace("monitoring"), dep, mon, only_prom]))
    iso = verdicts(found, "network.model-isolated")[0]
    assert (iso.verdict, iso.message) == ("pass", "no pod in default reaches port 8000; monitoring scrapes it")


def test_an_address_the_plan_cannot_name_is_unchecked():
    so = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so", "namespace": NS},
          "spec": {"triggers": [{"type": "prometheus", "metadata": {"serverAddress": "http://prom:9090"}}]}}
    found = network.check(ctx([namespace(NS), so, pol("d", types=["Ingress", "Egress"])]))
    assert [(c.verdict, c.message) for c in verdicts(found, "network.reachable", "ScaledObject")] == [
        ("unchecked", "KEDA prometheus trigger -> prom: not a Service this plan can name")]


def test_an_unknown_port_into_a_namespace_the_plan_does_not_render_is_still_judged():
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
           "metadata": {"name": "sm", "namespace": "theirs"},
           "spec": {"selector": {"matchLabels": {"x": "y"}}, "endpoints": [{"port": "web"}]}}
    found = network.check(ctx([namespace("monitoring"), mon, pol("d", ns="monitoring", types=["Ingress"])]))
    assert [(c.verdict, c.message) for c in verdicts(found, "network.reachable", "ServiceMonitor theirs/sm")] == [
        ("pass", "Prometheus scrapes chart pods {'x': 'y'} in theirs port web: TCP any open")]


def test_a_scrape_of_another_port_does_not_excuse_reaching_the_model_port():
    dep = deployment("m", [container(ports=[{"name": "http", "containerPort": 8000},
                                            {"name": "metrics", "containerPort": 9000}])],
                     labels={"app": "m", "llmfleet.io/engine": "vllm"})
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {"name": "pm", "namespace": NS},
           "spec": {"selector": {"matchLabels": {"app": "m"}}, "podMetricsEndpoints": [{"port": "metrics"}]}}
    from_prom = pol("in", types=["Ingress"], ingress=[{"from": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}}]}])
    found = network.check(ctx([namespace(NS), namespace("monitoring"), dep, mon, from_prom]))
    iso = verdicts(found, "network.model-isolated")[0]
    assert (iso.verdict, iso.message) == ("fail", "pods in monitoring can reach port 8000 (not in "
                                                  "llmfleet:security.modelClients)")
