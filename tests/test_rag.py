"""The RAG system (`llmfleet:rag`, components/rag): the exact objects for gcp-prod, the wiring between the parts
(URLs, ports, Secret keys, collection), GPU placement of the embedding service, the collection Job's script
against a stand-in Qdrant API, and one config error line per problem."""
import copy
import json
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from catalog.embeddings import EMBEDDING_MODELS, TEI_GPU_TAGS
from components.rag.collection import SCRIPT
from plan.runtime import ROOT
from plan.stackfile import load_stack_config
from spec.rag import qdrant_memory_mib
from spec.reader import ConfigError
from spec.stack import load
from tests.harness import run_config, run_stack


def _config(stack: str) -> tuple[dict, set]:
    _, config, secret_keys = load_stack_config(ROOT, stack)
    cfg = {}
    for k, v in config.items():
        if k.startswith("llmfleet:"):
            cfg[k.split(":", 1)[1]] = json.loads(v) if v[:1] in "[{" else v
    return cfg, {k.split(":", 1)[1] for k in secret_keys}


def _errors(cfg: dict, secret_keys: set, stack: str = "gcp-prod") -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(cfg, secret_keys, stack)
    return info.value.lines


@pytest.fixture(scope="module")
def gcp_prod():
    return run_stack("gcp-prod")


def test_embedding_deployment_runs_tei_on_cpu_nodes_only(gcp_prod):
    d = gcp_prod.manifest("Deployment", "embeddings", "rag-system")
    pod = d["spec"]["template"]["spec"]
    assert d["spec"]["replicas"] == 2
    assert pod["containers"] == [{
        "name": "tei", "image": "ghcr.io/huggingface/text-embeddings-inference:cpu-1.9",
        "imagePullPolicy": "IfNotPresent",
        "args": ["--model-id", "BAAI/bge-base-en-v1.5", "--served-model-name", "bge-base-en-v1.5", "--port", "80",
                 "--json-output"],
        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
        # bge-base: 110M fp32 parameters = 440 MiB; 2 x 440 + 512.
        "resources": {"requests": {"cpu": "2", "memory": "1392Mi"}, "limits": {"memory": "1392Mi"}},
        "startupProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 5,
                         "failureThreshold": 60},
        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 10,
                           "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 15,
                          "timeoutSeconds": 10, "failureThreshold": 4},
        "volumeMounts": [{"name": "model-cache", "mountPath": "/data"}],
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                            "seccompProfile": {"type": "RuntimeDefault"}}}]
    # Off every GPU pool's nodes, no GPU tolerations.
    assert pod["affinity"] == {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "llmfleet.io/pool", "operator": "DoesNotExist"}]}]}}}
    assert "tolerations" not in pod
    assert pod["priorityClassName"] == "llm-standard"
    ns = gcp_prod.manifest("Namespace", "rag-system")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"


