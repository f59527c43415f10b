"""The Gateway's objects as plain dicts (apiVersion, kind, metadata, spec): the GatewayClass and Gateway, TLS from
cert-manager, the front end's route, and the OpenAI-compatible `/v1` routing on Envoy AI Gateway. Pure functions,
so tests and cluster checks read exactly what is rendered.

Object names: everything lives in the gateway namespace except the front end's HTTPRoute (in the RAG namespace,
next to its Service: no ReferenceGrant needed) and one headless Service per routed model (in the serving namespace,
so its DNS name lists the model's ready pods and Envoy balances over pods, not over a ClusterIP).
"""
from typing import Optional, Sequence

from components.gateway.values import CONTROLLER_NAME
from spec.gateway import GATEWAY_NAME, GatewaySpec
from spec.routing import RoutingSpec

GATEWAY_CLASS = "llm-gateway"
TLS_SECRET = "llm-gateway-tls"                 # the listener's certificate (cert-manager writes it)
CA_SECRET = "llm-gateway-ca"                   # selfSigned: the CA clients trust (ca.crt)
ACME_ACCOUNT_SECRET = "llm-gateway-acme-account"
API_KEYS_SECRET = "llm-gateway-api-keys"       # tenant name -> API key (Envoy Gateway apiKeyAuth client ids)
OPENAI_ROUTE = "llm-openai"                    # AIGatewayRoute; AI Gateway generates the HTTPRoute of the same name
FRONTEND_ROUTE = "llm-frontend"
REDIRECT_ROUTE = "llm-https-redirect"
TENANT_HEADER = "x-llmfleet-tenant"            # set by apiKeyAuth from the matched key's client id
MODEL_HEADER = "x-ai-eg-model"                 # set by AI Gateway's extproc from the request body's `model`
AI_METADATA_NAMESPACE = "io.envoy.ai_gateway"  # where AI Gateway stores llmRequestCosts (token_ratelimit example)
TOTAL_TOKENS_KEY = "llm_total_token"
HTTP_PORT, HTTPS_PORT = 80, 443
# Every path except `/v1` and `/v1/...`, in RE2 (no lookahead): Envoy Gateway v1.9.0 orders RegularExpression
# matches before PathPrefix ones (internal/gatewayapi/sort.go), and AI Gateway's generated route ends with a
# catch-all PathPrefix "/" rule (internal/controller/ai_gateway_route.go, "route-not-found"), so a plain "/" for the
# front end would tie with it. With this regex the front end takes the rest and `/v1` reaches only AI Gateway.
NOT_V1 = r"/([^v].*|v|v[^1].*|v1[^/].*)?"
# Streaming: a chat completion streams tokens for minutes; Envoy's defaults (15s route timeout, 5 min stream idle)
# would cut long generations. Tokens arrive at least every few seconds while a sequence runs; a queued request
# may wait for its first token.
REQUEST_TIMEOUT = "600s"
STREAM_IDLE_TIMEOUT = "300s"
BODY_LIMIT = "8Mi"                             # request size: long prompts and RAG contexts, far below abuse
RETRIES = 2


def meta(name: str, namespace: Optional[str], labels: dict) -> dict:
    return {"name": name, **({"namespace": namespace} if namespace else {}), "labels": labels}


ENVOY_PROXY = "llm-gateway"
ENVOY_CPU, ENVOY_MEMORY = "500m", "512Mi"      # EG's default request is 100m/512Mi; the extproc adds its own


def envoy_replicas(production: bool) -> int:
    """Two Envoy replicas in production (the public endpoint survives a node drain), one elsewhere."""
    return 2 if production else 1


def envoy_proxy(envoy_namespace: str, production: bool, labels: dict) -> dict:
    """The data plane's Deployment settings (GatewayClass parametersRef): replicas, a PDB when there are two, and
    requests sized for TLS and streaming."""
    replicas = envoy_replicas(production)
    kubernetes: dict = {"envoyDeployment": {"replicas": replicas, "container": {"resources": {
        "requests": {"cpu": ENVOY_CPU, "memory": ENVOY_MEMORY}, "limits": {"memory": "1Gi"}}}}}
    if replicas > 1:
        kubernetes["envoyPDB"] = {"minAvailable": 1}
    return {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "EnvoyProxy",
            "metadata": meta(ENVOY_PROXY, envoy_namespace, labels),
            "spec": {"provider": {"type": "Kubernetes", "kubernetes": kubernetes}}}


