"""plan.diff and plan.forces_new decision by decision, on hand-built states: input paths, set-typed inputs, id
references, secrets assumed changed, provider changes, protect and stateful flags, unique values, cost, policy and
routing summaries, and the markdown."""
from plan import diff, forces_new as fn
from plan.routesdiff import routes_diff
from plan.runtime import SECRET

from tests.test_plan_diff import P, state


def plan_of(*states, options=None, **extra):
    s = dict(states)
    return dict({"states": s, "options": options if options is not None else {u: {"deleteBeforeReplace": False,
                                                                                   "protect": False} for u in s},
                 "cost": None}, **extra)


def rows(base, head, **kw):
    return {r["name"]: r for r in diff.diff_stack(base, head, **kw)["resources"]}


# --- paths ------------------------------------------------------------------------------------------------------

def test_changed_paths_of_maps_lists_and_scalars():
    assert diff.changed_paths({"a": 1, "b": {"c": 2}}, {"a": 1, "b": {"c": 3}}) == ["b.c"]
    assert diff.changed_paths({"a": 1}, {"b": 1}) == ["a", "b"]
    assert diff.changed_paths({"l": [1, 2]}, {"l": [1, 3]}) == ["l[1]"]
    assert diff.changed_paths({"l": [1, 2]}, {"l": [1, 2, 3]}) == ["l"]
    assert diff.changed_paths({"labels": {"a.io/b": "1"}}, {"labels": {"a.io/b": "2"}}) == ['labels["a.io/b"]']
    assert diff.changed_paths(1, 1) == [] and diff.changed_paths(1, 2) == [""]
    assert diff.changed_paths({"a": {"x": 1}}, {"a": [1]}) == ["a"]


def test_join_and_get_path_speak_pulumi_property_paths():
    assert diff._join("", "a") == "a" and diff._join("a", "b") == "a.b"
    assert diff._join("a", "x.y") == 'a["x.y"]' and diff._join("", "x[0]") == '["x[0]"]'
    assert diff._join("a", 'q"') == 'a["q""]'
    v = {"a": {"x.y": [{"b": 1}]}}
    assert diff.get_path(v, 'a["x.y"][0].b') == 1
    assert diff.get_path(v, 'a["x.y"][1].b') is diff.MISSING
    assert diff.get_path(v, "a.z") is diff.MISSING and diff.get_path(v, "a.x.y") is diff.MISSING
    assert diff.get_path({"l": [1]}, "l.x") is diff.MISSING and diff.get_path({"a": 1}, "a[0]") is diff.MISSING
    assert diff.get_path({"a": None}, "a") is None


def test_set_inputs_ignore_order_only_where_the_provider_stores_a_set():
    ng = "aws:eks/nodeGroup:NodeGroup"
    a = {"subnetIds": ["b", "a"], "instanceTypes": ["y", "x"]}
    assert diff._as_sets(ng, a) == {"subnetIds": ["a", "b"], "instanceTypes": ["y", "x"]}
    assert a["subnetIds"] == ["b", "a"]                                       # the input is not changed
    cl = "aws:eks/cluster:Cluster"
    assert diff._as_sets(cl, {"vpcConfig": {"subnetIds": ["2", "1"]}}) == {"vpcConfig": {"subnetIds": ["1", "2"]}}
    assert diff._as_sets(cl, {"vpcConfig": None}) == {"vpcConfig": None}
    assert diff._as_sets("aws:ec2/vpc:Vpc", {"subnetIds": ["b", "a"]}) == {"subnetIds": ["b", "a"]}
    old = state(ng, "ng", {"nodeGroupName": "g", "subnetIds": ["a", "b"]})
    new = state(ng, "ng", {"nodeGroupName": "g", "subnetIds": ["b", "a"]})
    assert rows(plan_of(old), plan_of(new)) == {}


def test_mentions_find_a_resource_id_as_a_whole_word_at_its_path():
    v = {"a": "net-a-id", "b": ["x", "net-a-id2", {"c": "arn/net-a-id"}], "d": "x-net-a-id", "e": 3,
         "f.g": "net-a-id"}
    assert diff._mentions(v, "net-a-id") == ["a", "b[2].c", '["f.g"]']
    assert diff._mentions(["net-a-id", ["net-a-id"]], "net-a-id") == ["[0]", "[1][0]"]


