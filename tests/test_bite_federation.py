"""The shipped federation stack's hub objects and DNS as planned (components/federation/hub.py, dns.py): the values
the CRDs and the Route53 API accept in any form, and the names one object hands another (a Secret key an Issuer or
AI Gateway reads, a route a policy targets). tests/test_stack_reference.py checks the plan itself."""
import json

import pytest
import yaml

from plan import __main__ as plan_cli
from tests.test_stack_reference import real_outputs, scratch  # noqa: F401  (module fixture reused)

HUBS = ("prod", "gcp-prod")
STACKS = ("prod", "gcp-prod", "azure-prod")
GLOBAL = "llm.example.com"


@pytest.fixture(scope="module")
def planned(tmp_path_factory, real_outputs):  # noqa: F811
    root = scratch(tmp_path_factory.mktemp("fed"), real_outputs)
    assert plan_cli.plan("federation", root / "out" / "federation", quiet=True, stack_root=root) == 0
    return root / "out" / "federation"


def objects(planned, hub: str) -> dict:
    folder = planned / "manifests" / hub / "llm-federation"
    return {p.stem: yaml.safe_load(p.read_text()) for p in folder.glob("*.yaml")}


def aws_resources(planned) -> dict:
    steps = json.loads((planned / "preview.json").read_text())["steps"]
    return {st["newState"]["urn"].rsplit("::", 1)[1]: st["newState"]["inputs"] for st in steps
            if (st.get("newState") or {}).get("type", "").startswith("aws:")}


@pytest.mark.parametrize("hub", HUBS)
def test_gateway_listeners_certificate_and_dns01_issuer(planned, hub):
    o = objects(planned, hub)
    names = [GLOBAL, f"{hub}.{GLOBAL}"]
    gw = o["Gateway-llm-federation"]
    # The provider waits for Programmed: the DNS record needs the load balancer's address from the status.
    assert gw["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Programmed"
    tls = {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "group": "", "name": "llm-federation-tls"}]}
    assert gw["spec"]["listeners"] == [
        {"name": "https", "hostname": names[0], "port": 443, "protocol": "HTTPS", "tls": tls,
         "allowedRoutes": {"namespaces": {"from": "Same"}}},
        {"name": "https-direct", "hostname": names[1], "port": 443, "protocol": "HTTPS", "tls": tls,
         "allowedRoutes": {"namespaces": {"from": "Same"}}}]
    cert = o["Certificate-llm-federation-tls"]["spec"]
    assert cert == {"secretName": "llm-federation-tls", "dnsNames": names,
                    "issuerRef": {"name": "llm-federation-acme", "kind": "Issuer", "group": "cert-manager.io"}}
    acme = o["Issuer-llm-federation-acme"]["spec"]["acme"]
    assert acme["privateKeySecretRef"] == {"name": "llm-federation-acme-account"}
    assert acme["email"] == "platform@example.com"
    assert acme["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    (solver,) = acme["solvers"]
    r53 = solver["dns01"]["route53"]
    assert (r53["region"], r53["hostedZoneID"]) == ("us-east-1", "Z0123456789ABCDEFGHIJ")
    # cert-manager reads both credentials from the Secret's keys the refs name.
    secret = o["Secret-llm-federation-dns01"]
    assert r53["accessKeyIDSecretRef"]["name"] == r53["secretAccessKeySecretRef"]["name"] == secret["metadata"]["name"]
    keys = set(secret.get("stringData") or secret.get("data"))
    assert {r53["accessKeyIDSecretRef"]["key"], r53["secretAccessKeySecretRef"]["key"]} == keys == {
        "access-key-id", "secret-access-key"}
    assert secret["type"] == "Opaque"
    ctp = o["ClientTrafficPolicy-llm-federation"]["spec"]
    assert ctp["timeout"] == {"http": {"idleTimeout": "3600s", "streamIdleTimeout": "300s"}}


@pytest.mark.parametrize("hub", HUBS)
def test_each_federated_stack_is_a_tls_backend_with_its_api_key(planned, hub):
    o = objects(planned, hub)
    for s in STACKS:
        name = f"fed-{s}"
        secret = o[f"Secret-{name}-api-key"]
        # AI Gateway's APIKey BackendSecurityPolicy reads the key from the Secret's `apiKey` entry.
        assert set(secret.get("stringData") or secret.get("data")) == {"apiKey"} and secret["type"] == "Opaque"
        bsp = o[f"BackendSecurityPolicy-{name}"]["spec"]
        assert bsp == {"type": "APIKey", "apiKey": {"secretRef": {"name": f"{name}-api-key"}},
                       "targetRefs": [{"group": "aigateway.envoyproxy.io", "kind": "AIServiceBackend", "name": name}]}
        backend = o[f"Backend-{name}"]["spec"]
        (endpoint,) = backend["endpoints"]
        host = endpoint["fqdn"]["hostname"]
        # HTTPS to the stack's public endpoint, verified against the system CAs with its own name as SNI.
        assert endpoint["fqdn"]["port"] == 443
        assert backend["tls"] == {"sni": host, "wellKnownCACertificates": "System"}
        assert o[f"AIServiceBackend-{name}"]["spec"] == {
            "schema": {"name": "OpenAI", "prefix": "/v1"},
            "backendRef": {"name": name, "kind": "Backend", "group": "gateway.envoyproxy.io"}}


@pytest.mark.parametrize("hub", HUBS)
def test_routes_policies_and_the_open_health_path(planned, hub):
    o = objects(planned, hub)
    names = [GLOBAL, f"{hub}.{GLOBAL}"]
    routes = sorted(k.split("-", 1)[1] for k in o if k.startswith("AIGatewayRoute-"))
    assert routes == ["fed-cheap", "fed-llama-70b", "fed-llama-8b"]
    for r in routes:
        spec = o[f"AIGatewayRoute-{r}"]["spec"]
        assert spec["parentRefs"] == [{"name": "llm-federation", "kind": "Gateway",
                                       "group": "gateway.networking.k8s.io"}]
        assert spec["hostnames"] == names
        (rule,) = spec["rules"]
        assert rule["name"] == "by-model" and rule["timeouts"] == {"request": "300s"}
        assert rule["matches"] == [{"headers": [{"type": "Exact", "name": "x-ai-eg-model", "value": r[4:]}]}]
        btp = o[f"BackendTrafficPolicy-{r}"]["spec"]
        assert btp["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": r}]
        # A failed request moves on: two retries, 5xx from the gateway side, resets; one failure ejects a backend.
        assert btp["retry"]["numRetries"] == 2
        assert btp["retry"]["retryOn"]["httpStatusCodes"] == [502, 503, 504]
        assert btp["healthCheck"]["passive"]["consecutive5XxErrors"] == 1
    auth = o["SecurityPolicy-llm-federation-clients"]["spec"]
    assert sorted(t["name"] for t in auth["targetRefs"]) == routes
    assert {t["kind"] for t in auth["targetRefs"]} == {"HTTPRoute"}
    assert auth["apiKeyAuth"] == {"credentialRefs": [{"name": "llm-federation-clients"}],
                                  "extractFrom": [{"headers": ["Authorization"]}], "sanitize": True}
    clients = o["Secret-llm-federation-clients"]
    assert set(clients.get("stringData") or clients.get("data")) == {"web", "batch"}
    # /healthz needs no key (the DNS health check sends none): it redirects to the model list.
    health = o["HTTPRoute-llm-federation-health"]["spec"]
    assert health == {"parentRefs": [{"name": "llm-federation"}], "hostnames": names, "rules": [{
        "matches": [{"path": {"type": "Exact", "value": "/healthz"}}],
        "filters": [{"type": "RequestRedirect", "requestRedirect": {
            "path": {"type": "ReplaceFullPath", "replaceFullPath": "/v1/models"}, "statusCode": 302}}]}]}


