"""Resource options (plan/options.py `from_request`): what a later `pulumi up` does to a running cluster.

An option dropped by accident does not show in any rendered object: without `ignore_changes` on an autoscaled size
every `pulumi up` resets node groups to their minimum (draining model replicas); without delete-before-replace a
fixed-name node group cannot be replaced at all; a missing custom timeout fails `up` while a large model loads.
"""
import functools
import json

import pytest

from plan import __main__ as plan_cli
from plan.runtime import run_program
from tests.harness import run_stack

OPTION_KEYS = {"deleteBeforeReplace", "protect", "retainOnDelete", "ignoreChanges", "aliases", "replaceOnChanges",
               "customTimeouts"}

# Every resource type whose size an autoscaler owns, with the input that holds the size Pulumi would reset and how
# to tell that the resource is autoscaled. A new autoscaled type belongs here.
AUTOSCALED = {
    "aws:eks/nodeGroup:NodeGroup": ("scalingConfig.desiredSize",
                                    lambda i: i["scalingConfig"]["minSize"] < i["scalingConfig"]["maxSize"]),
    "gcp:container/nodePool:NodePool": ("initialNodeCount", lambda i: "autoscaling" in i),
    "azure-native:containerservice:AgentPool": ("count", lambda i: i.get("enableAutoScaling") is True),
    "azure-native:containerservice:ManagedCluster": (
        "agentPoolProfiles[0].count", lambda i: i["agentPoolProfiles"][0].get("enableAutoScaling") is True),
}
plan_of = functools.lru_cache(maxsize=None)(run_stack)


@pytest.mark.parametrize("stack", ["dev", "prod", "prod-karpenter", "gcp-prod", "azure-prod", "edge"])
def test_every_resource_records_every_option(stack):
    for r in plan_of(stack).resources:
        assert set(r.options) == OPTION_KEYS, r.urn


# The system node group of prod-karpenter has a fixed size (min == max) and Karpenter makes the GPU nodes.
@pytest.mark.parametrize("stack,expected", [("dev", 3), ("prod", 5), ("gcp-prod", 6), ("azure-prod", 7)])
def test_autoscaled_sizes_are_ignored(stack, expected):
    checked = []
    for type_, (size, autoscaled) in AUTOSCALED.items():
        for r in plan_of(stack).of_type(type_):
            if autoscaled(r.inputs):
                assert size in r.options["ignoreChanges"], f"{r.name}: `pulumi up` would reset {size}"
                checked.append(r.name)
    assert len(checked) == expected, checked


def test_eks_node_groups_are_deleted_before_replacement():
    # nodeGroupName is fixed (the autoscaler's priority regexes are built from it) and EKS rejects a second group of
    # the same name in a cluster, so create-before-delete would fail every replacement.
    for stack in ("dev", "prod"):
        groups = plan_of(stack).of_type("aws:eks/nodeGroup:NodeGroup")
        assert len(groups) >= 2
        for g in groups:
            assert g.inputs["nodeGroupName"], g.name
            assert g.options["deleteBeforeReplace"] is True, g.name


def test_gke_cluster_ignores_the_removed_default_pool_config():
    (cluster,) = plan_of("gcp-prod").of_type("gcp:container/cluster:Cluster")
    assert cluster.inputs["removeDefaultNodePool"] is True
    assert cluster.options["ignoreChanges"] == ["nodeConfig"]


@pytest.mark.parametrize("stack", ["prod", "gcp-prod", "azure-prod"])
def test_model_servers_wait_as_long_as_their_startup_budget(stack):
    """The annotation tells the Kubernetes provider how long to await readiness; the custom timeout tells the
    engine. Both must cover the model's load time, and agree (minutes are rounded down, so the budget must be whole
    minutes or the engine gives up first)."""
    p = plan_of(stack)
    servers = [r for r in p.resources if r.type in ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet",
                                                     "kubernetes:serving.kserve.io/v1beta1:InferenceService",
                                                     "kubernetes:ray.io/v1:RayService")
               and "pulumi.com/timeoutSeconds" in r.inputs["metadata"].get("annotations", {})]
    assert servers
    for r in servers:
        seconds = int(r.inputs["metadata"]["annotations"]["pulumi.com/timeoutSeconds"])
        assert seconds % 60 == 0 and seconds > 600, (r.name, seconds)   # longer than the provider's 10-min default
        minutes = f"{seconds // 60}m"
        assert r.options["customTimeouts"] == {"create": minutes, "update": minutes}, r.name
        template = r.inputs.get("spec", {}).get("template")
        if template:        # the startup probe's whole budget fits in the wait
            probe = template["spec"]["containers"][0]["startupProbe"]
            assert seconds >= probe["failureThreshold"] * probe["periodSeconds"], r.name
    assert any("template" in r.inputs.get("spec", {}) for r in servers)


def test_options_json_is_written_next_to_the_preview(tmp_path):
    assert plan_cli.plan("dev", tmp_path, quiet=True) == 0
    options = json.loads((tmp_path / "options.json").read_text())
    preview = json.loads((tmp_path / "preview.json").read_text())
    urns = [s["urn"] for s in preview["steps"] if s["newState"]["type"] != "pulumi:pulumi:Stack"]
    assert sorted(options) == sorted(urns)
    for urn, opts in options.items():
        assert set(opts) == OPTION_KEYS, urn
    group = next(u for u in urns if u.endswith("aws:eks/nodeGroup:NodeGroup::llm-dev-l40s-spot-ng"))
    assert options[group]["ignoreChanges"] == ["scalingConfig.desiredSize"]
    assert options[group]["deleteBeforeReplace"] is True


def test_every_option_is_recorded_as_the_engine_receives_it(tmp_path):
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "from pulumi import ResourceOptions, CustomTimeouts, Alias\n"
        "parent = pulumi.ComponentResource('llmfleet:test:Parent', 'parent', None,\n"
        "                                  ResourceOptions(protect=True))\n"
        "pulumi.CustomResource('llmfleet:test:Thing', 'thing', {'size': 3, 'name': 'n'}, ResourceOptions(\n"
        "    parent=parent, ignore_changes=['size'], delete_before_replace=True, retain_on_delete=True,\n"
        "    replace_on_changes=['name'], aliases=[Alias(name='old-thing')],\n"
        "    custom_timeouts=CustomTimeouts(create='30m', delete='5m')))\n"
        "pulumi.CustomResource('llmfleet:test:Plain', 'plain', {}, ResourceOptions(protect=False))\n")
    result = run_program("llmfleet", "t", {}, [], root=tmp_path)
    by_name = {r.name: r for r in result.resources}
    assert by_name["thing"].options == {
        "deleteBeforeReplace": True,
        "protect": True,                     # inherited from the parent, as the SDK sends it
        "retainOnDelete": True,
        "ignoreChanges": ["size"],
        "aliases": [{"name": "old-thing"}],
        "replaceOnChanges": ["name"],
        "customTimeouts": {"create": "30m", "delete": "5m"},
    }
    assert by_name["parent"].options["protect"] is True
    assert by_name["plain"].options == {"deleteBeforeReplace": False, "protect": False, "retainOnDelete": False,
                                        "ignoreChanges": [], "aliases": [], "replaceOnChanges": [],
                                        "customTimeouts": {}}


def test_stateful_cloud_resources_are_guarded():
    # GKE's own guard (the provider refuses to delete the cluster) is on by default. The Pulumi `protect` option on
    # production clusters is pending in another branch; add `options["protect"] is True` here when it lands.
    (cluster,) = plan_of("gcp-prod").of_type("gcp:container/cluster:Cluster")
    assert cluster.inputs["deletionProtection"] is True
