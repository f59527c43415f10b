"""The federation plan's helpers decision by decision (plan/federation.py) on hand-made stack folders: stack names,
references, freshness, secret outputs, hubs, the order of stacks and what prepare() says and returns."""
import json
import os

from plan import fakes, federation
from plan.runtime import SECRET


def test_local_stack_names():
    assert federation.local_stack("dev") == "dev"
    assert federation.local_stack("acme/llmfleet/dev") == "dev"
    assert federation.local_stack("acme/other/dev") is None
    assert federation.local_stack("llmfleet/dev") is None and federation.local_stack("a/llmfleet/b/c") is None


def test_referenced_reads_what_it_can_and_leaves_the_rest_to_the_program():
    cfg = lambda v: {federation.KEY: json.dumps(v)}
    assert federation.referenced(cfg({"stacks": [{"name": "a"}, {"name": 3}, "x", {"name": "o/llmfleet/b"}]})) == [
        ("llmfleet:federation.stacks[0].name", "a"), ("llmfleet:federation.stacks[3].name", "o/llmfleet/b")]
    assert federation.referenced({federation.KEY: "{not json"}) == []
    assert federation.referenced(cfg([1])) == [] and federation.referenced(cfg({"stacks": {}})) == []
    assert federation.referenced({}) == []
    assert federation.is_federation({federation.KEY: ""}) and not federation.is_federation({})


def test_hubs_from_provider_references_and_hub_objects():
    assert federation.hub_of("urn:pulumi:s::p::pulumi:providers:kubernetes::hub-eu::abc-id") == "eu"
    assert federation.hub_of("urn:pulumi:s::p::pulumi:providers:kubernetes::k8s::abc-id") is None
    assert federation.hub_of("") is None
    [gc] = federation.hub_objects({"gateway": {"className": "llm-gateway"}})
    assert (gc["kind"], gc["metadata"]["name"]) == ("GatewayClass", "llm-gateway")
    assert federation.hub_objects({}) == [] and federation.hub_objects({"gateway": {}}) == []


def test_secret_outputs_become_placeholders_marked_by_name(tmp_path):
    p = tmp_path / "outputs.json"
    p.write_text(json.dumps({"c": SECRET, "a": "x", "b": SECRET}))
    outputs, secret = federation.load_outputs(p)
    assert secret == ["b", "c"]
    assert outputs == {"c": "offline-plan-secret", "a": "x", "b": "offline-plan-secret"}


def test_outputs_are_fresh_only_when_newer_than_the_stack_file_and_the_program(tmp_path):
    stack_file, outputs = tmp_path / "Pulumi.s.yaml", tmp_path / "outputs.json"
    stack_file.write_text("")
    assert not federation.fresh(outputs, stack_file)
    outputs.write_text("{}")
    newest = max(os.stat(stack_file).st_mtime, federation._newest_source(federation.PROGRAM_ROOT))
    os.utime(outputs, (newest, newest))
    assert federation.fresh(outputs, stack_file)
    os.utime(outputs, (newest - 1, newest - 1))
    assert not federation.fresh(outputs, stack_file)


def stacks(root, **files):
    (root / "Pulumi.yaml").write_text("name: llmfleet\nruntime: python\n")
    for name, text in files.items():
        (root / f"Pulumi.{name}.yaml").write_text(text)


FED = "config:\n  llmfleet:federation:\n    stacks: []\n"


def test_federation_stacks_come_after_the_cloud_stacks(tmp_path):
    stacks(tmp_path, a=FED, b="config:\n  llmfleet:cloud: aws\n", c="config:\n  llmfleet:cloud: gcp\n", broken="- x\n")
    assert federation.order(tmp_path) == ["b", "broken", "c", "a"]
    assert federation.cloud_stacks(tmp_path) == ["b", "broken", "c"]
    assert federation.federation_stacks(tmp_path) == ["a"]


def test_prepare_plans_missing_outputs_reuses_fresh_ones_and_stops_on_failures(tmp_path):
    stacks(tmp_path, cloud="config:\n  llmfleet:cloud: aws\n", fail="config:\n  llmfleet:cloud: aws\n", fed=FED)
    config = {federation.KEY: json.dumps({"stacks": [{"name": "acme/llmfleet/cloud"}, {"name": "nope"},
                                                     {"name": "fed"}, {"name": "fail"}, {"name": "x/y"}]})}
    planned, said = [], []

    def plan_stack(name, out):
        planned.append(name)
        if name == "fail":
            return 3
        out.mkdir(parents=True, exist_ok=True)
        (out / "outputs.json").write_text(json.dumps({"endpoint": "https://e", "kubeconfig": SECRET}))
        return 0

    code, lines = federation.prepare(config, tmp_path, plan_stack, say=said.append)
    assert planned == ["cloud", "fail"] and code == 2
    assert lines == [
        "llmfleet:federation.stacks[1].name: nope maps to no stack file here (<org>/llmfleet/<stack> -> "
        "Pulumi.<stack>.yaml; stacks: cloud, fail, fed)",
        "llmfleet:federation.stacks[2].name: fed is a federation stack; a federation references cloud stacks",
        "llmfleet:federation.stacks[3].name: the referenced stack fail does not plan (exit 3): see `python -m plan "
        "--stack fail`",
        "llmfleet:federation.stacks[4].name: x/y maps to no stack file here (<org>/llmfleet/<stack> -> "
        "Pulumi.<stack>.yaml; stacks: cloud, fail, fed)"]
    assert said[0] == "plan: acme/llmfleet/cloud: planning stack cloud first (its outputs are missing or older than " \
                      "the program)"
    assert fakes.STACK_OUTPUTS == {"acme/llmfleet/cloud": ({"endpoint": "https://e",
                                                             "kubeconfig": "offline-plan-secret"}, ["kubeconfig"])}
    for alone in ("nope", "fed"):
        cfg = {federation.KEY: json.dumps({"stacks": [{"name": alone}]})}
        assert federation.prepare(cfg, tmp_path, plan_stack, say=said.append)[0] == 2
    # Only the failing stack now: its exit code 1 or 2 is kept, anything else becomes 1.
    only_fail = {federation.KEY: json.dumps({"stacks": [{"name": "fail"}]})}
    assert federation.prepare(only_fail, tmp_path, plan_stack, say=said.append)[0] == 1
    assert federation.prepare(only_fail, tmp_path, lambda n, o: 2, say=said.append)[0] == 2
    # A plan that exits 0 but writes no outputs is a failure too.
    assert federation.prepare(only_fail, tmp_path, lambda n, o: 0, say=said.append)[0] == 1
    # Fresh outputs are reused, not planned again.
    only_cloud = {federation.KEY: json.dumps({"stacks": [{"name": "cloud"}]})}
    out = tmp_path / "out" / "cloud" / "outputs.json"
    newest = max(os.stat(tmp_path / "Pulumi.cloud.yaml").st_mtime, federation._newest_source(federation.PROGRAM_ROOT))
    os.utime(out, (newest + 1, newest + 1))
    planned.clear()
    said.clear()
    assert federation.prepare(only_cloud, tmp_path, plan_stack, say=said.append) == (0, [])
    assert planned == [] and said == [f"plan: cloud: reusing {out} (newer than its stack file and the program)"]
    assert list(fakes.STACK_OUTPUTS) == ["cloud"]
    fakes.STACK_OUTPUTS.clear()
