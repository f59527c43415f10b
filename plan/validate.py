"""Validates objects against the strict Kubernetes schema of the cluster's version and CRD schemas.

Built-in kinds: `kubernetes-validate` (strict: unknown fields are errors, as `kubectl apply --validate=strict`).
Custom resources: the CRD's `openAPIV3Schema` from shared/crds/, made strict the way the API server's strict field
validation is (no unknown fields where the schema lists properties and does not preserve unknown fields), and
checked with jsonschema. A kind with no schema at all is an error: nothing is waved through unchecked.

Speed: parsing all ~15 MB of CRD YAML costs seconds, and a stack uses a handful of custom kinds. So each CRD file is
parsed once per content hash into a small cache (out/.cache/crds/, or $LLMFLEET_CACHE): an index of which file
defines which (group, version, kind), and one pickle per kind. A plan then loads only the kinds it meets. A file
whose size or mtime changed is re-hashed; a changed hash re-parses that file only. validate_all() also keeps each
object's verdict, keyed by the hash of the object, the schema and the validator versions: an unchanged object is
not validated again, and a plan whose objects are all unchanged does not even import the validators.
"""
import copy
import functools
import hashlib
import json
import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
# libyaml parses the upstream CRDs in seconds; the pure-Python loader takes half a minute.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CACHE_FORMAT = 1   # bump when the cached layout or _strict() changes
_MAX_VERDICTS = 5000

# Schemas shipped as JSON Schema rather than as a CRD (see shared/crds/SOURCES.md): file -> (group, version, kind).
JSON_SCHEMAS = {"gke/computeclass_v1.json": ("cloud.google.com", "v1", "ComputeClass")}


def crd_dir() -> Path:
    return Path(os.environ.get("LLMFLEET_CRDS", ROOT.parent / "shared" / "crds"))


