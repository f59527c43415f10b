"""Schema validation decision by decision (plan/validate.py): how a CRD schema is made strict, which schema an
object meets, what a problem line says, and the verdict cache's key."""
import pytest

from plan import validate
from plan.validate import _strict, _unconvert, validate_all, validate_object


def test_strict_rejects_unknown_fields_only_where_the_schema_lists_properties_and_keeps_none():
    s = _strict({"type": "object", "properties": {"a": {"type": "string"}}})
    assert s == {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False}
    keep = _strict({"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {"a": {"type": "object", "properties": {"b": {}}}}})
    assert "additionalProperties" not in keep and keep["properties"]["a"]["additionalProperties"] is False
    given = _strict({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "object",
                                                                                       "properties": {"c": {}}}})
    assert given["additionalProperties"] == {"type": "object", "properties": {"c": {}}, "additionalProperties": False}
    assert _strict({"type": "object"}) == {"type": "object"}


def test_strict_knows_int_or_string_nullable_and_drops_kubernetes_extensions():
    assert _strict({"type": "string", "x-kubernetes-int-or-string": True}) == {
        "anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert _strict({"type": "string", "nullable": True}) == {"type": ["string", "null"], "nullable": True}
    assert _strict({"nullable": True}) == {"nullable": True}
    assert _strict({"type": "string", "nullable": False}) == {"type": "string", "nullable": False}
    assert _strict({"type": "string", "x-kubernetes-validations": [{"rule": "x"}], "x-kubernetes-list-type": "set"}) \
        == {"type": "string"}
    nested = _strict({"type": "array", "items": {"type": "object", "properties": {"a": {}}},
                      "allOf": [{"properties": {"b": {}}}], "anyOf": [{"properties": {"c": {}}}],
                      "oneOf": [{"properties": {"d": {}}}], "not": {"properties": {"e": {}}}})
    assert nested["items"]["additionalProperties"] is False
    for key in ("allOf", "anyOf", "oneOf"):
        assert nested[key][0]["additionalProperties"] is False
    assert nested["not"]["additionalProperties"] is False


def test_strict_does_not_change_the_schema_it_is_given():
    schema = {"type": "object", "properties": {"a": {"type": "string", "x-kubernetes-int-or-string": True}}}
    _strict(schema)
    assert schema == {"type": "object", "properties": {"a": {"type": "string", "x-kubernetes-int-or-string": True}}}


def test_unconvert_drops_only_false_additional_properties():
    assert _unconvert({"a": {"additionalProperties": False, "b": [{"additionalProperties": False, "c": 1}]},
                       "additionalProperties": {"type": "string"}}) == {
        "a": {"b": [{"c": 1}]}, "additionalProperties": {"type": "string"}}


def so(**spec):
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "s", "namespace": "n"},
            "spec": dict({"scaleTargetRef": {"name": "m"}, "triggers": [{"type": "cpu", "metadata": {}}]}, **spec)}


def test_a_custom_resource_meets_its_crd_strictly_and_problems_name_the_path():
    assert validate_object(so(), "1.34") == []
    problems = validate_object(so(minReplicaCount="x", bogus=1), "1.34")
    assert problems == ["spec: Additional properties are not allowed ('bogus' was unexpected)",
                        "spec.minReplicaCount: 'x' is not of type 'integer'"]
    assert validate_object(dict(so(), extra=1), "1.34") == [
        "(root): Additional properties are not allowed ('extra' was unexpected)"]
    nameless = so()
    del nameless["metadata"]["name"]
    assert validate_object(nameless, "1.34") == ["metadata.name is not set (name every object explicitly)"]
    # metadata is the API server's business: any object is accepted there.
    assert validate_object(dict(so(), metadata={"name": "s", "whatever": {"x": 1}}), "1.34") == []


def test_a_builtin_kind_meets_the_strict_kubernetes_schema_of_the_version():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    assert validate_object(cm, "1.34") == []
    assert validate_object(dict(cm, bogus=1), "1.34") == [
        "(root): Additional properties are not allowed ('bogus' was unexpected)"]
    assert validate_object(dict(cm, data={"a": 1}), "1.34") == ["data.a: 1 is not of type 'string', 'null'"]
    unknown = {"apiVersion": "nope.io/v1", "kind": "Thing", "metadata": {"name": "t"}}
    [line] = validate_object(unknown, "1.34")
    assert line.startswith("no schema for nope.io/v1 Thing: neither Kubernetes 1.34 nor a CRD in ")


def test_the_schema_folder_is_the_newest_version_not_newer_than_the_cluster():
    from kubernetes_validate import utils as kv_utils
    assert validate._k8s_schema_dir("1.30").startswith("kubernetes-json-schema/v1.30.")
    assert validate._k8s_schema_dir("1.34.2").startswith("kubernetes-json-schema/v1.34.")
    # A cluster newer than the validator's schemas is its documented error (it was an AttributeError).
    with pytest.raises(kv_utils.VersionNotSupportedError):
        validate._k8s_schema_dir("1.99")


def test_validate_all_names_invalid_objects_and_keys_verdicts_by_version_and_object():
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "bogus": 1}
    ok = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    out = validate_all([cm, ok], "1.34")
    assert list(out) == ["v1 ConfigMap n/c"]
    assert validate_all([dict(ok, bogus=1)], "1.34") == {
        "v1 Namespace _cluster/n": ["(root): Additional properties are not allowed ('bogus' was unexpected)"]}
    k = validate._verdict_key(cm, "1.34")
    assert k == validate._verdict_key(dict(cm), "1.34")
    assert k != validate._verdict_key(cm, "1.33") and k != validate._verdict_key(ok, "1.34")
    assert validate._verdict_key(so(), "1.34") != validate._verdict_key(so(minReplicaCount=1), "1.34")


def test_k8s_error_text_is_the_first_line_or_the_type():
    assert validate._k8s_error_text(ValueError("  a\nb")) == "a"
    assert validate._k8s_error_text(ValueError("")) == "ValueError"
