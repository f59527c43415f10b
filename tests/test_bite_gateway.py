"""The Gateway's traffic settings as rendered (components/gateway/objects.py), each with the reason it has that value.
The CRDs accept any of the alternatives (another status code, another key size, no sanitising), so only these
assertions notice a changed decision. tests/test_gateway.py checks the wiring between the objects."""
import pytest

from components.gateway.objects import BODY_LIMIT, REQUEST_TIMEOUT, RETRIES, STREAM_IDLE_TIMEOUT
from spec.gateway import GATEWAY_NAME, GATEWAY_NAMESPACE
from tests.harness import run_stack


@pytest.fixture(scope="module")
def dev():
    return run_stack("dev")


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


def test_backend_traffic_retries_ejects_and_times_out_for_streams(prod):
    spec = prod.manifest("BackendTrafficPolicy", "llm-openai", GATEWAY_NAMESPACE)["spec"]
    # Least-request balancing: one long generation must not pile more requests onto the busiest pod.
    assert spec["loadBalancer"] == {"type": "LeastRequest"}
    # Two retries, each moving to the next priority (fallbacks), with a short exponential back-off; only failures
    # that happen before a response starts (connect, refused stream) or 5xx answers are retried.
    assert spec["retry"] == {"numRetries": RETRIES, "numAttemptsPerPriority": 1,
                             "perRetry": {"backOff": {"baseInterval": "100ms", "maxInterval": "2s"}},
                             "retryOn": {"triggers": ["connect-failure", "refused-stream", "retriable-status-codes"],
                                         "httpStatusCodes": [500, 502, 503, 504]}}
    assert RETRIES == 2
    # Passive health checks: three 5xx or gateway errors in a row eject the pod for 30s, and all pods may be
    # ejected (a model with one replica would otherwise keep receiving requests it fails).
    assert spec["healthCheck"] == {"passive": {"consecutive5XxErrors": 3, "consecutiveGatewayErrors": 3,
                                               "interval": "5s", "baseEjectionTime": "30s",
                                               "maxEjectionPercent": 100}}
    # Streams: 10 minutes per request, 5 minutes without a token, 5s to connect.
    assert spec["timeout"] == {"tcp": {"connectTimeout": "5s"},
                               "http": {"requestTimeout": "600s", "streamIdleTimeout": "300s"}}
    assert (REQUEST_TIMEOUT, STREAM_IDLE_TIMEOUT) == ("600s", "300s")
    # The token budget is checked on the request (cost 0) and charged from the response's token usage.
    rule = spec["rateLimit"]["global"]["rules"][0]
    assert rule["cost"]["request"] == {"from": "Number", "number": 0}
    assert rule["cost"]["response"]["from"] == "Metadata"


def test_route_timeouts_and_token_costs(prod):
    route = prod.manifest("AIGatewayRoute", "llm-openai", GATEWAY_NAMESPACE)["spec"]
    assert all(r["timeouts"] == {"request": "600s"} for r in route["rules"])
    assert all(r["matches"] == [{"headers": [{"type": "Exact", "name": "x-ai-eg-model", "value": r["name"]}]}]
               for r in route["rules"])
    # Input, output and total tokens per request (AI Gateway's LLMRequestCost types).
    assert route["llmRequestCosts"] == [{"metadataKey": "llm_input_token", "type": "InputToken"},
                                        {"metadataKey": "llm_output_token", "type": "OutputToken"},
                                        {"metadataKey": "llm_total_token", "type": "TotalToken"}]


def test_client_traffic_caps_the_body_and_keeps_streams_open(prod):
    spec = prod.manifest("ClientTrafficPolicy", GATEWAY_NAME, GATEWAY_NAMESPACE)["spec"]
    assert spec["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}]
    # 8Mi of prompt or RAG context per request; idle connections live an hour, streams 5 minutes without data.
    assert spec["connection"] == {"bufferLimit": "8Mi"} and BODY_LIMIT == "8Mi"
    assert spec["timeout"] == {"http": {"idleTimeout": "3600s", "streamIdleTimeout": "300s"}}


def test_api_keys_are_read_from_both_openai_headers_and_not_forwarded(prod):
    auth = prod.manifest("SecurityPolicy", "llm-openai", GATEWAY_NAMESPACE)["spec"]["apiKeyAuth"]
    # OpenAI SDKs send `Authorization: Bearer <key>`; some clients `x-api-key`. The core group is "".
    assert auth["extractFrom"] == [{"headers": ["Authorization"]}, {"headers": ["x-api-key"]}]
    assert auth["credentialRefs"] == [{"group": "", "kind": "Secret", "name": "llm-gateway-api-keys"}]
    # sanitize: the key is stripped before the request reaches the model server (and its logs).
    assert auth["sanitize"] is True


def test_plain_http_redirects_permanently_to_https(prod):
    route = prod.manifest("HTTPRoute", "llm-https-redirect", GATEWAY_NAMESPACE)["spec"]
    assert route["parentRefs"][0]["sectionName"] == "http"
    assert route["rules"] == [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                               "filters": [{"type": "RequestRedirect",
                                            "requestRedirect": {"scheme": "https", "statusCode": 301}}]}]


