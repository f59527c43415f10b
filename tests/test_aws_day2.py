"""Issue 19, AWS side: what the second `pulumi up` does. The region is the stack's, node groups and add-ons follow
`kubernetesVersion`, subnets and tags are keyed so additions do not replace neighbours, stateful resources are
protected in prod, the Kubernetes provider is not replaced by a kubeconfig change, extra admins are named.

Resource options are read with tests/aws_options.py (plan/runtime.py does not record them yet).
"""
import pytest

from tests.aws_options import recording
from tests.harness import PROD_BUDGET, changed, config_error, run_config, run_stack

NG = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
SUBNET = "aws:ec2/subnet:Subnet"
TAG = "aws:autoscaling/tag:Tag"
EKS = "aws:eks/cluster:Cluster"
KMS = "aws:kms/key:Key"
EFS = "aws:efs/fileSystem:FileSystem"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOC = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"

BASE = {
    "cloud": "aws",
    "cluster": {"name": "t1", "region": "eu-west-1", "zones": ["eu-west-1a", "eu-west-1b"],
                "aws": {"vpcCidr": "10.20.0.0/16"}},
    "gpuPools": [{"name": "l4", "instanceType": "g6.xlarge", "capacity": ["spot", "on-demand"], "maxNodes": 2}],
}
CI = "arn:aws:iam::111122223333:role/ci/deployer"
OPS = "arn:aws:iam::111122223333:role/ops-admin"


def cfg(**changes):
    return changed(BASE, **changes)


def run_recorded(config=None, stack=None):
    with recording() as rec:
        plan = run_stack(stack) if stack else run_config(config)
    return plan, rec


# --- AWS region: an explicit provider from config ----------------------------------------------------------

def test_every_aws_resource_and_invoke_uses_the_stacks_region():
    plan, rec = run_recorded(cfg())
    provider = plan.one("pulumi:providers:aws", "t1-aws")
    assert provider.inputs["region"] == "eu-west-1"
    aws_resources = [r for r in plan.resources if r.custom and r.type.startswith("aws:")]
    assert len(aws_resources) > 50
    assert {r.provider.rsplit("::", 1)[0] for r in aws_resources} == {provider.urn}
    invokes = [(token, ref) for token, _, ref in rec.invokes if token.startswith("aws:")]
    assert invokes and {ref.rsplit("::", 1)[0] for _, ref in invokes} == {provider.urn}


# --- node groups and add-ons follow kubernetesVersion ------------------------------------------------------

def test_kubernetes_version_bump_upgrades_node_groups_and_addons():
    plans = {v: run_config(cfg(cluster__kubernetesVersion=v)) for v in ("1.34", "1.35")}
    for v, plan in plans.items():
        groups = plan.of_type(NG)
        assert len(groups) == 3 and {g.inputs["version"] for g in groups} == {v}
        assert {a.inputs["addonName"]: a.inputs["addonVersion"] for a in plan.of_type(ADDON)} == {
            a: f"offline-default-for-{v}" for a in ("vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver")}
        cluster = plan.one(EKS)
        # Upgraded after the control plane: each waits for the cluster resource.
        assert all(plan.waits_for(r, cluster) for r in [*groups, *plan.of_type(ADDON)])


def test_desired_size_stays_with_the_autoscaler():
    plan, rec = run_recorded(stack="dev")
    for ng in plan.of_type(NG):
        opts = rec.of(ng)
        assert opts.ignore_changes == ["scalingConfig.desiredSize"] and opts.delete_before_replace


# --- subnets keyed by zone ---------------------------------------------------------------------------------

def subnet_cidrs(plan) -> dict:
    return {r.name.removeprefix("t1-network-"): r.inputs["cidrBlock"] for r in plan.of_type(SUBNET)}


