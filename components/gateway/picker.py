"""Endpoint picking within a model (`llmfleet:routing.models[].picker: inferencePool`, docs/gateway.md): an
InferencePool over the model's pods and an endpoint picker (EPP) that chooses the pod for each request from the
pods' queue and KV-cache metrics, instead of Envoy's least-request. Pure functions, so tests and cluster checks read
exactly what is rendered.

Who renders what: the EPP (Deployment, Service, ConfigMap, RBAC) comes from the llm-d-router-gateway chart v0.10.0,
one release per picked model (an EPP serves one pool). The InferencePool is rendered here, not by the chart
(`router.inferencePool.create: false`), so the plan validates it against the CRD and the cluster checks see it.
With `create: false` the chart's EPP finds its pods by `--endpoint-selector` and `--endpoint-target-ports`
(routerlib templates/_deployment.yaml) instead of reading the pool: both are given the same labels and port here
(`pool_and_values`), and a test holds them equal. The pool, the EPP and the model pods share the serving
namespace (a pool selects pods of its own namespace); the AIGatewayRoute in the gateway namespace reaches the pool
through a ReferenceGrant.
"""
from catalog.versions import EPP_IMAGE

POOL_API = "inference.networking.k8s.io/v1"
POOL_GROUP = "inference.networking.k8s.io"
# routerlib v0.10.0: Service ports grpc-ext-proc (router.epp.extProcPort, default 9002) and http-metrics 9090.
EXT_PROC_PORT = 9002
METRICS_PORT = 9090
# Per request the EPP parses the OpenAI body Envoy sends it over ext_proc, hashes the prompt in blocks for the
# prefix-cache scorer and scores each pod from its latest queue and KV-cache figures (default-plugins.yaml:
# queue-scorer, kv-cache-utilization-scorer, prefix-cache-scorer); in the background it scrapes every pod's
# /metrics every 50 ms (--refresh-metrics-interval default, pkg/epp/server/options.go). For a pool of a few vLLM
# replicas that is tens of small scrapes and requests a second: half a core. The chart's 8 CPU / 8Gi default is
# sized for large fleets and a big prefix index; 1Gi holds the index of a few pods, the 2Gi limit bounds it.
EPP_RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}


def release_name(model: str) -> str:
    return f"{model}-picker"


def release_service(release: str) -> str:
    """The chart's EPP Service (and Deployment) of a release: `llm-d-router.name` = the release name lower-cased and
    cut to 40, then `-epp` (routerlib templates/_helpers.tpl)."""
    return f"{release.lower().strip()[:40]}-epp"


def epp_service(model: str) -> str:
    return release_service(release_name(model))


def release_pod_labels(release: str, creates_pool: bool = False) -> dict:
    """The EPP pods' labels (routerlib `llm-d-router.selectorLabels` and `llm-d-router.modeLabels` at v0.10.0; they
    depend on `router.inferencePool.create`, false here): what NetworkPolicy rows and the plan's checks select the
    picker by."""
    mode = "llm-d-router-gateway" if creates_pool else "llm-d-router-standalone"
    return {mode: release_service(release), "llm-d.ai/igw-mode": mode}


def release_creates_pool(values: dict) -> bool:
    return ((values.get("router") or {}).get("inferencePool") or {}).get("create", True) is not False


def epp_pod_labels(model: str) -> dict:
    return release_pod_labels(release_name(model))


def pool_name(model: str) -> str:
    return model


def pool_and_values(model: str, namespace: str, selector: dict, port: int, labels: dict) -> tuple[dict, dict]:
    """(InferencePool, chart values) of one picked model: the pool selects the model's pods on the vLLM port and
    names the chart's EPP Service; the EPP selects the same pods on the same port."""
    pool = {"apiVersion": POOL_API, "kind": "InferencePool",
            "metadata": {"name": pool_name(model), "namespace": namespace, "labels": labels},
            "spec": {"selector": {"matchLabels": dict(selector)},
                     "targetPorts": [{"number": port}],
                     "appProtocol": "http",
                     # FailOpen: when the EPP is down Envoy still sends the request to a pod of the pool.
                     "endpointPickerRef": {"kind": "Service", "name": epp_service(model),
                                           "port": {"number": EXT_PROC_PORT}, "failureMode": "FailOpen"}}}
    values = {"router": {
        "inferencePool": {"create": False},
        "modelServers": {"type": "vllm", "protocol": "http", "matchLabels": dict(selector),
                         "targetPorts": [{"number": port}]},
        "epp": {"replicas": 1, "extProcPort": EXT_PROC_PORT, "resources": EPP_RESOURCES,
                "image": {**EPP_IMAGE, "pullPolicy": "IfNotPresent"}},
    }}
    return pool, values


def reference_grant(namespace: str, route_namespace: str, labels: dict) -> dict:
    """Lets the gateway namespace's routes name InferencePools of the serving namespace: AI Gateway v1.1.0 checks
    a grant from its AIGatewayRoute (internal/controller/referencegrant.go), Envoy Gateway one from the HTTPRoute
    AI Gateway generates (Gateway API cross-namespace backendRef rule)."""
    return {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
            "metadata": {"name": "llm-gateway-inference-pools", "namespace": namespace, "labels": labels},
            "spec": {"from": [{"group": "aigateway.envoyproxy.io", "kind": "AIGatewayRoute",
                               "namespace": route_namespace},
                              {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute",
                               "namespace": route_namespace}],
                     "to": [{"group": POOL_GROUP, "kind": "InferencePool"}]}}


def pool_ref(model: str, namespace: str) -> dict:
    """An AIGatewayRoute backendRef to the model's pool (AIGatewayRoute v1beta1: group and kind together, only
    InferencePool of inference.networking.k8s.io; the only backend of its rule)."""
    return {"group": POOL_GROUP, "kind": "InferencePool", "name": pool_name(model), "namespace": namespace}