def test_embedding_service_monitor_hpa_and_pdb(gcp_prod):
    svc = gcp_prod.manifest("Service", "embeddings", "rag-system")
    assert svc["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    sm = gcp_prod.manifest("ServiceMonitor", "embeddings", "rag-system")
    assert sm["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "15s"}]
    hpa = gcp_prod.manifest("HorizontalPodAutoscaler", "embeddings-hpa", "rag-system")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "embeddings"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert hpa["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
    pdb = gcp_prod.manifest("PodDisruptionBudget", "embeddings-pdb", "rag-system")
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": svc["spec"]["selector"]}}
    # The HPA owns the count: Pulumi must not reset it on the next `up`.
    dep = gcp_prod.one("kubernetes:apps/v1:Deployment", "llm-gcp-prod-rag-embedding-deployment")
    assert dep.options.get("ignoreChanges") == ["spec.replicas"]


def test_qdrant_release_values(gcp_prod):
    rel = gcp_prod.one("kubernetes:helm.sh/v3:Release", "llm-gcp-prod-rag-vectorstore-qdrant")
    assert (rel.inputs["chart"], rel.inputs["version"], rel.inputs["namespace"], rel.inputs["name"]) == \
        ("qdrant", "1.19.0", "rag-system", "qdrant")
    v = rel.inputs["values"]
    # 5M x 768 x 4 B x 1.5 = 21,973 MiB; two copies over three nodes = 14,649 MiB, + 512 base.
    assert qdrant_memory_mib(5_000_000, 768, 3) == 15161
    assert v["resources"] == {"requests": {"cpu": "500m", "memory": "15161Mi"}, "limits": {"memory": "15161Mi"}}
    assert v["replicaCount"] == 3 and v["config"] == {"cluster": {"enabled": True}}
    # Default StorageClass (no storageClassName): 2 x 15161 MiB -> 30Gi.
    assert v["persistence"] == {"size": "30Gi"} and v["snapshotPersistence"] == {"enabled": True, "size": "30Gi"}
    assert v["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    # The key comes from our Secret as an env var (the chart's valueFrom form needs Helm lookup); never `apiKey`.
    assert "apiKey" not in v
    assert v["env"] == [{"name": "QDRANT__SERVICE__API_KEY",
                         "valueFrom": {"secretKeyRef": {"name": "qdrant-api-key", "key": "api-key"}}}]
    assert v["metrics"]["serviceMonitor"] == {"enabled": True, "authorization": {
        "type": "Bearer", "credentials": {"name": "qdrant-api-key", "key": "api-key"}}}


def test_open_webui_values(gcp_prod):
    rel = gcp_prod.one("kubernetes:helm.sh/v3:Release", "llm-gcp-prod-rag-frontend-open-webui")
    assert (rel.inputs["chart"], rel.inputs["version"], rel.inputs["namespace"], rel.inputs["name"]) == \
        ("open-webui", "16.0.0", "rag-system", "open-webui")
    v = rel.inputs["values"]
    # Bundled Ollama, Pipelines, Redis and the chart's default key all off; one replica on a 10Gi volume.
    assert (v["ollama"], v["pipelines"], v["websocket"]) == \
        ({"enabled": False}, {"enabled": False}, {"enabled": False, "redis": {"enabled": False}})
    assert v["openaiApiKey"] == "" and v["replicaCount"] == 1 and v["persistence"] == {"enabled": True, "size": "10Gi"}
    assert v["extraEnvVars"] == [
        {"name": "ENABLE_PERSISTENT_CONFIG", "value": "False"},
        {"name": "WEBUI_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "open-webui-secret-key",
                                                                    "key": "webui-secret-key"}}},
        # The admin account exists from the first start (no first-come admin); its password from our Secret.
        {"name": "WEBUI_ADMIN_EMAIL", "value": "admin@llmfleet.local"},
        {"name": "WEBUI_ADMIN_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "open-webui-secret-key",
                                                                        "key": "admin-password"}}},
        {"name": "VECTOR_DB", "value": "qdrant"},
        {"name": "QDRANT_URI", "value": "http://qdrant.rag-system.svc:6333"},
        {"name": "QDRANT_API_KEY", "valueFrom": {"secretKeyRef": {"name": "qdrant-api-key", "key": "api-key"}}},
        {"name": "RAG_EMBEDDING_ENGINE", "value": "openai"},
        {"name": "RAG_EMBEDDING_MODEL", "value": "bge-base-en-v1.5"},
        {"name": "RAG_OPENAI_API_BASE_URL", "value": "http://embeddings.rag-system.svc:80/v1"}]
    secret = gcp_prod.one("kubernetes:core/v1:Secret", "llm-gcp-prod-rag-frontend-secret")
    assert secret.inputs["metadata"]["name"] == "open-webui-secret-key"
    assert gcp_prod.waits_for(rel, secret)
    # Qdrant's key Secret must exist before Open WebUI's pod reads it.
    assert gcp_prod.waits_for(rel, gcp_prod.one("kubernetes:core/v1:Secret",
                                                "llm-gcp-prod-rag-vectorstore-api-key-secret"))


def test_front_end_is_on_by_default_outside_production_only():
    cfg, secret_keys = _config("dev")
    assert "frontEnd" not in cfg["rag"] and load(cfg, secret_keys, "dev").rag.front_end is not None
    cfg, secret_keys = _config("gcp-prod")
    del cfg["rag"]["frontEnd"]
    assert load(cfg, secret_keys, "gcp-prod").rag.front_end is None