def test_adding_or_reordering_zones_keeps_every_existing_subnet():
    two = subnet_cidrs(run_config(cfg()))
    three = subnet_cidrs(run_config(cfg(cluster__zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"])))
    swapped = subnet_cidrs(run_config(cfg(cluster__zones=["eu-west-1b", "eu-west-1a"])))
    dropped = subnet_cidrs(run_config(cfg(cluster__zones=["eu-west-1b", "eu-west-1c"])))
    assert two == {"private-eu-west-1a": "10.20.0.0/18", "public-eu-west-1a": "10.20.192.0/20",
                   "private-eu-west-1b": "10.20.64.0/18", "public-eu-west-1b": "10.20.208.0/20"}
    assert {k: three[k] for k in two} == two and three["private-eu-west-1c"] == "10.20.128.0/18"
    assert swapped == two
    assert dropped["private-eu-west-1b"] == two["private-eu-west-1b"]


def test_shipped_stacks_keep_the_layout_they_were_created_with():
    # The positional layout of earlier versions gave [a, b, c] these blocks; the zone layout gives the same.
    plan = run_stack("prod")
    cidrs = {r.name.removeprefix("llm-prod-network-"): r.inputs["cidrBlock"] for r in plan.of_type(SUBNET)}
    assert cidrs == {"private-us-east-1a": "10.40.0.0/18", "private-us-east-1b": "10.40.64.0/18",
                     "private-us-east-1c": "10.40.128.0/18", "public-us-east-1a": "10.40.192.0/20",
                     "public-us-east-1b": "10.40.208.0/20", "public-us-east-1c": "10.40.224.0/20"}


def test_zones_past_c_need_explicit_cidrs():
    zones = ["eu-west-1a", "eu-west-1d"]
    assert config_error(cfg(cluster__zones=zones)) == [
        "llmfleet:cluster.zones[1]: eu-west-1d: the default subnet layout carves zones ending in a, b or c only; "
        "give this zone's CIDRs in llmfleet:cluster.aws.subnetCidrs.eu-west-1d (private, public)"]
    pinned = {"eu-west-1d": {"private": "10.20.128.0/18", "public": "10.20.224.0/20"}}
    plan = run_config(cfg(cluster__zones=zones, cluster__aws={"vpcCidr": "10.20.0.0/16", "subnetCidrs": pinned}))
    assert subnet_cidrs(plan)["private-eu-west-1d"] == "10.20.128.0/18"
    outside = {"eu-west-1d": {"private": "10.20.128.0/18", "public": "10.30.0.0/24"}}
    assert config_error(cfg(cluster__zones=zones, cluster__aws={"vpcCidr": "10.20.0.0/16",
                                                                "subnetCidrs": outside})) == [
        "llmfleet:cluster.aws.subnetCidrs.eu-west-1d.public: must lie inside vpcCidr 10.20.0.0/16, got 10.30.0.0/24"]
    clash = {"eu-west-1d": {"private": "10.20.0.0/20", "public": "10.20.224.0/20"}}
    assert config_error(cfg(cluster__zones=zones, cluster__aws={"vpcCidr": "10.20.0.0/16", "subnetCidrs": clash})) == [
        "llmfleet:cluster.aws.subnetCidrs: eu-west-1d private subnet 10.20.0.0/20 overlaps eu-west-1a private "
        "subnet 10.20.0.0/18"]


# --- ASG tags keyed by tag key -----------------------------------------------------------------------------

def test_asg_tags_are_named_by_key_with_aliases_from_positions():
    plan, rec = run_recorded(cfg())
    tags = [r for r in plan.of_type(TAG) if r.parent.endswith("t1-l4-spot")]
    names = {r.inputs["tag"]["key"].removeprefix("k8s.io/cluster-autoscaler/node-template/"): r.name for r in tags}
    assert names["taint/nvidia.com/gpu"] == "t1-l4-spot-asg-tag-taint/nvidia.com/gpu"
    assert names["label/llmfleet.io/pool"] == "t1-l4-spot-asg-tag-label/llmfleet.io/pool"
    # The alias is the name the same tag had when tags were numbered (its position in the same order).
    assert sorted(rec.of(r).alias_names[0] for r in tags) == sorted(f"t1-l4-spot-asg-tag-{i}" for i in range(len(tags)))
    # A new label adds one tag resource and renames none.
    more = run_config(cfg(gpuPools__0__labels={"team": "ml"}))
    more_names = {r.name for r in more.of_type(TAG) if r.parent.endswith("t1-l4-spot")}
    assert more_names - set(names.values()) == {"t1-l4-spot-asg-tag-label/team"}


# --- protection of stateful resources ----------------------------------------------------------------------

def protection(plan, rec) -> dict:
    return {t: (rec.of(plan.one(t)).protect, rec.of(plan.one(t)).retain_on_delete) for t in (EKS, KMS, EFS)}


def test_prod_protects_cluster_key_and_file_system():
    plan, rec = run_recorded(stack="prod")
    assert protection(plan, rec) == {EKS: (True, True), KMS: (True, True), EFS: (True, True)}


def test_protection_defaults_off_elsewhere_and_is_configurable():
    # concurrency 4: eight 8k sequences of Qwen2.5-7B with a 16-bit KV cache no longer fit one L4.
    shared = [{"name": "m", "model": "qwen2.5-7b", "concurrency": 4, "cache": {"mode": "shared"}}]
    plan, rec = run_recorded(cfg(models=shared))
    assert protection(plan, rec) == {EKS: (False, False), KMS: (False, False), EFS: (False, False)}
    plan, rec = run_recorded(cfg(models=shared, cluster__aws={"vpcCidr": "10.20.0.0/16", "protect": True}))
    assert protection(plan, rec) == {EKS: (True, True), KMS: (True, True), EFS: (True, True)}
    plan, rec = run_recorded(cfg(models=shared, environment="prod", budget=PROD_BUDGET, cluster__aws={
        "vpcCidr": "10.20.0.0/16", "protect": False, "endpointAccess": "private"}))
    assert protection(plan, rec) == {EKS: (False, False), KMS: (False, False), EFS: (False, False)}


# --- the Kubernetes provider -------------------------------------------------------------------------------

def test_kubernetes_provider_has_a_stable_identity_and_waits_for_nodes():
    plan = run_config(cfg())
    provider = plan.one("pulumi:providers:kubernetes", "t1-k8s")
    # Not the kubeconfig: a new endpoint or CA updates the provider instead of replacing every object.
    assert provider.inputs["clusterIdentifier"] == "arn:aws:eks:us-east-1:000000000000:cluster/t1@2026-01-01T00:00:00Z"
    assert plan.waits_for(provider, plan.one(NG, "t1-system-ng"))


# --- access entries for extra admins -----------------------------------------------------------------------

def test_admin_entries_are_named_by_principal():
    plan, rec = run_recorded(cfg(cluster__aws={"vpcCidr": "10.20.0.0/16", "adminRoleArns": [CI, OPS]}))
    entries = {r.inputs["principalArn"]: r for r in plan.of_type(ENTRY)}
    assert entries[CI].name == "t1-admin-111122223333-role-ci-deployer"
    assert rec.of(entries[CI]).alias_names == ["t1-admin-0"] and rec.of(entries[OPS]).alias_names == ["t1-admin-1"]
    assoc = {r.inputs["principalArn"]: r for r in plan.of_type(ASSOC)}
    assert assoc[OPS].inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    # Dropping the first admin leaves the second one's resources untouched (same names, same inputs).
    fewer = run_config(cfg(cluster__aws={"vpcCidr": "10.20.0.0/16", "adminRoleArns": [OPS]}))
    (only,) = fewer.of_type(ENTRY)
    assert (only.name, only.inputs) == (entries[OPS].name, entries[OPS].inputs)


# --- minNodes raised above (or maxNodes lowered below) the live desired size ---------------------------------

@pytest.fixture
def live_groups(monkeypatch):
    from plan import fakes
    live: dict = {}
    monkeypatch.setattr(fakes, "LIVE_NODE_GROUPS", live, raising=False)
    return live


def scaling(plan, rec, group):
    ng = next(r for r in plan.of_type(NG) if r.inputs["nodeGroupName"] == group)
    return ng.inputs["scalingConfig"], rec.of(ng).ignore_changes


def test_raising_min_nodes_above_the_live_size_sends_the_new_floor(live_groups):
    # Live: the autoscaler has the on-demand group at 1 node, the spot group at 2, the system group at 3.
    live_groups.update({("t1", "l4-on-demand"): 1, ("t1", "l4-spot"): 2, ("t1", "system"): 3})
    pool = {"name": "l4", "instanceType": "g6.xlarge", "capacity": ["on-demand", "spot"], "minNodes": 2,
            "maxNodes": 4}
    plan, rec = run_recorded(cfg(gpuPools=[pool], cluster__aws={"vpcCidr": "10.20.0.0/16",
                                                                 "systemNodes": {"maxNodes": 2}}))
    # minNodes 2 > live 1: desired 2 is sent (EKS rejects min > desired), not ignored.
    assert scaling(plan, rec, "l4-on-demand") == ({"minSize": 2, "maxSize": 4, "desiredSize": 2}, [])
    # Inside the bounds: the autoscaler's size stands.
    assert scaling(plan, rec, "l4-spot")[1] == ["scalingConfig.desiredSize"]
    # maxNodes 2 < live 3: desired 2 is sent.
    assert scaling(plan, rec, "system") == ({"minSize": 2, "maxSize": 2, "desiredSize": 2}, [])


def test_new_groups_start_at_their_minimum():
    plan, rec = run_recorded(cfg())
    assert scaling(plan, rec, "l4-spot") == ({"minSize": 0, "maxSize": 2, "desiredSize": 0},
                                             ["scalingConfig.desiredSize"])


# --- adding a zone: node groups keep their subnets when their zones are listed ------------------------------

def test_adding_a_zone_keeps_node_groups_with_listed_zones():
    ab, abc = ["eu-west-1a", "eu-west-1b"], ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    pinned = {"vpcCidr": "10.20.0.0/16", "systemNodes": {"zones": ab}}
    before = run_config(cfg(cluster__aws=pinned, gpuPools__0__zones=ab))
    after = run_config(cfg(cluster__aws=pinned, gpuPools__0__zones=ab, cluster__zones=abc))
    # subnetIds forces a new EKS node group (terraform-provider-aws internal/service/eks/node_group.go): equal
    # inputs mean no rebuild.
    subnets = lambda plan: {r.inputs["nodeGroupName"]: r.inputs["subnetIds"] for r in plan.of_type(NG)}
    assert subnets(after) == subnets(before)
    # The cluster itself takes the new subnet in place (UpdateClusterConfig).
    assert len(after.one(EKS).inputs["vpcConfig"]["subnetIds"]) == 3
    assert config_error(cfg(cluster__aws={"vpcCidr": "10.20.0.0/16", "systemNodes": {"zones": ["eu-west-1c"]}})) == [
        "llmfleet:cluster.aws.systemNodes.zones[0]: must be one of the cluster's zones (eu-west-1a, eu-west-1b), "
        "got 'eu-west-1c'"]
