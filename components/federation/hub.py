"""FederationHub: the global layer on one hub cluster (docs/federation.md).

On the hub's Envoy Gateway + Envoy AI Gateway (installed by that cloud stack), in namespace `llm-federation`:
  - its own Gateway `llm-federation` with two HTTPS listeners: `https` for the global name and `https-direct` for
    `<hub>.<global name>` (what the DNS health check calls, so it probes this hub and not whichever one the global
    name points at). Its own Gateway gives it its own load balancer, independent of the cluster's `/v1` Gateway;
  - a cert-manager Issuer (ACME DNS-01 through the Route53 zone) and Certificate for both names: DNS-01 works on the
    standby hub too, while the global name still points at the primary (HTTP-01 would not);
  - per federated stack: a Secret with that stack's `federationApiKey` (from its StackReference, secret), an AI
    Gateway BackendSecurityPolicy of type APIKey on it, an Envoy Gateway Backend (the endpoint's FQDN:443, TLS
    verified against the system CAs with the endpoint's name as SNI) and the AIServiceBackend (OpenAI schema, /v1);
  - per virtual model: an AIGatewayRoute whose one rule matches the request's model and lists the backends with
    their priority (failover) and weight (components/federation/routing.py), a BackendTrafficPolicy on the HTTPRoute
    the AI Gateway generates for it (same name) with retries and passive health checks, and for tiers the served
    model's name rewritten per backend;
  - client authentication: a SecurityPolicy (API keys, the `Authorization` header) on every generated HTTPRoute;
    `/healthz` stays open (an HTTPRoute that redirects to /v1/models) so the DNS health check needs no key.
"""
from typing import Any, Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

# The GatewayClass the hub's Envoy Gateway serves: the cloud stack's gateway component creates it.
from components.gateway.objects import BODY_LIMIT, GATEWAY_CLASS, STREAM_IDLE_TIMEOUT
from components.platform import MANAGED_BY, namespace_metadata
from spec.federation import FEDERATION_GATEWAY, FEDERATION_NAMESPACE, FederationSpec

AIG = "aigateway.envoyproxy.io/v1beta1"
EG = "gateway.envoyproxy.io/v1alpha1"
GWAPI = "gateway.networking.k8s.io/v1"
TLS_SECRET = "llm-federation-tls"
DNS01_SECRET = "llm-federation-dns01"
CLIENTS_SECRET = "llm-federation-clients"
ISSUER = "llm-federation-acme"
HEALTH_PATH = "/healthz"
# Retries move a failed request to the next backend (a new attempt picks among healthy endpoints, and an ejected
# priority level hands its share to the next); one 5xx or connect failure ejects a backend for 30 s at first.
RETRY = {"numRetries": 2, "perRetry": {"backOff": {"baseInterval": "100ms", "maxInterval": "2s"}, "timeout": "120s"},
         "retryOn": {"triggers": ["connect-failure", "refused-stream", "retriable-status-codes", "reset"],
                     "httpStatusCodes": [502, 503, 504]}}
# consecutiveLocalOriginFailures counts only with splitExternalLocalOriginErrors (BackendTrafficPolicy CRD, EG v1.9.0).
PASSIVE = {"splitExternalLocalOriginErrors": True,
           "consecutive5XxErrors": 1, "consecutiveGatewayErrors": 1, "consecutiveLocalOriginFailures": 1,
           "interval": "5s", "baseEjectionTime": "30s", "maxEjectionPercent": 100}


class Gateway(pulumi.CustomResource):
    """A Gateway API Gateway whose `status` is an output: the DNS record needs the address its load balancer got.
    (`k8s.apiextensions.CustomResource` resolves only apiVersion, kind, metadata and spec.) The provider waits for
    the Programmed condition (the `pulumi.com/waitFor` annotation), so the address is there when `status` resolves."""
    status: pulumi.Output[Any]

    def __init__(self, name: str, metadata: dict, spec: dict, opts: Optional[ResourceOptions] = None):
        super().__init__(f"kubernetes:{GWAPI}:Gateway", name, {
            "apiVersion": GWAPI, "kind": "Gateway", "metadata": metadata, "spec": spec, "status": None}, opts)


def backend_name(stack: str) -> str:
    return f"fed-{stack}"


def route_name(virtual: str) -> str:
    return f"fed-{virtual}"


