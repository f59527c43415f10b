"""The one table of network paths the program's pods need; everything else is denied (components/security).

Each row is a `Path` from a source to a destination on some ports. The NetworkPolicy component turns a row into an
egress rule in the source's namespace and an ingress rule in the destination's, when the program owns that
namespace (a namespace it does not own has no default deny, so nothing is needed there). A new component adds
its rows to `program_paths`; the cluster checks (plan/checks/network.py) then prove its callers reach it.

Granularity: the program's own pods (model servers) are selected by their labels; pods that charts render
(Prometheus, KEDA, KServe, the GPU Operator) are selected by namespace, because the plan does not see their
labels and a wrong guess would silently cut a path.
"""
from dataclasses import dataclass, field
from typing import Optional, Sequence
from urllib.parse import urlparse

from spec.platform import GPU_OPERATOR_NAMESPACE, MONITORING_NAMESPACE, SYSTEM_NAMESPACE

KUBE_SYSTEM = "kube-system"
# CoreDNS/kube-dns carries k8s-app=kube-dns on EKS (CoreDNS add-on), GKE (kube-dns), AKS (coredns) and k3s.
KUBE_DNS = {"k8s-app": "kube-dns"}


@dataclass(frozen=True)
class Port:
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Peer:
    """A namespace and a label selector within it ({} = every pod of the namespace). namespace None means any
    address, rendered as a rule with ports only: the API server, the internet and node addresses are not
    knowable offline (see API_SERVER), and an ipBlock does not match them under every CNI."""
    namespace: Optional[str]
    pods: tuple = ()            # matchLabels as sorted (key, value) pairs

    @property
    def labels(self) -> dict:
        return dict(self.pods)


ANYWHERE = Peer(None)


def pods(namespace: str, labels: Optional[dict] = None) -> Peer:
    return Peer(namespace, tuple(sorted((labels or {}).items())))


@dataclass(frozen=True)
class Path:
    name: str                   # unique within each namespace it lands in; part of the policy name
    source: Peer                # Peer(None): any caller (the API server calling a webhook, whose address is unknown)
    dest: Peer
    ports: tuple = ()           # Port...; () = every port
    why: str = ""


def tcp(*ports: int) -> tuple:
    return tuple(Port(p) for p in ports)


DNS = (Port(53, "UDP"), Port(53, "TCP"))
# Operators and controllers call the API server. Its address after the Service's DNAT is the control plane's
# endpoint (EKS cross-account ENIs, GKE's control-plane range, AKS's API server or konnectivity, k3s's server node):
# none is knowable offline and Cilium-based dataplanes classify it as an entity an ipBlock never matches. So the
# rule allows these ports to any address; it also lets those pods reach HTTPS elsewhere (chart images fetch
# plugins, OpenCost the cloud price lists).
API_SERVER = tcp(443, 6443)
# Node-level scrape targets of kube-prometheus-stack (host network, addressed by node IP): node-exporter 9100,
# kubelet/cAdvisor 10250, kube-proxy 10249, controller-manager 10257, scheduler 10259, etcd metrics 2381.
NODE_METRICS = tcp(9100, 10250, 10249, 10257, 10259, 2381)
COREDNS_METRICS = tcp(9153)
DCGM_METRICS = tcp(9400)
# Webhook and aggregated-API ports of the charts (pod ports the API server calls), from the pinned charts' values
# (shared/chart-values) or the upstream defaults where the chart does not expose them.
WEBHOOKS = {
    "kube-prometheus-stack": tcp(10250),      # prometheusOperator.admissionWebhooks / tls.internalPort 10250
    "cert-manager": tcp(10250),               # webhook.securePort 10250
    "kserve-resources": tcp(9443),            # controller-runtime webhook server default (values do not set it)
    "keda": tcp(9443, 6443),                  # webhooks.port 9443; metricsServer portHttpsTarget 6443
    "prometheus-adapter": tcp(6443),          # listenPort 6443
    "vpa": tcp(8000, 10250),                  # admission controller --port 8000; metrics-server subchart 10250
    "external-secrets": tcp(10250),           # webhook.port 10250 (validates SecretStores and ExternalSecrets)
}
# KServe Serverless runs on Knative, which the user installs: its activator and autoscaler (knative-serving) call
# the queue-proxy sidecar (8012 traffic, 9090 the autoscaler's metrics), and so does the ingress gateway (Kourier
# or Istio, whichever the user runs) when the activator is out of the path.
KNATIVE_SERVING = "knative-serving"
KNATIVE_GATEWAYS = ("kourier-system", "istio-system")
QUEUE_PROXY = tcp(8012, 9090)
# The GPU Operator's driver container installs kernel packages from distribution mirrors, some over plain HTTP.
GPU_OPERATOR_EGRESS = tcp(80)


