"""The exact problem lines of config rules that no other test pinned word for word (found by mutation testing:
a rule whose text or condition could change unnoticed). Each case edits one shipped stack's config, loads it
(spec/stack.py `load`, no resources built) and expects exactly these lines: the rule fires at its key with its
text, and nothing else in the stack is disturbed. Cases on the other side of a boundary expect no line."""
import copy

import pytest
import yaml

from plan.runtime import ROOT
from spec.reader import ConfigError
from spec.stack import load

DROP = object()


def stack_config(stack: str) -> dict:
    """The llmfleet: keys of a shipped stack file, with the secrets the plan would stand in for."""
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    cfg = {k.split(":", 1)[1]: v for k, v in doc.items() if k.startswith("llmfleet:")}
    # With Sealed Secrets (edge) the token comes from the SealedSecret and setting it is a problem of its own.
    if ((cfg.get("security") or {}).get("secrets") or {}).get("source") != "sealed":
        cfg["hfToken"] = "hf_placeholder"
    if cfg["cloud"] == "existing":
        cfg["kubeconfig"] = "placeholder"
    return cfg


def edited(stack: str, changes: dict) -> dict:
    """`changes` maps a key path (`cluster.aws.vpcCidr`, `gpuPools.0.zones`) to its new value (DROP removes it)."""
    cfg = copy.deepcopy(stack_config(stack))
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = cfg
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        if isinstance(node, list):
            node[int(last)] = value
        elif value is DROP:
            node.pop(last, None)
        else:
            node[last] = value
    return cfg


def problems(stack: str, changes: dict, name: str = "t") -> list[str]:
    try:
        load(edited(stack, changes), {"hfToken", "kubeconfig"}, name)
    except ConfigError as e:
        return e.lines
    return []


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-karpenter", "gcp-prod", "azure-prod", "edge"])
def test_every_shipped_stack_loads_without_a_problem(stack):
    assert problems(stack, {}, stack) == []


ZONES7 = [f"us-east-1{z}" for z in "abcdefg"]
GUID = "00000000-0000-0000-0000-000000000001"
L4_TYPES = ("g5.12xlarge, g5.2xlarge, g5.48xlarge, g5.xlarge, g6.12xlarge, g6.48xlarge, g6.xlarge, g6e.12xlarge, "
            "g6e.48xlarge, g6e.xlarge, p4d.24xlarge, p4de.24xlarge, p5.48xlarge, p5.4xlarge, p5e.48xlarge, "
            "p5en.48xlarge")
MIG = "1g.10gb, 1g.10gb+me, 1g.20gb, 2g.20gb, 3g.40gb, 4g.40gb, 7g.80gb"
# A custom architecture (no catalog model); hiddenSize, intermediateSize and vocabSize are optional (docs/serving.md).
ARCH = {"hfId": "org/tiny", "paramsB": 1.0, "layers": 16, "attentionHeads": 16, "kvHeads": 4, "headDim": 64,
        "context": 8192}
GCP_POOL_ZONE = "llmfleet:gpuPools[{}].zones[{}]: must be one of the cluster's zones ({}), got '{}'"

