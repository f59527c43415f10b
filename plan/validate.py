"""Validates objects against the strict Kubernetes schema of the cluster's version and CRD schemas.

Built-in kinds: `kubernetes-validate` (strict: unknown fields are errors, as `kubectl apply --validate=strict`).
Custom resources: the CRD's `openAPIV3Schema` from shared/crds/, made strict the way the API server's strict field
validation is (no unknown fields where the schema lists properties and does not preserve unknown fields), and
checked with jsonschema. A kind with no schema at all is an error: nothing is waved through unchecked.
"""
import copy
import functools
import os
from pathlib import Path
from typing import Optional

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent.parent
# libyaml parses the ~15 MB of upstream CRDs in seconds; the pure-Python loader takes half a minute.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def crd_dir() -> Path:
    return Path(os.environ.get("LLMFLEET_CRDS", ROOT.parent / "shared" / "crds"))


@functools.lru_cache(maxsize=1)
def crd_index() -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> strict JSON schema, from every CRD file under shared/crds/."""
    index = {}
    for path in sorted(crd_dir().rglob("*.yaml")):
        for doc in yaml.load_all(path.read_text(), Loader=_LOADER):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group = doc["spec"]["group"]
            kind = doc["spec"]["names"]["kind"]
            for v in doc["spec"]["versions"]:
                schema = (v.get("schema") or {}).get("openAPIV3Schema")
                if schema and v.get("served", True):
                    index[(group, v["name"], kind)] = {"schema": schema, "file": str(path.relative_to(crd_dir()))}
    return index


def _strict(schema: dict) -> dict:
    """OpenAPI v3 structural schema -> JSON schema that rejects unknown fields and knows int-or-string."""
    s = copy.copy(schema)
    if s.pop("x-kubernetes-int-or-string", False):
        s.pop("type", None)
        s["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    preserve = s.pop("x-kubernetes-preserve-unknown-fields", False)
    if s.get("nullable"):
        t = s.get("type")
        if t:
            s["type"] = [t, "null"]
    for key in list(s):
        if key.startswith("x-kubernetes-"):
            s.pop(key)
    if "properties" in s:
        s["properties"] = {k: _strict(v) for k, v in s["properties"].items()}
        if not preserve and "additionalProperties" not in s:
            s["additionalProperties"] = False
    if isinstance(s.get("additionalProperties"), dict):
        s["additionalProperties"] = _strict(s["additionalProperties"])
    if isinstance(s.get("items"), dict):
        s["items"] = _strict(s["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in s:
            s[key] = [_strict(x) for x in s[key]]
    if "not" in s:
        s["not"] = _strict(s["not"])
    return s


@functools.lru_cache(maxsize=None)
def _validator(group: str, version: str, kind: str):
    entry = crd_index()[(group, version, kind)]
    schema = _strict(entry["schema"])
    # metadata is ObjectMeta, checked by the API server itself; the CRD only says "object".
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(schema)


def _k8s_error_text(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def validate_object(obj: dict, k8s_version: str) -> list[str]:
    """Problems with one object, each a line; empty when valid."""
    api = obj.get("apiVersion", "")
    kind = obj.get("kind", "")
    group, _, version = api.rpartition("/")
    meta = obj.get("metadata") or {}
    problems = []
    if not meta.get("name"):
        problems.append("metadata.name is not set (name every object explicitly)")
    if (group, version, kind) in crd_index():
        v = _validator(group, version, kind)
        for err in sorted(v.iter_errors(obj), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in err.absolute_path) or "(root)"
            problems.append(f"{where}: {err.message[:300]}")
        return problems
    try:
        kubernetes_validate.validate(obj, f"{k8s_version}.0", strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        problems.append(f"no schema for {api} {kind}: neither Kubernetes {k8s_version} nor a CRD in "
                        f"{crd_dir()} defines it")
    except kubernetes_validate.ValidationError as e:
        where = ".".join(str(p) for p in e.absolute_path)
        problems.append(f"{where or '(root)'}: {e.message[:300]}")
    except kubernetes_validate.InvalidSchemaError as e:
        problems.append(f"schema error: {_k8s_error_text(e)}")
    return problems


def validate_all(objs: list[dict], k8s_version: str) -> dict[str, list[str]]:
    """Object id -> problems, for the invalid objects only."""
    out = {}
    for obj in objs:
        problems = validate_object(obj, k8s_version)
        if problems:
            meta = obj.get("metadata") or {}
            out[f"{obj.get('apiVersion')} {obj.get('kind')} {meta.get('namespace', '_cluster')}/{meta.get('name')}"] = problems
    return out
