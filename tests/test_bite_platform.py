"""PlatformBase as rendered (components/platform.py): the priority tiers, a namespace's quota and container
defaults field by field, and the Pod Security labels. tests/test_platform_spec.py checks what the config reader
makes of `llmfleet:platform`; this checks what reaches the API server."""
import json

import pytest

from plan.runtime import ROOT, run_program
from plan.stackfile import load_stack_config
from tests.harness import Plan

TEAM = {"name": "team-a", "podSecurity": "restricted", "quota": {"gpus": 2, "cpu": "8", "memory": "64Gi", "pods": 20},
        "limits": {"defaultCpu": "2", "defaultMemory": "4Gi", "defaultRequestCpu": "250m",
                   "defaultRequestMemory": "512Mi"}}


@pytest.fixture(scope="module")
def edge():
    """The edge stack (k3s, Kubernetes 1.33) with one more namespace that sets every quota and limit field."""
    project, config, secret_keys = load_stack_config(ROOT, "edge")
    config = {**config, "llmfleet:platform": json.dumps({"namespaces": [TEAM]})}
    return Plan(run_program(project, "edge", config, secret_keys))


def test_priority_tiers(edge):
    classes = {m["metadata"]["name"]: m for m in edge.manifests if m["kind"] == "PriorityClass"}
    # Production inference above default model servers above batch; batch waits instead of preempting; none is
    # the cluster default (pods of other software keep priority 0).
    assert {n: (c["value"], c["preemptionPolicy"], c["globalDefault"]) for n, c in classes.items()} == {
        "llm-critical": (1_000_000, "PreemptLowerPriority", False),
        "llm-standard": (100_000, "PreemptLowerPriority", False),
        "llm-batch": (1_000, "Never", False)}
    assert all(c["description"] for c in classes.values())


def test_a_namespace_quota_and_container_defaults_field_by_field(edge):
    quota = edge.manifest("ResourceQuota", "llmfleet-quota", "team-a")
    # Extended resources are quota'd by request only: requests.nvidia.com/gpu.
    assert quota["spec"] == {"hard": {"requests.nvidia.com/gpu": "2", "requests.cpu": "8",
                                      "requests.memory": "64Gi", "pods": "20"}}
    limits = edge.manifest("LimitRange", "llmfleet-defaults", "team-a")
    assert limits["spec"] == {"limits": [{"type": "Container", "default": {"memory": "4Gi", "cpu": "2"},
                                          "defaultRequest": {"cpu": "250m", "memory": "512Mi"}}]}
    # The program's own namespaces get no default CPU limit (LimitRanger would cap model servers).
    serving = edge.manifest("LimitRange", "llmfleet-defaults", "llm-serving")
    assert serving["spec"]["limits"][0]["default"] == {"memory": "1Gi"}
    assert serving["spec"]["limits"][0]["defaultRequest"] == {"cpu": "100m", "memory": "256Mi"}


def test_pod_security_is_enforced_audited_and_warned_at_the_clusters_version(edge):
    ns = edge.manifest("Namespace", "team-a")
    labels = ns["metadata"]["labels"]
    assert {k: v for k, v in labels.items() if k.startswith("pod-security")} == {
        f"pod-security.kubernetes.io/{mode}{suffix}": value for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", "restricted"), ("-version", "v1.33"))}
    assert labels["app.kubernetes.io/managed-by"] == "llmfleet"
    # restricted needs no reason; a namespace below it says why.
    assert "annotations" not in ns["metadata"] or not ns["metadata"]["annotations"]
    assert edge.manifest("Namespace", "gpu-operator")["metadata"]["annotations"]["llmfleet.io/why"]