def test_provider_urn_drops_the_id_and_name_is_the_last_part():
    assert diff._provider_urn({"provider": f"{P}pulumi:providers:aws::p::abc-id"}) == f"{P}pulumi:providers:aws::p"
    assert diff._provider_urn({}) == ""
    assert diff._name(f"{P}aws:x::n") == "n"


# --- forces_new -------------------------------------------------------------------------------------------------

def test_a_rule_path_matches_itself_and_what_lies_beneath_it():
    assert fn._matches("nodeConfig.spot", "nodeConfig.spot")
    assert fn._matches("nodeConfig.guestAccelerators[0].count", "nodeConfig.guestAccelerators")
    assert fn._matches("spec.selector.matchLabels", "spec.selector")
    assert not fn._matches("nodeConfig.spotX", "nodeConfig.spot")
    assert not fn._matches("x.nodeConfig.spot", "nodeConfig.spot")
    assert fn._matches("a[3].b", "a[*].b") and not fn._matches("a.b", "a[*].b")


def test_forcing_uses_the_type_table_and_kubernetes_metadata_for_objects_only():
    ng = "aws:eks/nodeGroup:NodeGroup"
    assert fn.forcing(ng, ["amiType", "version"], False) == [("amiType", fn.FORCES_NEW[ng].source)]
    assert fn.forcing("kubernetes:core/v1:ConfigMap", ["metadata.name", "data.x"], True) == [
        ("metadata.name", fn.K8S_METADATA.source)]
    assert fn.forcing("kubernetes:core/v1:ConfigMap", ["metadata.name"], False) == []
    dep = "kubernetes:apps/v1:Deployment"
    assert [p for p, _ in fn.forcing(dep, ["spec.selector.matchLabels.a", "metadata.namespace", "spec.replicas"],
                                     True)] == ["spec.selector.matchLabels.a", "metadata.namespace"]
    cl = "aws:eks/cluster:Cluster"
    assert fn.forcing(cl, ["encryptionConfig"], False, {"encryptionConfig": {"a": 1}}, {}) == [
        ("encryptionConfig", fn.FORCES_NEW_IF_REMOVED[cl][0][1])]
    assert fn.forcing(cl, ["encryptionConfig"], False, {}, {"encryptionConfig": {"a": 1}}) == []
    assert fn.forcing(cl, ["encryptionConfig.resources"], False, {"encryptionConfig": {"a": 1}},
                      {"encryptionConfig": {"a": 2}}) == []


# --- classification ---------------------------------------------------------------------------------------------

def test_create_delete_update_and_the_summary():
    t = "aws:iam/role:Role"
    a, b = state(t, "a", {"name": "a"}), state(t, "b", {"name": "b"})
    c0, c1 = state(t, "c", {"name": "c", "tags": {"x": "1"}}), state(t, "c", {"name": "c", "tags": {"x": "2"}})
    same = state(t, "same", {"name": "s"})
    d = diff.diff_stack(plan_of(a, c0, same), plan_of(b, c1, same))
    assert {r["name"]: r["op"] for r in d["resources"]} == {"a": "delete", "b": "create", "c": "update"}
    assert [r["name"] for r in d["resources"]] == ["a", "b", "c"]           # replace, delete, create, update order
    assert d["summary"] == {"replace": 0, "delete": 1, "create": 1, "update": 1}
    assert d["optionsKnown"] is True and d["cost"] is None and d["policy"] is None and d["routes"] is None


def test_a_secret_assumed_changed_only_where_both_sides_hide_it():
    t = "pulumi:providers:kubernetes"
    old = state(t, "k8s", {"kubeconfig": SECRET})
    new = state(t, "k8s", {"kubeconfig": SECRET})
    assert rows(plan_of(old), plan_of(new)) == {}
    r = rows(plan_of(old), plan_of(new), secret_changed=frozenset({"kubeconfig"}))["k8s"]
    assert r["op"] == "replace" and r["changed"] == ["kubeconfig"]
    assert r["reasons"][0] == "kubeconfig: secret assumed changed (--secret-changed)"
    plain = state(t, "k8s", {"kubeconfig": "text"})
    assert rows(plan_of(plain), plan_of(plain), secret_changed=frozenset({"kubeconfig"})) == {}


