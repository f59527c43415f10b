"""Issue 10: stack config never gives a traceback, never silently drops a setting, and reports every independent
problem at once, each at its cause. Issue 19 item 3: the plan feeds config to the program as the Pulumi CLI does.

One test per class of mistake found (the issue's examples and the ones found by trying broken stack files and by
tests/test_fuzz_config.py). Stack-file tests run the real offline plan on a file (tests/planfile.py); config tests
run `load` or the program under the mock runtime with config encoded as the engine passes it.
"""
import pytest

from plan.runtime import ROOT, run_program
from plan.stackfile import read_stack_file
from spec.reader import ConfigError
from spec.stack import load
from tests.harness import config_error
from tests.planfile import assert_config_problem_lines, plan_text

DEV = (ROOT / "Pulumi.dev.yaml").read_text()
EDGE = (ROOT / "Pulumi.edge.yaml").read_text()
GCP = (ROOT / "Pulumi.gcp-prod.yaml").read_text()
AZURE = (ROOT / "Pulumi.azure-prod.yaml").read_text()


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def file_problems(text: str) -> list[str]:
    return assert_config_problem_lines(plan_text(text))


def errors(cfg, secrets=("kubeconfig",), stack="t", other_keys=()):
    with pytest.raises(ConfigError) as e:
        load(cfg, set(secrets), stack, other_keys=other_keys)
    return e.value.lines


def aws(**kw):
    cfg = {"cloud": "aws", "gpuPools": [{"name": "l40s", "instanceType": "g6e.xlarge"}]}
    cfg.update(kw)
    return cfg


def edge(**kw):
    cfg = {"cloud": "existing", "kubeconfig": "k",
           "gpuPools": [{"name": "e", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"gpu": "l4"}}]}
    cfg.update(kw)
    return cfg


# --- tracebacks ----------------------------------------------------------------------------------------------------

def test_yaml_syntax_error_is_a_line_with_file_line_and_column():
    lines = file_problems(edited(DEV, "  llmfleet:cloud: aws", "  llmfleet:cloud: [aws"))
    assert len(lines) == 1 and lines[0].startswith("Pulumi.fuzz.yaml:9:23: ")
    assert "expected ',' or ']'" in lines[0]


def test_tab_indentation_is_a_position_with_a_hint():
    assert file_problems(edited(DEV, "    name: llm-dev", "\tname: llm-dev")) == [
        "Pulumi.fuzz.yaml:11:1: while scanning for the next token; found character '\\t' that cannot start any token "
        "(YAML indents with spaces, not tabs)"]


@pytest.mark.parametrize("text,expected", [
    ("config:\n  - llmfleet:cloud: aws\n",
     "Pulumi.fuzz.yaml:2:3: config: must be a mapping of <namespace>:<key> settings, got a list"),
    ("hello\n", "Pulumi.fuzz.yaml:1:1: a stack file must be a mapping with a config: mapping, got the value 'hello'"),
    ("- config\n", "Pulumi.fuzz.yaml:1:1: a stack file must be a mapping with a config: mapping, got a list"),
])
def test_document_of_the_wrong_shape_is_one_line(text, expected):
    assert file_problems(text) == [expected]


def test_tensor_parallel_zero_is_a_range_problem_never_divided_by():
    assert errors(edge(models=[{"name": "q", "model": "qwen2.5-7b", "tensorParallel": 0}])) == [
        "llmfleet:models[0].tensorParallel: must be >= 1, got 0"]


def test_ipv6_subnet_next_to_an_ipv4_vnet_is_rejected_at_its_key():
    assert file_problems(edited(AZURE, "subnetCidr: 10.224.0.0/16", "subnetCidr: fd00::/64")) == [
        "llmfleet:cluster.azure.subnetCidr: must be an IPv4 CIDR with no host bits set, such as 10.224.0.0/16, "
        "got 'fd00::/64'"]


def test_alias_bomb_and_recursive_alias_are_one_line_each():
    bomb = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcde", "bcdef")) + "config:\n  llmfleet:models: [*f]\n"
    expected = ["Pulumi.fuzz.yaml: the document expands to more than 200000 values or nests deeper than 64 levels "
                "(aliases?)"]
    assert file_problems(bomb) == expected
    assert file_problems("config:\n  llmfleet:models: &a [*a]\n") == expected