def cache_dir() -> Path:
    return Path(os.environ.get("LLMFLEET_CACHE", ROOT / "out" / ".cache")) / "crds"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _unconvert(schema):
    """The datreeio JSON Schema adds `additionalProperties: false` to every object with properties; the live
    openAPIV3Schema has none, and _strict() adds them back where the API server would reject unknown fields."""
    if isinstance(schema, dict):
        return {k: _unconvert(v) for k, v in schema.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(schema, list):
        return [_unconvert(v) for v in schema]
    return schema


def _parse_file(path: Path, rel: str) -> dict:
    """(group, version, kind) -> openAPIV3Schema for every served version a file defines."""
    if rel in JSON_SCHEMAS:
        return {JSON_SCHEMAS[rel]: _unconvert(json.loads(path.read_text()))}
    out = {}
    for doc in yaml.load_all(path.read_text(), Loader=_LOADER):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        for v in doc["spec"]["versions"]:
            schema = (v.get("schema") or {}).get("openAPIV3Schema")
            if schema and v.get("served", True):
                out[(group, v["name"], kind)] = schema
    return out


def _entry_path(sha: str, gvk: tuple) -> Path:
    return cache_dir() / f"{sha[:20]}-{'_'.join(gvk).replace('/', '_')}.pickle"


@functools.lru_cache(maxsize=1)
def crd_index() -> dict[tuple[str, str, str], dict]:
    """(group, version, kind) -> {"file", "sha"}, for every CRD (and JSON schema) under shared/crds/. Cheap: the
    schemas themselves are loaded by schema() on first use."""
    root, cdir = crd_dir(), cache_dir()
    index_path = cdir / f"index-{_CACHE_FORMAT}-{hashlib.sha256(str(root).encode()).hexdigest()[:12]}.json"
    try:
        cached = json.loads(index_path.read_text())
        if cached.get("root") != str(root):
            cached = {}
    except (OSError, ValueError):
        cached = {}
    files = cached.get("files", {})
    new_files, index, changed = {}, {}, False
    paths = sorted(p for p in root.rglob("*") if p.suffix == ".yaml" or
                   str(p.relative_to(root)) in JSON_SCHEMAS)
    for path in paths:
        rel = str(path.relative_to(root))
        st = path.stat()
        entry = files.get(rel)
        if entry and entry["size"] == st.st_size and entry["mtime"] == st.st_mtime_ns:
            new_files[rel] = entry
        else:
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            kinds_path = cdir / f"{sha[:20]}.kinds.json"
            if not entry or entry["sha"] != sha:
                try:    # parsed before (another checkout, or the index was rebuilt): reuse its kinds
                    entry = {"sha": sha, "kinds": json.loads(kinds_path.read_text())}
                except (OSError, ValueError):
                    entry = None
            if not entry or not all(_entry_path(sha, tuple(k)).exists() for k in entry["kinds"]):
                parsed = _parse_file(path, rel)
                for gvk, schema in parsed.items():
                    _atomic_write(_entry_path(sha, gvk), pickle.dumps(schema, protocol=pickle.HIGHEST_PROTOCOL))
                entry = {"sha": sha, "kinds": [list(k) for k in parsed]}
                _atomic_write(kinds_path, json.dumps(entry["kinds"]).encode())
            new_files[rel] = dict(entry, size=st.st_size, mtime=st.st_mtime_ns)
            changed = True
        for k in new_files[rel]["kinds"]:
            index[tuple(k)] = {"file": rel, "sha": new_files[rel]["sha"]}
    if changed or set(files) != set(new_files):
        _atomic_write(index_path, json.dumps({"root": str(root), "files": new_files}).encode())
    return index


@functools.lru_cache(maxsize=None)
def schema(group: str, version: str, kind: str) -> dict:
    """The CRD's openAPIV3Schema as published (x-kubernetes-validations included), from the cache; else the
    project's own schema of a kind shared/crds/ lacks (plan/extra_schemas.py)."""
    from plan.extra_schemas import SCHEMAS
    if (group, version, kind) not in crd_index():
        return copy.deepcopy(SCHEMAS[(group, version, kind)])
    entry = crd_index()[(group, version, kind)]
    path = _entry_path(entry["sha"], (group, version, kind))
    try:
        return pickle.loads(path.read_bytes())
    except OSError:   # cache removed under us: parse the file again
        return _parse_file(crd_dir() / entry["file"], entry["file"])[(group, version, kind)]


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
    import jsonschema
    strict = _strict(schema(group, version, kind))
    # metadata is ObjectMeta, checked by the API server itself; the CRD only says "object".
    strict.setdefault("properties", {})["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(strict)


@functools.lru_cache(maxsize=None)
def _k8s_schema_dir(k8s_version: str) -> str:
    """kubernetes-validate's strict schema folder for the newest version not newer than the cluster's."""
    from kubernetes_validate import utils as kv_utils
    want = kv_utils.major_minor(k8s_version)
    if want > kv_utils.latest_version():
        raise kv_utils.VersionNotSupportedError(version=want)     # defined in utils, not the package top level
    version = [v for v in kv_utils.all_versions() if kv_utils.major_minor(v) <= want][-1]
    return f"kubernetes-json-schema/v{version}-local-strict"


@functools.lru_cache(maxsize=None)
def _k8s_registry(schema_dir: str):
    # The shared definitions file is megabytes of JSON: read it once per process, not once per object.
    import referencing
    from kubernetes_validate import utils as kv_utils
    return referencing.Resource.from_contents(kv_utils.schema_contents(f"{schema_dir}/_definitions.json", "")) \
        @ referencing.Registry()


@functools.lru_cache(maxsize=None)
def _builtin_validator(api_version: str, kind: str, k8s_version: str):
    """The validator kubernetes-validate builds for a built-in kind, built once per kind and version."""
    import jsonschema
    import kubernetes_validate
    import referencing
    from kubernetes_validate import utils as kv_utils
    schema_dir = _k8s_schema_dir(k8s_version)
    file_api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        kind_schema = kv_utils.schema_contents(f"{schema_dir}/{kind.lower()}-{file_api}.json", k8s_version)
    except FileNotFoundError:
        raise kubernetes_validate.SchemaNotFoundError(version=k8s_version, kind=kind, api_version=api_version)
    registry = referencing.Resource.from_contents(kind_schema) @ _k8s_registry(schema_dir)
    return jsonschema.validators.Draft202012Validator(kind_schema, registry=registry)


def _k8s_error_text(e: Exception) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__


def validate_object(obj: dict, k8s_version: str) -> list[str]:
    """Problems with one object, each a line; empty when valid."""
    api = obj.get("apiVersion", "")
    kind = obj.get("kind", "")
    group, _, version = api.rpartition("/")
    meta = obj.get("metadata") or {}
    import kubernetes_validate
    problems = []
    if not meta.get("name"):
        problems.append("metadata.name is not set (name every object explicitly)")
    from plan.extra_schemas import SCHEMAS
    if (group, version, kind) in crd_index() or (group, version, kind) in SCHEMAS:
        v = _validator(group, version, kind)
        for err in sorted(v.iter_errors(obj), key=lambda e: list(e.absolute_path)):
            where = ".".join(str(p) for p in err.absolute_path) or "(root)"
            problems.append(f"{where}: {err.message[:300]}")
        return problems
    try:
        validator = _builtin_validator(api, kind, k8s_version)
        err = next(validator.iter_errors(obj), None)   # what kubernetes-validate's validate() raises
        if err is not None:
            where = ".".join(str(p) for p in err.absolute_path)
            problems.append(f"{where or '(root)'}: {err.message[:300]}")
    except kubernetes_validate.SchemaNotFoundError:
        problems.append(f"no schema for {api} {kind}: neither Kubernetes {k8s_version} nor a CRD in "
                        f"{crd_dir()} defines it")
    except kubernetes_validate.InvalidSchemaError as e:
        problems.append(f"schema error: {_k8s_error_text(e)}")
    return problems


@functools.lru_cache(maxsize=1)
def _validator_versions() -> str:
    from importlib import metadata
    return ",".join(f"{p}={metadata.version(p)}" for p in ("kubernetes-validate", "jsonschema"))


def _verdict_key(obj: dict, k8s_version: str) -> str:
    group, _, version = obj.get("apiVersion", "").rpartition("/")
    entry = crd_index().get((group, version, obj.get("kind", "")))
    from plan.extra_schemas import SCHEMAS
    gvk = (group, version, obj.get("kind", ""))
    schema_id = entry["sha"] if entry else (
        hashlib.sha256(json.dumps(SCHEMAS[gvk], sort_keys=True).encode()).hexdigest() if gvk in SCHEMAS else "builtin")
    text = json.dumps([_CACHE_FORMAT, _validator_versions(), k8s_version, schema_id, obj], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def validate_all(objs: list[dict], k8s_version: str) -> dict[str, list[str]]:
    """Object id -> problems, for the invalid objects only."""
    out = {}
    path = cache_dir() / f"verdicts-{_CACHE_FORMAT}.json"
    try:
        verdicts = json.loads(path.read_text())
    except (OSError, ValueError):
        verdicts = {}
    changed = False
    for obj in objs:
        key = _verdict_key(obj, k8s_version)
        if key in verdicts:
            problems = verdicts[key]
        else:
            problems = verdicts[key] = validate_object(obj, k8s_version)
            changed = True
        if problems:
            meta = obj.get("metadata") or {}
            out[f"{obj.get('apiVersion')} {obj.get('kind')} {meta.get('namespace', '_cluster')}/{meta.get('name')}"] = problems
    if changed:
        keep = dict(list(verdicts.items())[-_MAX_VERDICTS:])   # newest last: old objects age out
        _atomic_write(path, json.dumps(keep).encode())
    return out