def test_a_changed_provider_replaces_the_resource():
    t = "aws:iam/role:Role"
    old = state(t, "r", {"name": "r"}, provider=f"{P}pulumi:providers:aws::a")
    new = state(t, "r", {"name": "r"}, provider=f"{P}pulumi:providers:aws::b")
    r = rows(plan_of(old), plan_of(new))["r"]
    assert r["op"] == "replace"
    assert r["reasons"][0] == f"provider changed: {P}pulumi:providers:aws::a -> {P}pulumi:providers:aws::b"


def test_a_replaced_ids_referent_is_updated_when_the_input_does_not_force_replacement():
    sub0 = state("aws:ec2/subnet:Subnet", "sub-a", {"cidrBlock": "10.0.0.0/18", "vpcId": "v"})
    sub1 = state("aws:ec2/subnet:Subnet", "sub-a", {"cidrBlock": "10.0.128.0/18", "vpcId": "v"})
    role = state("aws:iam/role:Role", "r", {"name": "r", "tags": {"subnet": "sub-a-id"}})
    r = rows(plan_of(sub0, role), plan_of(sub1, role))
    assert (r["r"]["op"], r["r"]["changed"]) == ("update", ["tags.subnet"])
    both = state("aws:iam/role:Role", "r", {"name": "r", "tags": {"subnet": "sub-a-id", "team": "b"}})
    before = state("aws:iam/role:Role", "r", {"name": "r", "tags": {"subnet": "sub-a-id", "team": "a"}})
    r = rows(plan_of(sub0, before), plan_of(sub1, both))
    assert (r["r"]["op"], r["r"]["changed"]) == ("update", ["tags.team"])     # its own change is kept
    # A resource created anew has a new id anyway: nothing referring to it is touched by that.
    new_sub = state("aws:ec2/subnet:Subnet", "sub-b", {"cidrBlock": "10.0.192.0/18", "vpcId": "v"})
    role_b = state("aws:iam/role:Role", "r", {"name": "r", "tags": {"subnet": "sub-b-id"}})
    assert set(rows(plan_of(role_b), plan_of(new_sub, role_b))) == {"sub-b"}


def test_protect_and_stateful_flags_on_replace_and_delete():
    t = "aws:kms/key:Key"
    old = state(t, "k", {"keySpec": "A"})
    new = state(t, "k", {"keySpec": "B"})
    prot = {old[0]: {"deleteBeforeReplace": False, "protect": True}}
    r = rows(plan_of(old), plan_of(new, options=prot))["k"]
    assert r["op"] == "replace"
    assert r["flags"] == ["stateful object replaced", "protected: `pulumi up` stops here until protect is lifted"]
    r = rows(plan_of(old, options=prot), plan_of())["k"]
    assert r["flags"] == ["stateful object deleted", "protected: `pulumi up` refuses to delete it"]
    r = rows(plan_of(state("aws:iam/role:Role", "x", {"name": "x"})), plan_of())["x"]
    assert r["flags"] == []


def test_fixed_names_collide_only_when_kept_and_kubernetes_objects_delete_first():
    t = "gcp:container/nodePool:NodePool"
    old = state(t, "p", {"name": "a", "nodeConfig": {"spot": False}})
    renamed = state(t, "p", {"name": "b", "nodeConfig": {"spot": True}})
    r = rows(plan_of(old), plan_of(renamed))["p"]
    assert r["op"] == "replace" and r["flags"] == [] and "deleteBeforeReplace" not in r
    unnamed = state(t, "p", {"nodeConfig": {"spot": True}})
    assert rows(plan_of(state(t, "p", {"nodeConfig": {"spot": False}})), plan_of(unnamed))["p"]["flags"] == []
    kept = state(t, "p", {"name": "a", "nodeConfig": {"spot": True}})
    r = rows(plan_of(old), plan_of(kept))["p"]
    assert r["deleteBeforeReplace"] is False and r["flags"][0].startswith("name conflict: name='a' is fixed")
    k8s = "kubernetes:core/v1:ConfigMap"
    r = rows(plan_of(state(k8s, "c", {"metadata": {"name": "a"}})), plan_of(state(k8s, "c", {"metadata": {"name": "b"}})))
    assert r["c"]["op"] == "replace" and r["c"]["deleteBeforeReplace"] is True
    assert r["c"]["reasons"][-1].startswith("delete-before-replace chosen by the provider")
    assert r["c"]["yaml"] == "metadata.name:\n  +: b\n  '-': a\n"