@dataclass(frozen=True)
class ModelEndpoint:
    """One model as the network sees it (components/serving builds these from the model specs)."""
    name: str
    engine: str
    selector: dict              # labels on every pod of the model (Ray: head and workers)
    serve_port: int             # the port clients call
    metrics_ports: tuple        # ports Prometheus scrapes
    downloads: bool             # fetches weights from the internet (Hugging Face)
    head: dict = field(default_factory=dict)   # Ray: labels of the head pod (KubeRay's operator calls it)
    knative: bool = False       # KServe Serverless: traffic arrives through Knative's queue-proxy
    autoscaler: bool = False    # Ray in-tree autoscaling: KubeRay's autoscaler sidecar in the head calls the API


@dataclass(frozen=True)
class NetworkInputs:
    serving_namespace: str
    model_clients: tuple
    models: tuple               # ModelEndpoint...
    charts: dict                # chart name -> namespace of its release
    prometheus_url: str
    dcgm: tuple = ()            # where GPU metrics come from: "gpu-namespace" and/or "gke"
    redis: tuple = ()           # host:port of KEDA Redis triggers
    metrics_server: bool = False  # the VPA chart brings metrics-server (llm-system), which scrapes every kubelet
    scrapes: tuple = ()         # (name, namespace, ports): more Prometheus targets, e.g. the RAG system's
    gateway: Optional["GatewayPaths"] = None   # the stack's Gateway (components/gateway), if any

    @property
    def owned(self) -> tuple:
        return tuple(dict.fromkeys((self.serving_namespace, SYSTEM_NAMESPACE, GPU_OPERATOR_NAMESPACE,
                                    MONITORING_NAMESPACE)))


# The Gateway's data plane: Envoy proxy pods in Envoy Gateway's namespace, by the labels EG v1.9.0 gives them
# (components/gateway/values.py), and cert-manager's HTTP-01 solver pods (label set by cert-manager's acmechallenges
# controller; they listen on 8089) in the gateway namespace.
ACME_SOLVER = {"acme.cert-manager.io/http01-solver": "true"}
ACME_SOLVER_PORT = 8089
EXTPROC_METRICS_PORT = 1064     # AI Gateway's extproc admin port (components/gateway/objects.py)


@dataclass(frozen=True)
class GatewayPaths:
    envoy_namespace: str
    envoy_labels: tuple         # sorted (key, value) pairs
    gateway_namespace: str
    models: tuple = ()          # names of the models `/v1` routes to
    front_end: tuple = ()       # (namespace, container port) of the RAG front end behind `/`
    acme: bool = False          # ACME HTTP-01: cert-manager's self-check calls the hostname over HTTP
    pickers: tuple = ()         # (model, EPP pod labels as sorted pairs, ext_proc port) per endpoint picker