CASES = {
    # --- cluster ------------------------------------------------------------------------------------------------
    "cluster name 41": ("dev", {"cluster.name": "a" * 41}, [
        "llmfleet:cluster.name: must be at most 40 characters (cloud resource names derive from it), got 41"]),
    "cluster name 40": ("dev", {"cluster.name": "a" * 40}, []),
    "region on existing": ("edge", {"cluster.region": "x"}, [
        "llmfleet:cluster.region: is not used on an existing cluster"]),
    "context on aws": ("dev", {"cluster.context": "x"}, [
        "llmfleet:cluster.context: only applies when cloud is existing (it picks the kubeconfig context)"]),
    "distribution on aws": ("dev", {"cluster.distribution": "k3s"}, [
        "llmfleet:cluster.distribution: only applies when cloud is existing (managed clusters use standard paths)"]),
    # --- aws ------------------------------------------------------------------------------------------------------
    "vpc not a cidr": ("dev", {"cluster.aws.vpcCidr": "10.0.0.0/33"}, [
        "llmfleet:cluster.aws.vpcCidr: must be an IPv4 CIDR such as 10.0.0.0/16, got '10.0.0.0/33' ('33' is not a "
        "valid netmask)"]),
    "vpc public": ("dev", {"cluster.aws.vpcCidr": "8.8.0.0/16"}, [
        "llmfleet:cluster.aws.vpcCidr: must be a private range (RFC 1918 or 100.64.0.0/10), got 8.8.0.0/16"]),
    "vpc shared range": ("dev", {"cluster.aws.vpcCidr": "100.64.0.0/16"}, []),
    "vpc /15": ("dev", {"cluster.aws.vpcCidr": "10.0.0.0/15"}, [
        "llmfleet:cluster.aws.vpcCidr: must have a prefix length between /16 and /20, got /15"]),
    "vpc /21": ("dev", {"cluster.aws.vpcCidr": "10.0.0.0/21"}, [
        "llmfleet:cluster.aws.vpcCidr: must have a prefix length between /16 and /20, got /21"]),
    "vpc /20": ("dev", {"cluster.aws.vpcCidr": "10.0.0.0/20"}, []),
    "aws tag prefix": ("dev", {"cluster.aws.tags": {"AWS:x": "1", "team": "a"}}, [
        "llmfleet:cluster.aws.tags.AWS:x: keys starting with 'aws:' are reserved by AWS"]),
    "admin role arns": ("dev", {"cluster.aws.adminRoleArns": [
        "arn:aws:iam::123456789012:role/admins", "arn:aws:iam::1:user/x", 3]}, [
        "llmfleet:cluster.aws.adminRoleArns[1]: must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got "
        "'arn:aws:iam::1:user/x'",
        "llmfleet:cluster.aws.adminRoleArns[2]: must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got 3"]),
    "azure start date off azure": ("prod", {"budget.azureStartDate": "2026-01-01"}, [
        "llmfleet:budget.azureStartDate: only applies when cloud is azure"]),
    "one distinct zone": ("dev", {"cluster.zones": ["us-east-1a", "us-east-1a"]}, [
        "llmfleet:cluster.zones: must list at least 2 distinct zones (EKS needs subnets in two), got ['us-east-1a', "
        "'us-east-1a']"]),
    "seven zones": ("dev", {"cluster.zones": ZONES7}, [
        "llmfleet:cluster.zones: must list at most 6 zones, got 7"] + [
        f"llmfleet:cluster.zones[{i}]: us-east-1{z}: the default subnet layout carves zones ending in a, b or c "
        f"only; give this zone's CIDRs in llmfleet:cluster.aws.subnetCidrs.us-east-1{z} (private, public)"
        for i, z in enumerate("defg", 3)]),
    # --- azure ----------------------------------------------------------------------------------------------------
    "api ranges": ("azure-prod", {"cluster.azure.apiServerAuthorizedIpRanges": ["203.0.113.0/24", "x", 5]}, [
        "llmfleet:cluster.azure.apiServerAuthorizedIpRanges[1]: must be a CIDR such as 203.0.113.0/24, got 'x'",
        "llmfleet:cluster.azure.apiServerAuthorizedIpRanges[2]: must be a CIDR such as 203.0.113.0/24, got 5"]),
    "admin group id": ("azure-prod", {"cluster.azure.adminGroupObjectIds": [GUID[:-1] + "g", GUID]}, [
        f"llmfleet:cluster.azure.adminGroupObjectIds[0]: must be an Entra ID group object id (a GUID), got "
        f"'{GUID[:-1]}g'"]),
    "admin groups without entra": ("azure-prod", {"cluster.azure.entraIdRbac": False,
                                                  "cluster.azure.adminGroupObjectIds": [GUID]}, [
        "llmfleet:cluster.azure.adminGroupObjectIds: only applies with entraIdRbac: true",
        "llmfleet:cluster.azure.entraIdRbac: must stay true in a prod stack (Entra ID with Azure RBAC, local "
        "accounts disabled)"]),
    "subnet outside vnet": ("azure-prod", {"cluster.azure.subnetCidr": "10.0.1.0/24"}, [
        "llmfleet:cluster.azure.subnetCidr: must lie inside vnetCidr 10.224.0.0/12, got 10.0.1.0/24"]),
    "overlay overlaps vnet": ("azure-prod", {"cluster.azure.podCidr": "10.225.0.0/16",
                                             "cluster.azure.serviceCidr": "10.226.0.0/16"}, [
        "llmfleet:cluster.azure.podCidr: must not overlap vnetCidr 10.224.0.0/12, got 10.225.0.0/16",
        "llmfleet:cluster.azure.serviceCidr: must not overlap vnetCidr 10.224.0.0/12, got 10.226.0.0/16",
        "llmfleet:cluster.azure.dnsServiceIp: must be inside serviceCidr 10.226.0.0/16 and not its first address, "
        "got 10.0.0.10"]),
    "service overlaps pods": ("azure-prod", {"cluster.azure.podCidr": "10.100.0.0/16",
                                             "cluster.azure.serviceCidr": "10.100.0.0/20",
                                             "cluster.azure.dnsServiceIp": "10.100.0.10"}, [
        "llmfleet:cluster.azure.serviceCidr: must not overlap podCidr 10.100.0.0/16, got 10.100.0.0/20"]),
    "spot price 0": ("azure-prod", {"cluster.azure.spotMaxPrice": 0}, [
        "llmfleet:cluster.azure.spotMaxPrice: must be -1 (up to the on-demand price) or a price > 0 in USD/hour, "
        "got 0.0"]),
    "spot price -1": ("azure-prod", {"cluster.azure.spotMaxPrice": -1}, []),
    "spot price 0.01": ("azure-prod", {"cluster.azure.spotMaxPrice": 0.01}, []),
    "expander": ("azure-prod", {"cluster.azure.autoscaler.expander": "random"}, [
        "llmfleet:cluster.azure.autoscaler.expander: is always priority: the capacity chain is carried by the "
        "priority expander's ConfigMap, and any other expander ignores it"]),
    "azure region": ("azure-prod", {"cluster.region": "East US"}, [
        "llmfleet:cluster.region: must be an Azure region name such as eastus, got 'East US'"]),
    "azure zone": ("azure-prod", {"cluster.zones": ["1", "4"]}, [
        "llmfleet:cluster.zones[1]: must be an Azure availability zone (1, 2, 3), got '4'"]),
    "azure pool zone": ("azure-prod", {"gpuPools.0.zones": ["0"]}, [
        "llmfleet:gpuPools[0].zones[0]: must be an Azure availability zone (1, 2, 3), got '0'"]),
    # --- gcp ------------------------------------------------------------------------------------------------------
    "authorized network": ("gcp-prod", {"cluster.gcp.authorizedNetworks": ["203.0.113.0/24", "nope"]}, [
        "llmfleet:cluster.gcp.authorizedNetworks[1]: must be an IPv4 CIDR such as 203.0.113.0/24, got 'nope'"]),
    "gcp zone of another region": ("gcp-prod", {"cluster.zones": ["us-central1-a", "us-east1-b"],
                                                "gpuPools.0.zones": ["us-east1-b", "us-central1-c"]}, [
        "llmfleet:cluster.zones[1]: must be a zone of us-central1 (us-central1-a, us-central1-b, ...), "
        "got 'us-east1-b'",
        "llmfleet:gpuPools[0].zones[0]: must be a zone of us-central1 (us-central1-a, ...), got 'us-east1-b'"]),
    "gcp zone twice": ("gcp-prod", {"cluster.zones": ["us-central1-a", "us-central1-a"]}, [
        "llmfleet:cluster.zones: lists a zone twice: ['us-central1-a', 'us-central1-a']"] + [
        GCP_POOL_ZONE.format(i, 1, "us-central1-a, us-central1-a", "us-central1-c") for i in range(3)]),
    "gcp pool zone with no cluster zones": ("gcp-prod", {"cluster.zones": DROP, "gpuPools.0.zones": ["us-east1-b"]}, [
        "llmfleet:gpuPools[0].zones[0]: must be a zone of us-central1 (us-central1-a, ...), got 'us-east1-b'"]),
    "gcp pool zone outside the cluster's": ("gcp-prod", {"gpuPools.0.zones": ["us-central1-b"]}, [
        GCP_POOL_ZONE.format(0, 0, "us-central1-a, us-central1-c", "us-central1-b")]),
    "gcp zonal cluster elsewhere": ("gcp-prod", {"cluster.gcp.zone": "us-east1-b"}, [
        "llmfleet:cluster.gcp.zone: must be a zone of us-central1, got 'us-east1-b'"] + [
        GCP_POOL_ZONE.format(i, j, "us-east1-b", z) for i in range(3)
        for j, z in enumerate(["us-central1-a", "us-central1-c"])]),
    "gcp zonal cluster with two zones": ("gcp-prod", {"cluster.gcp.zone": "us-central1-a"}, [
        "llmfleet:cluster.zones: a zonal cluster (us-central1-a) keeps its nodes in its own zone: leave zones unset "
        "or set [us-central1-a], got ['us-central1-a', 'us-central1-c']"] + [
        GCP_POOL_ZONE.format(i, 1, "us-central1-a", "us-central1-c") for i in range(3)]),
    # --- pools ----------------------------------------------------------------------------------------------------
    "pool name 21": ("dev", {"gpuPools.0.name": "p" * 21}, [
        "llmfleet:gpuPools[0].name: must be at most 20 characters, got 21"]),
    "pool name 20": ("dev", {"gpuPools.0.name": "p" * 20}, []),
    "capacity twice": ("dev", {"gpuPools.0.capacity": ["spot", "spot"]}, [
        "llmfleet:gpuPools[0].capacity: lists a capacity type twice: ['spot', 'spot']"]),
    "capacity on existing": ("edge", {"gpuPools.0.capacity": ["spot"]}, [
        "llmfleet:gpuPools[0].capacity: is not used on an existing cluster (its nodes are already there)"]),
    "on-demand on existing": ("edge", {"gpuPools.0.capacity": ["on-demand"]}, []),
    "reserved without id": ("dev", {"gpuPools.0.capacity": ["reserved"]}, [
        "llmfleet:gpuPools[0].reservation: is required when capacity includes 'reserved' (the reservation id or "
        "name)"]),
    "reservation without reserved": ("dev", {"gpuPools.0.reservation": "cr-1"}, [
        "llmfleet:gpuPools[0].reservation: is set but capacity does not include 'reserved'"]),
    "no gpu": ("dev", {"gpuPools.0.instanceType": DROP}, [
        "llmfleet:gpuPools[0].gpu: is required (or give instanceType)"]),
    "image off aws": ("gcp-prod", {"gpuPools.0.image": "al2023-nvidia"}, [
        "llmfleet:gpuPools[0].image: is an EKS AMI family; it only applies when cloud is aws"]),
    "image unknown": ("dev", {"gpuPools.0.image": "x"}, [
        "llmfleet:gpuPools[0].image: must be one of al2023-nvidia, bottlerocket-nvidia, got 'x'"]),
    "replicas without time-slicing": ("dev", {"gpuPools.0.sharing": {"mode": "none", "replicas": 2}}, [
        "llmfleet:gpuPools[0].sharing.replicas: only applies with mode time-slicing"]),
    "one time slice": ("dev", {"gpuPools.0.sharing": {"mode": "time-slicing", "replicas": 1}}, [
        "llmfleet:gpuPools[0].sharing.replicas: must be >= 2 for time-slicing, got 1"]),
    "two time slices": ("dev", {"gpuPools.0.sharing": {"mode": "time-slicing", "replicas": 2}}, [
        "llmfleet:models[0]: llama-8b: no pool can run it: every pool shares its GPUs (time-slicing or MIG) and "
        "model servers need whole GPUs; add a pool with sharing mode none"]),
    "mig on l40s": ("dev", {"gpuPools.0.sharing": {"mode": "mig", "migProfile": "1g.10gb"}}, [
        "llmfleet:gpuPools[0].sharing.mode: L40S 48GB does not support MIG; use time-slicing or none"]),
    "mig without profile": ("prod", {"gpuPools.0.sharing": {"mode": "mig"}}, [
        f"llmfleet:gpuPools[0].sharing.migProfile: is required with mode mig: one of {MIG}"]),
    "mig profile unknown": ("prod", {"gpuPools.0.sharing": {"mode": "mig", "migProfile": "9g.99gb"}}, [
        f"llmfleet:gpuPools[0].sharing.migProfile: H100 80GB HBM3 supports {MIG}, got '9g.99gb'"]),
    "mig profile without mig": ("dev", {"gpuPools.0.sharing": {"mode": "none", "migProfile": "1g.10gb"}}, [
        "llmfleet:gpuPools[0].sharing.migProfile: only applies with mode mig"]),
    "max below min": ("dev", {"gpuPools.0.minNodes": 3, "gpuPools.0.maxNodes": 2}, [
        "llmfleet:gpuPools[0].maxNodes: must be >= minNodes (3), got 2"]),
    "max equals min": ("dev", {"gpuPools.0.minNodes": 2, "gpuPools.0.maxNodes": 2}, []),
    "program label": ("dev", {"gpuPools.0.labels": {"llmfleet.io/pool": "x"}}, [
        "llmfleet:gpuPools[0].labels: llmfleet.io/pool is set by the program on every node group (keys under "
        "llmfleet.io/ say which pool, capacity type and GPU a node is); use another key"]),
    "node price on aws": ("dev", {"gpuPools.0.pricePerHour": 1}, [
        "llmfleet:gpuPools[0].pricePerHour: only applies on an existing cluster; override cloud prices with "
        "llmfleet:prices"]),
    "instance type on existing": ("edge", {"gpuPools.0.gpu": DROP, "gpuPools.0.gpusPerNode": DROP,
                                           "gpuPools.0.instanceType": "g6e.xlarge"}, [
        "llmfleet:gpuPools[0].instanceType: is not used on an existing cluster; give gpu and gpusPerNode",
        "llmfleet:gpuPools[0].gpu: is required on an existing cluster: one of a100-40gb, a100-80gb, a10g-24gb, "
        "h100-80gb, h100-nvl-94gb, h200-141gb, l4-24gb, l40s-48gb, t4-16gb",
        "llmfleet:gpuPools[0].gpusPerNode: is required on an existing cluster"]),
    "type and gpu disagree": ("dev", {"gpuPools.0.gpu": "a100-80gb", "gpuPools.0.gpusPerNode": 2}, [
        "llmfleet:gpuPools[0].gpu: g6e.xlarge carries l40s-48gb, not a100-80gb",
        "llmfleet:gpuPools[0].gpusPerNode: g6e.xlarge has 1 GPU(s), got 2"]),
    "gpu count not offered": ("dev", {"gpuPools.0.instanceType": DROP, "gpuPools.0.gpu": "l4-24gb",
                                      "gpuPools.0.gpusPerNode": 3}, [
        "llmfleet:gpuPools[0].gpusPerNode: aws offers l4-24gb with 1, 4, 8 GPU(s) per node, got 3"]),
    "unknown instance type": ("dev", {"gpuPools.0.instanceType": "g6e.huge"}, [
        f"llmfleet:gpuPools[0].instanceType: 'g6e.huge' is not a GPU type this program knows on aws; allowed: "
        f"{L4_TYPES}"]),
    # --- models ---------------------------------------------------------------------------------------------------
    "model name 41": ("dev", {"models.0.name": "m" * 41, "rag.llm": "m" * 41}, [
        "llmfleet:models[0].name: must be at most 40 characters (object names derive from it), got 41"]),
    "model name 40": ("dev", {"models.0.name": "m" * 40, "rag.llm": "m" * 40}, []),
    "no model": ("dev", {"models.0.model": DROP}, [
        "llmfleet:models[0].model: is required (or give architecture): one of llama-2-7b, llama-3.1-405b, "
        "llama-3.1-70b, llama-3.1-8b, mistral-7b-instruct-v0.2, mixtral-8x7b, phi-3-medium, qwen2.5-72b, "
        "qwen2.5-7b"]),
    # --- serving options ------------------------------------------------------------------------------------------
    'extra args with rayserve': ('edge', {
        'models.0.engine': 'rayserve',
        'models.0.cache': DROP,
        'models.0.extraArgs': ['--x'],
    }, [
        'llmfleet:models[0].extraArgs: does not apply with engine rayserve (Ray Serve LLM takes engine keyword '
        'arguments, not server flags)',
    ]),
    'revision with kserve': ('edge', {
        'models.0.engine': 'kserve',
        'models.0.cache': DROP,
        'models.0.revision': 'main',
    }, [
        'llmfleet:models[0].revision: is not supported with engine kserve (its storage initializer downloads '
        'hf://<id>)',
    ]),
    'cache with kserve': ('edge', {'models.0.engine': 'kserve'}, [
        "llmfleet:models[0].cache: only applies with engine vllm (KServe's storage initializer and Ray workers "
        "download the weights themselves), got engine 'kserve'",
    ]),
    'cache none with a class': ('edge', {'models.0.cache': {'mode': 'none', 'storageClass': 'x'}}, [
        'llmfleet:models[0].cache.storageClass: only applies with mode shared or per-replica',
    ]),
    'replicas max below min': ('edge', {'models.0.replicas': {'min': 3, 'max': 2}}, [
        'llmfleet:models[0].replicas.max: must be >= min (3), got 2',
    ]),
    'replicas max equal min': ('edge', {'models.0.replicas': {'min': 3, 'max': 3}}, [
    ]),
    'kserve block with vllm': ('edge', {'models.0.kserve': {'mode': 'Standard'}}, [
        "llmfleet:models[0].kserve: only applies with engine kserve, got engine 'vllm'",
    ]),
    'keda and kedaRedis': ('edge', {
        'models.0.autoscaling': {'keda': {'targetQueueDepth': 4},
                                 'kedaRedis': {'listLength': 4, 'address': 'redis:6379', 'listName': 'q'}},
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
        'llmfleet:models[0].autoscaling: keda and kedaRedis would be two ScaledObjects on one workload: keep one',
    ]),
    'hpa and keda': ('edge', {
        'models.0.autoscaling': {'keda': {'targetQueueDepth': 4}, 'hpa': {'targetQueueDepth': 4}},
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
        'llmfleet:models[0].autoscaling: hpa and keda would both scale the same workload (KEDA drives its own HPA, '
        'and two HPAs fight): keep one',
    ]),
    'vpa with rayserve': ('edge', {
        'models.0.engine': 'rayserve',
        'models.0.cache': DROP,
        'models.0.autoscaling': {'vpa': True},
    }, [
        'llmfleet:models[0].autoscaling: vpa does not apply with engine rayserve (KubeRay owns the worker pods)',
    ]),
    'hpa with rayserve': ('edge', {
        'models.0.engine': 'rayserve',
        'models.0.cache': DROP,
        'models.0.autoscaling': {'hpa': {'targetQueueDepth': 4}},
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
        'llmfleet:models[0].autoscaling.hpa: does not apply with engine rayserve: Ray Serve scales replicas itself '
        'between replicas.min and replicas.max',
    ]),
    'hpa with kserve': ('edge', {
        'models.0.engine': 'kserve',
        'models.0.cache': DROP,
        'models.0.autoscaling': {'hpa': {'targetQueueDepth': 4}},
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
        'llmfleet:models[0].autoscaling.hpa: does not apply with engine kserve: KServe scales on the queue through '
        'keda (Standard mode) or Knative (Serverless)',
    ]),
    'keda and vpa with serverless': ('edge', {
        'models.0.engine': 'kserve',
        'models.0.cache': DROP,
        'models.0.kserve': {'mode': 'Serverless'},
        'models.0.autoscaling': {'keda': {'targetQueueDepth': 4}, 'vpa': True},
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
        'llmfleet:models[0].autoscaling.keda: needs kserve.mode Standard; Serverless scales with Knative',
        'llmfleet:models[0].autoscaling.vpa: needs kserve.mode Standard (Knative names its Deployments per '
        'revision)',
    ]),
    'keda with kserve standard': ('edge', {
        'models.0.engine': 'kserve',
        'models.0.cache': DROP,
        'models.0.autoscaling': {'keda': {'targetQueueDepth': 4}},
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
    ]),
    'scale to zero without keda': ('edge', {
        'models.0.replicas': {'min': 0, 'max': 1},
        'models.0.autoscaling': {'hpa': {'targetQueueDepth': 4}},
    }, [
        'llmfleet:models[0].replicas.min: 0 (scale to zero) needs autoscaling.keda or kedaRedis',
    ]),
    'scale to zero with keda': ('edge', {
        'models.0.replicas': {'min': 0, 'max': 1},
        'models.0.autoscaling': {'keda': {'targetQueueDepth': 4}},
    }, [
    ]),
    'keda with nothing to scale': ('edge', {
        'models.0.replicas': {'min': 1, 'max': 1},
        'models.0.autoscaling': {'keda': {'targetQueueDepth': 4}},
    }, [
        'llmfleet:models[0].replicas: max must be > min (1) for keda to scale',
    ]),
    'max above min without autoscaler': ('edge', {'models.0.replicas': {'min': 1, 'max': 2}}, [
        'llmfleet:models[0].replicas: max (2) differs from min (1) but no autoscaler is set: add autoscaling.hpa, '
        'keda or kedaRedis, or make max equal min',
    ]),
    'kserve max above min without keda': ('edge', {
        'models.0.engine': 'kserve',
        'models.0.cache': DROP,
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
        'llmfleet:models[0].replicas: max (2) differs from min (1) but KServe Standard mode only scales on the '
        'queue with autoscaling.keda: add it, or make max equal min',
    ]),
    'kserve serverless max above min': ('edge', {
        'models.0.engine': 'kserve',
        'models.0.cache': DROP,
        'models.0.kserve': {'mode': 'Serverless'},
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
    ]),
    'schedule with kserve': ('edge', {
        'models.0.engine': 'kserve',
        'models.0.cache': DROP,
        'models.0.autoscaling': {'keda': {'targetQueueDepth': 4,
                                          'schedule': {'days': ['mon'], 'from': '08:00', 'to': '18:00'}}},
        'models.0.replicas': {'min': 1, 'max': 2},
    }, [
        'llmfleet:models[0].autoscaling.keda.schedule: needs engine vllm: with engine kserve the ScaledObject is '
        "KServe's or Ray scales itself, so no cron trigger can be added",
    ]),
    'canary without serverless': ('edge', {
        'models.0.engine': 'kserve',
        'models.0.cache': DROP,
        'models.0.kserve': {'mode': 'Standard', 'canaryTrafficPercent': 10},
    }, [
        'llmfleet:models[0].kserve.canaryTrafficPercent: needs mode Serverless (Knative revisions split the '
        'traffic); Standard mode has no canary rollout',
    ]),
    'extra args': ('edge', {
        'models.0.extraArgs': ['', 3, '--max_model_len=5', '--disable-log-requests', '--Bad', '-x', 'v', '-abcd'],
    }, [
        "llmfleet:models[0].extraArgs[0]: must be a non-empty string, got ''",
        'llmfleet:models[0].extraArgs[1]: must be a non-empty string, got 3',
        'llmfleet:models[0].extraArgs[2]: --max-model-len is set by the program from maxContext; change that key '
        'instead',
        'llmfleet:models[0].extraArgs[3]: --disable-log-requests is removed from vLLM; request logging is off '
        'unless --enable-log-requests',
        "llmfleet:models[0].extraArgs[4]: '--Bad' is not a flag (--name or --name=value)",
        "llmfleet:models[0].extraArgs[7]: '-abcd' is not a flag (--name or --name=value)",
    ]),
    # --- alerts, serving, secrets, security, gateway, RAG -----------------------------------------------------------
    'email without relay': ('prod', {'observability.alertmanager.smtpSmarthost': DROP}, [
        'llmfleet:observability.alertmanager.email: needs smtpSmarthost and smtpFrom (Alertmanager refuses an '
        'e-mail receiver without an SMTP relay and sender)',
    ]),
    'no receiver': ('prod', {'observability.alertmanager': {'slackChannel': '#x'}}, [
        'llmfleet:observability.alertmanager: configures no receiver: give webhookUrl, slackUrl or email',
    ]),
    'vllm image latest': ('dev', {'serving.vllmImage': 'vllm/vllm-openai:latest'}, [
        "llmfleet:serving.vllmImage: must be pinned to a release, not latest, got 'vllm/vllm-openai:latest'",
    ]),
    'serving namespace unknown': ('dev', {'serving.namespace': 'nope'}, [
        'llmfleet:serving.namespace: must be a namespace of llmfleet:platform (it carries the GPU quota and Pod '
        "Security level), got 'nope'",
    ]),
    'shared cache on aws has a default class': ('dev', {'models.0.cache': {'mode': 'shared'}}, [
    ]),
    'shared cache too small': ('prod', {'models.0.cache': {'mode': 'shared', 'sizeGi': 1}}, [
        'llmfleet:models[0].cache.sizeGi: must be >= 10, got 1',
    ]),
    'kubeconfig on aws': ('dev', {'kubeconfig': 'k'}, [
        "llmfleet:kubeconfig: only applies when cloud is existing; the aws cluster's kubeconfig is built",
    ]),
    'prod without budget': ('prod', {'budget': DROP}, [
        "llmfleet:budget: is required in a production environment ('prod'): {monthly, contacts, alerts}, so the "
        'cloud alerts before a month overruns (docs/cost-guards.md)',
    ]),
    'model clients': ('dev', {'security.modelClients': ['a', 'A_b', 'a']}, [
        "llmfleet:security.modelClients[1]: must be a namespace name (a DNS label), got 'A_b'",
        'llmfleet:security.modelClients: lists a namespace twice',
    ]),
    'azure policy none': ('azure-prod', {
        'cluster.azure.networkPolicy': 'none',
        'cluster.azure.networkDataplane': 'azure',
    }, [
        'llmfleet:cluster.azure.networkPolicy: none enforces no NetworkPolicy, but '
        'llmfleet:security.networkPolicies renders them: use cilium (networkDataplane cilium) or azure, or set '
        'llmfleet:security.networkPolicies false',
    ]),
    'restricted pods without a shared cache': ('gcp-prod', {'security.restrictedPods': True}, [
    ]),
    'acme without email': ('prod', {'gateway.tls': {'issuer': 'acme'}}, [
        "llmfleet:gateway.tls.email: is required with issuer acme: the ACME account's contact address",
    ]),
    "acme email not a string": ("prod", {"gateway.tls": {"issuer": "acme", "email": 3}}, [
        "llmfleet:gateway.tls.email: must be a string, got 3 (quote it in YAML to keep it a string)"]),
    'acme bad email': ('prod', {'gateway.tls': {'issuer': 'acme', 'email': 'x'}}, [
        "llmfleet:gateway.tls.email: must be an email address, got 'x'",
    ]),
    'acme http server': ('prod', {'gateway.tls': {'issuer': 'acme', 'email': 'a@b.co', 'server': 'http://x'}}, [
        "llmfleet:gateway.tls.server: must be an https:// ACME directory URL, got 'http://x'",
    ]),
    'acme private name': ('prod', {'gateway.hostname': 'llm.internal'}, [
        "llmfleet:gateway.hostname: 'llm.internal' is a private name that no public ACME CA can validate: use a "
        'public name, or tls.issuer selfSigned',
    ]),
    'self signed with acme keys': ('prod', {
        'gateway.tls': {'issuer': 'selfSigned', 'email': 'a@b.co', 'server': 'https://x'},
    }, [
        'llmfleet:gateway.tls.email: only applies with issuer acme',
        'llmfleet:gateway.tls.server: only applies with issuer acme',
    ]),
    'embedding replicas': ('dev', {'rag.embedding.replicas': {'min': 3, 'max': 2}}, [
        'llmfleet:rag.embedding.replicas: max (2) must be >= min (3)',
    ]),
    'embedding pool unknown': ('dev', {'rag.embedding.pool': 'nope'}, [
        "llmfleet:rag.embedding.pool: must name a pool of llmfleet:gpuPools (l40s), got 'nope'",
    ]),
    'embedding gpu pool replicas': ('dev', {
        'rag.embedding.pool': 'l40s',
        'rag.embedding.replicas': {'min': 1, 'max': 2},
    }, [
        'llmfleet:rag.embedding.replicas: min (1) and max (2) must be equal on a GPU pool: CPU utilisation does not '
        'track a GPU-bound server (queue-depth scaling on te_queue_size is not built yet)',
    ]),
    'embedding bad tag': ('dev', {
        'rag.embedding.image': 'ghcr.io/huggingface/text-embeddings-inference:turing-1.8',
    }, [
        "llmfleet:rag.embedding.image: tag 'turing-1.8' does not run on CPU nodes (no embedding.pool): use cpu-1.9",
    ]),
    'qdrant 2': ('dev', {'rag.vectorStore.replicas': 2}, [
        'llmfleet:rag.vectorStore.replicas: must be 1 or at least 3: a 2-node Qdrant cluster loses its Raft '
        'majority when either node is down',
    ]),
    'qdrant 1 in prod': ('gcp-prod', {'rag.vectorStore.replicas': 1}, [
        "llmfleet:rag.vectorStore.replicas: must be at least 3 in a production environment ('prod'): one node is a "
        'single point of failure for every query',
    ]),
    'qdrant 3 in dev': ('dev', {'rag.vectorStore.replicas': 3}, [
    ]),
    'shared cache without class': ('edge', {'models.0.cache': {'mode': 'shared'}}, [
        'llmfleet:models[0].cache.storageClass: is required for a shared cache on cloud existing (no default '
        'ReadWriteMany class); or set llmfleet:serving.storageClass',
    ]),
    'restricted pods with nfs': ('gcp-prod', {
        'security.restrictedPods': True,
        'models.0.cache': {'mode': 'shared'},
    }, [
        "llmfleet:security.restrictedPods: model llama-70b's shared cache is an NFS share (gcp) that ignores "
        'fsGroup, so the non-root server cannot write it: use cache mode per-replica or none, or leave '
        'restrictedPods off',
    ]),
    # --- platform namespaces, tensor parallel ------------------------------------------------------------------
    'tensor parallel above the node': ('edge', {'models.0.tensorParallel': 2}, [
        'llmfleet:models[0].tensorParallel: must be <= the GPUs of one node of an allowed pool (placements are '
        'single-node): edge-l4 has 1, got 2',
    ]),
    'monitoring must stay privileged': ('dev', {
        'platform.namespaces': [{'name': 'monitoring', 'podSecurity': 'baseline'}],
    }, [
        'llmfleet:platform.namespaces[0].podSecurity: monitoring runs node agents that need host access: must stay '
        'privileged',
    ]),
    'default cpu on a program namespace': ('dev', {
        'platform.namespaces': [{'name': 'llm-serving', 'limits': {'defaultCpu': '1'}}],
    }, [
        "llmfleet:platform.namespaces[0].limits.defaultCpu: llm-serving runs this program's pods, which request CPU "
        'without a CPU limit: LimitRanger would make this their limit and the API server rejects every pod '
        'requesting more; leave it unset (a default CPU limit is allowed on your own namespaces)',
    ]),
    'namespace twice': ('dev', {'platform.namespaces': [{'name': 'team-a'}, {'name': 'team-a'}]}, [
        "llmfleet:platform.namespaces[1].name: duplicate namespace name 'team-a'",
    ]),
    'own serving namespace with a default cpu': ('dev', {
        'platform.namespaces': [{'name': 'team-a', 'limits': {'defaultCpu': '1'}}],
        'serving.namespace': 'team-a',
    }, [
        'llmfleet:serving.namespace: team-a sets limits.defaultCpu in llmfleet:platform, but model servers request '
        'CPU without a CPU limit: LimitRanger would make it their limit and the API server rejects every pod '
        'requesting more; remove that defaultCpu',
    ]),
    'own serving namespace': ('dev', {'platform.namespaces': [{'name': 'team-a'}], 'serving.namespace': 'team-a'}, [
    ]),
    # --- custom architectures --------------------------------------------------------------------------------------
    "architecture without the optional sizes": ("edge", {"models.0.model": DROP, "models.0.architecture": ARCH}, []),
    "architecture sizes 1": ("edge", {"models.0.model": DROP, "models.0.architecture": {
        **ARCH, "hiddenSize": 1, "intermediateSize": 1, "vocabSize": 1}}, []),
    "architecture sizes 0": ("edge", {"models.0.model": DROP, "models.0.architecture": {
        **ARCH, "hiddenSize": 0, "intermediateSize": 0, "vocabSize": 0}}, [
        "llmfleet:models[0].architecture.hiddenSize: must be >= 1, got 0",
        "llmfleet:models[0].architecture.intermediateSize: must be >= 1, got 0",
        "llmfleet:models[0].architecture.vocabSize: must be >= 1, got 0"]),
    "architecture and model": ("edge", {"models.0.architecture": ARCH}, [
        "llmfleet:models[0].architecture: give either model (a catalog name) or architecture, not both"]),
}


@pytest.mark.parametrize("case", CASES)
def test_problem_lines(case):
    stack, changes, expected = CASES[case]
    assert problems(stack, changes) == expected


def test_a_default_cluster_name_too_long_says_it_came_from_the_stack_name():
    assert problems("dev", {"cluster.name": DROP}, name="a" * 37) == [
        "llmfleet:cluster.name: must be at most 40 characters (cloud resource names derive from it), got 41 (its "
        "default, from the stack name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'): set it"]
    assert problems("dev", {"cluster.name": DROP}, name="a" * 36) == []
