"""Chart values of the Gateway layer: Envoy Gateway v1.9.0 with the overlays Envoy AI Gateway v1.1.0 requires,
AI Gateway itself, and the Redis the global rate limit counts in. Checked key by key against shared/chart-values
(plan/checks/helm_values.py renders EG's values.tmpl.yaml the way its release does)."""
from spec.platform import PRIORITY_TIERS

ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"     # EG's controller and (by default) the Envoy proxy pods
AI_GATEWAY_NAMESPACE = "envoy-ai-gateway-system"
# AI Gateway's controller Service: EG's extension manager calls it on this port (AI Gateway's
# manifests/envoy-gateway-values.yaml at v1.1.0: ai-gateway-controller.envoy-ai-gateway-system.svc.cluster.local:1063).
AI_GATEWAY_CONTROLLER = f"ai-gateway-controller.{AI_GATEWAY_NAMESPACE}.svc.cluster.local"
AI_GATEWAY_EXTENSION_PORT = 1063
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
REDIS_NAME = "gateway-ratelimit-redis"
REDIS_UID = 10001                  # above the host UID range (no clash with a node account)
REDIS_PORT = 6379
# Envoy proxy pod labels (envoyproxy/gateway v1.9.0 internal/infrastructure/kubernetes/proxy/resource.go
# EnvoyAppLabel): what NetworkPolicy rows and cluster checks select the data plane by.
ENVOY_PROXY_LABELS = {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy",
                      "app.kubernetes.io/managed-by": "envoy-gateway"}
PRIORITY = "standard"


def redis_url(namespace: str = ENVOY_GATEWAY_NAMESPACE) -> str:
    return f"{REDIS_NAME}.{namespace}.svc.cluster.local:{REDIS_PORT}"


def envoy_gateway_values(rate_limit: bool, inference_pools: bool = False) -> dict:
    """gateway-helm v1.9.0: the chart's defaults plus AI Gateway's base overlay (manifests/envoy-gateway-values.yaml:
    Backend API, EnvoyPatchPolicy, the extension manager's xDS hooks and its service) and, when a model uses the
    endpoint picker, the InferencePool addon (examples/inference-pool/envoy-gateway-values-addon.yaml: the extension
    manager also handles InferencePool backends; the CRD is installed first, see GatewayControllers). With per-tenant token limits, the global rate limit's Redis backend (AI Gateway's token_ratelimit
    addon). That addon also patches the rate-limit Deployment to ratelimit:60d8e81b, an older build than the
    17b1956c EG v1.9.0 pins itself (envoyproxy/gateway 39763b1c "bump ratelimit version"): the patch is left out."""
    envoy_gateway = {
        "gateway": {"controllerName": CONTROLLER_NAME},
        "logging": {"level": {"default": "info"}},
        "provider": {"type": "Kubernetes"},
        "extensionApis": {"enableEnvoyPatchPolicy": True, "enableBackend": True},
        "extensionManager": {
            "hooks": {"xdsTranslator": {
                "translation": {k: {"includeAll": True} for k in ("listener", "route", "cluster", "secret")},
                "post": ["Translation", "Cluster", "Route"]}},
            "service": {"fqdn": {"hostname": AI_GATEWAY_CONTROLLER, "port": AI_GATEWAY_EXTENSION_PORT}},
        },
    }
    if inference_pools:
        envoy_gateway["extensionManager"]["backendResources"] = [
            {"group": "inference.networking.k8s.io", "kind": "InferencePool", "version": "v1"}]
    if rate_limit:
        envoy_gateway["rateLimit"] = {"backend": {"type": "Redis", "redis": {"url": redis_url()}}}
    return {
        "config": {"envoyGateway": envoy_gateway},
        "deployment": {"priorityClassName": PRIORITY_TIERS[PRIORITY].name},
    }


AI_GATEWAY_CONTROLLER_NAME = AI_GATEWAY_CONTROLLER.split(".")[0]


def ai_gateway_values() -> dict:
    """ai-gateway-helm v1.1.0: defaults (rootPrefix "/", so clients use https://<host>/v1; extproc image = the chart's
    appVersion). Stated: the controller's name (its Service, which EG's extension manager calls: the chart's
    default fullnameOverride, pinned here so the two cannot drift) and the namespace of EG's pods it patches."""
    return {"controller": {"fullnameOverride": AI_GATEWAY_CONTROLLER_NAME},
            "envoyGateway": {"namespace": ENVOY_GATEWAY_NAMESPACE}}


def cert_manager_config() -> dict:
    """cert-manager v1.21.1 ControllerConfiguration enabling the Gateway API integration that the ACME HTTP-01
    `gatewayHTTPRoute` solver needs (pkg/apis/config/controller/v1alpha1/types.go: `gatewayAPI.enabled`; the
    ExperimentalGatewayAPISupport gate is on by default since 1.15). cert-manager then refuses to start until the
    Gateway API CRDs exist (pkg/controller/context.go), so it installs after Envoy Gateway's chart."""
    return {"apiVersion": "controller.config.cert-manager.io/v1alpha1", "kind": "ControllerConfiguration",
            "gatewayAPI": {"enabled": True}}


def redis_objects() -> tuple[dict, dict]:
    """(Deployment, Service) of the rate-limit Redis: one replica, no persistence (counters restart empty, which a
    rate limit tolerates), on the system nodes like the other controllers."""
    from catalog.versions import GATEWAY_REDIS_IMAGE
    labels = {"app.kubernetes.io/name": REDIS_NAME, "app.kubernetes.io/component": "ratelimit-store"}
    container = {
        "name": "redis", "image": GATEWAY_REDIS_IMAGE, "imagePullPolicy": "IfNotPresent",
        "args": ["--save", "", "--appendonly", "no"],
        "ports": [{"name": "redis", "containerPort": REDIS_PORT, "protocol": "TCP"}],
        # A counter store: a CPU limit bounds a runaway client's cost and throttling a few ms costs nothing here.
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"tcpSocket": {"port": "redis"}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": "redis"}, "periodSeconds": 20},
        # The image's entrypoint only chowns and drops privileges when started as root; started as a high UID it
        # execs redis-server directly, which needs no passwd entry. Nothing is persisted (--save "", no AOF), and
        # the working directory /data is an emptyDir, so the root filesystem can be read-only.
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    pod_security = {"runAsNonRoot": True, "runAsUser": REDIS_UID, "runAsGroup": REDIS_UID, "fsGroup": REDIS_UID,
                    "seccompProfile": {"type": "RuntimeDefault"}}
    deployment = {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"containers": [container], "priorityClassName": PRIORITY_TIERS[PRIORITY].name,
                                        "securityContext": pod_security,
                                        "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "64Mi"}}],
                                        "automountServiceAccountToken": False, "enableServiceLinks": False}}}
    service = {"type": "ClusterIP", "selector": labels,
               "ports": [{"name": "redis", "port": REDIS_PORT, "targetPort": "redis", "protocol": "TCP"}]}
    return deployment, service