def service_peer(url: str) -> tuple[Peer, int]:
    """The namespace a `http://name.namespace.svc...:port` URL resolves to, else any address."""
    u = urlparse(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    parts = (u.hostname or "").split(".")
    if len(parts) >= 3 and parts[2] == "svc":
        return Peer(parts[1]), port
    return ANYWHERE, port


def program_paths(i: NetworkInputs) -> list[Path]:
    rows: list[Path] = []
    chart_namespaces = (SYSTEM_NAMESPACE, GPU_OPERATOR_NAMESPACE, MONITORING_NAMESPACE)
    for ns in i.owned:
        rows.append(Path("dns", pods(ns), pods(KUBE_SYSTEM, KUBE_DNS), DNS, "name resolution"))
    for ns in chart_namespaces:
        rows.append(Path("apiserver", pods(ns), ANYWHERE, API_SERVER, "operators and controllers call the API"))
        rows.append(Path("same-namespace", pods(ns), pods(ns), (),
                         "a chart's own parts call each other (Grafana -> Prometheus, KEDA metrics server -> "
                         "operator); their labels are the chart's, not visible to the plan"))
    rows.append(Path("gpu-packages", pods(GPU_OPERATOR_NAMESPACE), ANYWHERE, GPU_OPERATOR_EGRESS,
                     "driver container fetches kernel packages"))

    mon = pods(MONITORING_NAMESPACE)
    rows.append(Path("scrape-nodes", mon, ANYWHERE, NODE_METRICS, "Prometheus scrapes node-level exporters"))
    rows.append(Path("scrape-coredns", mon, pods(KUBE_SYSTEM, KUBE_DNS), COREDNS_METRICS,
                     "Prometheus scrapes CoreDNS"))
    if "gpu-namespace" in i.dcgm:
        rows.append(Path("scrape-dcgm", mon, pods(GPU_OPERATOR_NAMESPACE), DCGM_METRICS,
                         "Prometheus scrapes dcgm-exporter"))
    if "gke" in i.dcgm:
        rows.append(Path("scrape-gke-dcgm", mon, pods("gke-managed-system"), (),
                         "Prometheus scrapes GKE's managed dcgm-exporter (its port is GKE's)"))

    for name, ns, ports in i.scrapes:
        rows.append(Path(f"scrape-{name}", mon, pods(ns), tcp(*ports), f"Prometheus scrapes {name} in {ns}"))

    prom, prom_port = service_peer(i.prometheus_url)
    if {"keda", "prometheus-adapter"} & set(i.charts):
        rows.append(Path("autoscalers-prometheus", pods(SYSTEM_NAMESPACE), prom, tcp(prom_port),
                         "KEDA and prometheus-adapter query Prometheus"))
    for n, addr in enumerate(i.redis):
        host, _, port = addr.rpartition(":")
        peer, _ = service_peer(f"redis://{host}:{port}")
        rows.append(Path(f"keda-redis-{n}", pods(SYSTEM_NAMESPACE), peer, tcp(int(port)),
                         "KEDA reads the Redis queue length"))
    if i.metrics_server:
        rows.append(Path("kubelets", pods(SYSTEM_NAMESPACE), ANYWHERE, tcp(10250),
                         "metrics-server scrapes every kubelet (node addresses)"))
    for chart, ns in sorted(i.charts.items()):
        if chart in WEBHOOKS:
            rows.append(Path(f"webhook-{chart}", ANYWHERE, pods(ns), WEBHOOKS[chart],
                             "the API server calls the chart's admission webhook / aggregated API"))

    s = i.serving_namespace
    g = i.gateway
    if g is not None:
        envoy = Peer(g.envoy_namespace, g.envoy_labels)
        rows.append(Path("scrape-gateway", mon, envoy, tcp(EXTPROC_METRICS_PORT),
                         "Prometheus scrapes AI Gateway's token-usage metrics (extproc sidecar in the Envoy pods)"))
        rows.append(Path("gateway-acme-solver", envoy, pods(g.gateway_namespace, ACME_SOLVER), tcp(ACME_SOLVER_PORT),
                         "the Gateway's Envoy proxies serve cert-manager's HTTP-01 solver"))
        if g.front_end:
            rows.append(Path("gateway-frontend", envoy, pods(g.front_end[0]), tcp(g.front_end[1]),
                             "the Gateway's Envoy proxies call the RAG front end"))
        if g.acme:
            rows.append(Path("acme-self-check", pods(SYSTEM_NAMESPACE), ANYWHERE, tcp(80),
                             "cert-manager's HTTP-01 self-check fetches http://<hostname>/.well-known/acme-challenge/"))
    for m in i.models:
        model = pods(s, m.selector)
        rows.append(Path(f"scrape-{m.name}", mon, model, tcp(*m.metrics_ports), "Prometheus scrapes the model"))
        if g is not None and m.name in g.models:
            rows.append(Path(f"gateway-{m.name}", Peer(g.envoy_namespace, g.envoy_labels), model, tcp(m.serve_port),
                             "the Gateway's Envoy proxies call the model's pods (AI Gateway /v1)"))
        for name, epp_labels, ext_proc in (g.pickers if g is not None else ()):
            if name != m.name:
                continue
            epp = Peer(s, epp_labels)
            rows.append(Path(f"gateway-picker-{m.name}", Peer(g.envoy_namespace, g.envoy_labels), epp, tcp(ext_proc),
                             "the Gateway's Envoy proxies ask the model's endpoint picker (gRPC ext_proc)"))
            rows.append(Path(f"picker-{m.name}", epp, model, tcp(m.serve_port),
                             "the endpoint picker scrapes the model's pods' /metrics (queue, KV cache)"))
            rows.append(Path(f"picker-apiserver-{m.name}", epp, ANYWHERE, API_SERVER,
                             "the endpoint picker watches the model's pods through the API server"))
        for n, client in enumerate(i.model_clients):
            rows.append(Path(f"client-{m.name}-{n}", pods(client), model, tcp(m.serve_port),
                             f"llmfleet:security.modelClients allows {client}"))
        if m.downloads:
            rows.append(Path(f"weights-{m.name}", model, ANYWHERE, tcp(443), "weights from Hugging Face over HTTPS"))
        if m.knative:
            rows.append(Path(f"knative-{m.name}", pods(KNATIVE_SERVING), model, QUEUE_PROXY,
                             "Knative's activator and autoscaler call the queue-proxy"))
            for n, gw in enumerate(KNATIVE_GATEWAYS):
                rows.append(Path(f"knative-gw-{m.name}-{n}", pods(gw), model, QUEUE_PROXY[:1],
                                 f"Knative's ingress gateway in {gw} calls the queue-proxy"))
            for n, client in enumerate(i.model_clients):
                rows.append(Path(f"client-qp-{m.name}-{n}", pods(client), model, QUEUE_PROXY[:1],
                                 f"llmfleet:security.modelClients allows {client} (through the queue-proxy)"))
        if m.engine == "rayserve":
            rows.append(Path(f"ray-{m.name}", model, model, (), "Ray head and workers (GCS, object store, NCCL)"))
            rows.append(Path(f"kuberay-{m.name}", pods(SYSTEM_NAMESPACE), pods(s, m.head), tcp(8265),
                             "KubeRay's operator deploys Serve apps through the head's dashboard"))
            if m.autoscaler:
                rows.append(Path(f"ray-apiserver-{m.name}", pods(s, m.head), ANYWHERE, API_SERVER,
                                 "the Ray autoscaler sidecar in the head calls the API server"))
    return rows


def endpoints_for(models: Sequence, kserve_port: int, ray_metrics_port: int, vllm_port: int) -> tuple:
    """ModelEndpoint per model spec; the selector is the labels every pod of the model carries."""
    out = []
    for m in models:
        selector = {"app.kubernetes.io/name": m.name, "llmfleet.io/engine": m.engine}
        if m.engine == "kserve":
            knative = getattr(getattr(m, "kserve", None), "mode", "Standard") == "Serverless"
            out.append(ModelEndpoint(m.name, m.engine, selector, kserve_port, (kserve_port,), True, knative=knative))
        elif m.engine == "rayserve":
            r = getattr(m, "replicas", None)
            out.append(ModelEndpoint(m.name, m.engine, selector, vllm_port, (ray_metrics_port,), True,
                                     head={**selector, "app.kubernetes.io/component": "ray-head"},
                                     autoscaler=r is not None and r.max > r.min))
        else:
            out.append(ModelEndpoint(m.name, m.engine, selector, vllm_port, (vllm_port,), True))
    return tuple(out)
