"""Cluster checks of the Gateway (plan/checks/gateway.py, plan/checks/network.py): they pass on the shipped dev
plan and fail, naming the broken link, when one reference is broken: a route's listener, the namespaces a listener
admits, a backend, a Backend's Service port, a policy's target, an issuer, the API-key Secret, an InferencePool's
selector or port, cert-manager's install order, and the network rows that open Envoy's paths."""
import copy
import dataclasses

import pytest

from plan.checks import gateway, network
from plan.checks.context import Context
from tests.harness import run_stack


@pytest.fixture(scope="module")
def dev():
    plan = run_stack("dev")
    return plan, Context.from_run(plan.result, plan.manifests, "1.34")


def _with(base: Context, objects=None, resources=None) -> Context:
    return dataclasses.replace(base, objects=objects if objects is not None else copy.deepcopy(base.objects),
                               resources=resources if resources is not None else list(base.resources))


def _obj(objs, kind, name):
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def _fails(checks, name, obj) -> list[str]:
    found = [c for c in checks if c.name == name and c.object == obj]
    assert found, f"no {name} check for {obj}"
    return [c.message for c in found if c.verdict == "fail"]


def test_shipped_dev_plan_passes(dev):
    _, ctx = dev
    checks = gateway.check(ctx)
    names = {(c.name, c.object) for c in checks}
    assert ("gateway.route", "AIGatewayRoute llm-gateway/llm-openai") in names
    assert ("gateway.route", "HTTPRoute rag-system/llm-frontend") in names
    assert ("gateway.certificate", "Certificate llm-gateway/llm-gateway-tls") in names
    assert ("gateway.install-order", "helm release cert-manager") in names
    assert [c for c in checks if c.verdict == "fail"] == []
    unchecked = [c.object for c in checks if c.verdict == "unchecked"]
    assert unchecked == ["helm release envoy-gateway-system/eg (gateway-helm v1.9.0)",
                         "helm release envoy-ai-gateway-system/aieg (ai-gateway-helm v1.1.0)"]


def test_route_to_a_missing_listener_or_a_namespace_not_admitted(dev):
    _, base = dev
    ctx = _with(base)
    _obj(ctx.objects, "HTTPRoute", "llm-frontend")["spec"]["parentRefs"][0]["sectionName"] = "tls"
    assert _fails(gateway.check(ctx), "gateway.route", "HTTPRoute rag-system/llm-frontend") == [
        "Gateway llm-gateway has no listener 'tls'"]
    ctx = _with(base)
    _obj(ctx.objects, "HTTPRoute", "llm-frontend")["spec"]["parentRefs"][0]["sectionName"] = "http"
    assert _fails(gateway.check(ctx), "gateway.route", "HTTPRoute rag-system/llm-frontend") == [
        "listener http admits routes from its own namespace only"]


def test_ai_route_to_a_missing_backend_or_port(dev):
    _, base = dev
    ctx = _with(base)
    ctx.objects.remove(_obj(ctx.objects, "AIServiceBackend", "llama-8b"))
    msgs = _fails(gateway.check(ctx), "gateway.route", "AIGatewayRoute llm-gateway/llm-openai")
    assert msgs == ["rule llama-8b: AIServiceBackend llm-gateway/llama-8b is not in the plan; "
                    "rule cheap: AIServiceBackend llm-gateway/llama-8b is not in the plan"]
    ctx = _with(base)
    _obj(ctx.objects, "Backend", "llama-8b")["spec"]["endpoints"][0]["fqdn"]["port"] = 8080
    msgs = _fails(gateway.check(ctx), "gateway.route", "AIGatewayRoute llm-gateway/llm-openai")
    assert msgs and "Service llm-serving/llama-8b-pods has no port 8080" in msgs[0]
    ctx = _with(base)
    _obj(ctx.objects, "Service", "llama-8b-pods")["spec"]["selector"] = {"llmfleet.io/model": "llama-9b"}
    msgs = _fails(gateway.check(ctx), "gateway.route", "AIGatewayRoute llm-gateway/llm-openai")
    assert msgs and "Service llm-serving/llama-8b-pods selects no pod" in msgs[0]


def test_policy_targets_and_secrets(dev):
    _, base = dev
    ctx = _with(base)
    ctx.objects.remove(_obj(ctx.objects, "AIGatewayRoute", "llm-openai"))
    assert _fails(gateway.check(ctx), "gateway.policy", "SecurityPolicy llm-gateway/llm-openai") == [
        "targets HTTPRoute llm-gateway/llm-openai, which is not in the plan"]
    ctx = _with(base)
    ctx.objects.remove(_obj(ctx.objects, "Secret", "llm-gateway-api-keys"))
    assert _fails(gateway.check(ctx), "gateway.policy", "SecurityPolicy llm-gateway/llm-openai") == [
        "API key Secret llm-gateway-api-keys is not in the plan"]


def test_certificate_chain(dev):
    _, base = dev
    ctx = _with(base)
    ctx.objects.remove(_obj(ctx.objects, "Certificate", "llm-gateway-ca"))
    assert _fails(gateway.check(ctx), "gateway.certificate", "Certificate llm-gateway/llm-gateway-tls") == [
        "CA Issuer llm-gateway-ca's Secret llm-gateway-ca is never written"]
    ctx = _with(base)
    ctx.objects.remove(_obj(ctx.objects, "Certificate", "llm-gateway-tls"))
    assert _fails(gateway.check(ctx), "gateway.gateway", "Gateway llm-gateway/llm-gateway") == [
        "listener https: Secret llm-gateway-tls is neither in the plan nor written by a Certificate"]


