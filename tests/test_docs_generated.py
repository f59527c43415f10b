"""docs/config.md and schema/stack.schema.json are what `make docs` writes from the readers in spec/
(plan/configdocs/), cover every key a reader reads, and the schema accepts every shipped stack file and rejects
wrong ones."""
import copy
import json
import re

import jsonschema
import pytest

from plan import configdocs
from plan.runtime import ROOT
from plan.stackfile import parse_yaml
from spec import reader
from spec.keydocs import KEYS, MAPS, SECTIONS, Doc
from spec.stack import load


@pytest.fixture(scope="module")
def generated():
    rec = configdocs.record_all()
    items = configdocs.entries(rec)
    return rec, items, configdocs.markdown(items), configdocs.schema(items)


def _stack_docs() -> dict[str, dict]:
    out = {}
    for path in sorted(ROOT.glob("Pulumi.*.yaml")):
        doc, problems, _ = parse_yaml(path.read_text(), path.name)
        assert not problems, problems
        out[path.name] = doc
    return out


def test_committed_files_are_what_make_docs_writes(generated):
    _, items, md, schema = generated
    texts = {"docs/config.md": md, "schema/stack.schema.json": json.dumps(schema, indent=2, ensure_ascii=False) + "\n"}
    assert texts == configdocs.render()           # the generator is deterministic
    for rel, text in texts.items():
        committed = (ROOT / rel).read_text() if (ROOT / rel).exists() else ""
        assert committed == text, f"{rel} differs from what the spec generates: run `make docs` and commit it"


def test_every_key_a_stack_reads_is_in_the_reference_and_the_schema(generated):
    """Every key path the readers read while loading each shipped stack appears in both outputs..."""
    rec_all, items, md, schema = generated
    seen: set[str] = set()
    for stack in configdocs.stacks():
        rec = configdocs.Recorder()
        raw, secrets = configdocs.stack_config(stack)
        assert configdocs.load_recorded(rec, raw, secrets, stack) == [], stack
        seen |= set(rec.keys)
    assert len(seen) > 150, len(seen)
    assert seen <= set(rec_all.keys)
    # ...and so does every key only the synthetic configs reach (blocks no stack writes).
    assert len(rec_all.keys) > len(seen)
    config = schema["properties"]["config"]["properties"]
    for path in sorted(seen | {e.key.path for e in items}):
        assert _in_markdown(md, path), f"{path} missing from docs/config.md"
        assert _schema_at(config, path) is not None, f"{path} missing from schema/stack.schema.json"


def _in_markdown(md: str, path: str) -> bool:
    if "." not in path and "[" not in path:
        return f"| `llmfleet:{path}` |" in md
    for root in sorted({*SECTIONS, re.split(r"[.\[]", path, maxsplit=1)[0]}, key=len, reverse=True):
        if path.startswith(root + ".") or path.startswith(root + "["):
            rel = re.sub(r"^(\[\])?\.", "", path[len(root):])
            section = md.split(f"\n## llmfleet:{root}\n", 1)
            return len(section) == 2 and f"| `{rel}` |" in section[1].split("\n## ", 1)[0]
    return False


def _schema_at(config: dict, path: str):
    """The schema node of a key path, walking objects, list items and maps."""
    segments = path.split(".")
    node = config.get(f"llmfleet:{segments[0].removesuffix('[]')}")
    node = _unwrap(node)
    if segments[0].endswith("[]"):
        node = node["items"]
    for seg in segments[1:]:
        if node is None:
            return None
        name = seg.removesuffix("[]")
        if name.startswith("<"):
            node = node.get("additionalProperties")
        else:
            node = _unwrap(node.get("properties", {}).get(name))
        if node is not None and seg.endswith("[]"):
            node = node["items"]
    return node


def _unwrap(node):
    assert node is None or "anyOf" not in node      # one schema per key: errors name what is wrong
    return node


@pytest.fixture(scope="module")
def validator(generated):
    schema = generated[3]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_stack_file_is_valid(validator):
    docs = _stack_docs()
    assert len(docs) >= 5
    for name, doc in docs.items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, f"{name}: {errors}"


