"""GKE defects of issues 9 and 19, one test (or more) each; every test here failed before its fix.

Issue 9: #9 ComputeClass by default (validated against the GKE schema, version checked, selected by pods), #11 pools
start at 0 nodes, #12 maintenance window + minor-upgrade exclusion + safe surge, #16 managed DCGM metrics kept
under the GPU-health rules, #20 master authorized networks in prod. Issue 19: fixed-name node pools are deleted
before they are replaced, the cluster is protected in prod, the Kubernetes provider has a stable identity.
"""
import json
from pathlib import Path
from types import SimpleNamespace

import jsonschema
import pytest

from spec.clouds.gcp import GcpSettings, check_gcp
from spec.reader import Problems
from tests.harness import PROD_BUDGET, changed, config_error, run_config, run_stack
from tests.resource_options import recorded_options  # noqa: F401 (fixture)

NODE_POOL = "gcp:container/nodePool:NodePool"
CLUSTER = "gcp:container/cluster:Cluster"
SCHEMA = Path("/work/shared/crds/gke/computeclass_v1.json")
GPU_POOLS = ["h100-on-demand", "h100-spot", "a100-spot", "l4-spot", "l4-on-demand"]


@pytest.fixture(scope="module")
def prod():
    return run_stack("gcp-prod")


def pod_specs(plan):
    """(kind, name, pod spec) of every workload manifest."""
    out = []
    for m in plan.manifests:
        spec = m.get("spec") or {}
        template = spec.get("template") or {}
        if "spec" in template:
            out.append((m["kind"], m["metadata"]["name"], template["spec"]))
    return out


def small(**gcp) -> dict:
    return {"cloud": "gcp", "environment": "prod",
            "budget": {**PROD_BUDGET, "gcpBillingAccount": "012345-6789AB-CDEF01"},
            "cluster": {"name": "g-t", "region": "us-central1", "zones": ["us-central1-a"],
                        "gcp": {"project": "example-proj-1", "authorizedNetworks": ["203.0.113.0/24"], **gcp}},
            "gpuPools": [{"name": "h100", "instanceType": "a3-highgpu-8g", "capacity": ["on-demand", "spot"],
                          "minNodes": 1, "maxNodes": 2}]}


# --- issue 9 #9: ComputeClass is the default and carries the chain --------------------------------------------

def test_compute_class_is_default_and_valid_against_the_gke_schema(prod):
    schema = json.loads(SCHEMA.read_text())
    classes = {m["metadata"]["name"]: m for m in prod.manifests if m["kind"] == "ComputeClass"}
    # llama-8b lists [h100, a100]: one pod template, so one class spans both pools (spec/pools.py pool_groups).
    assert sorted(classes) == ["llmfleet-h100", "llmfleet-l4"]
    for obj in classes.values():
        jsonschema.validate(obj, schema)      # raises on any field the GKE CRD does not have
    # The chain, in order: h100 on-demand, h100 spot, then the a100 pool (spot only); spot before on-demand for l4.
    assert classes["llmfleet-h100"]["spec"]["priorities"] == [{"nodepools": ["h100-on-demand"]},
                                                               {"nodepools": ["h100-spot"]},
                                                               {"nodepools": ["a100-spot"]}]
    assert classes["llmfleet-l4"]["spec"]["priorities"] == [{"nodepools": ["l4-spot"]},
                                                             {"nodepools": ["l4-on-demand"]}]


