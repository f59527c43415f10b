"""The network path table (components/security/paths.py) for inputs that reach every row kind: every engine (vLLM,
KServe Serverless through Knative, Ray Serve with its autoscaler), both DCGM sources, KEDA on Prometheus and Redis,
metrics-server, an extra scrape, and a Gateway with a front end, ACME and an endpoint picker. The cluster checks
(plan/checks/network.py) prove that the callers they know reach their targets on the shipped stacks; rows towards
addresses outside the cluster (the API server, Hugging Face, package mirrors, ACME's self-check) and rows for parts
no shipped stack combines have no caller there to notice a changed port. So the whole table is pinned here, with
the fact behind each port."""
from types import SimpleNamespace as NS

from components.security.paths import (ANYWHERE, GatewayPaths, NetworkInputs, Peer, endpoints_for, program_paths,
                                       service_peer)

SERVING, SYSTEM, GPU, MON = "llm-serving", "llm-system", "gpu-operator", "monitoring"
ENVOY = ("envoy-gateway-system", {"app": "envoy"})
V = {"app.kubernetes.io/name": "v", "llmfleet.io/engine": "vllm"}
K = {"app.kubernetes.io/name": "k", "llmfleet.io/engine": "kserve"}
R = {"app.kubernetes.io/name": "r", "llmfleet.io/engine": "rayserve"}
HEAD = {**R, "app.kubernetes.io/component": "ray-head"}
DNS = {"k8s-app": "kube-dns"}
API = [(443, "TCP"), (6443, "TCP")]


def inputs() -> NetworkInputs:
    models = [NS(name="v", engine="vllm"), NS(name="k", engine="kserve", kserve=NS(mode="Serverless")),
              NS(name="r", engine="rayserve", replicas=NS(min=1, max=2))]
    gateway = GatewayPaths("envoy-gateway-system", (("app", "envoy"),), "llm-gateway", models=("v",),
                           front_end=("rag-system", 8080), acme=True, pickers=(("v", (("epp", "v"),), 9002),))
    return NetworkInputs(SERVING, ("apps",), endpoints_for(models, 8080, 8080, 8000),
                         {"keda": SYSTEM, "prometheus-adapter": SYSTEM, "cert-manager": "cert-manager"},
                         "http://kube-prometheus-stack-prometheus.monitoring.svc:9090", dcgm=("gpu-namespace", "gke"),
                         redis=("redis.llm-system.svc:6379",), metrics_server=True,
                         scrapes=(("rag", "rag-system", (8080, 6333)),), gateway=gateway)


