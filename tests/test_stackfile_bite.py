"""The stack file reader decision by decision (plan/stackfile.py): YAML 1.2 scalars, duplicate and odd keys, the
size limit, syntax errors with positions, config keys and their encoding, project defaults and secrets."""
import pytest

from plan import stackfile
from plan.stackfile import _config_key, encode, parse_yaml, read_stack_file

PROJECT = """name: llmfleet
runtime: python
config:
  llmfleet:environment:
    type: string
    default: ""
  region:
    value: eu
  tier:
    value: low
    default: high
  nothing:
    default: null
  kept:
    value: v
    default: null
  llmfleet:cloud:
    default: aws
  notadict: plain
"""


def stack(tmp_path, text, project=PROJECT):
    (tmp_path / "Pulumi.yaml").write_text(project)
    (tmp_path / "Pulumi.s.yaml").write_text(text)
    return read_stack_file(tmp_path, "s")


@pytest.mark.parametrize("text,value", [
    ("a: yes", "yes"), ("a: on", "on"), ("a: 1:30", "1:30"), ("a: 2026-01-01", "2026-01-01"),
    ("a: true", True), ("a: False", False), ("a: 0o17", 15), ("a: 0x1f", 31), ("a: -0x10", -16), ("a: +5", 5),
    ("a: 1_000", 1000), ("a: -7", -7), ("a: 1.5", 1.5), ("a: .5", 0.5), ("a: 1e3", 1000.0), ("a: ~", None),
    ("a: null", None), ("a:", None), ("a: 017", "017"), ("a: .inf", float("inf")),
])
def test_scalars_resolve_as_yaml_1_2(text, value):
    doc, problems, _ = parse_yaml(text, "f")
    assert problems == [] and doc == {"a": value} and type(doc["a"]) is type(value)


def test_duplicate_keys_and_mapping_keys_are_problems_with_positions():
    doc, problems, _ = parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert problems == ["f.yaml:3:1: duplicate key 'a' (first at line 1); a key may appear once in a mapping"]
    assert doc == {"a": 3, "b": 2}
    doc, problems, _ = parse_yaml("? [x]\n: 1\nb: 2\n", "f.yaml")
    assert problems == ["f.yaml:1:3: a mapping key must be a plain value, got a list"] and doc == {"b": 2}
    doc, problems, _ = parse_yaml("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n", "f.yaml")
    assert problems == [] and doc["c"] == {"x": 1, "y": 2}


def test_unsupported_tags_syntax_errors_and_bad_characters_have_positions():
    assert parse_yaml("a: !!binary aGk=\n", "f")[1] == ["f:1:4: the tag tag:yaml.org,2002:binary is not supported "
                                                        "in stack config"]
    doc, problems, node = parse_yaml("a: [1\n", "f")
    assert doc is None and node is None and len(problems) == 1 and problems[0].startswith("f:2:1: ")
    problems = parse_yaml("a:\n\tb: 1\n", "f")[1]
    assert problems[0].endswith("(YAML indents with spaces, not tabs)")
    assert parse_yaml("a: 1\nb: x\x07y\n", "f")[1] == ["f:2:5: character '\\x07' is not allowed in YAML"]
    assert parse_yaml("", "f")[:2] == (None, [])


def test_documents_that_expand_too_far_are_refused():
    deep = "a: " + "[" * (stackfile.MAX_DEPTH + 1) + "]" * (stackfile.MAX_DEPTH + 1)
    assert parse_yaml(deep, "f")[1] == [f"f: the document expands to more than {stackfile.MAX_NODES} values or nests "
                                        f"deeper than {stackfile.MAX_DEPTH} levels (aliases?)"]
    ok = "a: " + "[" * stackfile.MAX_DEPTH + "]" * stackfile.MAX_DEPTH
    assert parse_yaml(ok, "f")[1] == []
    assert stackfile._size([1, [2, 3]]) == 5
    assert stackfile._size(list(range(stackfile.MAX_NODES - 1))) == stackfile.MAX_NODES
    assert stackfile._size(list(range(stackfile.MAX_NODES))) is None


def test_config_keys_and_encoding():
    assert _config_key("cloud", "p") == "p:cloud" and _config_key("", "p") is None
    assert _config_key("a:b", "p") == "a:b" and _config_key(":b", "p") is None and _config_key("a:", "p") is None
    assert _config_key("a:config:b", "p") == "a:b" and _config_key("a:other:b", "p") is None
    assert _config_key(":config:b", "p") is None and _config_key("a:config:", "p") is None
    assert _config_key("a:b:c:d", "p") is None
    assert (encode(None), encode("x"), encode(True), encode(False), encode(3), encode(1.5)) == (
        "", "x", "true", "false", "3", "1.5")
    assert encode({"a": [1, None]}) == '{"a": [1, null]}'


def test_secure_values_anywhere_become_the_placeholder_and_mark_the_key_secret():
    value, found = stackfile._strip_secure({"a": [{"secure": "x"}, 1], "b": {"secure": "y"}, "c": 2})
    assert found and value == {"a": ["offline-plan-secret", 1], "b": "offline-plan-secret", "c": 2}
    assert stackfile._strip_secure({"secure": "x", "other": 1}) == ({"secure": "x", "other": 1}, False)
    assert stackfile._strip_secure([1, 2]) == ([1, 2], False)


