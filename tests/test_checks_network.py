"""The network rule (plan/checks/network.py) and the policies the program renders (components/security).

Deliberately broken policies must fail the rule; every shipped stack's own policies must pass it."""
import copy

import pytest

from components.security import policies
from components.security.paths import NetworkInputs, endpoints_for
from plan import manifests
from plan.checks import network
from plan.checks.context import Context
from tests.checks_kit import container, ctx, deployment, failed, namespace, verdicts
from tests.harness import run_stack

NS = "llm-serving"
MODEL = {"app.kubernetes.io/name": "m", "llmfleet.io/engine": "vllm", "llmfleet.io/model": "m"}


class _M:   # the two fields endpoints_for reads
    def __init__(self, name, engine):
        self.name, self.engine = name, engine


def model_objects():
    dep = deployment("m", [container("vllm", ports=[{"name": "http", "containerPort": 8000, "protocol": "TCP"}])],
                     labels=MODEL)
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "m", "namespace": NS, "labels": MODEL},
           "spec": {"selector": {"llmfleet.io/model": "m"},
                    "ports": [{"name": "http", "port": 8000, "targetPort": "http"}]}}
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
           "metadata": {"name": "m", "namespace": NS},
           "spec": {"selector": {"matchLabels": {"llmfleet.io/model": "m"}}, "namespaceSelector": {"matchNames": [NS]},
                    "endpoints": [{"port": "http"}]}}
    return [namespace(n) for n in (NS, "llm-system", "gpu-operator", "monitoring")] + [dep, svc, mon]


def rendered(clients=(NS,)) -> list:
    inputs = NetworkInputs(NS, tuple(clients), endpoints_for([_M("m", "vllm")], 8080, 8080, 8000),
                           {"kube-prometheus-stack": "monitoring"},
                           "http://kube-prometheus-stack-prometheus.monitoring.svc:9090")
    return policies(inputs)


def run(objs, clients=()):
    c = ctx(objs)
    c.model_clients = tuple(clients)
    return network.check(c)


def without(pols, name, ns=NS):
    return [p for p in pols if not (p["metadata"]["name"] == name and p["metadata"]["namespace"] == ns)]


def test_the_rendered_policies_open_every_needed_path_and_close_the_model_to_outsiders():
    found = run(model_objects() + rendered())
    assert [c for c in found if c.verdict == "fail"] == []
    scrape = verdicts(found, "network.reachable", "ServiceMonitor llm-serving/m")
    assert [c.verdict for c in scrape] == ["pass"] and "TCP 8000 open" in scrape[0].message
    iso = verdicts(found, "network.model-isolated", "Deployment llm-serving/m")[0]
    assert iso.verdict == "pass" and "default" in iso.message and "llm-system" in iso.message
    assert {c.object for c in verdicts(found, "network.default-deny")} == {
        f"Namespace {n}" for n in (NS, "llm-system", "gpu-operator", "monitoring")}


def test_no_policies_is_reported_unchecked_never_a_pass():
    found = run(model_objects())
    assert [(c.name, c.verdict) for c in found] == [("network.policies", "unchecked")]


def test_a_missing_scrape_ingress_breaks_the_servicemonitor_path():
    found = run(model_objects() + without(rendered(), "allow-scrape-m-ingress"))
    msgs = failed(found, "network.reachable", "ServiceMonitor llm-serving/m")
    assert msgs and "ingress of Deployment llm-serving/m" in msgs[0] and "blocked" in msgs[0]


def test_a_missing_prometheus_egress_breaks_the_scrape_too():
    pols = [p for p in rendered() if not (p["metadata"]["namespace"] == "monitoring"
                                          and p["metadata"]["name"] == "allow-scrape-m-egress")]
    msgs = failed(run(model_objects() + pols), "network.reachable", "ServiceMonitor llm-serving/m")
    assert msgs and "egress of Prometheus (monitoring)" in msgs[0]


def test_an_allow_all_ingress_lets_outsiders_reach_the_model():
    open_all = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "oops", "namespace": NS},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                         "ingress": [{"from": [{"namespaceSelector": {}}]}]}}
    msgs = failed(run(model_objects() + rendered() + [open_all]), "network.model-isolated")
    # llm-system's own default deny still stops its egress; a namespace without policies gets in.
    assert msgs and "pods in default can reach port 8000" in msgs[0] and "llm-system" not in msgs[0]


def test_an_ipblock_counts_against_isolation_but_not_for_reachability():
    block = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "cidr", "namespace": NS},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 8000}]}]}}
    # Isolation: an ipBlock may match pod IPs (implementation-defined), so it is a leak.
    assert failed(run(model_objects() + rendered() + [block]), "network.model-isolated")
    # Reachability: an ipBlock alone does not prove a client in another namespace gets in.
    pols = without(rendered(clients=("apps",)), "allow-client-m-0-ingress") + [block]
    msgs = failed(run(model_objects() + [namespace("apps")] + pols, clients=("apps",)), "network.model-clients")
    assert msgs and "apps" in msgs[0]