# (name, source namespace, source labels, destination namespace (None: any address), labels, ports)
EXPECTED = [
    # Every owned namespace resolves names through kube-dns, UDP and TCP 53.
    ("dns", SERVING, {}, "kube-system", DNS, [(53, "UDP"), (53, "TCP")]),
    ("dns", SYSTEM, {}, "kube-system", DNS, [(53, "UDP"), (53, "TCP")]),
    ("dns", GPU, {}, "kube-system", DNS, [(53, "UDP"), (53, "TCP")]),
    ("dns", MON, {}, "kube-system", DNS, [(53, "UDP"), (53, "TCP")]),
    # Chart namespaces: the API server (443 behind the Service, 6443 on the control plane) and their own pods.
    ("apiserver", SYSTEM, {}, None, {}, API),
    ("same-namespace", SYSTEM, {}, SYSTEM, {}, []),
    ("apiserver", GPU, {}, None, {}, API),
    ("same-namespace", GPU, {}, GPU, {}, []),
    ("apiserver", MON, {}, None, {}, API),
    ("same-namespace", MON, {}, MON, {}, []),
    ("gpu-packages", GPU, {}, None, {}, [(80, "TCP")]),
    # node-exporter, kubelet, kube-proxy, controller-manager, scheduler, etcd metrics; CoreDNS 9153; dcgm 9400.
    ("scrape-nodes", MON, {}, None, {}, [(9100, "TCP"), (10250, "TCP"), (10249, "TCP"), (10257, "TCP"),
                                          (10259, "TCP"), (2381, "TCP")]),
    ("scrape-coredns", MON, {}, "kube-system", DNS, [(9153, "TCP")]),
    ("scrape-dcgm", MON, {}, GPU, {}, [(9400, "TCP")]),
    ("scrape-gke-dcgm", MON, {}, "gke-managed-system", {}, []),
    ("scrape-rag", MON, {}, "rag-system", {}, [(8080, "TCP"), (6333, "TCP")]),
    # KEDA and prometheus-adapter query Prometheus on its URL's port; KEDA reads Redis on the trigger's.
    ("autoscalers-prometheus", SYSTEM, {}, MON, {}, [(9090, "TCP")]),
    ("keda-redis-0", SYSTEM, {}, SYSTEM, {}, [(6379, "TCP")]),
    ("kubelets", SYSTEM, {}, None, {}, [(10250, "TCP")]),
    # The API server calls each chart's webhook / aggregated API port.
    ("webhook-cert-manager", None, {}, "cert-manager", {}, [(10250, "TCP")]),
    ("webhook-keda", None, {}, SYSTEM, {}, [(9443, "TCP"), (6443, "TCP")]),
    ("webhook-prometheus-adapter", None, {}, SYSTEM, {}, [(6443, "TCP")]),
    # Gateway: extproc metrics 1064, ACME HTTP-01 solver 8089, the front end's port, cert-manager's self-check on 80.
    ("scrape-gateway", MON, {}, *ENVOY, [(1064, "TCP")]),
    ("gateway-acme-solver", *ENVOY, "llm-gateway", {"acme.cert-manager.io/http01-solver": "true"}, [(8089, "TCP")]),
    ("gateway-frontend", *ENVOY, "rag-system", {}, [(8080, "TCP")]),
    ("acme-self-check", SYSTEM, {}, None, {}, [(80, "TCP")]),
    # vLLM: scraped and served on 8000; the picker's ext_proc port; weights from Hugging Face over HTTPS.
    ("scrape-v", MON, {}, SERVING, V, [(8000, "TCP")]),
    ("gateway-v", *ENVOY, SERVING, V, [(8000, "TCP")]),
    ("gateway-picker-v", *ENVOY, SERVING, {"epp": "v"}, [(9002, "TCP")]),
    ("picker-v", SERVING, {"epp": "v"}, SERVING, V, [(8000, "TCP")]),
    ("picker-apiserver-v", SERVING, {"epp": "v"}, None, {}, API),
    ("client-v-0", "apps", {}, SERVING, V, [(8000, "TCP")]),
    ("weights-v", SERVING, V, None, {}, [(443, "TCP")]),
    # KServe's runtime serves on 8080; Serverless traffic comes through the queue-proxy (8012; 9090 its metrics
    # for Knative's autoscaler), from the activator/autoscaler and from either ingress gateway.
    ("scrape-k", MON, {}, SERVING, K, [(8080, "TCP")]),
    ("client-k-0", "apps", {}, SERVING, K, [(8080, "TCP")]),
    ("weights-k", SERVING, K, None, {}, [(443, "TCP")]),
    ("knative-k", "knative-serving", {}, SERVING, K, [(8012, "TCP"), (9090, "TCP")]),
    ("knative-gw-k-0", "kourier-system", {}, SERVING, K, [(8012, "TCP")]),
    ("knative-gw-k-1", "istio-system", {}, SERVING, K, [(8012, "TCP")]),
    ("client-qp-k-0", "apps", {}, SERVING, K, [(8012, "TCP")]),
    # Ray: metrics on 8080 (KubeRay), Serve on 8000, every port between its own pods, KubeRay's operator on the
    # head's dashboard 8265, the head's autoscaler sidecar to the API server.
    ("scrape-r", MON, {}, SERVING, R, [(8080, "TCP")]),
    ("client-r-0", "apps", {}, SERVING, R, [(8000, "TCP")]),
    ("weights-r", SERVING, R, None, {}, [(443, "TCP")]),
    ("ray-r", SERVING, R, SERVING, R, []),
    ("kuberay-r", SYSTEM, {}, SERVING, HEAD, [(8265, "TCP")]),
    ("ray-apiserver-r", SERVING, HEAD, None, {}, API),
]


def test_the_path_table_for_every_kind_of_part():
    rows = [(p.name, p.source.namespace, p.source.labels, p.dest.namespace, p.dest.labels,
             [(x.port, x.protocol) for x in p.ports]) for p in program_paths(inputs())]
    assert rows == EXPECTED
    assert all(p.why for p in program_paths(inputs()))


def test_endpoints_carry_each_engines_ports_and_roles():
    (v, k, r) = inputs().models
    assert (v.serve_port, v.metrics_ports, v.downloads, v.knative, v.autoscaler, v.head) == (8000, (8000,), True,
                                                                                           False, False, {})
    assert (k.serve_port, k.metrics_ports, k.knative) == (8080, (8080,), True)
    assert (r.serve_port, r.metrics_ports, r.autoscaler, r.head) == (8000, (8080,), True, HEAD)
    fixed = endpoints_for([NS(name="r", engine="rayserve", replicas=NS(min=2, max=2)),
                           NS(name="k", engine="kserve", kserve=NS(mode="Standard"))], 8080, 8080, 8000)
    assert fixed[0].autoscaler is False and fixed[1].knative is False


def test_service_urls_resolve_to_their_namespace_and_default_ports():
    assert service_peer("http://prometheus.monitoring.svc:9090") == (Peer("monitoring"), 9090)
    assert service_peer("http://prometheus.monitoring.svc.cluster.local") == (Peer("monitoring"), 80)
    assert service_peer("https://prometheus.example.com") == (ANYWHERE, 443)
    assert service_peer("http://prometheus:9090") == (ANYWHERE, 9090)