def test_certificates_are_p256_and_the_self_signed_ca_lasts_ten_years(dev, prod):
    for plan in (dev, prod):
        cert = plan.manifest("Certificate", "llm-gateway-tls", GATEWAY_NAMESPACE)["spec"]
        # ECDSA P-256, a new key on every renewal (cert-manager's default for rotationPolicy changed across
        # releases; stated so it cannot drift).
        assert cert["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
        assert cert["issuerRef"]["group"] == "cert-manager.io" and cert["issuerRef"]["kind"] == "Issuer"
    ca = dev.manifest("Certificate", "llm-gateway-ca", GATEWAY_NAMESPACE)["spec"]
    # 87600h = 10 years: clients pin this CA; the listener certificate under it renews on cert-manager's default.
    assert (ca["duration"], ca["privateKey"], ca["secretName"]) == (
        "87600h", {"algorithm": "ECDSA", "size": 256}, "llm-gateway-ca")
    assert ca["commonName"].startswith("llmfleet gateway CA (")
    assert dev.manifest("Issuer", "llm-gateway-selfsigned", GATEWAY_NAMESPACE)["spec"] == {"selfSigned": {}}
    assert prod.manifest("Issuer", "llm-gateway-acme", GATEWAY_NAMESPACE)["spec"]["acme"]["privateKeySecretRef"] == {
        "name": "llm-gateway-acme-account"}


def test_envoy_data_plane_size_and_listeners(dev, prod):
    for plan, replicas in ((dev, 1), (prod, 2)):
        k = plan.manifest("EnvoyProxy", "llm-gateway", "envoy-gateway-system")["spec"]["provider"]
        assert k["type"] == "Kubernetes"
        dep = k["kubernetes"]["envoyDeployment"]
        # 500m/512Mi requested (TLS and streaming; EG's default is 100m), 1Gi memory limit, no CPU limit.
        assert dep == {"replicas": replicas, "container": {"resources": {
            "requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}}}
        # A PDB only with two replicas: with one, minAvailable 1 would block every node drain.
        assert ("envoyPDB" in k["kubernetes"]) is (replicas > 1)
        gw = plan.manifest("Gateway", GATEWAY_NAME, GATEWAY_NAMESPACE)["spec"]
        http = next(x for x in gw["listeners"] if x["name"] == "http")
        assert (http["protocol"], http["port"], http["allowedRoutes"]) == ("HTTP", 80, {"namespaces": {"from": "Same"}})
        https = next(x for x in gw["listeners"] if x["name"] == "https")
        assert https["tls"]["mode"] == "Terminate"
        sel = https["allowedRoutes"]["namespaces"]
        assert sel["from"] == "Selector"
        assert sel["selector"]["matchExpressions"][0]["key"] == "kubernetes.io/metadata.name"
        assert sel["selector"]["matchExpressions"][0]["operator"] == "In"


def test_envoy_gateway_translates_every_resource_kind_for_ai_gateway(dev):
    eg = next(r for r in dev.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == "eg").inputs["values"]
    cfg = eg["config"]["envoyGateway"]
    # AI Gateway's overlay (manifests/envoy-gateway-values.yaml v1.1.0): the extension server sees every listener,
    # route, cluster and secret, and EG's own controller name and Kubernetes provider stay as the chart sets them.
    assert cfg["extensionManager"]["hooks"]["xdsTranslator"]["translation"] == {
        k: {"includeAll": True} for k in ("listener", "route", "cluster", "secret")}
    assert cfg["gateway"] == {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"}
    assert cfg["provider"] == {"type": "Kubernetes"} and cfg["logging"] == {"level": {"default": "info"}}
    assert cfg["rateLimit"]["backend"]["type"] == "Redis"
    assert eg["deployment"] == {"priorityClassName": "llm-standard"}


def test_rate_limit_redis_keeps_nothing_and_runs_unprivileged(dev):
    d = dev.manifest("Deployment", "gateway-ratelimit-redis", "envoy-gateway-system")["spec"]
    assert d["replicas"] == 1
    pod = d["template"]["spec"]
    (ctr,) = pod["containers"]
    # No RDB snapshots, no AOF: counters restart empty, which a rate limit tolerates.
    assert ctr["args"] == ["--save", "", "--appendonly", "no"]
    assert ctr["ports"] == [{"name": "redis", "containerPort": 6379, "protocol": "TCP"}]
    assert ctr["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"}}
    assert ctr["readinessProbe"] == {"tcpSocket": {"port": "redis"}, "periodSeconds": 10}
    assert ctr["livenessProbe"] == {"tcpSocket": {"port": "redis"}, "periodSeconds": 20}
    assert ctr["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                      "capabilities": {"drop": ["ALL"]}}
    assert ctr["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    # UID 10001: above the host UID range; the image then execs redis-server directly.
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001,
                                      "fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["volumes"] == [{"name": "data", "emptyDir": {"sizeLimit": "64Mi"}}]
    assert pod["automountServiceAccountToken"] is False and pod["enableServiceLinks"] is False
    assert pod["priorityClassName"] == "llm-standard"
    svc = dev.manifest("Service", "gateway-ratelimit-redis", "envoy-gateway-system")["spec"]
    assert svc["type"] == "ClusterIP"
    assert svc["ports"] == [{"name": "redis", "port": 6379, "targetPort": "redis", "protocol": "TCP"}]
