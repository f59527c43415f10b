"""The per-cluster Gateway (`llmfleet:gateway` + `llmfleet:routing`, docs/gateway.md): Envoy Gateway and Envoy AI
Gateway from their pinned charts (GatewayControllers, installed before the serving layer so cert-manager finds the
Gateway API CRDs), then one Gateway with TLS from cert-manager, the RAG front end at `/` and the OpenAI-compatible
`/v1` routed by model name (GatewayLayer, after the model Services exist).

Contract with federation: Gateway GATEWAY_NAME in the gateway namespace, HTTPS listener `https` for the hostname,
OpenAI base URL `spec.gateway.url + "/v1"`, every vLLM model routable by its name; `virtual_models` lists the
routed names; `client_keys` adds API keys (a name per caller) beside the configured tenants.
"""
from typing import Mapping, Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi import ResourceOptions

from components.descriptors import PoolDescriptor
from components.gateway import objects as o
from components.gateway import picker
from components.gateway.values import (AI_GATEWAY_NAMESPACE, ENVOY_GATEWAY_NAMESPACE, ENVOY_PROXY_LABELS, REDIS_NAME,
                                       ai_gateway_values, envoy_gateway_values, redis_objects)
from components.helm import chart_release
from components.platform import MANAGED_BY, namespace_metadata
from spec.environment import is_production
from spec.gateway import GatewaySpec
from spec.platform import MONITORING_NAMESPACE
from spec.routing import RoutingSpec

RELEASES = {"gateway-helm": "eg", "ai-gateway-crds-helm": "aieg-crd", "ai-gateway-helm": "aieg"}
KEY_LENGTH = 48


def namespace(name: str, res_name: str, kubernetes_version: str, parent: pulumi.Resource) -> k8s.core.v1.Namespace:
    return k8s.core.v1.Namespace(res_name, metadata=namespace_metadata(name, "baseline", kubernetes_version, (
        "the charts' pods (Envoy, its AI Gateway extproc sidecar, cert-manager's ACME solver) are not rendered by "
        "the plan, so restricted cannot be shown to admit them")), opts=ResourceOptions(parent=parent))


def render(parent: pulumi.Resource, res_name: str, obj: dict, deps: Sequence[pulumi.Resource]) -> pulumi.Resource:
    opts = ResourceOptions(parent=parent, depends_on=list(deps))
    if obj["kind"] == "Service":
        return k8s.core.v1.Service(res_name, metadata=obj["metadata"], spec=obj["spec"], opts=opts)
    if obj["kind"] == "Deployment":
        return k8s.apps.v1.Deployment(res_name, metadata=obj["metadata"], spec=obj["spec"], opts=opts)
    return k8s.apiextensions.CustomResource(res_name, api_version=obj["apiVersion"], kind=obj["kind"],
                                            metadata=obj["metadata"], spec=obj["spec"], opts=opts)


class GatewayControllersArgs(TypedDict):
    gateway: GatewaySpec
    """Validated `llmfleet:gateway`."""
    rate_limit: bool
    """A tenant has a token limit: Envoy Gateway's global rate limit with its Redis."""
    inference_pools: bool
    """A model uses the endpoint picker: the InferencePool CRD, then Envoy Gateway's InferencePool addon."""
    kubernetes_version: str
    """Cluster minor, for the namespaces' Pod Security version labels."""
    depends_on: Sequence[pulumi.Resource]
    """The platform base (priority classes)."""