def test_dev_stack_runs_a_small_rag_system():
    plan = run_stack("dev")
    d = plan.manifest("Deployment", "embeddings", "rag-system")
    c = d["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == "ghcr.io/huggingface/text-embeddings-inference:cpu-1.9"
    assert c["args"][:2] == ["--model-id", "sentence-transformers/all-mpnet-base-v2"]
    v = plan.one("kubernetes:helm.sh/v3:Release", "llm-dev-rag-vectorstore-qdrant").inputs["values"]
    # 200k x 768 x 4 B x 1.5 = 879 MiB (one copy) + 512.
    assert v["replicaCount"] == 1 and v["config"] == {"cluster": {"enabled": False}}
    assert v["resources"]["requests"]["memory"] == "1391Mi" and v["podDisruptionBudget"]["enabled"] is False
    assert plan.one("kubernetes:helm.sh/v3:Release", "llm-dev-rag-frontend-open-webui")
    job = plan.manifest("Job", "qdrant-collection-documents", "rag-system")
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert (env["SHARDS"], env["REPLICATION_FACTOR"]) == ("1", "1")


def test_api_key_is_a_generated_secret(gcp_prod):
    pw = gcp_prod.one("random:index/randomPassword:RandomPassword", "llm-gcp-prod-rag-vectorstore-api-key")
    assert pw.inputs["length"] == 48 and pw.inputs["special"] is False
    secret = gcp_prod.one("kubernetes:core/v1:Secret", "llm-gcp-prod-rag-vectorstore-api-key-secret")
    assert secret.inputs["metadata"]["name"] == "qdrant-api-key"
    assert set(secret.inputs["stringData"]) == {"api-key"}
    assert gcp_prod.waits_for(gcp_prod.one("kubernetes:helm.sh/v3:Release", "llm-gcp-prod-rag-vectorstore-qdrant"),
                              secret)
    # The password never reaches a manifest on disk in plain text.
    assert "offline-plan-fake-password" not in json.dumps(gcp_prod.manifests)


def test_wiring_between_the_parts(gcp_prod):
    """Every URL one part hands another points at a rendered Service and port."""
    job = gcp_prod.manifest("Job", "qdrant-collection-documents", "rag-system")
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env == {"QDRANT_URL": "http://qdrant.rag-system.svc:6333", "COLLECTION": "documents",
                   "DIMENSIONS": str(EMBEDDING_MODELS["bge-base-en-v1.5"].dimensions), "DISTANCE": "Cosine",
                   "SHARDS": "3", "REPLICATION_FACTOR": "2",
                   "QDRANT_API_KEY_FILE": "/var/run/secrets/qdrant/api-key"}
    assert env["DIMENSIONS"] == "768"
    # The key file is the Secret's `api-key` item on a read-only secret volume at that directory.
    pod = job["spec"]["template"]["spec"]
    vol = next(v for v in pod["volumes"] if v.get("secret"))
    assert vol["secret"] == {"secretName": "qdrant-api-key", "items": [{"key": "api-key", "path": "api-key"}]}
    assert {"name": vol["name"], "mountPath": "/var/run/secrets/qdrant", "readOnly": True} in \
        pod["containers"][0]["volumeMounts"]
    out = gcp_prod.outputs["rag"]
    assert out == {"llm": "http://llama-70b.llm-serving.svc:8000/v1",
                   "embeddings": "http://embeddings.rag-system.svc:80/v1",
                   "qdrant": "http://qdrant.rag-system.svc:6333", "frontEnd": "http://open-webui.rag-system.svc:80",
                   "collection": "documents"}
    # The front end gets the same three URLs, the Qdrant key Secret and TEI's served model name.
    fe = gcp_prod.one("kubernetes:helm.sh/v3:Release", "llm-gcp-prod-rag-frontend-open-webui").inputs["values"]
    fe_env = {e["name"]: e.get("value", e.get("valueFrom")) for e in fe["extraEnvVars"]}
    assert fe["openaiBaseApiUrl"] == out["llm"]
    assert fe_env["RAG_OPENAI_API_BASE_URL"] == out["embeddings"] and fe_env["QDRANT_URI"] == out["qdrant"]
    assert fe_env["QDRANT_API_KEY"] == {"secretKeyRef": {"name": vol["secret"]["secretName"], "key": "api-key"}}
    tei_args = gcp_prod.manifest("Deployment", "embeddings", "rag-system")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert fe_env["RAG_EMBEDDING_MODEL"] == tei_args[tei_args.index("--served-model-name") + 1]
    llm_svc = gcp_prod.manifest("Service", "llama-70b", "llm-serving")
    assert [p["port"] for p in llm_svc["spec"]["ports"]] == [8000]
    # The chart's Service is `<fullnameOverride>` on 6333 (qdrant-1.19.0 values: service.ports http 6333).
    assert gcp_prod.one("kubernetes:helm.sh/v3:Release", "llm-gcp-prod-rag-vectorstore-qdrant") \
        .inputs["values"]["fullnameOverride"] == "qdrant"


def test_gpu_pool_gets_the_image_of_its_architecture():
    cfg, secret_keys = _config("gcp-prod")
    cfg["rag"]["embedding"] = {"model": "bge-large-en-v1.5", "pool": "l4", "replicas": {"min": 1, "max": 1}}
    spec = load(cfg, secret_keys, "gcp-prod")
    assert spec.rag.embedding.image == "ghcr.io/huggingface/text-embeddings-inference:89-1.9"
    assert TEI_GPU_TAGS["h100-80gb"] == "hopper-1.9" and TEI_GPU_TAGS["a100-80gb"] == "1.9"
    plan = run_config(cfg, "gcp-prod", secrets={"hfToken": "hf_test"})
    pod = plan.manifest("Deployment", "embeddings", "rag-system")["spec"]["template"]["spec"]
    res = pod["containers"][0]["resources"]
    assert res["requests"]["nvidia.com/gpu"] == "1" and res["limits"]["nvidia.com/gpu"] == "1"
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert {e["values"][0] for t in terms for e in t["matchExpressions"] if e["key"] == "llmfleet.io/pool"} == {"l4"}
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])
    assert not plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler") or all(
        r.inputs["metadata"]["namespace"] != "rag-system"
        for r in plan.of_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler"))


