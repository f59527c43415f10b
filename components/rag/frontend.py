"""FrontEnd: Open WebUI from its pinned chart (open-webui-16.0.0), wired to the stack's LLM (OpenAI-compatible),
TEI for embeddings and Qdrant as its vector DB (shared/FACTS-wave2.md section 7).

Chart defaults turned off: the bundled Ollama (which would also replace the OpenAI connection's role), Pipelines
(which would put itself in front of the LLM), the bundled Redis (one replica: Open WebUI's in-memory websocket
manager suffices), and the chart's well-known default OpenAI key. The configuration comes from the environment
on every start (ENABLE_PERSISTENT_CONFIG=False): otherwise values saved in Open WebUI's database at first start
would silently win over a redeploy. WEBUI_SECRET_KEY (session signing) is a generated secret, so sessions
survive pod restarts.

No default or first-come admin: Open WebUI makes the first account that signs up its administrator. The admin is
created at start from WEBUI_ADMIN_EMAIL / WEBUI_ADMIN_PASSWORD when the database has no user yet, and sign-up is
then turned off (open-webui backend/open_webui/main.py `lifespan` and env.py, read at several 2025-2026 upstream revisions; not
re-read at the pinned v0.11.0 tag).
The password is generated here and exported only as a secret stack output (`openWebuiAdmin`).
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi import ResourceOptions

from catalog.embeddings import EmbeddingModel
from components.descriptors import PoolDescriptor
from components.helm import chart_release
from components.platform import MANAGED_BY
from components.rag.vectorstore import API_KEY_KEY, API_KEY_SECRET, off_gpu_nodes
from spec.platform import PRIORITY_TIERS
from spec.rag import FrontEndSpec

RELEASE = "open-webui"
SECRET = "open-webui-secret-key"
SECRET_KEY = "webui-secret-key"
ADMIN_PASSWORD_KEY = "admin-password"
ADMIN_EMAIL = "admin@llmfleet.local"     # the login name; change the account in Open WebUI after the first login
MEMORY = "2Gi"
CONTAINER_PORT = 8080          # the chart's service.containerPort (open-webui-16.0.0 values): the pod's port


def env(llm_url: str, embeddings_url: str, qdrant_url: str, model: EmbeddingModel) -> list[dict]:
    def secret(name: str, key: str) -> dict:
        return {"secretKeyRef": {"name": name, "key": key}}
    return [
        {"name": "ENABLE_PERSISTENT_CONFIG", "value": "False"},
        {"name": "WEBUI_SECRET_KEY", "valueFrom": secret(SECRET, SECRET_KEY)},
        {"name": "WEBUI_ADMIN_EMAIL", "value": ADMIN_EMAIL},
        {"name": "WEBUI_ADMIN_PASSWORD", "valueFrom": secret(SECRET, ADMIN_PASSWORD_KEY)},
        {"name": "VECTOR_DB", "value": "qdrant"},
        {"name": "QDRANT_URI", "value": qdrant_url},
        {"name": "QDRANT_API_KEY", "valueFrom": secret(API_KEY_SECRET, API_KEY_KEY)},
        {"name": "RAG_EMBEDDING_ENGINE", "value": "openai"},
        # TEI answers to its --served-model-name on /v1/embeddings.
        {"name": "RAG_EMBEDDING_MODEL", "value": model.key},
        {"name": "RAG_OPENAI_API_BASE_URL", "value": embeddings_url},
    ]


def values(f: FrontEndSpec, llm_url: str, embeddings_url: str, qdrant_url: str, model: EmbeddingModel,
           descriptors: Sequence[PoolDescriptor], priority: str) -> dict:
    health = {"httpGet": {"path": "/health", "port": "http"}}
    return {
        "replicaCount": 1,
        "ollama": {"enabled": False},
        "pipelines": {"enabled": False},
        "websocket": {"enabled": False, "redis": {"enabled": False}},
        "enableOpenaiApi": True,
        "openaiBaseApiUrl": llm_url,
        # vLLM runs without --api-key; an empty key replaces the chart's well-known default.
        "openaiApiKey": "",
        "extraEnvVars": env(llm_url, embeddings_url, qdrant_url, model),
        "persistence": {"enabled": True, "size": f.storage_size,
                        **({"storageClass": f.storage_class} if f.storage_class else {})},
        "resources": {"requests": {"cpu": "500m", "memory": MEMORY}, "limits": {"memory": MEMORY}},
        "copyAppData": {"resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}},
        "startupProbe": {**health, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 60},
        "readinessProbe": {**health, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 3},
        "livenessProbe": {**health, "periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3},
        "priorityClassName": PRIORITY_TIERS[priority].name,
        "affinity": off_gpu_nodes(descriptors),
    }


class FrontEndArgs(TypedDict):
    front_end: FrontEndSpec
    """Validated `llmfleet:rag.frontEnd` (present = enabled)."""
    namespace: str
    """The RAG namespace."""
    llm_url: str
    """The LLM's OpenAI-compatible base URL (…/v1)."""
    embeddings_url: str
    """TEI's OpenAI-compatible base URL (…/v1)."""
    qdrant_url: str
    """Qdrant's REST URL."""
    model: EmbeddingModel
    """The embedding model TEI serves."""
    descriptors: Sequence[PoolDescriptor]
    """GPU pool descriptors, to keep the front end off GPU nodes."""
    priority: str
    """Priority tier key."""
    depends_on: Sequence[pulumi.Resource]
    """Namespace, Qdrant (its API key Secret), the embedding service."""


class FrontEnd(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    values: dict
    admin_email: str
    admin_password: pulumi.Output
    """The generated admin password (a secret output)."""

    def __init__(self, name: str, args: FrontEndArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:rag:FrontEnd", name, None, opts)
        ns, deps = args["namespace"], list(args["depends_on"])
        key = random.RandomPassword(f"{name}-secret-key", length=48, special=False, opts=ResourceOptions(parent=self))
        admin = random.RandomPassword(f"{name}-admin-password", length=32, special=False,
                                      opts=ResourceOptions(parent=self))
        self.admin_email, self.admin_password = ADMIN_EMAIL, pulumi.Output.secret(admin.result)
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET, namespace=ns, labels=MANAGED_BY),
            string_data={SECRET_KEY: key.result, ADMIN_PASSWORD_KEY: admin.result},
            opts=ResourceOptions(parent=self, depends_on=deps))
        self.values = values(args["front_end"], args["llm_url"], args["embeddings_url"], args["qdrant_url"],
                             args["model"], args["descriptors"], args["priority"])
        self.release = chart_release(f"{name}-open-webui", "open-webui", ns, self.values, parent=self,
                                     depends_on=[*deps, secret], release_name=RELEASE)
        self.register_outputs({"release": RELEASE})