def gateway_class(labels: dict, envoy_namespace: str) -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
            "metadata": meta(GATEWAY_CLASS, None, labels),
            "spec": {"controllerName": CONTROLLER_NAME, "parametersRef": {
                "group": "gateway.envoyproxy.io", "kind": "EnvoyProxy", "name": ENVOY_PROXY,
                "namespace": envoy_namespace}}}


def gateway(g: GatewaySpec, route_namespaces: Sequence[str], labels: dict) -> dict:
    """HTTPS for the hostname (routes from the gateway and RAG namespaces) and HTTP for the ACME challenge and the
    redirect (routes from the gateway namespace only, where cert-manager creates its solver route)."""
    https_from = {"namespaces": {"from": "Selector", "selector": {"matchExpressions": [{
        "key": "kubernetes.io/metadata.name", "operator": "In", "values": sorted(set(route_namespaces))}]}}}
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": meta(GATEWAY_NAME, g.namespace, labels),
            "spec": {"gatewayClassName": GATEWAY_CLASS, "listeners": [
                {"name": "http", "protocol": "HTTP", "port": HTTP_PORT, "hostname": g.hostname,
                 "allowedRoutes": {"namespaces": {"from": "Same"}}},
                {"name": "https", "protocol": "HTTPS", "port": HTTPS_PORT, "hostname": g.hostname,
                 "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]},
                 "allowedRoutes": https_from},
            ]}}


def parent(section: str, namespace: str) -> dict:
    return {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME, "namespace": namespace,
            "sectionName": section}


def tls_objects(g: GatewaySpec, labels: dict) -> list[dict]:
    """The listener's certificate and its issuer. acme: an Issuer answering HTTP-01 through the Gateway's `http`
    listener (cert-manager creates the solver HTTPRoute there). selfSigned: a self-signed root issues a CA
    certificate, whose Issuer signs the listener's certificate (clients trust the CA from Secret llm-gateway-ca)."""
    ns, cm = g.namespace, "cert-manager.io/v1"
    out = []
    if g.tls.issuer == "acme":
        issuer = "llm-gateway-acme"
        out.append({"apiVersion": cm, "kind": "Issuer", "metadata": meta(issuer, ns, labels), "spec": {"acme": {
            "server": g.tls.server, "email": g.tls.email, "privateKeySecretRef": {"name": ACME_ACCOUNT_SECRET},
            "solvers": [{"http01": {"gatewayHTTPRoute": {"parentRefs": [parent("http", ns)]}}}]}}})
    else:
        issuer = "llm-gateway-ca"
        out.append({"apiVersion": cm, "kind": "Issuer", "metadata": meta("llm-gateway-selfsigned", ns, labels),
                    "spec": {"selfSigned": {}}})
        out.append({"apiVersion": cm, "kind": "Certificate", "metadata": meta("llm-gateway-ca", ns, labels),
                    "spec": {"isCA": True, "commonName": f"llmfleet gateway CA ({g.hostname})",
                             "secretName": CA_SECRET, "duration": "87600h",
                             "privateKey": {"algorithm": "ECDSA", "size": 256},
                             "issuerRef": {"group": "cert-manager.io", "kind": "Issuer",
                                           "name": "llm-gateway-selfsigned"}}})
        out.append({"apiVersion": cm, "kind": "Issuer", "metadata": meta(issuer, ns, labels),
                    "spec": {"ca": {"secretName": CA_SECRET}}})
    out.append({"apiVersion": cm, "kind": "Certificate", "metadata": meta(TLS_SECRET, ns, labels),
                "spec": {"secretName": TLS_SECRET, "dnsNames": [g.hostname],
                         "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                         "issuerRef": {"group": "cert-manager.io", "kind": "Issuer", "name": issuer}}})
    return out


def redirect_route(g: GatewaySpec, labels: dict) -> dict:
    """HTTP -> HTTPS. The ACME solver's route (path Exact /.well-known/acme-challenge/<token>) is more specific
    and wins over this PathPrefix /."""
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": meta(REDIRECT_ROUTE, g.namespace, labels),
            "spec": {"parentRefs": [parent("http", g.namespace)], "hostnames": [g.hostname],
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                                "filters": [{"type": "RequestRedirect", "requestRedirect": {
                                    "scheme": "https", "statusCode": 301}}]}]}}


def frontend_route(g: GatewaySpec, namespace: str, service: str, port: int, labels: dict) -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": meta(FRONTEND_ROUTE, namespace, labels),
            "spec": {"parentRefs": [parent("https", g.namespace)], "hostnames": [g.hostname],
                     "rules": [{"matches": [{"path": {"type": "RegularExpression", "value": NOT_V1}}],
                                "backendRefs": [{"name": service, "port": port}],
                                # Open WebUI streams answers over the same connection: no route timeout.
                                "timeouts": {"request": "0s"}}]}}