def _bad(**rag) -> dict:
    cfg, _ = _config("gcp-prod")
    cfg["rag"] = copy.deepcopy(cfg["rag"])
    for k, v in rag.items():
        cfg["rag"][k] = v
    return cfg


@pytest.mark.parametrize("rag, line", [
    ({"llm": "mistral"}, "llmfleet:rag.llm: must name a model of llmfleet:models (llama-70b, llama-8b), got 'mistral'"),
    ({"llm": "llama-8b"}, "llmfleet:rag.llm: model 'llama-8b' runs on kserve; the RAG system talks to a vLLM "
                          "model's OpenAI Service only (KServe and Ray Serve endpoints are not wired yet)"),
    ({"frontend": {}}, "llmfleet:rag.frontend: unknown key (did you mean 'frontEnd'?); allowed: embedding, "
                       "frontEnd, llm, vectorStore"),
    ({"embedding": {"model": "bge-small"}},
     "llmfleet:rag.embedding.model: must be one of all-mpnet-base-v2, bge-base-en-v1.5, bge-large-en-v1.5, "
     "e5-base-v2, gte-base, got 'bge-small'"),
    ({"embedding": {"image": "ghcr.io/huggingface/text-embeddings-inference:hopper-1.9"}},
     "llmfleet:rag.embedding.image: tag 'hopper-1.9' does not run on CPU nodes (no embedding.pool): use cpu-1.9"),
    ({"embedding": {"pool": "h100", "image": "ghcr.io/huggingface/text-embeddings-inference:89-1.9"}},
     "llmfleet:rag.embedding.image: tag '89-1.9' does not run on pool 'h100' (H100 80GB HBM3, hopper): "
     "use cuda-1.9 or hopper-1.9"),
    ({"embedding": {"pool": "l4", "replicas": {"min": 1, "max": 3}}},
     "llmfleet:rag.embedding.replicas: min (1) and max (3) must be equal on a GPU pool: CPU utilisation does not "
     "track a GPU-bound server (queue-depth scaling on te_queue_size is not built yet)"),
    ({"embedding": {"pool": "t5"}}, "llmfleet:rag.embedding.pool: must name a pool of llmfleet:gpuPools "
                                    "(h100, a100, l4), got 't5'"),
    ({"vectorStore": {"replicas": 2}}, "llmfleet:rag.vectorStore.replicas: must be 1 or at least 3: a 2-node "
                                       "Qdrant cluster loses its Raft majority when either node is down"),
    ({"vectorStore": {"replicas": 1}}, "llmfleet:rag.vectorStore.replicas: must be at least 3 in a production "
                                       "environment ('prod'): one node is a single point of failure for every query"),
    ({"vectorStore": {"replicas": 3, "collection": "My Docs"}},
     "llmfleet:rag.vectorStore.collection: must be a DNS label (lowercase letters, digits and '-', at most 63, "
     "starting and ending alphanumeric), got 'My Docs'"),
])
def test_bad_rag_config_is_one_line(rag, line):
    _, secret_keys = _config("gcp-prod")
    assert _errors(_bad(**rag), secret_keys) == [line]