def test_not_a_number_is_rejected_not_compared():
    assert errors(edge(models=[{"name": "q", "model": "qwen2.5-7b", "gpuMemoryUtilization": float("nan")}])) == [
        "llmfleet:models[0].gpuMemoryUtilization: must be a number between 0.5 and 0.98, got nan"]


# --- wrong configs that planned ------------------------------------------------------------------------------------

def test_min_nodes_past_the_limit_is_rejected_and_no_derived_default_escapes():
    assert file_problems(edited(DEV, "      minNodes: 0\n      maxNodes: 2\n", "      minNodes: 1000000000\n")) == [
        "llmfleet:gpuPools[0].minNodes: must be <= 1000, got 1000000000"]


def test_a_derived_default_is_range_checked_like_a_given_value():
    # replicas.max defaults to replicas.min; with min 0 that default is below the bound of max.
    cfg = edge(models=[{"name": "q", "model": "qwen2.5-7b", "replicas": {"min": 0},
                        "autoscaling": {"keda": {"targetQueueDepth": 4}}}])
    assert errors(cfg) == ["llmfleet:models[0].replicas.max: is not set, and its default here (0) must be between 1 "
                           "and 100: set it"]


def test_cluster_name_derived_from_an_unusable_stack_name_says_to_set_it():
    assert errors(edge(), stack="Edge_1") == [
        "llmfleet:environment: is not set, and its default, the stack name 'Edge_1', is not 1-20 lowercase letters, "
        "digits or '-': set it",
        "llmfleet:cluster.name: is not set, and its default from the stack name ('llm-Edge_1') is not a DNS label "
        "(lowercase letters, digits and '-', at most 63, starting and ending alphanumeric): set it"]


def test_namespace_typo_is_an_error_with_the_suggestion_and_other_providers_are_allowed():
    lines = file_problems(edited(DEV, "  llmfleet:models:", "  aws:region: us-east-1\n  llmfleat:models:"))
    assert lines == ["llmfleat:models: namespace 'llmfleat' is not this project's (did you mean 'llmfleet:models'?); "
                     "keys of other namespaces are passed to their provider, so this one would be ignored"]
    # The program reports it under the real CLI too (keys reach it through Pulumi's config).
    assert errors(edge(), other_keys=["LLMFleet:models", "kubernetes:context", "gcp:project"]) == [
        "LLMFleet:models: namespace 'LLMFleet' is not this project's (did you mean 'llmfleet:models'?); keys of other "
        "namespaces are passed to their provider, so this one would be ignored"]


def test_a_near_miss_namespace_is_reported_once_and_its_value_still_checked():
    # Found by the fuzz test: a quoted key with a leading space. Its value stands in for llmfleet:cloud, so there is
    # no knock-on "llmfleet:cloud: is required" line; the line quotes the key so the space shows.
    text = edited(DEV, "  llmfleet:cloud: aws\n", "") + "  ' llmfleet:cloud': awz\n"
    assert file_problems(text) == [
        "' llmfleet:cloud': namespace ' llmfleet' is not this project's (did you mean 'llmfleet:cloud'?); keys of "
        "other namespaces are passed to their provider, so this one would be ignored",
        "llmfleet:cloud: must be one of aws, azure, existing, gcp, got 'awz' (did you mean 'aws'?)"]


def test_a_namespace_with_a_bracket_is_a_key_line():
    # Found by the fuzz test (YAML damage inserted '[' into a namespace): the line still names the key.
    text = edited(DEV, "  llmfleet:gpuPools:", "  llmf[leet:gpuPools:")
    assert file_problems(text)[0].startswith("llmf[leet:gpuPools: namespace 'llmf[leet' is not this project's")


def test_a_key_with_a_line_break_stays_on_one_line():
    # Found by the fuzz test: a key "\r" printed a line break into the problem list.
    text = edited(AZURE, "    azure:\n", '    "\\r": null\n    azure:\n')
    lines = file_problems(text)
    assert len(lines) == 1 and lines[0].startswith("llmfleet:cluster.\\r: unknown key")