def test_a_stack_file_read_as_the_cli_reads_it(tmp_path):
    sf = stack(tmp_path, "config:\n  llmfleet:models:\n    - name: m\n      token:\n        secure: v1:x\n"
                         "  gcp:project: 0x10\n  llmfleet:flag: true\n  aws:region: eu-west-1\n  x:tilde: ~\n"
                         "  x:null: null\n")
    assert sf.problems == [] and not sf.fatal and sf.project == "llmfleet"
    assert sf.config == {"llmfleet:models": '[{"name": "m", "token": "offline-plan-secret"}]', "gcp:project": "0x10",
                         "llmfleet:flag": "true", "aws:region": "eu-west-1", "llmfleet:environment": "",
                         "llmfleet:region": "eu", "llmfleet:tier": "high", "llmfleet:cloud": "aws",
                         "x:tilde": "", "x:null": "", "llmfleet:kept": "v"}
    assert sf.secret_keys == ["llmfleet:models"]


def test_a_stack_setting_wins_over_the_project_default(tmp_path):
    sf = stack(tmp_path, "config:\n  llmfleet:cloud: gcp\n  llmfleet:tier: mid\n")
    assert (sf.config["llmfleet:cloud"], sf.config["llmfleet:tier"]) == ("gcp", "mid")
    assert "llmfleet:nothing" not in sf.config and "llmfleet:notadict" not in sf.config


def test_keys_outside_config_and_keys_without_namespace(tmp_path):
    sf = stack(tmp_path, "config:\n  cloud: aws\n  a:b:c: 1\n  7: x\nllmfleet:models: []\ngpuPools: []\nbogus: 1\n"
                         "environment: e\n")
    assert sf.problems == [
        "Pulumi.s.yaml:5:1: llmfleet:models belongs under config: (Pulumi reads a stack's settings only from its "
        "config: mapping)",
        "Pulumi.s.yaml:6:1: llmfleet:gpuPools belongs under config: (Pulumi reads a stack's settings only from its "
        "config: mapping)",
        "Pulumi.s.yaml:7:1: unknown top-level key 'bogus'; a stack file has config, environment, secretsprovider, "
        "encryptedkey, encryptionsalt",
        "Pulumi.s.yaml:2:3: config key 'cloud' has no namespace: write llmfleet:cloud (Pulumi rejects stack config "
        "keys without one)",
        "Pulumi.s.yaml:3:3: 'a:b:c' is not a config key: it must be <namespace>:<key> with one ':' (e.g. llmfleet:c)",
        "Pulumi.s.yaml:4:3: config key 7 must be text of the form <namespace>:<key>"]
    assert sf.config["llmfleet:cloud"] == "aws" and sf.config["llmfleet:models"] == "[]"
    assert sf.config["llmfleet:gpuPools"] == "[]" and not sf.fatal


def test_files_that_cannot_be_read_are_fatal(tmp_path):
    sf = stack(tmp_path, "config: [1]\n")
    assert sf.fatal and sf.problems == ["Pulumi.s.yaml:1:9: config: must be a mapping of <namespace>:<key> settings, "
                                        "got a list"]
    sf = stack(tmp_path, "- a\n")
    assert sf.fatal and sf.problems == ["Pulumi.s.yaml:1:1: a stack file must be a mapping with a config: mapping, "
                                        "got a list"]
    sf = stack(tmp_path, "config: {a: [1\n")
    assert sf.fatal and len(sf.problems) == 1
    (tmp_path / "Pulumi.s.yaml").write_bytes(b"config:\n  a: \xff\n")
    sf = read_stack_file(tmp_path, "s")
    assert sf.fatal and sf.problems == ["Pulumi.s.yaml: is not UTF-8 text (invalid start byte at byte 13)"]
    # A control character is one positioned line (it used to escape as a traceback from the YAML reader).
    sf = stack(tmp_path, "config:\n  llmfleet:cloud: aws\x07\n")
    assert sf.fatal and sf.problems == ["Pulumi.s.yaml:2:22: character '\\x07' is not allowed in YAML"]
    sf = stack(tmp_path, "")
    assert not sf.fatal and sf.problems == [] and sf.config["llmfleet:cloud"] == "aws"
    sf = stack(tmp_path, "config:\n")
    assert not sf.fatal and sf.problems == []


def test_a_missing_stack_file_or_a_nameless_project_raise(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(PROJECT)
    (tmp_path / "Pulumi.b.yaml").write_text("")
    (tmp_path / "Pulumi.a.yaml").write_text("")
    with pytest.raises(stackfile.StackFileError, match="^no stack file Pulumi.s.yaml; stacks: a, b$"):
        read_stack_file(tmp_path, "s")
    (tmp_path / "Pulumi.yaml").write_text("runtime: python\n")
    with pytest.raises(stackfile.StackFileError, match="^Pulumi.yaml: must be a mapping with a name$"):
        read_stack_file(tmp_path, "a")
    (tmp_path / "Pulumi.yaml").write_text("name: [x\n")
    with pytest.raises(stackfile.StackFileError, match="^Pulumi.yaml:2:1: "):
        read_stack_file(tmp_path, "a")


def test_load_stack_config_raises_on_problems_and_adds_secret_placeholders(tmp_path):
    from plan.runtime import ROOT
    (tmp_path / "Pulumi.s.yaml").write_text((ROOT / "Pulumi.dev.yaml").read_text() + "bogus: 1\n")
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    with pytest.raises(stackfile.StackFileError, match="unknown top-level key 'bogus'"):
        stackfile.load_stack_config(tmp_path, "s")
    config, secrets, added = stackfile.with_secret_placeholders({"llmfleet:cloud": "existing"}, [], "s")
    assert added and all(config[f"llmfleet:{k}"] == "offline-plan-secret" for k in added)
    assert secrets == [f"llmfleet:{k}" for k in added]