def test_model_clients_from_config_reach_the_model_and_the_serving_namespace_then_does_not():
    objs = model_objects() + [namespace("apps")] + rendered(clients=("apps",))
    found = run(objs, clients=("apps",))
    assert [c.verdict for c in verdicts(found, "network.model-clients")] == ["pass"]
    iso = verdicts(found, "network.model-isolated")[0]
    assert iso.verdict == "pass" and NS in iso.message    # the serving namespace is now an outsider


def test_a_missing_default_deny_fails():
    found = run(model_objects() + without(rendered(), "default-deny", "gpu-operator"))
    assert failed(found, "network.default-deny", "Namespace gpu-operator")


def test_a_named_port_in_a_policy_resolves_against_the_destination_pod():
    pols = rendered()
    for p in pols:
        if p["metadata"]["name"] == "allow-scrape-m-ingress":
            p["spec"]["ingress"][0]["ports"] = [{"protocol": "TCP", "port": "http"}]
    assert not [c for c in run(model_objects() + pols) if c.verdict == "fail"]
    for p in pols:
        if p["metadata"]["name"] == "allow-scrape-m-ingress":
            p["spec"]["ingress"][0]["ports"] = [{"protocol": "TCP", "port": "grpc"}]
    assert failed(run(model_objects() + pols), "network.reachable", "ServiceMonitor llm-serving/m")


@pytest.mark.parametrize("stack", ["prod", "azure-prod", "gcp-prod", "dev"])
def test_real_stacks_policies_pass_and_fail_when_a_path_is_cut(stack):
    p = run_stack(stack)
    objs = manifests.objects(p.resources)
    c = Context.from_run(p.result, objs, p.spec.cluster.kubernetes_version)
    found = network.check(c)
    assert [f"{x.object}: {x.message}" for x in found if x.verdict == "fail"] == []
    reach = [x for x in found if x.name == "network.reachable" and x.verdict == "pass"]
    assert any(x.object.startswith(("ServiceMonitor", "PodMonitor")) for x in reach)
    assert any(x.object.startswith("helm release") and "webhook" in x.message for x in reach)
    assert all(x.verdict == "pass" for x in found if x.name in ("network.model-isolated", "network.model-clients"))
    # Cut every ingress into the serving namespace that is not the default deny: scrapes and clients fail.
    cut = [o for o in copy.deepcopy(objs) if not (o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == NS
                                                  and o["metadata"]["name"].endswith("-ingress"))]
    c2 = Context.from_run(p.result, cut, p.spec.cluster.kubernetes_version)
    broken = [x for x in network.check(c2) if x.verdict == "fail"]
    assert {x.name for x in broken} >= {"network.reachable", "network.model-clients"}


def test_every_engine_and_autoscaler_of_the_serving_tests_keeps_its_paths():
    # KServe Standard and Serverless (Knative), Ray Serve, KEDA, HPA, VPA in one stack (tests/test_serving.py).
    from tests.harness import run_config
    from tests.test_serving import SECRETS, config
    p = run_config(config(), secrets=SECRETS)
    found = network.check(Context.from_run(p.result, manifests.objects(p.resources), "1.34"))
    assert [f"{x.object}: {x.message}" for x in found if x.verdict == "fail"] == []
    msgs = [x.message for x in found if x.verdict == "pass"]
    assert any("Knative calls the queue-proxy" in m for m in msgs)
    assert any("Ray worker joins the head" in m for m in msgs)
    assert any("KEDA prometheus trigger" in m for m in msgs)


def test_dev_metrics_server_needs_its_kubelet_path():
    # dev (EKS) brings metrics-server with VPA: without its egress to the kubelets the recommender goes blind.
    p = run_stack("dev")
    objs = [o for o in manifests.objects(p.resources)
            if not (o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "allow-kubelets-egress")]
    found = network.check(Context.from_run(p.result, objs, p.spec.cluster.kubernetes_version))
    assert any("metrics-server scrapes every kubelet: TCP 10250 blocked" in m
               for m in failed(found, "network.reachable", "helm release llm-system/vpa"))


def test_a_chart_exporter_is_scraped_by_its_selector_and_known_port():
    """A ServiceMonitor whose Service a chart renders (not in the plan): the path goes to pods carrying the monitor's
    selector labels, on the port the chart's named port stands for; no selector, no pods to admit."""
    from plan.checks import network
    from plan.checks.context import Context
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
           "metadata": {"name": "dcgm", "namespace": "gpu-operator"},
           "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "dcgm-exporter"}},
                    "endpoints": [{"port": "metrics"}]}}
    paths = [p for p in network.needed_paths(Context("aws", "1.34", [mon])) if p[0].endswith("dcgm")]
    assert len(paths) == 1
    _, src, dst, port, proto, _ = paths[0]
    assert (dst.namespace, dst.labels, port, proto) == ("gpu-operator", {"app.kubernetes.io/name": "dcgm-exporter"},
                                                        9400, "TCP")
    assert src.what == "Prometheus"
