"""The per-cluster Gateway (components/gateway): the exact children and chart inputs for dev (selfSigned, a token-
limited tenant) and prod (ACME, two Envoy replicas), and the wiring, read from the rendered objects: every name,
port, header, metadata key and Secret one part hands another."""
import pytest

from components.gateway import GatewayLayer
from components.gateway.values import AI_GATEWAY_CONTROLLER, AI_GATEWAY_EXTENSION_PORT
from spec.gateway import GATEWAY_NAME, GATEWAY_NAMESPACE
from tests.harness import run_stack


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


def _kinds(plan, namespace=None) -> set:
    return {(m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]) for m in plan.manifests
            if m["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "llm-gateway"}


def test_dev_children(dev):
    assert _kinds(dev) == {
        ("EnvoyProxy", "envoy-gateway-system", "llm-gateway"),
        ("GatewayClass", None, "llm-gateway"),
        ("Gateway", GATEWAY_NAMESPACE, GATEWAY_NAME),
        ("Issuer", GATEWAY_NAMESPACE, "llm-gateway-selfsigned"),
        ("Certificate", GATEWAY_NAMESPACE, "llm-gateway-ca"),
        ("Issuer", GATEWAY_NAMESPACE, "llm-gateway-ca"),
        ("Certificate", GATEWAY_NAMESPACE, "llm-gateway-tls"),
        ("HTTPRoute", GATEWAY_NAMESPACE, "llm-https-redirect"),
        ("ClientTrafficPolicy", GATEWAY_NAMESPACE, "llm-gateway"),
        ("HTTPRoute", "rag-system", "llm-frontend"),
        ("Service", "llm-serving", "llama-8b-pods"),
        ("Backend", GATEWAY_NAMESPACE, "llama-8b"),
        ("AIServiceBackend", GATEWAY_NAMESPACE, "llama-8b"),
        ("AIGatewayRoute", GATEWAY_NAMESPACE, "llm-openai"),
        ("BackendTrafficPolicy", GATEWAY_NAMESPACE, "llm-openai"),
        ("SecurityPolicy", GATEWAY_NAMESPACE, "llm-openai"),
        ("Secret", GATEWAY_NAMESPACE, "llm-gateway-api-keys"),
        ("PodMonitor", "monitoring", "llm-gateway-token-usage"),
    }
    # The contract: the composed stack's gateway component names what it routes.
    layer = dev.stack.gateway
    assert layer.virtual_models == ("llama-8b", "cheap")
    assert (layer.url, layer.openai_url) == ("https://llm.dev.internal", "https://llm.dev.internal/v1")
    assert dev.outputs["gateway"] == {"url": "https://llm.dev.internal", "openaiUrl": "https://llm.dev.internal/v1",
                                      "models": ["llama-8b", "cheap"]}


def test_charts_and_their_order(dev):
    releases = {r.inputs["name"]: r for r in dev.of_type("kubernetes:helm.sh/v3:Release")}
    eg, crds, ai, cm = releases["eg"], releases["aieg-crd"], releases["aieg"], releases["cert-manager"]
    assert (eg.inputs["chart"], eg.inputs["version"], eg.inputs["namespace"]) == (
        "oci://docker.io/envoyproxy/gateway-helm", "v1.9.0", "envoy-gateway-system")
    assert (crds.inputs["chart"], crds.inputs["version"]) == (
        "oci://docker.io/envoyproxy/ai-gateway-crds-helm", "v1.1.0")
    assert (ai.inputs["chart"], ai.inputs["version"], ai.inputs["namespace"]) == (
        "oci://docker.io/envoyproxy/ai-gateway-helm", "v1.1.0", "envoy-ai-gateway-system")
    assert dev.waits_for(ai, eg) and dev.waits_for(ai, crds)
    # cert-manager (no KServe in dev) exists for the Gateway, with its Gateway API integration, after EG's CRDs.
    assert cm.inputs["values"] == {"crds": {"enabled": True}, "config": {
        "apiVersion": "controller.config.cert-manager.io/v1alpha1", "kind": "ControllerConfiguration",
        "gatewayAPI": {"enabled": True}}}
    assert dev.waits_for(cm, eg)


def test_envoy_gateway_values_carry_ai_gateway_overlays(dev):
    eg = next(r for r in dev.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "eg")
    ai = next(r for r in dev.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "aieg")
    cfg = eg.inputs["values"]["config"]["envoyGateway"]
    assert cfg["extensionApis"] == {"enableEnvoyPatchPolicy": True, "enableBackend": True}
    assert cfg["extensionManager"]["hooks"]["xdsTranslator"]["post"] == ["Translation", "Cluster", "Route"]
    # No model of dev uses the endpoint picker: no InferencePool backends (tests/test_picker.py has the other case).
    assert "backendResources" not in cfg["extensionManager"]
    # The extension server EG calls is AI Gateway's controller Service: its name and namespace from the AI release.
    svc = cfg["extensionManager"]["service"]["fqdn"]
    assert svc == {"hostname": AI_GATEWAY_CONTROLLER, "port": AI_GATEWAY_EXTENSION_PORT}
    assert svc["hostname"] == (f"{ai.inputs['values']['controller']['fullnameOverride']}."
                               f"{ai.inputs['namespace']}.svc.cluster.local")
    assert ai.inputs["values"]["envoyGateway"]["namespace"] == eg.inputs["namespace"]
    # A token-limited tenant: the global rate limit counts in the Redis the layer renders.
    url = cfg["rateLimit"]["backend"]["redis"]["url"]
    name, ns = url.split(".")[:2]
    redis = dev.manifest("Service", name, ns)
    assert int(url.rsplit(":", 1)[1]) == redis["spec"]["ports"][0]["port"]
    assert redis["spec"]["selector"] == dev.manifest("Deployment", name, ns)["spec"]["template"]["metadata"]["labels"]


def test_listener_tls_and_issuers(dev, prod):
    for plan, host in ((dev, "llm.dev.internal"), (prod, "llm-aws.example.com")):
        gw = plan.manifest("Gateway", GATEWAY_NAME, GATEWAY_NAMESPACE)
        https = next(x for x in gw["spec"]["listeners"] if x["name"] == "https")
        assert (https["protocol"], https["port"], https["hostname"]) == ("HTTPS", 443, host)
        secret = https["tls"]["certificateRefs"][0]["name"]
        cert = next(m for m in plan.manifests if m["kind"] == "Certificate"
                    and m["spec"]["secretName"] == secret)
        assert cert["spec"]["dnsNames"] == [host]
        issuer = plan.manifest("Issuer", cert["spec"]["issuerRef"]["name"], GATEWAY_NAMESPACE)
        cls = plan.manifest("GatewayClass", gw["spec"]["gatewayClassName"])
        ref = cls["spec"]["parametersRef"]
        assert plan.manifest("EnvoyProxy", ref["name"], ref["namespace"])
        if plan is prod:
            acme = issuer["spec"]["acme"]
            assert (acme["email"], acme["server"]) == ("platform-oncall@example.com",
                                                       "https://acme-v02.api.letsencrypt.org/directory")
            # HTTP-01 through this Gateway's plain-HTTP listener.
            assert acme["solvers"] == [{"http01": {"gatewayHTTPRoute": {"parentRefs": [{
                "group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME,
                "namespace": GATEWAY_NAMESPACE, "sectionName": "http"}]}}}]
            assert any(x["name"] == "http" and x["port"] == 80 for x in gw["spec"]["listeners"])
        else:
            ca = issuer["spec"]["ca"]["secretName"]
            assert plan.manifest("Certificate", ca, GATEWAY_NAMESPACE)["spec"]["isCA"] is True
    envoy = prod.manifest("EnvoyProxy", "llm-gateway", "envoy-gateway-system")["spec"]["provider"]["kubernetes"]
    assert envoy["envoyDeployment"]["replicas"] == 2 and envoy["envoyPDB"] == {"minAvailable": 1}


def test_openai_route_wiring_to_model_pods(prod):
    route = prod.manifest("AIGatewayRoute", "llm-openai", GATEWAY_NAMESPACE)
    assert route["spec"]["parentRefs"][0]["sectionName"] == "https"
    for rule in route["spec"]["rules"]:
        for ref in rule["backendRefs"]:
            asb = prod.manifest("AIServiceBackend", ref["name"], GATEWAY_NAMESPACE)
            assert asb["spec"]["schema"] == {"name": "OpenAI"}
            backend = prod.manifest("Backend", asb["spec"]["backendRef"]["name"], GATEWAY_NAMESPACE)
            fqdn = backend["spec"]["endpoints"][0]["fqdn"]
            name, ns = fqdn["hostname"].split(".")[:2]
            headless = prod.manifest("Service", name, ns)
            model = prod.manifest("Service", ref["name"], "llm-serving")     # the model's own Service
            assert headless["spec"]["clusterIP"] == "None"
            assert headless["spec"]["selector"] == model["spec"]["selector"]
            assert fqdn["port"] == headless["spec"]["ports"][0]["port"] == model["spec"]["ports"][0]["port"] == 8000
            assert headless["spec"]["ports"][0]["targetPort"] == "http"
    names = [r["name"] for r in route["spec"]["rules"]]
    assert names == ["llama-70b", "llama-8b", "cheap", "best"]


def test_every_backend_gets_the_model_name_its_server_answers_to(prod):
    """vLLM answers only its --served-model-name; AI Gateway forwards the client's `model` unless the ref overrides
    it. So the model a request reaches the server with is the override, else the rule's own name: it must be the
    name that backend's server was started with (a tier or fallback without the override would get a 404)."""
    route = prod.manifest("AIGatewayRoute", "llm-openai", GATEWAY_NAMESPACE)
    seen = set()
    for rule in route["spec"]["rules"]:
        asked = rule["matches"][0]["headers"][0]["value"]
        for ref in rule["backendRefs"]:
            server = next(o for o in prod.manifests if o["kind"] in ("Deployment", "StatefulSet")
                          and o["metadata"]["name"] == ref["name"] and o["metadata"]["namespace"] == "llm-serving")
            args = server["spec"]["template"]["spec"]["containers"][0]["args"]
            served = args[args.index("--served-model-name") + 1]
            assert ref.get("modelNameOverride", asked) == served, (rule["name"], ref)
            seen.add((asked == served, "modelNameOverride" in ref))
    assert seen == {(True, False), (False, True)}     # both kinds occur in prod: direct names and overrides


def test_tenant_header_keys_and_token_costs_line_up(prod):
    sp = prod.manifest("SecurityPolicy", "llm-openai", GATEWAY_NAMESPACE)
    btp = prod.manifest("BackendTrafficPolicy", "llm-openai", GATEWAY_NAMESPACE)
    ctp = prod.manifest("ClientTrafficPolicy", GATEWAY_NAME, GATEWAY_NAMESPACE)
    route = prod.manifest("AIGatewayRoute", "llm-openai", GATEWAY_NAMESPACE)
    # Policies target the HTTPRoute AI Gateway generates: same name as the AIGatewayRoute.
    for p in (sp, btp):
        assert p["spec"]["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                                            "name": route["metadata"]["name"]}]
    header = sp["spec"]["apiKeyAuth"]["forwardClientIDHeader"]
    assert ctp["spec"]["headers"]["earlyRequestHeaders"]["remove"] == [header]   # clients cannot set it
    secret = prod.manifest("Secret", sp["spec"]["apiKeyAuth"]["credentialRefs"][0]["name"], GATEWAY_NAMESPACE)
    keys = secret.get("stringData") or secret.get("data")
    # client ids = tenant names, plus the federation hub's key (stacks/compose.py passes it as a client)
    assert sorted(keys) == ["batch", "default", "federation"]
    rules = btp["spec"]["rateLimit"]["global"]["rules"]
    assert [r["clientSelectors"][0]["headers"] for r in rules] == [
        [{"type": "Exact", "name": header, "value": "batch"}]]
    assert rules[0]["limit"] == {"requests": 50000000, "unit": "Hour"}
    meta = rules[0]["cost"]["response"]["metadata"]
    assert meta["namespace"] == "io.envoy.ai_gateway"
    assert meta["key"] in {c["metadataKey"] for c in route["spec"]["llmRequestCosts"] if c["type"] == "TotalToken"}
    assert btp["spec"]["retry"]["numAttemptsPerPriority"] == 1        # a retry moves to the next priority
    assert btp["spec"]["healthCheck"]["passive"]["consecutive5XxErrors"] == 3


def test_api_keys_are_secret_outputs(prod):
    secret = next(r for r in prod.of_type("kubernetes:core/v1:Secret") if r.inputs.get("metadata", {}).get(
        "name") == "llm-gateway-api-keys")
    passwords = [r for r in prod.of_type("random:index/randomPassword:RandomPassword") if "-gateway-key-" in r.name]
    assert sorted(r.name.rsplit("-key-", 1)[1] for r in passwords) == ["batch", "default"]
    assert all(r.inputs["length"] == 48 and r.inputs["special"] is False for r in passwords)
    assert secret.inputs["stringData"]   # resolved only through the secret outputs
    assert "gatewayApiKeys" in prod.outputs


def test_front_end_route_keeps_v1_for_ai_gateway(dev):
    import re
    fe = dev.manifest("HTTPRoute", "llm-frontend", "rag-system")
    rule = fe["spec"]["rules"][0]
    regex = rule["matches"][0]["path"]
    assert regex["type"] == "RegularExpression"
    assert rule["backendRefs"] == [{"name": "open-webui", "port": 80}]
    for path, ui in (("/", True), ("/api/v1/chats", True), ("/v", True), ("/v2/x", True), ("/v12", True),
                     ("/v1", False), ("/v1/chat/completions", False), ("/v1/models", False)):
        assert bool(re.fullmatch(regex["value"], path)) is ui, path
    # The RAG namespace may attach to the https listener, and only that one.
    gw = dev.manifest("Gateway", GATEWAY_NAME, GATEWAY_NAMESPACE)
    https = next(x for x in gw["spec"]["listeners"] if x["name"] == "https")
    assert https["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]["values"] == [
        "llm-gateway", "rag-system"]


MAIN = """
import json
import pulumi
from components.gateway import GatewayLayer
from components.serving.common import selector
from spec.stack import load
cfg = json.loads({cfg!r})
spec = load(cfg, {{"hfToken"}}, "dev")
layer = GatewayLayer("t", {{
    "gateway": spec.gateway, "routing": spec.routing, "models": spec.models, "serving_namespace": "llm-serving",
    "model_port": 8000, "model_selector": selector, "front_end": None, "production": False,
    "client_keys": {{{key!r}: pulumi.Output.secret("hub-key")}}, "depends_on": []}})
pulumi.export("models", list(layer.virtual_models))
"""


def _run_layer(tmp_path, key: str):
    import json
    from tests.test_routing import _config
    from plan.runtime import run_program
    cfg, _ = _config("dev")
    (tmp_path / "__main__.py").write_text(MAIN.format(cfg=json.dumps(cfg), key=key))
    return run_program("llmfleet", "dev", {}, [], root=tmp_path)


def test_client_keys_are_added_beside_tenants(tmp_path):
    """The federation hub's key arrives as `client_keys` (contract): one more client id in the API-key Secret."""
    result = _run_layer(tmp_path, "federation-hub")
    secret = next(r for r in result.resources if r.type == "kubernetes:core/v1:Secret")
    assert sorted(secret.inputs["stringData"]) == ["batch", "default", "federation-hub"]
    assert secret.inputs["stringData"]["federation-hub"] == "[secret]"
    assert result.outputs["models"] == ["llama-8b", "cheap"]


def test_client_keys_must_not_shadow_tenants(tmp_path):
    with pytest.raises(Exception, match="client_keys batch collide with llmfleet:routing.tenants"):
        _run_layer(tmp_path, "batch")


def test_token_usage_metrics_are_scraped_from_the_extproc_sidecar(dev):
    mon = dev.manifest("PodMonitor", "llm-gateway-token-usage", "monitoring")
    ep = dev.manifest("EnvoyProxy", "llm-gateway", "envoy-gateway-system")
    assert mon["spec"]["namespaceSelector"] == {"matchNames": [ep["metadata"]["namespace"]]}
    assert mon["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "envoy",
                                                     "app.kubernetes.io/component": "proxy",
                                                     "app.kubernetes.io/managed-by": "envoy-gateway"}
    assert mon["spec"]["podMetricsEndpoints"] == [{"portNumber": 1064, "path": "/metrics", "interval": "30s"}]
    # Prometheus (monitoring) may leave its namespace for that port, towards those pods only.
    egress = dev.manifest("NetworkPolicy", "allow-scrape-gateway-egress", "monitoring")["spec"]["egress"]
    assert egress == [{"ports": [{"protocol": "TCP", "port": 1064}], "to": [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}},
        "podSelector": {"matchLabels": mon["spec"]["selector"]["matchLabels"]}}]}]