def test_the_yaml_of_a_changed_object_prints_whole_numbers_as_integers_and_absent_as_null():
    k8s = "kubernetes:apps/v1:Deployment"
    old = state(k8s, "d", {"metadata": {"name": "m"}, "spec": {"replicas": 2.0}})
    new = state(k8s, "d", {"metadata": {"name": "m"}, "spec": {"replicas": 3.0, "paused": True}})
    r = rows(plan_of(old), plan_of(new))["d"]
    assert r["op"] == "update" and r["yaml"] == ("spec.paused:\n  +: true\n  '-': null\nspec.replicas:\n  +: 3\n"
                                                 "  '-': 2\n")
    cloud = "aws:iam/role:Role"
    r = rows(plan_of(state(cloud, "x", {"tags": {"a": 1}})), plan_of(state(cloud, "x", {"tags": {"a": 2}})))["x"]
    assert "yaml" not in r


def test_a_statefulset_that_drops_replicas_is_flagged_and_one_that_keeps_them_is_not():
    t = "kubernetes:apps/v1:StatefulSet"
    old = state(t, "s", {"metadata": {"name": "m"}, "spec": {"replicas": 2, "x": 1}})
    kept = state(t, "s", {"metadata": {"name": "m"}, "spec": {"replicas": 2, "x": 2}})
    dropped = state(t, "s", {"metadata": {"name": "m"}, "spec": {"x": 2}})
    assert rows(plan_of(old), plan_of(kept))["s"]["flags"] == []
    assert rows(plan_of(old), plan_of(dropped))["s"]["flags"][0].startswith("spec.replicas dropped")
    never = state(t, "s", {"metadata": {"name": "m"}, "spec": {"x": 1}})
    assert rows(plan_of(never), plan_of(dropped))["s"]["flags"] == []


def test_a_chart_bump_is_flagged_only_when_helm_leaves_its_crds_and_the_version_changed():
    t = "kubernetes:helm.sh/v3:Release"
    v1 = state(t, "k", {"chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.0", "values": {"a": 1}})
    v2 = state(t, "k", {"chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.1", "values": {"a": 1}})
    same_version = state(t, "k", {"chart": "oci://public.ecr.aws/karpenter/karpenter", "version": "1.0",
                                  "values": {"a": 2}})
    flags = rows(plan_of(v1), plan_of(v2))["k"]["flags"]
    assert len(flags) == 1 and flags[0].startswith("chart karpenter 1.0 -> 1.1: its CRDs are in")
    assert rows(plan_of(v1), plan_of(same_version))["k"]["flags"] == []
    keda = state(t, "e", {"chart": "keda", "version": "1"}), state(t, "e", {"chart": "keda", "version": "2"})
    assert rows(plan_of(keda[0]), plan_of(keda[1]))["e"]["flags"] == []        # CRDs in templates: upgraded
    other = state(t, "o", {"chart": "not-in-catalog", "version": "1"}), state(t, "o", {"chart": "not-in-catalog",
                                                                                      "version": "2"})
    assert rows(plan_of(other[0]), plan_of(other[1]))["o"]["flags"] == []


