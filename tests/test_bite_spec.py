"""Problem lines of hand-written config rules no other test pinned word for word, each with the case on the other
side of its boundary (accepted, no line): a rule's text, key, condition or bound cannot change unnoticed. Reader
calls' own bounds, patterns and defaults are pinned by the generated reference (tests/test_docs_generated.py).
Same method as tests/test_config_messages.py: edit one shipped stack's config, load it (no resources built)."""
import pytest

from spec.federation import load as load_federation
from spec.reader import ConfigError
from tests.test_config_messages import problems
from tests.test_federation import BASE

CASES = [
    # costGuards: the warning may equal the ceiling, not exceed it.
    ("dev", {"costGuards.monthlyWarning": 8001, "costGuards.monthlyCeiling": 8000},
     ["llmfleet:costGuards.monthlyWarning: must be <= monthlyCeiling (8000), got 8001"]),
    ("dev", {"costGuards.monthlyWarning": 8000, "costGuards.monthlyCeiling": 8000}, []),
    ("dev", {"budget.alerts": [None]}, ["llmfleet:budget.alerts[0]: must be an object, got null"]),
    # KEDA's cooldown is its HPA's scale-down window: Kubernetes caps stabilizationWindowSeconds at 3600.
    ("dev", {"models.0.autoscaling": {"keda": {"cooldownSeconds": 3601}}},
     ["llmfleet:models[0].autoscaling.keda.cooldownSeconds: must be <= 3600 (the scale-down stabilization window "
      "of the HPA that KEDA drives; Kubernetes rejects more), got 3601"]),
    ("dev", {"models.0.autoscaling": {"keda": {"cooldownSeconds": 3600}}}, []),
    ("dev", {"gpuPools.0.taints": [None]}, ["llmfleet:gpuPools[0].taints[0]: must be an object, got null"]),
    # A rejected sharing mode gives no verdict on the keys that depend on it (replicas is not "only applies...").
    ("dev", {"gpuPools.0.sharing": {"mode": "bogus", "replicas": 3}},
     ["llmfleet:gpuPools[0].sharing.mode: must be one of mig, none, time-slicing, got 'bogus'"]),
    # A model server needs whole GPUs: a pool the model names that time-slices them is refused at the model.
    ("dev", {"models.0.pools": ["l40s"], "gpuPools.0.sharing": {"mode": "time-slicing", "replicas": 2}},
     ["llmfleet:models[0].pools: pool 'l40s' shares its GPUs (time-slicing); model servers need whole GPUs"]),
    # The weight width follows the quantization method (fp8 -> 8-bit); the catalog checkpoint agrees.
    ("dev", {"models.0.dtype": "int4", "models.0.quantization": "fp8"},
     ["llmfleet:models[0].dtype: must be fp8 with quantization fp8 (the quantized weight width sizing uses), got "
      "'int4'",
      "llmfleet:models[0].dtype: the catalog's fp8 checkpoint of llama-3.1-8b (RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8) "
      "has 8-bit weights, got 'int4'"]),
    ("dev", {"models.0.dtype": "fp8", "models.0.quantization": "fp8"}, []),
    # Name lengths: cloud resource names derive from the cluster's (40), node group names from a pool's (20).
    ("dev", {"cluster.name": "c" * 40}, []),
    ("dev", {"cluster.name": "c" * 41},
     ["llmfleet:cluster.name: must be at most 40 characters (cloud resource names derive from it), got 41"]),
    ("edge", {"gpuPools.0.name": "p" * 20, "models.0.pools": ["p" * 20]}, []),
    ("edge", {"gpuPools.0.name": "p" * 21, "models.0.pools": ["p" * 21]},
     ["llmfleet:gpuPools[0].name: must be at most 20 characters, got 21"]),
    # Azure Spot: -1 (pay up to on-demand) or any positive price; zero is neither.
    ("azure-prod", {"cluster.azure.spotMaxPrice": 0},
     ["llmfleet:cluster.azure.spotMaxPrice: must be -1 (up to the on-demand price) or a price > 0 in USD/hour, got "
      "0.0"]),
    ("azure-prod", {"cluster.azure.spotMaxPrice": 0.01}, []),
    # Qdrant: 1 node, or a Raft cluster of 3 or more (2 nodes lose the majority with either down); 3 in production.
    ("gcp-prod", {"rag.vectorStore.replicas": 2},
     ["llmfleet:rag.vectorStore.replicas: must be 1 or at least 3: a 2-node Qdrant cluster loses its Raft majority "
      "when either node is down"]),
    ("gcp-prod", {"rag.vectorStore.replicas": 1},
     ["llmfleet:rag.vectorStore.replicas: must be at least 3 in a production environment ('prod'): one node is a "
      "single point of failure for every query"]),
    ("gcp-prod", {"rag.vectorStore.replicas": 3}, []),
    ("dev", {"rag.vectorStore.replicas": 1}, []),
    # routing: each backend once per virtual model; a tier's name is not a virtual model's.
    ("prod", {"routing.models": [{"name": "x", "versions": [{"model": "llama-70b", "weight": 50},
                                                             {"model": "llama-70b", "weight": 50}]}]},
     ["llmfleet:routing.models[0].versions: lists llama-70b more than once: give each model one weight"]),
    ("prod", {"routing.models": [{"name": "x", "versions": [{"model": "llama-70b", "weight": 100}],
                                  "fallback": ["llama-70b"]}]},
     ["llmfleet:routing.models[0].fallback[0]: 'llama-70b' is already a version of 'x': a fallback is another "
      "backend"]),
    ("prod", {"routing.models": [{"name": "x", "versions": [{"model": "llama-70b", "weight": 100}],
                                  "fallback": ["llama-8b", "llama-8b"]}]},
     ["llmfleet:routing.models[0].fallback: lists a model more than once"]),
    ("prod", {"routing.tiers": [{"name": "cheap", "pick": "cheapest"}, {"name": "llama-70b", "pick": "best"}]},
     ["llmfleet:routing.tiers[1].name: 'llama-70b' is already a virtual model of llmfleet:routing.models"]),
    ("prod", {"routing.tiers": [{"name": "llama-8b", "pick": "cheapest"}]},
     ["llmfleet:routing.tiers[0].name: 'llama-8b' is a model of llmfleet:models: a tier needs its own name"]),
    # The gateway routes by vLLM's served model name; KServe and Ray Serve models are not behind it.
    ("gcp-prod", {"routing.models": [{"name": "x", "versions": [{"model": "llama-8b", "weight": 100}]}]},
     ["llmfleet:routing.models[0].versions[0].model: model 'llama-8b' runs on kserve; only vLLM models are "
      "routable on the gateway"]),
    ("prod", {"security.secrets": {"source": "vault", "vault": {"name": "my-vault"}}},
     ["llmfleet:security.secrets.vault.name: names an Azure Key Vault; on aws the store entry is named after the "
      "cluster"]),
    # AWS
    ("prod", {"cluster.aws.endpointAccess": "private", "cluster.aws.publicAccessCidrs": ["198.51.100.0/24"]},
     ["llmfleet:cluster.aws.publicAccessCidrs: only applies when endpointAccess is public or public-and-private"]),
    ("prod", {"cluster.aws.systemNodes.instanceType": "m7g.xlarge"},
     ["llmfleet:cluster.aws.systemNodes.instanceType: m7g.xlarge is an arm64 (Graviton) type; use an x86_64 type "
      "such as m7i.xlarge"]),
    ("prod", {"cluster.aws.systemNodes.minNodes": 5, "cluster.aws.systemNodes.maxNodes": 4},
     ["llmfleet:cluster.aws.systemNodes.maxNodes: must be >= minNodes (5), got 4"]),
    ("prod", {"cluster.aws.systemNodes.minNodes": 4, "cluster.aws.systemNodes.maxNodes": 4}, []),
    # Azure
    ("azure-prod", {"cluster.azure.networkPolicy": "azure"},
     ["llmfleet:cluster.azure.networkPolicy: must be cilium or none with networkDataplane cilium, got 'azure'"]),
    ("azure-prod", {"cluster.azure.networkPolicy": "none", "security.networkPolicies": False}, []),
    ("azure-prod", {"cluster.azure.systemPool.minNodes": 5, "cluster.azure.systemPool.maxNodes": 4},
     ["llmfleet:cluster.azure.systemPool.maxNodes: must be >= minNodes (5), got 4"]),
    ("azure-prod", {"cluster.azure.systemPool.minNodes": 4, "cluster.azure.systemPool.maxNodes": 4}, []),
    ("azure-prod", {"cluster.azure.dnsServiceIp": "not-an-ip"},
     ["llmfleet:cluster.azure.dnsServiceIp: must be an IPv4 address inside serviceCidr 10.0.0.0/16, got "
      "'not-an-ip'"]),
    # .0 is the network, .255.255 the broadcast address, .1 the `kubernetes` Service; .2 and .255.254 are free.
    ("azure-prod", {"cluster.azure.dnsServiceIp": "10.0.0.0"},
     ["llmfleet:cluster.azure.dnsServiceIp: must be inside serviceCidr 10.0.0.0/16 and not its first address, got "
      "10.0.0.0"]),
    ("azure-prod", {"cluster.azure.dnsServiceIp": "10.0.255.255"},
     ["llmfleet:cluster.azure.dnsServiceIp: must be inside serviceCidr 10.0.0.0/16 and not its first address, got "
      "10.0.255.255"]),
    ("azure-prod", {"cluster.azure.dnsServiceIp": "10.0.0.2"}, []),
    ("azure-prod", {"cluster.azure.dnsServiceIp": "10.0.255.254"}, []),
    # A rejected service range is reported once: the DNS address is not judged against it.
    ("azure-prod", {"cluster.azure.serviceCidr": "bogus", "cluster.azure.dnsServiceIp": "10.0.0.1"},
     ["llmfleet:cluster.azure.serviceCidr: must be an IPv4 CIDR with no host bits set, such as 10.0.0.0/16, got "
      "'bogus'"]),
    # A shared cache on GKE's standard-rwx (basic HDD Filestore): 100 GiB at least since GKE 1.33, 1 TiB before.
    ("gcp-prod", {"models.0.cache": {"mode": "shared", "sizeGi": 99}},
     ["llmfleet:models[0].cache.sizeGi: must be >= 100 for storage class standard-rwx (the smallest basic HDD "
      "Filestore instance), got 99"]),
    ("gcp-prod", {"models.0.cache": {"mode": "shared", "sizeGi": 100}}, []),
    ("gcp-prod", {"models.0.cache": {"mode": "shared", "sizeGi": 1023}, "cluster.kubernetesVersion": "1.32"},
     ["llmfleet:models[0].cache.sizeGi: must be >= 1024 for storage class standard-rwx (the smallest basic HDD "
      "Filestore instance), got 1023"]),
    # GKE maintenance windows: occurrences of 4 to 24 hours, both ends included.
    ("gcp-prod", {"cluster.gcp.maintenanceWindow": {"start": "2026-01-03T02:00:00Z", "end": "2026-01-03T05:59:00Z"}},
     ["llmfleet:cluster.gcp.maintenanceWindow.end: must be 4 to 24 hours after start (2026-01-03T02:00:00Z), got "
      "2026-01-03T05:59:00Z"]),
    ("gcp-prod", {"cluster.gcp.maintenanceWindow": {"start": "2026-01-03T02:00:00Z", "end": "2026-01-03T06:00:00Z"}},
     []),
    ("gcp-prod", {"cluster.gcp.maintenanceWindow": {"start": "2026-01-03T02:00:00Z", "end": "2026-01-04T02:00:00Z"}},
     []),
    ("gcp-prod", {"cluster.gcp.maintenanceWindow": {"start": "2026-01-03T02:00:00Z", "end": "2026-01-04T02:01:00Z"}},
     ["llmfleet:cluster.gcp.maintenanceWindow.end: must be 4 to 24 hours after start (2026-01-03T02:00:00Z), got "
      "2026-01-04T02:01:00Z"]),
    # GKE's node, pod and service ranges: network addresses, private.
    ("gcp-prod", {"cluster.gcp.podsCidr": "10.0.0.1/8"},
     ["llmfleet:cluster.gcp.podsCidr: must be an IPv4 CIDR with no host bits set, such as 10.16.0.0/14, got "
      "'10.0.0.1/8'"]),
    ("gcp-prod", {"cluster.gcp.podsCidr": "8.8.0.0/16"},
     ["llmfleet:cluster.gcp.podsCidr: must be a private (RFC 1918) range, got '8.8.0.0/16'"]),
    # GCP production rules
    ("gcp-prod", {"cluster.gcp.privateNodes": False, "cluster.gcp.privateEndpoint": True},
     ["llmfleet:cluster.gcp.privateEndpoint: needs privateNodes: true (a private control plane endpoint is a "
      "private cluster setting)",
      "llmfleet:cluster.gcp.privateNodes: must stay true in a prod stack: nodes without it get external IP "
      "addresses"]),
    ("gcp-prod", {"cluster.gcp.deletionProtection": False},
     ["llmfleet:cluster.gcp.deletionProtection: must stay true in a prod stack"]),
]