def route_spec(virtual, hostnames: list[str]) -> dict:
    """One AIGatewayRoute rule for a virtual model: every backend with its priority and weight; a tier's backends
    get the served model's name (the caller asked for the tier's)."""
    refs = []
    for b in virtual.backends:
        ref = {"name": backend_name(b.stack), "priority": b.priority, "weight": b.weight}
        if b.model != virtual.name:
            ref["modelNameOverride"] = b.model
        refs.append(ref)
    return {"parentRefs": [{"name": FEDERATION_GATEWAY, "kind": "Gateway", "group": "gateway.networking.k8s.io"}],
            "hostnames": hostnames,
            "rules": [{"name": "by-model",
                       "matches": [{"headers": [{"type": "Exact", "name": "x-ai-eg-model", "value": virtual.name}]}],
                       "backendRefs": refs,
                       "timeouts": {"request": "300s"}}]}


class FederationHubArgs(TypedDict):
    spec: FederationSpec
    """The federation stack's spec."""
    hub: str
    """Short name of the stack whose cluster this is."""
    routing: pulumi.Output
    """Output[Routing], validated (components/federation/routing.py)."""
    api_keys: dict
    """Short stack name -> Output[str] (secret): that stack's federationApiKey."""
    client_keys: dict
    """Client name -> Output[str] (secret): the keys tenants call the global endpoint with (same on every hub)."""
    dns01: dict
    """{"access_key_id": Output[str], "secret_access_key": Output[str] (secret)}: cert-manager's Route53 user."""


