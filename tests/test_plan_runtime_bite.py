"""What the offline runtime records and writes, decision by decision (plan/options.py, plan/preview.py,
plan/runtime.py): resource options from the engine's request, preview.json's shape, secret redaction."""
from pulumi.runtime import rpc
from pulumi.runtime.proto import alias_pb2, resource_pb2

from plan import options, preview
from plan.runtime import SECRET, Recorded, RunResult, _plain, redact


def test_options_from_a_register_request():
    req = resource_pb2.RegisterResourceRequest(
        type="t", name="n", deleteBeforeReplace=True, protect=True, ignoreChanges=["b", "a"],
        replaceOnChanges=["z", "y"], aliasURNs=["urn:2", "urn:1"],
        aliases=[alias_pb2.Alias(urn="urn:x"),
                 alias_pb2.Alias(spec=alias_pb2.Alias.Spec(name="old", parentUrn="urn:p")),
                 alias_pb2.Alias(spec=alias_pb2.Alias.Spec(type="old:t", noParent=True))],
        customTimeouts=resource_pb2.RegisterResourceRequest.CustomTimeouts(create="10m", delete="5m"))
    assert options.from_request(req) == {
        "deleteBeforeReplace": True, "protect": True, "retainOnDelete": False, "ignoreChanges": ["a", "b"],
        "aliases": ["urn:x", {"name": "old", "parentUrn": "urn:p"}, {"type": "old:t", "noParent": True},
                    "urn:1", "urn:2"],
        "replaceOnChanges": ["y", "z"], "customTimeouts": {"create": "10m", "delete": "5m"}}
    plain = options.from_request(resource_pb2.RegisterResourceRequest(type="t", name="n"))
    assert plain == {"deleteBeforeReplace": False, "protect": False, "retainOnDelete": False, "ignoreChanges": [],
                     "aliases": [], "replaceOnChanges": [], "customTimeouts": {}}
    kept = options.from_request(resource_pb2.RegisterResourceRequest(type="t", name="n", retainOnDelete=True))
    assert kept["retainOnDelete"] is True


def test_preview_digest_shape():
    rs = [Recorded("aws:iam/role:Role", "r", "urn:r", "", True, {"a": 1}),
          Recorded("k8s:x", "k", "urn:k", "urn:parent", True, {}, provider="urn:prov::id", dependencies=["urn:r"])]
    result = RunResult("p", "s", rs, {}, {}, config={"p:b": "x", "p:a": "secret-value"}, secret_keys=["p:a"])
    d = preview.digest(result, 1234)
    stack_urn = "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"
    assert d["duration"] == 1234 and d["changeSummary"] == {"create": 3}
    assert list(d["config"].items()) == [("p:a", SECRET), ("p:b", "x")]
    assert d["steps"][0] == {"op": "create", "urn": stack_urn,
                             "newState": {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack",
                                          "inputs": {}}}
    assert d["steps"][1] == {"op": "create", "urn": "urn:r", "newState": {
        "urn": "urn:r", "custom": True, "type": "aws:iam/role:Role", "inputs": {"a": 1}, "parent": stack_urn}}
    assert d["steps"][2] == {"op": "create", "urn": "urn:k", "provider": "urn:prov::id", "newState": {
        "urn": "urn:k", "custom": True, "type": "k8s:x", "inputs": {}, "parent": "urn:parent",
        "dependencies": ["urn:r"], "provider": "urn:prov::id"}}


def test_redact_secrets_and_keep_the_keys_of_secret_objects():
    wrap = lambda v: {rpc._special_sig_key: rpc._special_secret_sig, "value": v}
    assert redact({"a": wrap("s"), "b": [wrap(1), 2], "c": wrap({"k1": "v", "k2": "w"}), "d": "x"}) == {
        "a": SECRET, "b": [SECRET, 2], "c": {"k1": SECRET, "k2": SECRET}, "d": "x"}


def test_plain_drops_internal_keys_and_names_resources():
    import pulumi
    res = pulumi.CustomResource.__new__(pulumi.CustomResource)
    assert _plain({"__internal": 1, "a": [res, 1.0], 3: "x"}) == {"a": ["<resource CustomResource>", 1.0], 3: "x"}