def client_policy(g: GatewaySpec, labels: dict) -> dict:
    """Listener-side limits on the Gateway: the request body cap (a per-connection buffer limit: it caps the body
    where a filter buffers it whole, i.e. AI Gateway's extproc on `/v1`, which answers 413 above it; the front end's
    streamed uploads are only flow-controlled by it), idle timeouts long enough for streams, and the tenant header
    removed before anything reads it, so only apiKeyAuth can set it."""
    return {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "ClientTrafficPolicy",
            "metadata": meta(GATEWAY_NAME, g.namespace, labels),
            "spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY_NAME}],
                     "connection": {"bufferLimit": BODY_LIMIT},
                     # No requestReceivedTimeout: a large document upload to the front end may take minutes.
                     "timeout": {"http": {"idleTimeout": "3600s", "streamIdleTimeout": STREAM_IDLE_TIMEOUT}},
                     "headers": {"earlyRequestHeaders": {"remove": [TENANT_HEADER]}}}}


def pods_service_name(model: str) -> str:
    return f"{model}-pods"


def model_backends(model, serving_namespace: str, gateway_namespace: str, port: int, selector: dict,
                   labels: dict) -> list[dict]:
    """One served model as AI Gateway sees it: a headless Service over its pods (serving namespace), an Envoy
    Gateway Backend on that Service's DNS name, and the AIServiceBackend (OpenAI schema) routes name."""
    headless = pods_service_name(model)
    fqdn = f"{headless}.{serving_namespace}.svc.cluster.local"
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": meta(headless, serving_namespace, labels),
         "spec": {"clusterIP": "None", "selector": selector,
                  "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}]}},
        {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "Backend",
         "metadata": meta(model, gateway_namespace, labels),
         "spec": {"endpoints": [{"fqdn": {"hostname": fqdn, "port": port}}]}},
        {"apiVersion": "aigateway.envoyproxy.io/v1beta1", "kind": "AIServiceBackend",
         "metadata": meta(model, gateway_namespace, labels),
         "spec": {"schema": {"name": "OpenAI"},
                  "backendRef": {"group": "gateway.envoyproxy.io", "kind": "Backend", "name": model}}},
    ]


def backend_refs(v, pool_namespace: Optional[str] = None) -> list[dict]:
    """Versions at priority 0 with their weights; fallbacks at priority 1, 2, ... in order (Envoy moves to the
    next priority when the hosts of the previous one are unhealthy, or on retry: see traffic_policy). A model with
    an endpoint picker: its InferencePool alone (components/gateway/picker.py).

    vLLM answers only its `--served-model-name` (the model's name) and AI Gateway forwards the request's `model`
    unchanged unless the ref overrides it (AI Gateway v1.1.0 internal/translator/openai_openai.go): a backend that
    serves another name than the virtual one gets `modelNameOverride`, else a tier, a fallback or a canary version
    would get vLLM's 404 "model does not exist" (not retried). An InferencePool ref ignores the override (CRD), so
    a picked model is routed under its own name only (spec/routing.py)."""
    if v.picker == "inferencePool":
        from components.gateway.picker import pool_ref
        return [pool_ref(v.versions[0].model, pool_namespace)]

    def ref(model: str, weight: int, priority: int) -> dict:
        out = {"name": model, "weight": weight, "priority": priority}
        if model != v.name:
            out["modelNameOverride"] = model
        return out
    return [ref(x.model, x.weight, 0) for x in v.versions if x.weight > 0] + \
        [ref(f, 1, i + 1) for i, f in enumerate(v.fallback)]


def openai_route(g: GatewaySpec, routing: RoutingSpec, labels: dict, pool_namespace: Optional[str] = None) -> dict:
    """`pool_namespace`: where the InferencePools of picked models are (the serving namespace)."""
    rules = [{"name": v.name, "matches": [{"headers": [{"type": "Exact", "name": MODEL_HEADER, "value": v.name}]}],
              "backendRefs": backend_refs(v, pool_namespace),
              "timeouts": {"request": REQUEST_TIMEOUT}} for v in routing.models]
    return {"apiVersion": "aigateway.envoyproxy.io/v1beta1", "kind": "AIGatewayRoute",
            "metadata": meta(OPENAI_ROUTE, g.namespace, labels),
            "spec": {"parentRefs": [parent("https", g.namespace)], "hostnames": [g.hostname], "rules": rules,
                     # Token usage per request: metrics (gen_ai.* on the extproc) and the rate limit's cost.
                     "llmRequestCosts": [{"metadataKey": "llm_input_token", "type": "InputToken"},
                                         {"metadataKey": "llm_output_token", "type": "OutputToken"},
                                         {"metadataKey": TOTAL_TOKENS_KEY, "type": "TotalToken"}]}}


