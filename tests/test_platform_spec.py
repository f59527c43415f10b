"""`llmfleet:platform.namespaces`: defaults, overrides, quotas and container limits, field by field.

Mutation testing (tests/mutate.py) showed most of spec/platform.py's namespace reader could change without a test
noticing: a default level, a quantity pattern, a limit default.
"""
import dataclasses

import pytest

from spec.platform import DEFAULT_NAMESPACES, Limits, Quota
from spec.reader import ConfigError
from spec.stack import load

KUBE = {"kubeconfig"}


def edge(namespaces=None, gpus_per_node=2):
    cfg = {"cloud": "existing", "kubeconfig": "k",
           "gpuPools": [{"name": "e", "gpu": "l4-24gb", "gpusPerNode": gpus_per_node, "maxNodes": 3,
                         "labels": {"gpu": "l4"}}]}
    if namespaces is not None:
        cfg["platform"] = {"namespaces": namespaces}
    return cfg


def platform(namespaces=None, **kw):
    return load(edge(namespaces, **kw), KUBE, "t").platform


def errors(namespaces):
    with pytest.raises(ConfigError) as e:
        load(edge(namespaces), KUBE, "t")
    return e.value.lines


def test_defaults():
    p = platform()
    assert [(n.name, n.pod_security) for n in p.namespaces] == list(DEFAULT_NAMESPACES.items())
    assert [(n.name, n.pod_security) for n in p.namespaces] == [
        ("llm-serving", "baseline"), ("gpu-operator", "privileged"), ("monitoring", "privileged"),
        ("llm-system", "baseline")]
    # The serving namespace may request every GPU of every pool: maxNodes 3 x 2 GPUs per node.
    assert p.namespace("llm-serving").quota == Quota(gpus=6)
    assert all(p.namespace(n).quota is None for n in ("gpu-operator", "monitoring", "llm-system"))
    # No default CPU limit anywhere (LimitRanger would cap model servers below their request: spec/platform.py).
    assert all(n.limits == Limits(None, "1Gi", "100m", "256Mi") for n in p.namespaces)


def test_default_gpu_quota_multiplies_nodes_by_gpus_per_node():
    assert platform(gpus_per_node=8).namespace("llm-serving").quota.gpus == 24      # 3 nodes x 8
    assert platform(gpus_per_node=1).namespace("llm-serving").quota.gpus == 3


def test_a_new_namespace_gets_baseline_no_quota_and_default_limits():
    p = platform([{"name": "team-a"}])
    ns = p.namespace("team-a")
    assert (ns.pod_security, ns.quota, ns.limits) == ("baseline", None, Limits())
    assert [n.name for n in p.namespaces] == ["llm-serving", "gpu-operator", "monitoring", "llm-system", "team-a"]


def test_quota_and_limits_are_read_field_by_field():
    ns = platform([{"name": "team-a", "podSecurity": "restricted",
                    "quota": {"gpus": 0, "cpu": "8", "memory": "64Gi", "pods": 1},
                    "limits": {"defaultCpu": "2", "defaultMemory": "4Gi", "defaultRequestCpu": "250m",
                               "defaultRequestMemory": "512Mi"}}]).namespace("team-a")
    assert ns.pod_security == "restricted"
    assert ns.quota == Quota(gpus=0, cpu="8", memory="64Gi", pods=1)
    assert ns.limits == Limits("2", "4Gi", "250m", "512Mi")
    # Fields left out keep their defaults, one by one.
    ns = platform([{"name": "team-a", "quota": {"cpu": "1.5"}, "limits": {"defaultMemory": "2Gi"}}]).namespace("team-a")
    assert ns.quota == Quota(cpu="1.5")
    assert ns.limits == Limits(default_memory="2Gi")


def test_overriding_the_serving_namespace_replaces_its_default_quota():
    ns = platform([{"name": "llm-serving", "podSecurity": "restricted"}]).namespace("llm-serving")
    assert (ns.pod_security, ns.quota) == ("restricted", None)