def test_the_schema_rejects_what_gke_would_reject():
    """The validation above can fail: a misspelt field is refused by the same schema."""
    schema = json.loads(SCHEMA.read_text())
    bad = {"apiVersion": "cloud.google.com/v1", "kind": "ComputeClass", "metadata": {"name": "x"},
           "spec": {"priorities": [{"nodepool": ["a"]}], "whenUnsatisfiable": "DoNotScaleUp"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def required_terms(spec: dict) -> list:
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
    return (affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []


def test_model_pods_select_their_compute_class(prod):
    """Every term that pins a model pod to a pool also names that pool's class (the serving layer renders the
    descriptor's node_selector as required node affinity), and the pod tolerates the class taint."""
    checked = 0
    for kind, name, spec in pod_specs(prod):
        for term in required_terms(spec):
            # DoesNotExist terms (no values) keep CPU pods such as the RAG system's off the pools.
            exprs = {e["key"]: e.get("values") for e in term.get("matchExpressions", [])}
            if exprs.get("llmfleet.io/pool") is None:
                continue
            pools = exprs["llmfleet.io/pool"]
            assert exprs.get("cloud.google.com/compute-class") == [f"llmfleet-{p}" for p in pools], (kind, name)
            assert {"key": "cloud.google.com/compute-class", "operator": "Equal", "value": f"llmfleet-{pools[0]}",
                    "effect": "NoSchedule"} in spec["tolerations"], (kind, name)
            checked += 1
    assert checked, "no model workload pinned to a pool"


def test_compute_class_version_is_checked_against_kubernetes_version():
    def problems_for(version):
        cluster = SimpleNamespace(region="us-central1", zones=("us-central1-a",), kubernetes_version=version,
                                  environment="dev", settings=GcpSettings(project="example-proj-1"))
        p = Problems()
        check_gcp(cluster, [], p)
        return p.lines
    assert problems_for("1.31") == []
    assert problems_for("1.30") == [
        "llmfleet:cluster.gcp.computeClass: needs GKE 1.30.3-gke.1451000 or later; kubernetesVersion 1.30 may run "
        "an older patch: use 1.31 or later, or set computeClass: false"]


def test_a_direct_call_without_paths_names_pools_by_position_even_with_a_bad_region():
    # check_gcp's public default: without `paths` a pool is named by its position under the prefix. A bad region
    # skips the zone rules but still checks each pool's reservation name.
    cluster = SimpleNamespace(region="europe", zones=(), kubernetes_version="1.31", environment="dev",
                              settings=GcpSettings(project="example-proj-1"))
    pools = [SimpleNamespace(capacity=("reserved",), reservation="ok-name", zones=()),
             SimpleNamespace(capacity=("reserved", "spot"), reservation="Bad_Name", zones=())]
    p = Problems()
    check_gcp(cluster, pools, p, prefix="edge")
    assert p.paths == ["edge:cluster.region", "edge:gpuPools[1].reservation"]


# --- issue 9 #11: pools start at 0 nodes -----------------------------------------------------------------------

def test_gpu_pools_start_empty_and_the_minimum_carries_the_baseline(prod):
    pools = {r.inputs["name"]: r.inputs for r in prod.of_type(NODE_POOL)}
    assert sorted(pools) == sorted(GPU_POOLS + ["system"])
    for name in GPU_POOLS:
        assert pools[name]["initialNodeCount"] == 0.0, name
    assert pools["h100-on-demand"]["autoscaling"]["totalMinNodeCount"] == 1.0


# --- issue 9 #12: maintenance window, minor-upgrade exclusion, surge --------------------------------------------

def test_prod_has_a_window_and_a_minor_upgrade_exclusion(prod):
    policy = prod.one(CLUSTER).inputs["maintenancePolicy"]
    assert policy == {
        "recurringWindow": {"startTime": "2026-01-03T02:00:00Z", "endTime": "2026-01-03T08:00:00Z",
                            "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU"},
        "maintenanceExclusions": [{"exclusionName": "llmfleet-pin-minor", "startTime": "2026-01-03T02:00:00Z",
                                   "exclusionOptions": {"scope": "NO_MINOR_UPGRADES",
                                                        "endTimeBehavior": "UNTIL_END_OF_SUPPORT"}}]}


def test_single_node_pools_surge_larger_pools_drain_one_at_a_time(prod):
    pools = {r.inputs["name"]: r.inputs for r in prod.of_type(NODE_POOL)}
    # Every prod GPU pool has a baseline of at most one node.
    for name in GPU_POOLS:
        assert pools[name]["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 1.0, "maxUnavailable": 0.0}
    big = run_config(changed(small(), gpuPools__0__minNodes=2), stack="gcp-big")
    np = next(r.inputs for r in big.of_type(NODE_POOL) if r.inputs["name"] == "h100-on-demand")
    assert np["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 0.0, "maxUnavailable": 1.0}


def test_maintenance_and_pin_mistakes_are_one_line_each():
    lines = config_error(small(pinMinorVersion=False,
                               maintenanceWindow={"start": "2026-01-03T02:00:00Z", "end": "2026-01-03T03:00:00Z"}))
    assert lines == [
        "llmfleet:cluster.gcp.maintenanceWindow.end: must be 4 to 24 hours after start (2026-01-03T02:00:00Z), "
        "got 2026-01-03T03:00:00Z",
        "llmfleet:cluster.gcp.pinMinorVersion: must stay true in a prod stack: without the minor-upgrade exclusion "
        "GKE moves the cluster to a minor the stack file does not name"]


# --- issue 9 #16: DCGM metrics on GKE-managed pools -------------------------------------------------------------

def test_gke_managed_dcgm_is_enabled_and_scraped_and_rules_kept(prod):
    assert prod.one(CLUSTER).inputs["monitoringConfig"] == {
        "enableComponents": ["SYSTEM_COMPONENTS", "DCGM"], "managedPrometheus": {"enabled": True}}
    pm = prod.manifest("PodMonitor", "gke-managed-dcgm-exporter", "monitoring")
    assert pm["spec"]["namespaceSelector"] == {"matchNames": ["gke-managed-system"]}
    rules = prod.manifest("PrometheusRule", "llmfleet-gpu", "monitoring")
    exprs = " ".join(r.get("expr", "") for g in rules["spec"]["groups"] for r in g["rules"])
    assert "DCGM_FI_DEV_XID_ERRORS" in exprs and "DCGM_FI_DEV_GPU_TEMP" in exprs


# --- issue 9 #20: control plane allow-list in prod ---------------------------------------------------------------

def test_prod_needs_authorized_networks_or_a_private_endpoint():
    cfg = small()
    del cfg["cluster"]["gcp"]["authorizedNetworks"]
    assert config_error(cfg) == [
        "llmfleet:cluster.gcp.authorizedNetworks: must list the CIDRs allowed to reach the control plane in a prod "
        "stack (or set privateEndpoint: true); empty means the whole internet"]
    private = run_config(changed(cfg, cluster__gcp__privateEndpoint=True), stack="gcp-private")
    assert private.one(CLUSTER).inputs["privateClusterConfig"] == {"enablePrivateNodes": True,
                                                                    "enablePrivateEndpoint": True}
    # Outside prod an open endpoint stays allowed (dev clusters).
    run_config(changed(cfg, environment="dev"), stack="gcp-dev")


# --- issue 19: replacement of fixed names, protection, provider identity ---------------------------------------

def test_node_pools_are_deleted_before_replacement_and_prod_cluster_protected(recorded_options):
    run_stack("gcp-prod")
    pools = recorded_options.named(NODE_POOL)
    assert sorted(pools) == sorted(f"llm-gcp-prod-{p}" for p in GPU_POOLS + ["system"])
    assert all(o.delete_before_replace for o in pools.values()), pools
    assert recorded_options.of(CLUSTER, "llm-gcp-prod-gke").protect is True


def test_non_prod_cluster_is_not_pulumi_protected(recorded_options):
    run_config(changed(small(), environment="dev"), stack="gcp-dev")
    assert recorded_options.of(CLUSTER, "g-t-gke").protect is False


def test_provider_has_a_stable_cluster_identifier(prod):
    provider = prod.one("pulumi:providers:kubernetes").inputs
    assert provider["clusterIdentifier"] == "gke/example-llmfleet-prod/us-central1/llm-gcp-prod"


def test_a_model_spanning_pools_selects_one_class_that_spans_them(prod):
    """GKE applies a class's order to pods that select it; a pod selects one class and a node pool belongs to one,
    so pools a model may use in turn share a class. gcp-prod's llama-8b lists [h100, a100]."""
    isvc = next(m for m in prod.manifests if m["kind"] == "InferenceService")
    assert isvc["spec"]["predictor"]["nodeSelector"] == {"cloud.google.com/compute-class": "llmfleet-h100"}
    labels = {r.inputs["name"]: r.inputs["nodeConfig"]["labels"].get("cloud.google.com/compute-class")
              for r in prod.of_type("gcp:container/nodePool:NodePool") if r.inputs["name"] != "system"}
    assert labels == {"h100-on-demand": "llmfleet-h100", "h100-spot": "llmfleet-h100", "a100-spot": "llmfleet-h100",
                      "l4-spot": "llmfleet-l4", "l4-on-demand": "llmfleet-l4"}


def test_pool_groups_join_transitively_and_keep_stack_order():
    from types import SimpleNamespace as NS
    from spec.pools import pool_groups
    pools = [NS(name=n) for n in ("a", "b", "c", "d")]
    models = [NS(placement=NS(pools=("c", "b"))), NS(placement=NS(pools=("d", "c"))), NS(placement=None)]
    # b-c and c-d join b, c, d; the group is named after its first pool in stack order (b); a stays alone.
    assert pool_groups(pools, models) == {"a": "a", "b": "b", "c": "b", "d": "b"}
