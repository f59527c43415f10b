"""RAG decisions as gcp-prod renders them that tests/test_rag.py leaves open: the collection Job's run settings and
its script wiring, Qdrant's and TEI's spread over nodes and zones, TEI's scale-down pace, Open WebUI's probes,
sizes and generated secrets."""
import pytest

from components.rag.collection import SCRIPT
from tests.harness import run_stack

NS = "rag-system"
SPREAD_KEYS = ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
OFF_GPU = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
    "nodeSelectorTerms": [{"matchExpressions": [{"key": "llmfleet.io/pool", "operator": "DoesNotExist"}]}]}}}


@pytest.fixture(scope="module")
def gcp_prod():
    return run_stack("gcp-prod")


def spread(constraints, selector) -> bool:
    """Zones, then nodes, one replica of skew at most, never blocking scheduling (a pool may have one zone)."""
    return [c["topologyKey"] for c in constraints] == SPREAD_KEYS and all(
        c["maxSkew"] == 1 and c["whenUnsatisfiable"] == "ScheduleAnyway"
        and c["labelSelector"] == {"matchLabels": selector} for c in constraints)


def test_collection_job_runs_the_mounted_script_once_as_nobody(gcp_prod):
    job = gcp_prod.manifest("Job", "qdrant-collection-documents", NS)
    # Three retries (Qdrant may still be starting), never restarted in place.
    assert job["spec"]["backoffLimit"] == 3
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True,
                                      "runAsUser": 65534}
    assert pod["affinity"] == OFF_GPU
    (ctr,) = pod["containers"]
    assert ctr["securityContext"]["readOnlyRootFilesystem"] is True
    assert ctr["resources"] == {"requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"cpu": "500m", "memory": "128Mi"}}
    # The command runs the file the ConfigMap volume mounts: <mountPath>/<data key>.
    mounts = {m["name"]: m for m in ctr["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    script_vol = next(name for name, v in vols.items() if "configMap" in v)
    cm = gcp_prod.manifest("ConfigMap", vols[script_vol]["configMap"]["name"], NS)
    assert ctr["command"][0] == "python"
    directory, _, file = ctr["command"][1].rpartition("/")
    assert directory == mounts[script_vol]["mountPath"] and mounts[script_vol]["readOnly"] is True
    assert cm["data"] == {file: SCRIPT}


def test_qdrant_spreads_off_gpu_nodes_at_standard_priority(gcp_prod):
    v = gcp_prod.one("kubernetes:helm.sh/v3:Release", "llm-gcp-prod-rag-vectorstore-qdrant").inputs["values"]
    assert v["priorityClassName"] == "llm-standard" and v["affinity"] == OFF_GPU
    # The chart labels its pods name=qdrant, instance=<release>.
    assert spread(v["topologySpreadConstraints"], {"app.kubernetes.io/name": "qdrant",
                                                   "app.kubernetes.io/instance": "qdrant"})


def test_tei_spreads_scales_down_slowly_and_caches_on_a_bounded_volume(gcp_prod):
    d = gcp_prod.manifest("Deployment", "embeddings", NS)
    pod = d["spec"]["template"]["spec"]
    assert spread(pod["topologySpreadConstraints"], d["spec"]["selector"]["matchLabels"])
    assert d["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "embeddings",
                                                    "app.kubernetes.io/part-of": "llmfleet-rag"}
    assert pod["automountServiceAccountToken"] is False
    # The catalog's largest embedding model is 1.3 GB of fp32 weights plus tokenizer files: 5Gi holds it.
    assert pod["volumes"] == [{"name": "model-cache", "emptyDir": {"sizeLimit": "5Gi"}}]
    svc = gcp_prod.manifest("Service", "embeddings", NS)
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["selector"] == d["spec"]["selector"]["matchLabels"]
    hpa = gcp_prod.manifest("HorizontalPodAutoscaler", "embeddings-hpa", NS)["spec"]
    # Bursts of ingestion must not flap: 5 minutes of stabilisation, then one pod per 2 minutes.
    assert hpa["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 300,
                                             "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]}}


def test_open_webui_probes_sizes_and_generated_secrets(gcp_prod):
    v = gcp_prod.one("kubernetes:helm.sh/v3:Release", "llm-gcp-prod-rag-frontend-open-webui").inputs["values"]
    assert v["enableOpenaiApi"] is True
    health = {"httpGet": {"path": "/health", "port": "http"}}
    # Ten minutes to start (first start migrates its database), then the usual readiness and a lenient liveness.
    assert v["startupProbe"] == {**health, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 60}
    assert v["readinessProbe"] == {**health, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3}
    assert v["livenessProbe"] == {**health, "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3}
    assert v["resources"]["requests"]["cpu"] == "500m"
    assert v["resources"]["requests"]["memory"] == v["resources"]["limits"]["memory"]
    assert v["copyAppData"] == {"resources": {"requests": {"cpu": "50m", "memory": "128Mi"},
                                              "limits": {"memory": "256Mi"}}}
    assert v["priorityClassName"] == "llm-standard" and v["affinity"] == OFF_GPU
    pw = {r.name: r.inputs for r in gcp_prod.of_type("random:index/randomPassword:RandomPassword")}
    assert pw["llm-gcp-prod-rag-frontend-secret-key"] == {"length": 48, "special": False}
    assert pw["llm-gcp-prod-rag-frontend-admin-password"] == {"length": 32, "special": False}
    assert pw["llm-gcp-prod-rag-vectorstore-api-key"] == {"length": 48, "special": False}
    secret = gcp_prod.manifest("Secret", "open-webui-secret-key", NS)
    assert set(secret.get("stringData") or secret.get("data")) == {"webui-secret-key", "admin-password"}