def test_unique_values_collide_within_their_scope_only():
    t = "aws:ec2/subnet:Subnet"
    held = state(t, "a", {"cidrBlock": "10.0.0.0/16", "vpcId": "v"})
    inside = state(t, "b", {"cidrBlock": "10.0.1.0/24", "vpcId": "v"})
    other_vpc = state(t, "b", {"cidrBlock": "10.0.1.0/24", "vpcId": "w"})
    apart = state(t, "b", {"cidrBlock": "10.1.0.0/24", "vpcId": "v"})
    r = rows(plan_of(held), plan_of(held, inside))["b"]
    assert r["flags"] == ["unique conflict: cidrBlock='10.0.1.0/24' overlaps '10.0.0.0/16' still held by a when this "
                          "one is created (EC2 CreateSubnet: a CIDR may not overlap another subnet of the VPC "
                          "(InvalidSubnet.Conflict))"]
    assert rows(plan_of(held), plan_of(held, other_vpc))["b"]["flags"] == []
    assert rows(plan_of(held), plan_of(held, apart))["b"]["flags"] == []
    assert diff._collide("x", "x") and not diff._collide(None, None) and not diff._collide("x", "y")
    # A replaced subnet overlaps its own old CIDR while both exist.
    moved = state(t, "a", {"cidrBlock": "10.0.0.0/17", "vpcId": "v", "availabilityZone": "b"})
    r = rows(plan_of(held), plan_of(moved))["a"]
    assert r["op"] == "replace" and r["flags"][0].startswith("unique conflict: cidrBlock='10.0.0.0/17' overlaps "
                                                             "'10.0.0.0/16' still held by a")


def test_k8s_provider_verdicts():
    assert diff._k8s_provider({}, {}, [], []) is None
    assert diff._k8s_provider({"clusterIdentifier": "a"}, {"clusterIdentifier": "b"}, [], []).startswith(
        "clusterIdentifier changed")
    assert diff._k8s_provider({}, {}, ["context"], []).startswith("context and no stable clusterIdentifier")
    assert diff._k8s_provider({"clusterIdentifier": "a"}, {"clusterIdentifier": "a"}, ["kubeconfig"], ["x"]) is None
    assert diff._k8s_provider({"clusterIdentifier": "a"}, {}, ["kubeconfig"], []).startswith("kubeconfig and no stable")
    got = diff._k8s_provider({}, {}, [], [f"{P}t::b", f"{P}t::a"])
    assert got.startswith("kubeconfig unknown at preview (depends on a, b being created or replaced) and no stable")
    assert diff._k8s_provider({}, {}, ["other"], []) is None


# --- summaries --------------------------------------------------------------------------------------------------

def cost(min_, max_, models):
    return {"total": {"monthlyAtMin": min_, "monthlyAtMax": max_, "modelsMonthlyAtMinReplicas": models}}


def test_cost_and_policy_diffs():
    assert diff.cost_diff(None, cost(1, 2, 3)) is None and diff.cost_diff(cost(1, 2, 3), None) is None
    assert diff.cost_diff(cost(100, 200, 50), cost(150.555, 180, 50)) == {
        "monthlyAtMin": {"base": 100, "head": 150.555, "delta": 50.56},
        "monthlyAtMax": {"base": 200, "head": 180, "delta": -20},
        "modelsMonthlyAtMinReplicas": {"base": 50, "head": 50, "delta": 0}}
    head = [{"policy": "p", "level": "mandatory", "violations": [{"message": "m1"}, {"message": "m2"}]},
            {"policy": "q", "level": "advisory", "violations": [{"message": "a"}]}]
    base = [{"policy": "p", "level": "mandatory", "violations": []}]
    assert diff.policy_diff(base, None) is None
    assert diff.policy_diff(base, head) == {"mandatory": {"base": 0, "head": 2}, "advisory": {"base": 0, "head": 1},
                                            "violations": ["p (mandatory): m1", "p (mandatory): m2"]}
    assert diff.policy_diff(None, [])["mandatory"] == {"base": 0, "head": 0}