def test_duplicate_key_is_a_problem_with_both_positions():
    assert file_problems(edited(DEV, "      minNodes: 0\n", "      minNodes: 0\n      minNodes: 2\n")) == [
        "Pulumi.fuzz.yaml:32:7: duplicate key 'minNodes' (first at line 31); a key may appear once in a mapping"]


def test_duplicate_key_is_reported_with_the_config_problems_of_the_same_file():
    text = edited(edited(DEV, "      minNodes: 0\n", "      minNodes: 0\n      minNodes: 2\n"),
                  "logRetentionDays: 14", "logRetentionDays: 0")
    assert file_problems(text) == [
        "Pulumi.fuzz.yaml:32:7: duplicate key 'minNodes' (first at line 31); a key may appear once in a mapping",
        "llmfleet:cluster.aws.logRetentionDays: must be >= 1, got 0"]


def test_yaml_1_1_booleans_stay_strings_as_in_the_cli():
    # go-yaml v3 (the CLI) reads `yes` as a string; PyYAML's default would have read it as true.
    assert file_problems(edited(DEV, "singleNatGateway: true", "singleNatGateway: yes")) == [
        "llmfleet:cluster.aws.singleNatGateway: must be true or false, got 'yes'"]


def test_label_and_taint_values_the_api_server_would_reject_do_not_plan():
    # A PreferNoSchedule taint: the edge box is gpuOnly, where a repelling taint would be a problem of its own.
    text = edited(EDGE, 'node-role.llmfleet.io/gpu: "true"\n',
                  'node-role.llmfleet.io/gpu: "tr ue!"\n      taints:\n        - {key: dedicated, value: "pre sent!", '
                  'effect: PreferNoSchedule}\n')
    hint = "must be a Kubernetes label value (at most 63 letters, digits, '-', '_', '.', alphanumeric at both ends)"
    assert file_problems(text) == [f"llmfleet:gpuPools[0].labels.node-role.llmfleet.io/gpu: {hint}, got 'tr ue!'",
                                   f"llmfleet:gpuPools[0].taints[0].value: {hint}, got 'pre sent!'"]


def test_a_price_for_a_type_no_pool_can_use_is_not_dropped_silently():
    assert errors(edge(prices={"aws/p5.48xlarge": {"onDemand": 40.0}, "aws/p9.huge": {"onDemand": 1.0},
                               "nocloud": {"onDemand": 1.0}})) == [
        "llmfleet:prices.aws/p9.huge: 'p9.huge' is not a GPU type this program knows on 'aws'; a price for it would "
        "never be used (clouds: aws, azure, gcp)",
        "llmfleet:prices.nocloud: must be cloud/instanceType, e.g. aws/p5.48xlarge"]


# --- hidden problems -------------------------------------------------------------------------------------------------

def test_unknown_pool_is_reported_next_to_a_broken_pool():
    text = edited(edited(DEV, "diskSizeGb: 200", "diskSizeGb: 20"), "      concurrency: 8\n",
                  "      concurrency: 8\n      pools: [nope]\n")
    assert file_problems(text) == ["llmfleet:gpuPools[0].diskSizeGb: must be >= 100, got 20",
                                   "llmfleet:models[0].pools: unknown pool 'nope'; pools: l40s"]


def test_nvidia_contradiction_is_reported_next_to_a_cluster_problem():
    cfg = aws(cluster={"region": 5}, nvidia={"driver": True})
    assert errors(cfg) == [
        "llmfleet:cluster.region: must be a string, got 5 (quote it in YAML to keep it a string)",
        "llmfleet:nvidia.driver: is true, but pool 'l40s' gets its driver from the node image (AL2023 NVIDIA AMI: "
        "driver+toolkit in the image); installing a second one breaks the node: remove driver or change the pool"]


def test_zone_in_the_wrong_region_is_reported_next_to_a_null_pool_item():
    cfg = aws(cluster={"zones": ["us-east-1a", "us-east-1b"]},
              gpuPools=[None, {"name": "l40s", "instanceType": "g6e.xlarge", "zones": ["us-west-2a"]}])
    assert errors(cfg) == [
        "llmfleet:gpuPools[0]: must be an object, got null",
        "llmfleet:gpuPools[1].zones[0]: must be one of the cluster's zones (us-east-1a, us-east-1b), got 'us-west-2a'"]