class FederationHub(pulumi.ComponentResource):
    gateway: Gateway
    address: pulumi.Output
    """The hub Gateway's load-balancer address (hostname or IP), from its status."""

    def __init__(self, name: str, args: FederationHubArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:federation:Hub", name, None, opts)
        spec, hub = args["spec"], args["hub"]
        ns = FEDERATION_NAMESPACE
        child = ResourceOptions(parent=self)
        meta = lambda n, **extra: {"name": n, "namespace": ns, "labels": MANAGED_BY, **extra}  # noqa: E731
        # No pods run here (the hub's Envoy runs in Envoy Gateway's namespace), so `restricted` at `latest` costs
        # nothing and keeps anything later placed here from running privileged.
        namespace = k8s.core.v1.Namespace(f"{name}-namespace", metadata=namespace_metadata(ns, "restricted", "latest"),
                                          opts=child)
        in_ns = ResourceOptions(parent=self, depends_on=[namespace])
        names = [spec.hostname, spec.direct_hostname(hub)]

        dns01 = k8s.core.v1.Secret(f"{name}-dns01", metadata=meta(DNS01_SECRET), type="Opaque", string_data={
            "access-key-id": args["dns01"]["access_key_id"],
            "secret-access-key": args["dns01"]["secret_access_key"]}, opts=in_ns)
        route53 = {"region": spec.route53.region, "hostedZoneID": spec.route53.zone_id,
                   "accessKeyIDSecretRef": {"name": DNS01_SECRET, "key": "access-key-id"},
                   "secretAccessKeySecretRef": {"name": DNS01_SECRET, "key": "secret-access-key"}}
        issuer = k8s.apiextensions.CustomResource(
            f"{name}-issuer", api_version="cert-manager.io/v1", kind="Issuer", metadata=meta(ISSUER),
            spec={"acme": {"email": spec.email, "server": spec.acme_server,
                           "privateKeySecretRef": {"name": f"{ISSUER}-account"},
                           "solvers": [{"dns01": {"route53": route53}}]}},
            opts=ResourceOptions(parent=self, depends_on=[dns01]))
        cert = k8s.apiextensions.CustomResource(
            f"{name}-certificate", api_version="cert-manager.io/v1", kind="Certificate", metadata=meta(TLS_SECRET),
            spec={"secretName": TLS_SECRET, "dnsNames": names,
                  "issuerRef": {"name": ISSUER, "kind": "Issuer", "group": "cert-manager.io"}},
            opts=ResourceOptions(parent=self, depends_on=[issuer]))
        tls = {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "group": "", "name": TLS_SECRET}]}
        wait = {"pulumi.com/waitFor": "condition=Programmed"}
        self.gateway = Gateway(
            f"{name}-gateway", metadata=meta(FEDERATION_GATEWAY, annotations=wait),
            spec={"gatewayClassName": GATEWAY_CLASS, "listeners": [
                {"name": listener, "hostname": host, "port": 443, "protocol": "HTTPS", "tls": tls,
                 "allowedRoutes": {"namespaces": {"from": "Same"}}}
                for listener, host in (("https", names[0]), ("https-direct", names[1]))]},
            opts=ResourceOptions(parent=self, depends_on=[cert]))
        self.address = self.gateway.status.apply(_address)
        # Envoy Gateway buffers 32 KiB per connection by default, and AI Gateway's extproc buffers the whole body:
        # a longer prompt would get 413 at the global endpoint. Same limits as each cluster's Gateway.
        k8s.apiextensions.CustomResource(
            f"{name}-client-traffic", api_version=EG, kind="ClientTrafficPolicy", metadata=meta(FEDERATION_GATEWAY),
            spec={"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": FEDERATION_GATEWAY}],
                  "connection": {"bufferLimit": BODY_LIMIT},
                  "timeout": {"http": {"idleTimeout": "3600s", "streamIdleTimeout": STREAM_IDLE_TIMEOUT}}},
            opts=ResourceOptions(parent=self, depends_on=[self.gateway]))

        # One backend per federated stack: its endpoint, TLS and key.
        for s in spec.stacks:
            bname = backend_name(s.short)
            hostname = args["routing"].apply(lambda r, s=s: r.endpoints[s.short])
            key = k8s.core.v1.Secret(f"{name}-{s.short}-key", metadata=meta(f"{bname}-api-key"), type="Opaque",
                                     string_data={"apiKey": args["api_keys"][s.short]}, opts=in_ns)
            k8s.apiextensions.CustomResource(
                f"{name}-{s.short}-security", api_version=AIG, kind="BackendSecurityPolicy", metadata=meta(bname),
                spec={"type": "APIKey", "apiKey": {"secretRef": {"name": f"{bname}-api-key"}},
                      "targetRefs": [{"group": "aigateway.envoyproxy.io", "kind": "AIServiceBackend", "name": bname}]},
                opts=ResourceOptions(parent=self, depends_on=[key]))
            backend = k8s.apiextensions.CustomResource(
                f"{name}-{s.short}-backend", api_version=EG, kind="Backend", metadata=meta(bname),
                spec={"endpoints": [{"fqdn": {"hostname": hostname, "port": 443}}],
                      "tls": {"sni": hostname, "wellKnownCACertificates": "System"}}, opts=in_ns)
            k8s.apiextensions.CustomResource(
                f"{name}-{s.short}-aibackend", api_version=AIG, kind="AIServiceBackend", metadata=meta(bname),
                spec={"schema": {"name": "OpenAI", "prefix": "/v1"},
                      "backendRef": {"name": bname, "kind": "Backend", "group": "gateway.envoyproxy.io"}},
                opts=ResourceOptions(parent=self, depends_on=[backend]))

        # One route per virtual model, with its retry and health policy.
        virtuals = list(spec.models) + list(spec.tiers)
        routes = []
        for v in virtuals:
            rname = route_name(v)
            route = k8s.apiextensions.CustomResource(
                f"{name}-route-{v}", api_version=AIG, kind="AIGatewayRoute", metadata=meta(rname),
                spec=args["routing"].apply(lambda r, v=v: route_spec(next(m for m in r.models if m.name == v), names)),
                opts=ResourceOptions(parent=self, depends_on=[self.gateway]))
            routes.append(rname)
            k8s.apiextensions.CustomResource(
                f"{name}-route-{v}-traffic", api_version=EG, kind="BackendTrafficPolicy", metadata=meta(rname),
                spec={"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": rname}],
                      "retry": RETRY, "healthCheck": {"passive": PASSIVE}},
                opts=ResourceOptions(parent=self, depends_on=[route]))

        clients = k8s.core.v1.Secret(f"{name}-clients", metadata=meta(CLIENTS_SECRET), type="Opaque",
                                     string_data=dict(args["client_keys"]), opts=in_ns)
        k8s.apiextensions.CustomResource(
            f"{name}-client-auth", api_version=EG, kind="SecurityPolicy", metadata=meta(CLIENTS_SECRET),
            spec={"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": r}
                                 for r in routes],
                  "apiKeyAuth": {"credentialRefs": [{"name": CLIENTS_SECRET}],
                                 "extractFrom": [{"headers": ["Authorization"]}], "sanitize": True}},
            opts=ResourceOptions(parent=self, depends_on=[clients]))
        k8s.apiextensions.CustomResource(
            f"{name}-health", api_version=GWAPI, kind="HTTPRoute", metadata=meta("llm-federation-health"),
            spec={"parentRefs": [{"name": FEDERATION_GATEWAY}], "hostnames": names,
                  "rules": [{"matches": [{"path": {"type": "Exact", "value": HEALTH_PATH}}],
                             "filters": [{"type": "RequestRedirect", "requestRedirect": {
                                 "path": {"type": "ReplaceFullPath", "replaceFullPath": "/v1/models"},
                                 "statusCode": 302}}]}]},
            opts=ResourceOptions(parent=self, depends_on=[self.gateway]))
        self.register_outputs({"address": self.address})


def _address(status) -> str:
    addresses = (status or {}).get("addresses") or []
    if not addresses:
        raise pulumi.RunError("the federation Gateway is Programmed but has no address in its status; check "
                              "`kubectl -n llm-federation get gateway llm-federation -o yaml` on the hub")
    return addresses[0]["value"]