def test_bad_fields_name_their_key():
    assert errors([{"name": "Team_A", "podSecurity": "open",
                    "quota": {"gpus": -1, "cpu": "lots", "memory": "1 Gi", "pods": 0},
                    "limits": {"defaultCpu": "x", "defaultMemory": "1GB", "defaultRequestCpu": "-1",
                               "defaultRequestMemory": "m"}}]) == [
        "llmfleet:platform.namespaces[0].name: must be a DNS label (lowercase letters, digits and '-', at most 63, "
        "starting and ending alphanumeric), got 'Team_A'",
        "llmfleet:platform.namespaces[0].podSecurity: must be one of baseline, privileged, restricted, got 'open'",
        "llmfleet:platform.namespaces[0].quota.gpus: must be >= 0, got -1",
        "llmfleet:platform.namespaces[0].quota.cpu: must be a Kubernetes quantity such as 500m, 4, 16Gi, got 'lots'",
        "llmfleet:platform.namespaces[0].quota.memory: must be a Kubernetes quantity such as 500m, 4, 16Gi, "
        "got '1 Gi'",
        "llmfleet:platform.namespaces[0].quota.pods: must be >= 1, got 0",
        "llmfleet:platform.namespaces[0].limits.defaultCpu: must be a Kubernetes quantity such as 500m, 4, 16Gi, "
        "got 'x'",
        "llmfleet:platform.namespaces[0].limits.defaultMemory: must be a Kubernetes quantity such as 500m, 4, 16Gi, "
        "got '1GB'",
        "llmfleet:platform.namespaces[0].limits.defaultRequestCpu: must be a Kubernetes quantity such as 500m, 4, "
        "16Gi, got '-1'",
        "llmfleet:platform.namespaces[0].limits.defaultRequestMemory: must be a Kubernetes quantity such as 500m, 4, "
        "16Gi, got 'm'",
    ]


def test_a_name_is_required_and_unique():
    assert errors([{"podSecurity": "baseline"}]) == ["llmfleet:platform.namespaces[0].name: is required"]
    assert errors([{"name": "a"}, {"name": "a"}]) == ["llmfleet:platform.namespaces[1].name: duplicate namespace "
                                                      "name 'a'"]


@pytest.mark.parametrize("name", ["gpu-operator", "monitoring"])
def test_host_access_namespaces_stay_privileged(name):
    assert errors([{"name": name, "podSecurity": "restricted"}]) == [
        f"llmfleet:platform.namespaces[0].podSecurity: {name} runs node agents that need host access: must stay "
        "privileged"]
    assert platform([{"name": name, "podSecurity": "privileged"}]).namespace(name).pod_security == "privileged"


QUOTA = {"gpus": 4, "cpu": "8", "memory": "64Gi", "pods": 10}
LIMITS = {"defaultCpu": "2", "defaultMemory": "4Gi", "defaultRequestCpu": "250m", "defaultRequestMemory": "512Mi"}


@pytest.mark.parametrize("block,left_out", [("quota", k) for k in QUOTA] + [("limits", k) for k in LIMITS])
def test_each_field_left_out_keeps_its_default(block, left_out):
    full = {"quota": dict(QUOTA), "limits": dict(LIMITS)}
    del full[block][left_out]
    ns = platform([{"name": "team-a", **full}]).namespace("team-a")
    quota = Quota(gpus=4, cpu="8", memory="64Gi", pods=10)
    limits = Limits("2", "4Gi", "250m", "512Mi")
    field = {"gpus": "gpus", "cpu": "cpu", "memory": "memory", "pods": "pods", "defaultCpu": "default_cpu",
             "defaultMemory": "default_memory", "defaultRequestCpu": "default_request_cpu",
             "defaultRequestMemory": "default_request_memory"}[left_out]
    if block == "quota":
        quota = dataclasses.replace(quota, **{field: None})          # an unset quota field sets no limit
    else:
        limits = dataclasses.replace(limits, **{field: getattr(Limits(), field)})
    assert (ns.quota, ns.limits) == (quota, limits)
