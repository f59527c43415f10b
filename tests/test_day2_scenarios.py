"""Day-2 scenarios (issue 19): change an example stack the way operators do, plan both, and ask what a second
`pulumi up` would do (plan/diff.py with the sourced table in plan/forces_new.py).

Every scenario asserts the same three properties:
- no stateful object (cluster, KMS key, file system, VPC, claim, namespace) is replaced or deleted,
- no fixed-name resource is replaced create-before-delete (it would fail with "already exists"),
- no Kubernetes object is replaced because its provider is,
plus that the change is visible at all (a scenario that changes nothing proves nothing).

Scenarios that fail today because the fix lives in another branch of issue 19 are `xfail(strict=True)` with the
issue-19 item in the reason: when that fix merges they start passing, strict xfail turns that into a failure, and
the marker must be removed.
"""
import copy
import ipaddress
import functools
import json

import pytest

from plan import diff
from plan.runtime import ROOT, run_program
from plan.stackfile import encode, load_stack_config

STACKS = ("dev", "prod", "prod-karpenter", "gcp-prod", "azure-prod", "edge")
NEXT_K8S = {"1.33": "1.34", "1.34": "1.35"}
# Same GPU, other size: a pool rebuild (instance type forces a new node group / pool / agent pool).
OTHER_INSTANCE = {"g6e.xlarge": "g6e.12xlarge", "p5.48xlarge": "p5en.48xlarge",
                  "a3-highgpu-8g": "a3-megagpu-8g", "Standard_ND96isr_H100_v5": "Standard_ND96isr_H200_v5"}
EXTRA_ZONE = {"aws": "us-east-1d", "gcp": "us-central1-b"}


