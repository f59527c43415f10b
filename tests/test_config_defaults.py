"""Every optional config key is read under its own name and has the default the docs give (found by mutation
testing: a misspelt key or a changed default went unnoticed where no shipped stack sets the key). For each key:
leaving it out and setting it to its documented default load the same spec, and another valid value loads a
different one. The whole StackSpec is compared, so the key reaches the spec and nothing else moves."""
from dataclasses import replace

import pytest

from spec.stack import load
from tests.test_config_messages import DROP, edited

# (stack, key path, documented default, another valid value)
KEYS = [
    ("edge", "nvidia.dcgmExporter", True, False),
    ("edge", "nvidia.migStrategy", "mixed", "single"),
    ("edge", "nvidia.gpuFeatureDiscovery", True, False),
    ("dev", "observability.retention", "15d", "30d"),
    ("dev", "observability.retentionSize", "45GB", "20GB"),
    ("dev", "observability.storageSize", "50Gi", "80Gi"),
    ("dev", "observability.storageClass", "", "gp3"),
    ("dev", "observability.grafana", True, False),
    ("dev", "observability.resources.cpuRequest", "500m", "1"),
    ("dev", "observability.resources.memoryRequest", "2Gi", "3Gi"),
    ("dev", "observability.resources.memoryLimit", "4Gi", "6Gi"),
    ("dev", "observability.alerts.gpuMemoryFullPercent", 97.0, 95.0),
    ("dev", "observability.alerts.gpuIdlePercent", 5.0, 10.0),
    ("dev", "observability.alerts.gpuIdleMinutes", 15, 30),
    ("dev", "observability.alerts.gpuTemperatureC", 85.0, 80.0),
    ("dev", "observability.alerts.missingGpuMinutes", 15, 20),
    ("dev", "costGuards.maxGpusPerPool", 64, 32),
    ("dev", "costGuards.idleGpuPercent", 5.0, 10.0),
    ("dev", "costGuards.idleGpuMinutes", 120, 60),
    ("dev", "costGuards.requiredTags", ["environment", "cost-center", "owner"], ["environment"]),
    ("prod", "budget.currency", "USD", "EUR"),
    ("dev", "security.networkPolicies", True, False),
    ("dev", "security.restrictedPods", False, True),
    ("dev", "serving.prometheusUrl", "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
     "http://prometheus.example:9090"),
    ("edge", "cluster.distribution", "generic", "k3s"),
    ("edge", "cluster.gpuOnly", False, True),
    ("dev", "cluster.aws.vpcCidr", "10.0.0.0/16", "10.30.0.0/16"),
    ("dev", "cluster.aws.singleNatGateway", False, True),
    ("dev", "cluster.aws.endpointAccess", "public-and-private", "public"),
    ("dev", "cluster.aws.identity", "irsa", "pod-identity"),
    ("dev", "cluster.aws.logRetentionDays", 90, 30),
    ("dev", "cluster.aws.secretsEncryption", True, False),
    ("dev", "cluster.aws.systemNodes.instanceType", "m7i.xlarge", "m7i.2xlarge"),
    ("dev", "cluster.aws.systemNodes.diskSizeGb", 100, 200),
    ("gcp-prod", "cluster.gcp.releaseChannel", "REGULAR", "STABLE"),
    ("gcp-prod", "cluster.gcp.systemDiskSizeGb", 100, 200),
    ("gcp-prod", "cluster.gcp.computeClass", True, False),
    ("gcp-prod", "cluster.gcp.privateEndpoint", False, True),
    ("gcp-prod", "cluster.gcp.maintenanceWindow.recurrence", "FREQ=WEEKLY;BYDAY=SA,SU", "FREQ=WEEKLY;BYDAY=SU"),
    ("azure-prod", "cluster.azure.osSku", "Ubuntu", "AzureLinux"),
    ("azure-prod", "cluster.azure.upgradeChannel", "patch", "none"),
    ("azure-prod", "cluster.azure.nodeOsUpgradeChannel", "NodeImage", "SecurityPatch"),
    ("azure-prod", "cluster.azure.privateCluster", False, True),
    ("azure-prod", "cluster.azure.dnsServiceIp", "10.0.0.10", "10.0.0.20"),
    ("azure-prod", "cluster.azure.autoscaler.skipNodesWithLocalStorage", False, True),
    ("azure-prod", "cluster.azure.autoscaler.skipNodesWithSystemPods", True, False),
    ("azure-prod", "cluster.azure.autoscaler.maxGracefulTerminationSec", 600, 300),
    ("azure-prod", "cluster.azure.maintenanceWindow.dayOfWeek", "Saturday", "Sunday"),
    ("azure-prod", "cluster.azure.maintenanceWindow.startTime", "02:00", "03:00"),
    ("azure-prod", "cluster.azure.maintenanceWindow.durationHours", 6, 8),
    ("azure-prod", "cluster.azure.maintenanceWindow.utcOffset", "+00:00", "+01:00"),
    ("dev", "gpuPools.0.diskSizeGb", 500, 300),
    ("dev", "gpuPools.0.driver", "cloud", "operator"),
]


def spec(stack: str, changes: dict):
    """The loaded spec; secret references compare by identity, so they are left out (every load has the same)."""
    s = load(edited(stack, changes), {"hfToken", "kubeconfig"}, "t")
    assert set(s.secrets) <= {"hfToken", "kubeconfig"}
    return replace(s, secrets={}, serving=replace(s.serving, hf_token=None))


@pytest.mark.parametrize("stack,path,default,other", KEYS, ids=[k[1] for k in KEYS])
def test_key_is_read_and_defaults_as_documented(stack, path, default, other):
    absent = spec(stack, {path: DROP})
    assert spec(stack, {path: default}) == absent
    assert spec(stack, {path: other}) != absent


def test_private_nodes_default_on_and_may_be_turned_off_outside_production():
    # In a production environment `false` is refused (no external node IPs); elsewhere it is a choice.
    staging = {"environment": "staging"}
    absent = spec("gcp-prod", {**staging, "cluster.gcp.privateNodes": DROP})
    assert absent.cluster.settings.private_nodes is True
    assert spec("gcp-prod", {**staging, "cluster.gcp.privateNodes": True}) == absent
    assert spec("gcp-prod", {**staging, "cluster.gcp.privateNodes": False}) != absent


def test_namespace_limits_default_field_by_field():
    ns = [{"name": "team-a", "limits": {"defaultCpu": "2"}}]
    limits = spec("dev", {"platform.namespaces": ns}).platform.namespace("team-a").limits
    assert (limits.default_cpu, limits.default_memory, limits.default_request_cpu, limits.default_request_memory) == (
        "2", "1Gi", "100m", "256Mi")
    ns = [{"name": "team-a", "podSecurity": "restricted",
           "quota": {"gpus": 4, "cpu": "8", "memory": "32Gi", "pods": 20},
           "limits": {"defaultMemory": "2Gi", "defaultRequestCpu": "200m", "defaultRequestMemory": "512Mi"}}]
    team = spec("dev", {"platform.namespaces": ns}).platform.namespace("team-a")
    assert team.pod_security == "restricted"
    assert (team.quota.gpus, team.quota.cpu, team.quota.memory, team.quota.pods) == (4, "8", "32Gi", 20)
    assert (team.limits.default_cpu, team.limits.default_memory, team.limits.default_request_cpu,
            team.limits.default_request_memory) == (None, "2Gi", "200m", "512Mi")