def test_item_paths_stay_right_after_a_skipped_model():
    cfg = aws(models=[7, {"name": "q", "model": "qwen2.5-7b", "pools": ["h100"]}])
    assert errors(cfg) == ["llmfleet:models[0]: must be an object, got 7",
                           "llmfleet:models[1].pools: unknown pool 'h100'; pools: l40s"]


def test_cloud_region_problem_does_not_hide_pool_rules():
    cfg = aws(cluster={"region": "useast"}, gpuPools=[{"name": "l40s", "instanceType": "g6e.xlarge", "maxNodes": 0}])
    assert errors(cfg) == [
        "llmfleet:cluster.region: must be an AWS region such as us-east-1, got 'useast'",
        "llmfleet:gpuPools[0].maxNodes: must be >= 1 on aws (an EKS node group's maximum size is at least 1), got 0"]


def test_file_with_n_independent_problems_prints_n_lines():
    text = DEV
    for old, new in [("llmfleet:environment: dev", "llmfleet:environment: Dev"),
                     ("vpcCidr: 10.20.0.0/16", "vpcCidr: 10.20.0.0/8"),
                     ("diskSizeGb: 200", "diskSizeGb: 99999"),
                     ("concurrency: 8", "concurrency: 0"),
                     ("targetQueueDepth: 5", "targetQueueDepth: 0")]:
        text = edited(text, old, new)
    lines = file_problems(text)
    assert [line.split(": ")[0] for line in lines] == [
        "llmfleet:environment", "llmfleet:cluster.aws.vpcCidr", "llmfleet:gpuPools[0].diskSizeGb",
        "llmfleet:models[0].concurrency", "llmfleet:models[0].autoscaling.hpa.targetQueueDepth"]


# --- misleading lines ------------------------------------------------------------------------------------------------

def test_critical_model_on_spot_only_pools_names_the_policy_and_the_setting():
    cfg = aws(gpuPools=[{"name": "l40s", "instanceType": "g6e.xlarge", "capacity": ["spot"]}],
              models=[{"name": "q", "model": "qwen2.5-7b", "priority": "critical"}])
    assert errors(cfg) == [
        "llmfleet:models[0].priority: critical keeps a model off spot-only pools (it must not be evicted), and every "
        "whole-GPU pool is spot-only (l40s): add on-demand to a pool's capacity or use priority standard"]


def test_tensor_parallel_larger_than_a_node_is_reported_at_tensor_parallel():
    cfg = aws(models=[{"name": "q", "model": "qwen2.5-7b", "tensorParallel": 4}])
    assert errors(cfg) == [
        "llmfleet:models[0].tensorParallel: must be <= the GPUs of one node of an allowed pool (placements are "
        "single-node): l40s has 1, got 4"]


def test_a_wrong_cloud_is_one_line_without_knock_on_lines():
    cfg = {"cloud": "awz", "cluster": {"aws": {"vpcCidr": "10.0.0.0/16"}, "region": "us-east-1"},
           "gpuPools": [{"name": "l40s", "instanceType": "g6e.xlarge", "image": "al2023-nvidia"}]}
    assert errors(cfg) == ["llmfleet:cloud: must be one of aws, azure, existing, gcp, got 'awz' (did you mean 'aws'?)"]


def test_a_missing_cloud_prints_no_placeholder():
    cfg = {"gpuPools": [{"name": "l40s", "gpu": "t4-16gb", "gpusPerNode": 1}]}
    assert errors(cfg) == ["llmfleet:cloud: is required"]


def test_unquoted_kubernetes_version_says_to_quote_it():
    assert file_problems(edited(DEV, 'kubernetesVersion: "1.34"', "kubernetesVersion: 1.30")) == [
        "llmfleet:cluster.kubernetesVersion: must be a string, got 1.3 (YAML reads an unquoted number like 1.30 as "
        "1.3: quote it, e.g. \"1.30\")"]


def test_keys_at_the_top_level_are_told_to_move_under_config():
    text = "llmfleet:cloud: aws\n" + edited(DEV, "  llmfleet:cloud: aws\n", "")
    assert file_problems(text) == [
        "Pulumi.fuzz.yaml:1:1: llmfleet:cloud belongs under config: (Pulumi reads a stack's settings only from its "
        "config: mapping)"]