@pytest.mark.parametrize("stack,changes,expected", CASES, ids=[f"{s}:{','.join(c)}" for s, c, _ in CASES])
def test_rule_lines_and_their_boundaries(stack, changes, expected):
    assert problems(stack, changes) == expected


def federation_problems(**over) -> list[str]:
    try:
        load_federation({"federation": {**BASE, **over}}, "federation")
    except ConfigError as e:
        return e.lines
    return []


@pytest.mark.parametrize("over,expected", [
    ({"stacks": [{"name": "a/b"}, {"name": "gcp"}, {"name": "azure"}], "hubs": ["gcp"]},
     ["llmfleet:federation.stacks[0].name: must be a Pulumi stack name, <stack> or <org>/llmfleet/<stack>, got "
      "'a/b'"]),
    ({"hubs": ["aws", 5]}, ["llmfleet:federation.hubs[1]: must be a stack name, got 5"]),
    ({"tls": {"email": "nope"}}, ["llmfleet:federation.tls.email: must be an email address, got 'nope'"]),
    ({"tls": {"email": "ops@example.com", "server": "http://acme.example.com/directory"}},
     ["llmfleet:federation.tls.server: must be an https:// ACME directory URL, got "
      "'http://acme.example.com/directory'"]),
    ({"tls": {"email": "ops@example.com", "server": "https://acme.example.com/directory"}}, []),
    ({"clients": ["Web_1"]},
     ["llmfleet:federation.clients[0]: must be a DNS label (lowercase letters, digits and '-', at most 63, starting "
      "and ending alphanumeric), got 'Web_1'"]),
    ({"clients": ["web", "batch", "web"]}, ["llmfleet:federation.clients[2]: 'web' is listed twice"]),
    ({"hostname": "llm.internal"},
     ["llmfleet:federation.hostname: 'llm.internal' is a private name: the global endpoint needs a public name in "
      "the DNS zone below"]),
])
def test_federation_rule_lines(over, expected):
    assert federation_problems(**over) == expected


def test_smallest_shared_cache_per_cloud_class_and_gke_version():
    from spec.serving import rwx_min_size_gi
    # Basic HDD Filestore: 100 GiB from GKE 1.33 on, 1 TiB on older clusters; basic SSD 2.5 TiB; zonal 1 TiB.
    assert rwx_min_size_gi("gcp", "standard-rwx", "1.33") == 100
    assert rwx_min_size_gi("gcp", "standard-rwx", "1.32") == 1024
    assert rwx_min_size_gi("gcp", "standard-rwx", "2.0") == 100
    assert rwx_min_size_gi("gcp", "standard-rwx", None) == 100
    assert rwx_min_size_gi("gcp", "premium-rwx", "1.32") == 2560
    assert rwx_min_size_gi("gcp", "enterprise-rwx", "1.34") == 1024
    assert rwx_min_size_gi("aws", "efs-sc", "1.32") == 0