def test_dns_failover_pair_and_health_checks(planned):
    aws = aws_resources(planned)
    zone = "Z0123456789ABCDEFGHIJ"
    for hub, role in zip(HUBS, ("PRIMARY", "SECONDARY")):
        direct = f"{hub}.{GLOBAL}"
        # The hub's own name -> its load balancer (an AWS NLB hostname: CNAME); 60s TTL bounds the failover time.
        assert aws[f"federation-dns-{hub}-direct"] == {"zoneId": zone, "type": "CNAME", "ttl": 60,
                                                       "records": ["llm-federation.elb.example.invalid"],
                                                       "name": direct}
        # HTTPS GET /healthz on the hub's own name with SNI, 3 failures 30s apart.
        check = aws[f"federation-dns-{hub}-health"]
        assert {k: v for k, v in check.items() if k != "tags"} == {
            "type": "HTTPS", "fqdn": direct, "port": 443, "resourcePath": "/healthz", "enableSni": True,
            "failureThreshold": 3, "requestInterval": 30}
        assert check["tags"] == {"Name": direct, "llmfleet:stack": "federation", "llmfleet:environment": "prod"}
        record = aws[f"federation-dns-global-{hub}"]
        assert record == {"zoneId": zone, "name": GLOBAL, "type": "CNAME", "ttl": 60, "records": [direct],
                          "healthCheckId": f"federation-dns-{hub}-health-id",
                          "setIdentifier": f"{hub}-{role.lower()}", "failoverRoutingPolicies": [{"type": role}]}
    assert aws["federation-dns01-user"]["name"] == "llmfleet-federation-dns01"
    policy = json.loads(aws["federation-dns01-policy"]["policy"])
    # cert-manager's documented Route53 policy, limited to this zone.
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "route53:GetChange", "Resource": "arn:aws:route53:::change/*"},
        {"Effect": "Allow", "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
         "Resource": f"arn:aws:route53:::hostedzone/{zone}"},
        {"Effect": "Allow", "Action": "route53:ListHostedZonesByName", "Resource": "*"}]