def _errors(validator, doc) -> list[str]:
    return ["/".join(map(str, e.absolute_path)) for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("path, value, where", [
    # An unknown key inside a nested block, as the reader's `done()` rejects it.
    (["llmfleet:gpuPools", 0, "sharing", "replicaz"], 4, "config/llmfleet:gpuPools"),
    (["llmfleet:cluster", "aws", "systemNodes", "minNode"], 2, "config/llmfleet:cluster"),
    # A wrong type, a value outside the choices, a number out of bounds, a pattern not met.
    (["llmfleet:gpuPools", 0, "maxNodes"], "two", "config/llmfleet:gpuPools"),
    (["llmfleet:models", 0, "engine"], "tgi", "config/llmfleet:models"),
    (["llmfleet:cluster", "kubernetesVersion"], "1.20", "config/llmfleet:cluster"),
    (["llmfleet:gpuPools", 0, "diskSizeGb"], 10, "config/llmfleet:gpuPools"),
    (["llmfleet:gpuPools", 0, "name"], "Bad_Name", "config/llmfleet:gpuPools"),
    (["llmfleet:observability", "alerts", "gpuIdlePercent"], True, "config/llmfleet:observability"),
    # A key of another cloud (prod is an AWS stack), as the readers refuse it.
    (["llmfleet:cluster", "gcp"], {"project": "my-project"}, "config/llmfleet:cluster"),
    (["llmfleet:gpuPools", 0, "pricePerHour"], 3.5, "config/llmfleet:gpuPools"),
    (["llmfleet:budget", "gcpBillingAccount"], "012345-6789AB-CDEF01", "config/llmfleet:budget"),
    # An unknown llmfleet key at the top.
    (["llmfleet:gpuPool"], [], "config"),
])
def test_a_bad_stack_file_is_rejected(validator, path, value, where):
    doc = copy.deepcopy(_stack_docs()["Pulumi.prod.yaml"])
    _set(doc["config"], path, value)
    errors = _errors(validator, doc)
    assert errors and all(e.startswith(where) for e in errors), errors
    # The program rejects the same change, at that key (the schema is not stricter than the reader here).
    raw, secrets = configdocs.stack_config("prod")
    load(raw, secrets, "prod")
    _set(raw, [path[0].partition(":")[2], *path[1:]], value)
    with pytest.raises(reader.ConfigError) as e:
        load(raw, secrets, "prod")
    key = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path[1:])
    assert any(line.startswith(path[0] + key.rsplit(".", 1)[0]) for line in e.value.lines), e.value.lines


def _set(node, path: list, value) -> None:
    for step in path[:-1]:
        node = node[step] if isinstance(step, int) else node.setdefault(step, {})
    node[path[-1]] = value


def test_the_schema_accepts_what_the_program_does_outside_llmfleet(validator):
    doc = copy.deepcopy(_stack_docs()["Pulumi.dev.yaml"])
    doc["config"]["aws:region"] = "us-west-2"                       # another namespace: its provider's
    doc["config"]["llmfleet:hfToken"] = {"secure": "v1:abc"}        # a secret, encrypted
    doc["config"]["llmfleet:gpuPools"] = json.dumps(doc["config"]["llmfleet:gpuPools"])   # as `pulumi new` writes
    doc["encryptionsalt"] = "v1:xyz"
    assert _errors(validator, doc) == []
    doc["confg"] = {}
    assert _errors(validator, doc) == [""]
    doc.pop("confg")
    doc["config"]["llmfleet:cloud"] = {"secure": "v1:abc"}         # not a secret key
    assert set(_errors(validator, doc)) == {"config/llmfleet:cloud"}


def test_a_key_without_a_meaning_fails_the_generator(monkeypatch):
    """The generator names every undocumented key, stale meaning and unreached reader call."""
    rec = configdocs.record_all()
    docs = dict(KEYS)
    docs.pop("gpuPools[].sharing.mode")
    docs["gpuPools[].sharing.modes"] = "stale"
    monkeypatch.setattr("spec.keydocs.KEYS", docs)
    rec.sites.discard(("spec/pools.py", next(line for f, line in rec.sites if f == "spec/pools.py")))
    with pytest.raises(configdocs.DocsError) as e:
        configdocs.entries(rec)
    lines = str(e.value).splitlines()
    assert "gpuPools[].sharing.mode: no meaning in spec/keydocs.py KEYS (add one line: what the key does)" in lines
    assert any(line.startswith("gpuPools[].sharing.modes: documented") for line in lines)
    assert any(line.startswith("spec/pools.py:") for line in lines)


def test_a_secret_read_by_name_must_be_declared(monkeypatch):
    import spec.stack
    monkeypatch.setattr(spec.stack, "SECRET_KEYS", (*spec.stack.SECRET_KEYS, "vaultToken"))
    monkeypatch.setitem(KEYS, "hfToken", Doc("Hugging Face token.", type="str"))   # not marked secret
    with pytest.raises(configdocs.DocsError) as e:
        configdocs.entries(configdocs.record_all())
    assert str(e.value).splitlines() == [
        'vaultToken: read by name in spec/stack.py; declare it in spec/keydocs.py KEYS with Doc(..., type="str")',
        "hfToken: a secret (spec/stack.py SECRET_KEYS): say Doc(..., secret=True)"]


def test_a_derived_default_must_be_described():
    """A default that differs between configs of one cloud comes from other keys: a literal would mislead."""
    rec = configdocs.record_all()
    key = rec.keys["cluster.name"]
    assert len(key.defaults["aws"]) > 1         # llm-<stack>: dev, prod, prod-karpenter
    assert isinstance(KEYS["cluster.name"], Doc) and KEYS["cluster.name"].default
    problems: list = []
    configdocs._default(key, problems)
    assert problems and problems[0].startswith("cluster.name: its default varies")