def _decode(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value


@functools.lru_cache(maxsize=None)
def _stack_config(stack: str):
    project, config, secret_keys = load_stack_config(ROOT, stack)
    return project, {k: _decode(v) for k, v in config.items()}, tuple(secret_keys)


def config_of(stack: str) -> dict:
    return copy.deepcopy(_stack_config(stack)[1])


def _run(stack: str, cfg_json: str) -> dict:
    project, _, secret_keys = _stack_config(stack)
    cfg = {k: encode(v) for k, v in json.loads(cfg_json).items()}
    return diff.from_run(run_program(project, stack, cfg, list(secret_keys)))


@functools.lru_cache(maxsize=None)
def planned(stack: str, cfg_json: str) -> dict:
    return _run(stack, cfg_json)


def plan_of(stack: str, cfg: dict) -> dict:
    return planned(stack, json.dumps(cfg, sort_keys=True))


# --- scenarios: (base config, head config) or None when the stack has nothing to change ---------------------------
def _pools(cfg):
    return cfg["llmfleet:gpuPools"]


def k8s_bump(stack, cfg):
    head = copy.deepcopy(cfg)
    head["llmfleet:cluster"]["kubernetesVersion"] = NEXT_K8S[cfg["llmfleet:cluster"]["kubernetesVersion"]]
    return cfg, head


def gpu_type(stack, cfg):
    head = copy.deepcopy(cfg)
    for p in _pools(head):
        if p.get("instanceType") in OTHER_INSTANCE:
            p["instanceType"] = OTHER_INSTANCE[p["instanceType"]]
            return cfg, head
    return None


def pool_count(stack, cfg):
    head = copy.deepcopy(cfg)
    _pools(head)[0]["maxNodes"] += 1
    return cfg, head


def sharing(stack, cfg):
    head = copy.deepcopy(cfg)
    for p in _pools(head):
        s = p.get("sharing")
        if s and s["mode"] == "time-slicing":
            s["replicas"] = 2 if s["replicas"] != 2 else 4
            return cfg, head
        if s and s["mode"] == "mig":
            s["migProfile"] = "2g.20gb"
            return cfg, head
    return None


def capacity_chain(stack, cfg):
    head = copy.deepcopy(cfg)
    for p in _pools(head):
        if len(p.get("capacity", [])) == 2:
            p["capacity"] = list(reversed(p["capacity"]))
            return cfg, head
    return None


def add_zone(stack, cfg):
    cloud = cfg["llmfleet:cloud"]
    zones = cfg["llmfleet:cluster"].get("zones")
    if cloud not in EXTRA_ZONE or not zones:
        return None
    head = copy.deepcopy(cfg)
    head["llmfleet:cluster"]["zones"] = zones + [EXTRA_ZONE[cloud]]
    if cloud == "aws":
        # The default layout carves zones a-c only; a fourth zone takes the one free public /20 of the VPC's last
        # quarter, split in two (what spec/clouds/aws.py asks the user to give in subnetCidrs).
        vpc = ipaddress.IPv4Network(cfg["llmfleet:cluster"]["aws"]["vpcCidr"])
        free = list(list(vpc.subnets(prefixlen_diff=2))[-1].subnets(prefixlen_diff=2))[3]
        private, public = (str(n) for n in free.subnets(prefixlen_diff=1))
        head["llmfleet:cluster"]["aws"]["subnetCidrs"] = {EXTRA_ZONE[cloud]: {"private": private, "public": public}}
    return cfg, head


def zone_order(stack, cfg):
    zones = cfg["llmfleet:cluster"].get("zones")
    if cfg["llmfleet:cloud"] not in EXTRA_ZONE or not zones or len(zones) < 2:
        return None
    head = copy.deepcopy(cfg)
    head["llmfleet:cluster"]["zones"] = list(reversed(zones))
    return cfg, head


def _with_extra_pool(cfg):
    out = copy.deepcopy(cfg)
    extra = copy.deepcopy(_pools(cfg)[-1])
    extra["name"] = "extra"
    extra.pop("sharing", None)
    extra["minNodes"] = 0
    _pools(out).append(extra)
    return out


def add_pool(stack, cfg):
    return cfg, _with_extra_pool(cfg)


def remove_pool(stack, cfg):
    return _with_extra_pool(cfg), cfg


def model_version(stack, cfg):
    head = copy.deepcopy(cfg)
    for m in head["llmfleet:models"]:
        m["version"] = "2"
    return cfg, head


def cache_size(stack, cfg):
    head = copy.deepcopy(cfg)
    for m in head["llmfleet:models"]:
        if m.get("cache"):
            m["cache"]["sizeGi"] = m["cache"].get("sizeGi", 200) + 100
            return cfg, head
    return None


def engine_version(stack, cfg):
    if not any(m.get("engine", "vllm") == "vllm" for m in cfg["llmfleet:models"]):
        return None
    head = copy.deepcopy(cfg)
    head.setdefault("llmfleet:serving", {})["vllmImage"] = "vllm/vllm-openai:v0.32.0"
    return cfg, head


SCENARIOS = {f.__name__: f for f in (k8s_bump, gpu_type, pool_count, sharing, capacity_chain, add_zone, zone_order, add_pool,
                                     remove_pool, model_version, cache_size, engine_version)}

AKS_CASCADE = ("issue 19 'Kubernetes provider replacement cascades': the AKS kubeconfig comes from an invoke that "
               "depends on the agent pools; fixed in the GKE/AKS branch (provider cluster_identifier)")
FIXED_NAMES = ("issue 19 'Fixed names + replacement = failure': {what} keeps its name without delete_before_replace; "
               "fixed in the GKE/AKS branch (delete_before_replace / generation names)")
SUBNETS = ("issue 19 'Subnets by list position': adding or reordering zones re-carves subnet CIDRs (replace, "
           "CIDR overlap while the old subnets exist); "
           "fixed in the AWS branch (subnets by zone)")
XFAIL: dict = {}


def problems(d: dict) -> list[str]:
    out = []
    for r in d["resources"]:
        if r["stateful"] and r["op"] in ("replace", "delete"):
            out.append(f"stateful {r['op']}: {r['type']} {r['name']}: {'; '.join(r['reasons'])}")
        for f in r["flags"]:
            if f.startswith(("name conflict", "fixed name", "unique conflict")):
                out.append(f"{r['type']} {r['name']}: {f}")
        if r["k8s"] and r["op"] == "replace" and any("its provider" in x for x in r["reasons"]):
            out.append(f"{r['type']} {r['name']} replaced because its provider is")
    return out


def _cases():
    for stack in STACKS:
        for name in SCENARIOS:
            marks = [pytest.mark.xfail(strict=True, reason=XFAIL[(stack, name)])] if (stack, name) in XFAIL else []
            yield pytest.param(stack, name, marks=marks, id=f"{stack}-{name}")


@pytest.mark.parametrize("stack,scenario", list(_cases()))
def test_day2_scenario(stack, scenario):
    pair = SCENARIOS[scenario](stack, config_of(stack))
    if pair is None:
        pytest.skip(f"{stack} has nothing for {scenario} to change")
    base, head = pair
    d = diff.diff_stack(plan_of(stack, base), plan_of(stack, head))
    assert d["resources"], f"{scenario} changed nothing in {stack}: the scenario proves nothing"
    assert d["optionsKnown"]
    found = problems(d)
    assert not found, f"{stack} {scenario}:\n" + "\n".join(found)


def test_kubeconfig_rotation_on_an_existing_cluster_updates_the_provider_only():
    """A rotated kubeconfig is a secret: the plan cannot see it, so the diff is asked "what if it changed"."""
    cfg = config_of("edge")
    p = plan_of("edge", cfg)
    d = diff.diff_stack(p, p, secret_changed=frozenset({"kubeconfig"}))
    (prov,) = [r for r in d["resources"] if r["type"] == "pulumi:providers:kubernetes"]
    assert prov["op"] == "update" and prov["changed"] == ["kubeconfig"]
    assert not problems(d)
    assert [r for r in d["resources"] if r["op"] != "update"] == []


def test_kubeconfig_rotation_without_cluster_identifier_would_replace_every_object():
    """The same rotation against a provider without clusterIdentifier: the cascade the identifier prevents."""
    p = plan_of("edge", config_of("edge"))
    bare = copy.deepcopy(p)
    for st in bare["states"].values():
        if st["type"] == "pulumi:providers:kubernetes":
            st["inputs"].pop("clusterIdentifier")
    d = diff.diff_stack(bare, bare, secret_changed=frozenset({"kubeconfig"}))
    replaced = [r for r in d["resources"] if r["op"] == "replace"]
    kinds = {r["type"] for r in replaced}
    assert "pulumi:providers:kubernetes" in kinds and "kubernetes:core/v1:Namespace" in kinds
    objects = {u for u, st in bare["states"].items() if st["custom"] and diff.is_k8s_object(st["type"])}
    assert len(objects) > 10
    assert {r["urn"] for r in replaced if r["k8s"]} == objects
    assert all(any("its provider" in x for x in r["reasons"]) for r in replaced if r["k8s"])


PROTECT = ("issue 19 'Nothing protected': clusters, KMS keys and file systems carry no protect; fixed in the "
           "per-cloud branches")


@pytest.mark.parametrize("stack", ["prod", "prod-karpenter", "gcp-prod", "azure-prod"])
def test_prod_stacks_protect_clusters_keys_and_file_systems(stack):
    p = plan_of(stack, config_of(stack))
    kinds = {"aws:eks/cluster:Cluster", "aws:kms/key:Key", "aws:efs/fileSystem:FileSystem",
             "gcp:container/cluster:Cluster", "azure-native:containerservice:ManagedCluster"}
    found = {u: p["options"][u] for u, st in p["states"].items() if st["type"] in kinds}
    assert found, f"{stack} has no cluster, key or file system"
    assert [u for u, o in found.items() if not o["protect"]] == []


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-karpenter"])
def test_kubernetes_version_bump_reaches_the_eks_node_groups(stack):
    base, head = k8s_bump(stack, config_of(stack))
    d = diff.diff_stack(plan_of(stack, base), plan_of(stack, head))
    groups = [u for u, st in plan_of(stack, head)["states"].items() if st["type"] == "aws:eks/nodeGroup:NodeGroup"]
    assert groups
    updated = {r["urn"] for r in d["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup"
               and r["op"] == "update" and "version" in r["changed"]}
    assert updated == set(groups)


def test_reordering_zones_replaces_nothing():
    """Subnets are carved by zone letter and the node groups' and cluster's subnet lists are sets in the provider
    (plan/forces_new.py SET_INPUTS): a reordered zone list replaces no node group."""
    base, head = zone_order("prod", config_of("prod"))
    d = diff.diff_stack(plan_of("prod", base), plan_of("prod", head))
    assert d["summary"]["replace"] == 0 and d["summary"]["create"] == 0 and d["summary"]["delete"] == 0