def test_routes_diff_adds_removes_changes_and_tenants():
    route = lambda model, w=100, price=1.0, fb=(), picker=None: {
        "model": model, "backends": [{"model": "b", "weight": w}], "fallback": [{"model": f} for f in fb],
        "usdPerMillionTokens": price, **({"picker": picker} if picker else {})}
    assert routes_diff(None, None) is None and routes_diff({}, {}) is None
    base = {"routes": [route("a"), route("b")], "tenants": [{"name": "t1", "tokensPerHour": 0},
                                                            {"name": "t2", "tokensPerHour": 5}]}
    head = {"routes": [route("a", price=2.0, fb=("x", "y"), picker="inferencePool"), route("c")],
            "tenants": [{"name": "t1", "tokensPerHour": 10}, {"name": "t3", "tokensPerHour": 1}]}
    assert routes_diff(base, head) == [
        {"model": "a", "op": "change", "base": "b 100%; $1.0000/1M",
         "head": "b 100%; fallback x -> y; endpoint picker; $2.0000/1M"},
        {"model": "b", "op": "remove", "base": "b 100%; $1.0000/1M", "head": None},
        {"model": "c", "op": "add", "base": None, "head": "b 100%; $1.0000/1M"},
        {"model": "tenant t1", "op": "change", "base": "tokens/hour unlimited", "head": "tokens/hour 10"},
        {"model": "tenant t2", "op": "remove", "base": "tokens/hour 5", "head": None},
        {"model": "tenant t3", "op": "add", "base": None, "head": "tokens/hour 1"}]
    assert routes_diff(base, base) == []
    assert [(r["model"], r["op"]) for r in routes_diff(None, head)] == [
        ("a", "add"), ("c", "add"), ("tenant t1", "add"), ("tenant t3", "add")]
    unlimited = {"routes": [], "tenants": [{"name": "t", "tokensPerHour": None}]}
    assert routes_diff({"routes": [route("a")]}, unlimited) == [
        {"model": "a", "op": "remove", "base": "b 100%; $1.0000/1M", "head": None},
        {"model": "tenant t", "op": "add", "base": None, "head": "tokens/hour unlimited"}]


def test_markdown_lists_each_stack_its_flags_money_policy_and_objects():
    k8s = "kubernetes:core/v1:ConfigMap"
    old = state(k8s, "c", {"metadata": {"name": "a"}, "data": {"k": "x|y"}})
    new = state(k8s, "c", {"metadata": {"name": "a"}, "data": {"k": "z"}})
    policy = [{"policy": "gpu-budget", "level": "mandatory", "violations": [{"message": "too dear"}]}]
    d = diff.diff_stack(plan_of(old, cost=cost(1000, 2000, 0)),
                        plan_of(new, cost=cost(1500, 2000, 0), policy=policy, checks={"fail": 2}))
    md = diff.markdown({"dev": d, "empty": diff.diff_stack(plan_of(), plan_of(options=None) | {"options": None})})
    assert "| dev | 0 | 1 | 0 | 0 | 0 | 1,000 -> 1,500 (+500) | 2,000 -> 2,000 (+0) | 1 mandatory, 0 advisory " \
           "(was 0, 0) | 2 |" in md
    assert "| empty | 0 | 0 | 0 | 0 | 0 | - | - | - | - |" in md
    assert "**dev: mandatory cost-guard violations**" in md and "- gpu-budget (mandatory): too dear" in md
    assert "<details><summary><b>dev</b>: 1 resource(s)</summary>" in md and "<b>empty</b>" not in md
    assert "| update | `kubernetes:core/v1:ConfigMap` | c | `data.k` |  |" in md
    assert "`ConfigMap/c` (update):" in md and "'-': x|y" in md
    assert "Resource options unknown" not in md
    unknown = diff.diff_stack(plan_of(old), plan_of(new, options=None) | {"options": None})
    assert "_Resource options unknown (no options.json)" in diff.markdown({"s": unknown})


def test_markdown_cuts_long_change_lists_and_escapes_pipes_in_reasons():
    t = "aws:iam/role:Role"
    old = state(t, "r", {"tags": {f"k{i}": 1 for i in range(10)}}, provider=f"{P}pulumi:providers:aws::a|b")
    new = state(t, "r", {"tags": {f"k{i}": 2 for i in range(10)}}, provider=f"{P}pulumi:providers:aws::c")
    md = diff.markdown({"s": diff.diff_stack(plan_of(old), plan_of(new))})
    row = next(line for line in md.splitlines() if line.startswith("| replace |"))
    assert row.count("`tags.k") == 8 and " ..." in row and "aws::a/b" in row
    old = state(t, "r", {"tags": {f"k{i}": 1 for i in range(8)}})
    new = state(t, "r", {"tags": {f"k{i}": 2 for i in range(8)}})
    md = diff.markdown({"s": diff.diff_stack(plan_of(old), plan_of(new))})
    row = next(line for line in md.splitlines() if line.startswith("| update |"))
    assert row.count("`tags.k") == 8 and " ..." not in row
    assert diff._policy({"mandatory": {"base": 1, "head": 1}, "advisory": {"base": 0, "head": 0}}) == \
        "1 mandatory, 0 advisory"