def test_reference_rows_carry_the_readers_facts(generated):
    """Spot checks that types, defaults, bounds, choices and clouds come through from the reader calls."""
    _, _, md, schema = generated
    pools = md.split("\n## llmfleet:gpuPools\n", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"\| `diskSizeGb` \| integer \| `500` \| 100–16384 \| all \|", pools)
    assert re.search(r"\| `sharing.mode` \| string \| `none` \| `mig`, `none`, `time-slicing` \| all \|", pools)
    assert re.search(r"\| `image` \| string \| `al2023-nvidia` \| `al2023-nvidia`, `bottlerocket-nvidia` \| aws \|",
                     pools)
    assert "| `pricePerHour` | number | unset | 0–1000 | existing |" in pools
    cfg = schema["properties"]["config"]["properties"]
    assert _schema_at(cfg, "gpuPools[].diskSizeGb")["minimum"] == 100
    assert _schema_at(cfg, "cluster.aws.subnetCidrs.<zone>.private")["type"] == "string"
    assert cfg["llmfleet:hfToken"]["required"] == ["secure"]
    assert cfg["llmfleet:hfToken"]["type"] == ["string", "object"]


def test_a_new_key_in_a_reader_must_be_documented(monkeypatch):
    """End to end: a reader that starts reading a key nobody documented fails the generator, naming the key."""
    import spec.stack
    real = spec.stack.read_gateway

    def read_gateway(o, environment):
        o.int("zzNewKey", 3, min=1)
        return real(o, environment)

    monkeypatch.setattr(spec.stack, "read_gateway", read_gateway)
    rec = configdocs.record_all()
    assert rec.keys["gateway.zzNewKey"].kind == "int" and rec.keys["gateway.zzNewKey"].lo == 1
    with pytest.raises(configdocs.DocsError) as e:
        configdocs.entries(rec)
    assert str(e.value).splitlines() == [
        "gateway.zzNewKey: no meaning in spec/keydocs.py KEYS (add one line: what the key does)"]
    monkeypatch.setitem(KEYS, "gateway.zzNewKey", "A new knob.")
    items = configdocs.entries(rec)
    gateway = configdocs.markdown(items).split("\n## llmfleet:gateway\n", 1)[1]
    assert "| `zzNewKey` | integer | `3` | >= 1 | all | A new knob. |" in gateway


def test_every_key_a_stack_file_writes_is_documented(generated):
    """Independent of the recorder: walk the stack files themselves; every key they set has a row."""
    _, items, md, _ = generated
    documented = {e.key.path for e in items}
    kinds = {e.key.path: e.key.kind for e in items}
    written: set[str] = set()

    def walk(path: str, value) -> None:
        written.add(path)
        if kinds.get(path) == "str_map":
            return                                  # user-named keys (labels, tags)
        if isinstance(value, dict):
            for k, v in value.items():
                name = MAPS.get(path, k)
                walk(f"{path}.{name}", v)
        elif isinstance(value, list) and kinds.get(path) in ("list", "objs", "items"):
            for v in value:
                if isinstance(v, dict):
                    for k, w in v.items():
                        walk(f"{path}[].{k}", w)

    for name, doc in _stack_docs().items():
        for key, value in doc["config"].items():
            if key.startswith("llmfleet:"):
                walk(key.partition(":")[2], value)
    assert len(written) > 100
    assert written <= documented, sorted(written - documented)
    assert all(_in_markdown(md, path) for path in written)


def test_keys_of_other_clouds_are_refused_on_an_existing_cluster(validator):
    doc = copy.deepcopy(_stack_docs()["Pulumi.edge.yaml"])
    assert doc["config"]["llmfleet:cloud"] == "existing"
    doc["config"]["llmfleet:budget"] = {"monthly": 100, "contacts": ["a@example.com"]}
    doc["config"]["llmfleet:cluster"]["region"] = "us-east-1"
    doc["config"]["llmfleet:gpuPools"][0]["image"] = "al2023-nvidia"
    # jsonschema reports a `false` property schema at the object holding the key; editors mark the key itself.
    errors = sorted(("/".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(doc))
    assert errors == [("config", "False schema does not allow {'monthly': 100, 'contacts': ['a@example.com']}"),
                      ("config/llmfleet:cluster", "False schema does not allow 'us-east-1'"),
                      ("config/llmfleet:gpuPools/0", "False schema does not allow 'al2023-nvidia'")]


def test_a_missing_required_key_is_rejected(validator):
    doc = copy.deepcopy(_stack_docs()["Pulumi.prod.yaml"])
    del doc["config"]["llmfleet:gpuPools"][1]["name"]
    doc["config"]["llmfleet:budget"].pop("monthly")
    errors = sorted((("/".join(map(str, e.absolute_path))), e.message) for e in validator.iter_errors(doc))
    assert errors == [("config/llmfleet:budget", "'monthly' is a required property"),
                      ("config/llmfleet:gpuPools/1", "'name' is a required property")]