def test_independent_problems_are_reported_together():
    _, secret_keys = _config("gcp-prod")
    lines = _errors(_bad(llm="nope", vectorStore={"replicas": 2, "colection": "x"}), secret_keys)
    assert len(lines) == 3 and lines[0].startswith("llmfleet:rag.llm:") \
        and lines[1].startswith("llmfleet:rag.vectorStore.replicas:") \
        and lines[2].startswith("llmfleet:rag.vectorStore.colection: unknown key (did you mean 'collection'?)")


def test_cpu_hpa_needs_the_metrics_api_on_eks():
    cfg, secret_keys = _config("dev")
    cfg["rag"] = {"llm": "llama-8b", "embedding": {"replicas": {"min": 1, "max": 3}}}
    # dev's llama-8b enables VPA, whose chart brings metrics-server: the CPU HPA has its metrics.
    assert cfg["models"][0]["autoscaling"]["vpa"] is True
    assert load(cfg, secret_keys, "dev").rag.embedding.autoscaled
    cfg["models"][0]["autoscaling"]["vpa"] = False
    assert _errors(cfg, secret_keys, "dev") == [
        "llmfleet:rag.embedding.replicas: min < max needs the Kubernetes metrics API for the CPU HPA; aws clusters "
        "have none unless a model enables autoscaling.vpa (which installs metrics-server); set min = max or enable "
        "vpa on a model"]