class GatewayControllers(pulumi.ComponentResource):
    releases: dict
    """Chart name -> its Helm release."""
    values: dict
    """Chart name -> the values passed."""
    namespaces: dict
    """Namespace name -> Namespace."""

    def __init__(self, name: str, args: GatewayControllersArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:gateway:GatewayControllers", name, None, opts)
        g, version, deps = args["gateway"], args["kubernetes_version"], list(args["depends_on"])
        self.namespaces = {ns: namespace(ns, f"{name}-{ns}", version, self)
                           for ns in (ENVOY_GATEWAY_NAMESPACE, AI_GATEWAY_NAMESPACE, g.namespace)}
        pools = bool(args.get("inference_pools"))
        self.values = {"gateway-helm": envoy_gateway_values(args["rate_limit"], pools),
                       "ai-gateway-crds-helm": {}, "ai-gateway-helm": ai_gateway_values()}
        eg_ns, ai_ns = [self.namespaces[ENVOY_GATEWAY_NAMESPACE]], [self.namespaces[AI_GATEWAY_NAMESPACE]]
        self.pool_crd = None
        if pools:
            # Before both controllers: AI Gateway v1.1.0 starts its InferencePool controller only when the CRD
            # exists at startup (internal/controller/controller.go), and EG's extension manager watches the kind.
            from catalog.versions import INFERENCE_POOL_CRD_URL
            self.pool_crd = k8s.yaml.v2.ConfigFile(f"{name}-inferencepool-crd", file=INFERENCE_POOL_CRD_URL,
                                                   opts=ResourceOptions(parent=self, depends_on=deps))
            deps = deps + [self.pool_crd]
        eg = chart_release(f"{name}-gateway-helm", "gateway-helm", ENVOY_GATEWAY_NAMESPACE,
                           self.values["gateway-helm"], parent=self, depends_on=deps + eg_ns,
                           release_name=RELEASES["gateway-helm"])
        crds = chart_release(f"{name}-ai-gateway-crds-helm", "ai-gateway-crds-helm", AI_GATEWAY_NAMESPACE,
                             {}, parent=self, depends_on=deps + ai_ns, release_name=RELEASES["ai-gateway-crds-helm"])
        # The controller's webhook patches Envoy pods and its extension server answers EG: after both.
        ai = chart_release(f"{name}-ai-gateway-helm", "ai-gateway-helm", AI_GATEWAY_NAMESPACE,
                           self.values["ai-gateway-helm"], parent=self, depends_on=deps + ai_ns + [eg, crds],
                           release_name=RELEASES["ai-gateway-helm"])
        self.releases = {"gateway-helm": eg, "ai-gateway-crds-helm": crds, "ai-gateway-helm": ai}
        self.redis = None
        if args["rate_limit"]:
            deployment, service = redis_objects()
            labels = {**MANAGED_BY, **deployment["selector"]["matchLabels"]}
            md = {"name": REDIS_NAME, "namespace": ENVOY_GATEWAY_NAMESPACE, "labels": labels}
            self.redis = render(self, f"{name}-redis", {"kind": "Deployment", "metadata": md, "spec": deployment},
                                eg_ns)
            render(self, f"{name}-redis-service", {"kind": "Service", "metadata": md, "spec": service}, eg_ns)
        self.register_outputs({"charts": sorted(self.releases)})


class FrontEnd(TypedDict):
    namespace: str
    service: str
    port: int


class GatewayLayerArgs(TypedDict):
    gateway: GatewaySpec
    """Validated `llmfleet:gateway`."""
    routing: RoutingSpec
    """Validated `llmfleet:routing` (resolved virtual models, tenants)."""
    models: Sequence
    """The stack's placed model specs (the routed ones are looked up by name)."""
    serving_namespace: str
    """Where the model Services are."""
    model_port: int
    """The vLLM servers' port (named `http`)."""
    model_selector: object
    """Function ModelSpec -> pod selector labels (components/serving/common.py selector)."""
    front_end: Optional[FrontEnd]
    """The RAG front end's Service, when the stack has one: routed at `/`."""
    client_keys: Mapping[str, pulumi.Input[str]]
    """More API keys, name -> key (secret Output), e.g. the federation hub's; names must not be tenant names."""
    production: bool
    """A production environment: two Envoy replicas with a PDB."""
    depends_on: Sequence[pulumi.Resource]
    """The controllers, cert-manager (serving controllers) and the model servers."""


class GatewayLayer(pulumi.ComponentResource):
    virtual_models: tuple
    """Names `/v1` routes (what clients send as `model`)."""
    url: str
    """https://<hostname>."""
    openai_url: str
    """The OpenAI-compatible base URL (url + /v1)."""
    objects: list
    """Every object rendered here, as dicts (tests, checks)."""

    def __init__(self, name: str, args: GatewayLayerArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:gateway:GatewayLayer", name, None, opts)
        g, r, deps = args["gateway"], args["routing"], list(args["depends_on"])
        labels = {**MANAGED_BY, "app.kubernetes.io/part-of": "llm-gateway"}
        clash = sorted(set(args["client_keys"]) & {t.name for t in r.tenants})
        if clash:
            raise ValueError(f"client_keys {', '.join(clash)} collide with llmfleet:routing.tenants names")
        self.virtual_models = r.names
        self.url = g.url
        self.openai_url = g.url + "/v1"
        fe = args["front_end"]
        by_name = {m.name: m for m in args["models"]}

        objs = [o.envoy_proxy(ENVOY_GATEWAY_NAMESPACE, args["production"], labels),
                o.gateway_class(labels, ENVOY_GATEWAY_NAMESPACE),
                o.gateway(g, [g.namespace] + ([fe["namespace"]] if fe else []), labels),
                *o.tls_objects(g, labels), o.redirect_route(g, labels), o.client_policy(g, labels)]
        if fe:
            objs.append(o.frontend_route(g, fe["namespace"], fe["service"], fe["port"], labels))
        # A model reached only through its InferencePool needs no Backend/AIServiceBackend of its own.
        served = {m for v in r.models if v.picker != "inferencePool"
                  for m in (*(x.model for x in v.versions), *v.fallback)}
        for model in (m for m in r.backends() if m in served):
            objs += o.model_backends(model, args["serving_namespace"], g.namespace, args["model_port"],
                                     args["model_selector"](by_name[model]), labels)
        objs += self._picker_objects(r, args, labels)
        objs += [o.openai_route(g, r, labels, args["serving_namespace"]), o.traffic_policy(g, r, labels), o.security_policy(g, labels),
                 o.token_metrics_monitor(MONITORING_NAMESPACE, ENVOY_GATEWAY_NAMESPACE, ENVOY_PROXY_LABELS, labels)]
        self.objects = objs

        keys = {t.name: random.RandomPassword(f"{name}-key-{t.name}", length=KEY_LENGTH, special=False,
                                              opts=ResourceOptions(parent=self)).result for t in r.tenants}
        keys.update(args["client_keys"])
        self.keys_secret = k8s.core.v1.Secret(
            f"{name}-api-keys", metadata=k8s.meta.v1.ObjectMetaArgs(name=o.API_KEYS_SECRET, namespace=g.namespace,
                                                                    labels=labels),
            type="Opaque", string_data=keys, opts=ResourceOptions(parent=self, depends_on=deps))
        self.tenant_keys = {t.name: pulumi.Output.secret(keys[t.name]) for t in r.tenants}

        created = {}
        for obj in objs:
            kind, md = obj["kind"], obj["metadata"]
            # Backends and AIServiceBackends share a model's name: the kind keeps resource names apart.
            res = f"{name}-{kind.lower()}-{md.get('namespace', 'cluster')}-{md['name']}"
            after = deps + [self.keys_secret] if kind == "SecurityPolicy" else deps
            created[(kind, md.get("namespace"), md["name"])] = render(self, res, obj, after)
        self.resources = created
        # One endpoint picker per picked model, after the model servers (deps) it scrapes.
        self.pickers = {m: chart_release(f"{name}-picker-{m}", "llm-d-router-gateway", args["serving_namespace"],
                                         values, parent=self, depends_on=deps, release_name=picker.release_name(m))
                        for m, values in self.picker_values.items()}
        self.register_outputs({"url": self.url, "virtualModels": list(self.virtual_models)})


    def _picker_objects(self, r: RoutingSpec, args: GatewayLayerArgs, labels: dict) -> list[dict]:
        """InferencePools of the picked models (one per served model, however many virtual names use it), the
        ReferenceGrant that lets the gateway namespace's route name them; the chart values go to picker_values."""
        ns = args["serving_namespace"]
        models = list(dict.fromkeys(v.versions[0].model for v in r.picked()))
        by_name = {m.name: m for m in args["models"]}
        self.picker_values, out = {}, []
        for m in models:
            pool, values = picker.pool_and_values(m, ns, args["model_selector"](by_name[m]), args["model_port"],
                                                  labels)
            out.append(pool)
            self.picker_values[m] = values
        if models and ns != args["gateway"].namespace:
            out.append(picker.reference_grant(ns, args["gateway"].namespace, labels))
        return out


def gateway_controllers(spec, cluster, after: Sequence[pulumi.Resource]) -> Optional[GatewayControllers]:
    """The stack's Gateway controllers when `llmfleet:gateway` is set (stacks/compose.py)."""
    if spec.gateway is None:
        return None
    return GatewayControllers(f"{spec.cluster.name}-gateway-controllers", {
        "gateway": spec.gateway, "rate_limit": any(t.tokens_per_hour for t in spec.routing.tenants),
        "inference_pools": bool(spec.routing.picked()),
        "kubernetes_version": spec.cluster.kubernetes_version, "depends_on": list(after)},
        opts=ResourceOptions(providers={"kubernetes": cluster.provider}))


def stack_gateway(spec, cluster, controllers: Optional[GatewayControllers], serving, rag,
                  client_keys: Optional[Mapping[str, pulumi.Input[str]]] = None) -> Optional[GatewayLayer]:
    """The Gateway, its TLS and routes (stacks/compose.py), exporting `gateway` {url, openaiUrl, models} and the
    tenants' API keys as secrets."""
    if controllers is None:
        return None
    from components.serving.common import PORT, selector
    front_end = None
    if rag is not None and rag.front_end is not None:
        from components.rag.frontend import RELEASE
        front_end = {"namespace": spec.rag.namespace, "service": RELEASE, "port": 80}
    deps = [controllers, serving] + ([rag] if rag is not None else [])
    layer = GatewayLayer(f"{spec.cluster.name}-gateway", {
        "gateway": spec.gateway, "routing": spec.routing, "models": spec.models,
        "serving_namespace": spec.serving.namespace, "model_port": PORT, "model_selector": selector,
        "front_end": front_end, "client_keys": dict(client_keys or {}),
        "production": is_production(spec.environment), "depends_on": deps},
        opts=ResourceOptions(providers={"kubernetes": cluster.provider}))
    pulumi.export("gateway", {"url": layer.url, "openaiUrl": layer.openai_url, "models": list(layer.virtual_models)})
    pulumi.export("gatewayApiKeys", pulumi.Output.secret(layer.tenant_keys))
    return layer


def gateway_paths(spec):
    """The Gateway's rows for the network path table (components/security/paths.py), or None."""
    if spec.gateway is None:
        return None
    from components.security.paths import GatewayPaths
    front_end = ()
    if spec.rag is not None and spec.rag.front_end is not None:
        from components.rag.frontend import CONTAINER_PORT
        front_end = (spec.rag.namespace, CONTAINER_PORT)
    pickers = tuple((m, tuple(sorted(picker.epp_pod_labels(m).items())), picker.EXT_PROC_PORT)
                    for m in dict.fromkeys(v.versions[0].model for v in spec.routing.picked()))
    return GatewayPaths(ENVOY_GATEWAY_NAMESPACE, tuple(sorted(ENVOY_PROXY_LABELS.items())), spec.gateway.namespace,
                        models=spec.routing.backends(), front_end=front_end, acme=spec.gateway.tls.issuer == "acme",
                        pickers=pickers)