def test_a_key_without_namespace_is_told_its_full_name():
    assert file_problems(edited(DEV, "  llmfleet:cloud: aws", "  cloud: aws")) == [
        "Pulumi.fuzz.yaml:8:3: config key 'cloud' has no namespace: write llmfleet:cloud (Pulumi rejects stack config "
        "keys without one)"]


def test_a_rejected_key_gets_one_line_not_two():
    # A model name both too long and not a DNS label, and a model key of the wrong type: one line each.
    cfg = edge(models=[{"name": "A" * 50, "model": 5}])
    assert errors(cfg) == [
        "llmfleet:models[0].name: must be a DNS label (lowercase letters, digits and '-', at most 63, starting and "
        f"ending alphanumeric), got '{'A' * 50}'",
        "llmfleet:models[0].model: must be a string, got 5 (quote it in YAML to keep it a string)"]


# --- the CLI's config, as `pulumi preview` hands it to the program (issue 19, item 3) -----------------------------

def test_a_stack_file_without_environment_plans_with_the_cli_default():
    # Pulumi.yaml declares environment with default "": the plan passes "" as the CLI does, and the program reads it
    # as "not set" (the stack name), instead of rejecting '' (which failed every such stack under `pulumi preview`).
    assert 'default: ""' in (ROOT / "Pulumi.yaml").read_text()
    outcome = plan_text(edited(EDGE, "  llmfleet:environment: edge\n", ""))
    assert outcome.code == 0, outcome.stderr


def test_a_stack_without_environment_plans_under_the_cli_encoding():
    # Exactly what the CLI passes: every value a string, objects JSON-encoded, the project default "" applied.
    config = {
        "llmfleet:cloud": "existing",
        "llmfleet:environment": "",
        "llmfleet:cluster": '{"name": "edge-k3s", "kubernetesVersion": "1.33", "distribution": "k3s"}',
        "llmfleet:kubeconfig": "apiVersion: v1",
        "llmfleet:gpuPools": '[{"name": "edge-l4", "gpu": "l4-24gb", "gpusPerNode": 1, "minNodes": 1, '
                             '"maxNodes": 1, "labels": {"node-role.llmfleet.io/gpu": "true"}}]',
        "kubernetes:context": "k3s",
    }
    result = run_program("llmfleet", "edge", config, ["llmfleet:kubeconfig"])
    assert result.globals["SPEC"].environment == "edge"


def test_the_stack_file_reader_passes_what_the_cli_passes(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.s.yaml").write_text(
        "config:\n  llmfleet:cloud: existing\n  llmfleet:kubeconfig:\n    secure: v1:abc\n"
        "  llmfleet:cluster:\n    kubernetesVersion: 1.30\n  llmfleet:models:\n  gcp:project: 0x10\n")
    sf = read_stack_file(tmp_path, "s")
    assert sf.problems == []
    assert sf.config == {
        "llmfleet:cloud": "existing",
        "llmfleet:kubeconfig": "offline-plan-secret",
        "llmfleet:cluster": '{"kubernetesVersion": 1.3}',      # nested: JSON of the decoded number
        "llmfleet:models": "",                                  # null reaches the program as ""
        "gcp:project": "0x10",                                  # top level: the scalar's text
        "llmfleet:environment": "",                             # Pulumi.yaml's default
    }
    assert sf.secret_keys == ["llmfleet:kubeconfig"]


def test_the_program_path_and_the_plan_path_give_the_same_lines():
    cfg = {"cloud": "aws", "cluster": {"region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"]},
           "gpuPools": [{"name": "l40s", "instanceType": "g6e.xlarge", "minNodes": 3, "maxNodes": 1}],
           "models": [{"name": "q", "model": "qwen2.5-7b", "tensorParallel": 0}]}
    program_lines = config_error(cfg)
    text = "config:\n" + "".join(
        f"  llmfleet:{k}: {__import__('json').dumps(v)}\n" for k, v in cfg.items())
    assert file_problems(text) == program_lines == [
        "llmfleet:gpuPools[0].maxNodes: must be >= minNodes (3), got 1",
        "llmfleet:models[0].tensorParallel: must be >= 1, got 0"]