# --- the collection Job's script, against a stand-in for the two Qdrant REST calls it makes ------------------
class _Qdrant(BaseHTTPRequestHandler):
    collections: dict = {}
    seen: list = []

    def _reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.seen.append(("GET", self.path, self.headers.get("api-key")))
        name = self.path.rsplit("/", 1)[1]
        if name not in self.collections:
            return self._reply(404, {"status": {"error": "Not found"}})
        self._reply(200, {"result": {"config": {"params": {"vectors": self.collections[name]}}}})

    def do_PUT(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.seen.append(("PUT", self.path, body))
        self.collections[self.path.rsplit("/", 1)[1]] = body["vectors"]
        self._reply(200, {"result": True})

    def log_message(self, *args):
        pass


def _run_script(port: int, dims: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as d:
        key = Path(d) / "api-key"
        key.write_text("k\n")      # a Secret item as mounted; the trailing newline must not reach the header
        env = {"QDRANT_URL": f"http://127.0.0.1:{port}", "COLLECTION": "documents", "DIMENSIONS": str(dims),
               "DISTANCE": "Cosine", "SHARDS": "3", "REPLICATION_FACTOR": "2", "QDRANT_API_KEY_FILE": str(key)}
        return subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60)


def test_collection_script_creates_then_accepts_then_rejects_a_dimension_change():
    _Qdrant.collections, _Qdrant.seen = {}, []
    server = HTTPServer(("127.0.0.1", 0), _Qdrant)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        first = _run_script(port, 768)
        assert first.returncode == 0, first.stderr
        assert _Qdrant.seen[:2] == [
            ("GET", "/collections/documents", "k"),
            ("PUT", "/collections/documents", {"vectors": {"size": 768, "distance": "Cosine"}, "shard_number": 3,
                                               "replication_factor": 2})]
        assert _run_script(port, 768).returncode == 0
        changed = _run_script(port, 1024)
        assert changed.returncode == 1
        assert "collection documents has 768 dimensions (Cosine), the embedding model gives 1024 (Cosine)" \
            in changed.stderr
    finally:
        server.shutdown()


def test_cost_report_lists_the_rag_pods(gcp_prod):
    from plan import cost
    r = cost.report(gcp_prod.stack)["rag"]
    assert [p["part"] for p in r["parts"]] == ["embeddings", "qdrant", "open-webui"]
    emb, qd, fe = r["parts"]
    assert (emb["replicasMin"], emb["replicasMax"], emb["cpuPerReplica"], emb["gpusPerReplica"]) == (2, 6, 2.0, 0)
    assert (qd["replicasMin"], qd["cpuPerReplica"], qd["memoryGiBPerReplica"], qd["diskGiBPerReplica"]) == \
        (3, 0.5, round(15161 / 1024, 2), 60.0)      # data + snapshot volumes of 30Gi each
    assert r["total"]["cpuAtMin"] == 2 * 2 + 3 * 0.5 + 0.5 and r["total"]["cpuAtMax"] == 6 * 2 + 3 * 0.5 + 0.5
    assert r["total"]["monthlyGpuAtMax"] == 0
    assert "## RAG system" in cost.markdown(cost.report(gcp_prod.stack))


def test_cost_report_prices_a_gpu_placed_embedding_service():
    from catalog.prices import HOURS_PER_MONTH
    from plan import cost
    cfg, _ = _config("gcp-prod")
    cfg["rag"]["embedding"] = {"pool": "l4", "replicas": {"min": 2, "max": 2}}
    plan = run_config(cfg, "gcp-prod", secrets={"hfToken": "hf_test"})
    d = max((d for d in plan.stack.cluster.pools if d.name == "l4"), key=lambda d: d.priority)
    emb = cost.report(plan.stack)["rag"]["parts"][0]
    assert emb["gpusPerReplica"] == 1
    assert emb["monthlyGpuAtMin"] == round(d.price_hour / d.gpus_per_node * 2 * HOURS_PER_MONTH, 2) > 0


def test_qdrant_defaults_to_a_cluster_of_three_in_production_only():
    cfg, secret_keys = _config("gcp-prod")
    del cfg["rag"]["vectorStore"]["replicas"]
    assert load(cfg, secret_keys, "gcp-prod").rag.vector_store.replicas == 3
    cfg, secret_keys = _config("dev")
    assert "replicas" not in cfg["rag"]["vectorStore"]
    assert load(cfg, secret_keys, "dev").rag.vector_store.replicas == 1


def test_the_rag_parts_have_a_dashboard_on_their_own_metrics():
    """TEI's queue and latency histograms and Qdrant's REST metrics (either name form), in monitoring with the other
    dashboards; every expression is parsed by tests/test_promql.py."""
    import json as _json
    from tests.harness import run_stack
    cm = run_stack("dev").manifest("ConfigMap", "llmfleet-dashboard-rag", "monitoring")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    exprs = " ".join(t["expr"] for p in _json.loads(cm["data"]["llmfleet-rag.json"])["panels"] for t in p["targets"])
    for metric in ("te_queue_size", "te_request_duration_bucket", "te_request_queue_duration_bucket",
                   "te_request_inference_duration_bucket", "te_request_count", "te_request_success",
                   "rest_responses_duration_seconds_bucket", "qdrant_rest_responses_duration_seconds_bucket",
                   "collections_vector_total"):
        assert metric in exprs, metric
    assert 'namespace="rag-system"' in exprs