def test_acme_solver_must_reach_a_listener():
    plan = run_stack("prod")
    base = Context.from_run(plan.result, plan.manifests, "1.34")
    assert [c for c in gateway.check(base) if c.verdict == "fail"] == []
    ctx = _with(base)
    issuer = _obj(ctx.objects, "Issuer", "llm-gateway-acme")
    issuer["spec"]["acme"]["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]["sectionName"] = "https80"
    assert _fails(gateway.check(ctx), "gateway.certificate", "Certificate llm-gateway/llm-gateway-tls") == [
        "ACME solver: Gateway llm-gateway has no listener 'https80'"]


def test_inference_pool_selector_and_ports(dev):
    _, base = dev
    pool = {"apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": {"name": "llama-8b", "namespace": "llm-serving"},
            "spec": {"selector": {"matchLabels": {"llmfleet.io/model": "llama-8b"}}, "targetPorts": [{"number": 8000}]}}
    ctx = _with(base, objects=copy.deepcopy(base.objects) + [pool])
    ok = [c for c in gateway.check(ctx) if c.name == "gateway.inferencepool"]
    assert [(c.verdict, c.message) for c in ok] == [("pass", "selects Deployment llm-serving/llama-8b")]
    bad = copy.deepcopy(pool)
    bad["spec"]["targetPorts"] = [{"number": 8001}]
    bad["spec"]["selector"]["matchLabels"]["llmfleet.io/model"] = "llama-8b"
    ctx = _with(base, objects=copy.deepcopy(base.objects) + [bad])
    assert _fails(gateway.check(ctx), "gateway.inferencepool", "InferencePool llm-serving/llama-8b") == [
        "targetPort 8001 is not a container port of Deployment llm-serving/llama-8b"]


def test_cert_manager_must_install_after_envoy_gateway(dev):
    _, base = dev
    eg = next(r for r in base.resources if str(r.inputs.get("chart", "")).endswith("/gateway-helm"))
    resources = []
    for r in base.resources:
        if str(r.inputs.get("chart", "")).endswith("/cert-manager"):
            # Cut the dependency on the Gateway controllers (the component and the chart).
            r = dataclasses.replace(r, dependencies=[d for d in r.dependencies
                                                     if "GatewayControllers" not in d and d != eg.urn])
        resources.append(r)
    ctx = _with(base, resources=resources)
    msgs = _fails(gateway.check(ctx), "gateway.install-order", "helm release cert-manager")
    assert msgs and "does not wait for gateway-helm" in msgs[0]


def test_network_proves_envoy_reaches_models_and_fails_without_the_rows(dev):
    _, base = dev
    ok = [c for c in network.check(base) if c.name == "network.reachable" and c.object.startswith("Backend ")]
    assert [(c.verdict, c.object) for c in ok] == [("pass", "Backend llm-gateway/llama-8b")]
    assert "TCP 8000 open" in ok[0].message
    ctx = _with(base)
    ctx.objects = [o for o in ctx.objects if not (o["kind"] == "NetworkPolicy"
                                                  and o["metadata"]["name"].startswith("allow-gateway-"))]
    ctx._network_paths = None
    bad = [c for c in network.check(ctx) if c.name == "network.reachable" and c.object.startswith("Backend ")]
    assert [c.verdict for c in bad] == ["fail"]
    assert "TCP 8000 blocked" in bad[0].message
    # The gateway's ingress rule admits Envoy's proxy pods only, not the rest of its namespace.
    leaks = [c for c in network.check(base) if c.name == "network.model-isolated"]
    assert leaks and all(c.verdict == "pass" for c in leaks)
    assert all("envoy-gateway-system" in c.message for c in leaks)      # a pod there without Envoy's labels


def test_a_federation_hub_resolves_the_gateway_class_its_cloud_stack_made():
    """The hub's Gateway names the GatewayClass that the hub's own cloud stack created: the federation plan passes
    that stack's objects as `present` (resolved by reference, never checked again), and without them it fails."""
    from plan.checks import gateway as gateway_rules
    from plan.checks.context import Context
    gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
          "metadata": {"name": "llm-federation", "namespace": "llm-federation"},
          "spec": {"gatewayClassName": "llm-gateway", "listeners": []}}
    cls = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": "llm-gateway"},
           "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"}}
    alone = [c for c in gateway_rules.check(Context("aws", "1.34", [gw])) if c.name == "gateway.gateway"]
    assert [c.verdict for c in alone] == ["fail"] and "GatewayClass llm-gateway is not in the plan" in alone[0].message
    ctx = Context("aws", "1.34", [gw], present=[cls])
    assert ctx.kind("GatewayClass") == [] and ctx.get("GatewayClass", None, "llm-gateway") is cls
    with_hub = [c for c in gateway_rules.check(ctx) if c.name == "gateway.gateway"]
    assert "GatewayClass llm-gateway is not in the plan" not in with_hub[0].message