def route_target(g: GatewaySpec) -> dict:
    return {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": OPENAI_ROUTE}


def traffic_policy(g: GatewaySpec, routing: RoutingSpec, labels: dict) -> dict:
    """On the generated HTTPRoute: least-request balancing over the model's pods, retries that move to the next
    priority (numAttemptsPerPriority 1, AI Gateway's provider_fallback example), passive health checks that eject
    a failing pod, backend timeouts for streams, and per-tenant token limits counted from the response's token
    usage (response cost from AI Gateway's metadata: Envoy Gateway supports it for global limits only, hence
    Redis)."""
    spec: dict = {
        "targetRefs": [route_target(g)],
        "loadBalancer": {"type": "LeastRequest"},
        "retry": {"numRetries": RETRIES, "numAttemptsPerPriority": 1,
                  "perRetry": {"backOff": {"baseInterval": "100ms", "maxInterval": "2s"}},
                  "retryOn": {"triggers": ["connect-failure", "refused-stream", "retriable-status-codes"],
                              "httpStatusCodes": [500, 502, 503, 504]}},
        "healthCheck": {"passive": {"consecutive5XxErrors": 3, "consecutiveGatewayErrors": 3, "interval": "5s",
                                    "baseEjectionTime": "30s", "maxEjectionPercent": 100}},
        "timeout": {"tcp": {"connectTimeout": "5s"},
                    "http": {"requestTimeout": REQUEST_TIMEOUT, "streamIdleTimeout": STREAM_IDLE_TIMEOUT}},
    }
    limited = [t for t in routing.tenants if t.tokens_per_hour]
    if limited:
        spec["rateLimit"] = {"global": {"rules": [{
            "clientSelectors": [{"headers": [{"type": "Exact", "name": TENANT_HEADER, "value": t.name}]}],
            "limit": {"requests": t.tokens_per_hour, "unit": "Hour"},
            # Check the budget on the request (cost 0), charge the tokens when the response is done.
            "cost": {"request": {"from": "Number", "number": 0},
                     "response": {"from": "Metadata", "metadata": {"namespace": AI_METADATA_NAMESPACE,
                                                                   "key": TOTAL_TOKENS_KEY}}}}
            for t in limited]}}
    return {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "BackendTrafficPolicy",
            "metadata": meta(OPENAI_ROUTE, g.namespace, labels), "spec": spec}


def security_policy(g: GatewaySpec, labels: dict) -> dict:
    """API keys on `/v1` only (the front end has its own login): `Authorization: Bearer <key>` (what OpenAI SDKs
    send) or `x-api-key`; the matched client id (tenant) is forwarded in TENANT_HEADER and the key is not sent
    on to the model server."""
    return {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "SecurityPolicy",
            "metadata": meta(OPENAI_ROUTE, g.namespace, labels),
            "spec": {"targetRefs": [route_target(g)],
                     "apiKeyAuth": {"credentialRefs": [{"group": "", "kind": "Secret", "name": API_KEYS_SECRET}],
                                    "extractFrom": [{"headers": ["Authorization"]}, {"headers": ["x-api-key"]}],
                                    "forwardClientIDHeader": TENANT_HEADER, "sanitize": True}}}


# AI Gateway's extproc sidecar in every Envoy pod serves Prometheus metrics (gen_ai.client.token.usage, request
# duration, per model and backend) on its admin port (envoyproxy/ai-gateway v1.1.0 internal/controller/
# extproc_builder.go: container port "aigw-admin" 1064; cmd/extproc/mainlib/admin.go: /metrics).
EXTPROC_METRICS_PORT = 1064


def token_metrics_monitor(monitoring_namespace: str, envoy_namespace: str, envoy_labels: dict, labels: dict) -> dict:
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
            "metadata": meta("llm-gateway-token-usage", monitoring_namespace, labels),
            "spec": {"selector": {"matchLabels": dict(envoy_labels)},
                     "namespaceSelector": {"matchNames": [envoy_namespace]},
                     "podMetricsEndpoints": [{"portNumber": EXTPROC_METRICS_PORT, "path": "/metrics",
                                              "interval": "30s"}]}}
