"""CRD `x-kubernetes-validations` (CEL) rules, evaluated with cel-python on each custom resource, after the
schema's defaults are applied (as the API server does before validating). A rule the library cannot compile or
evaluate, and a transition rule (oldSelf: update only), is reported `unchecked`, never passed."""
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from plan import validate
from plan.checks import Check

def _celpy():
    """cel-python, imported on first cache miss only (its parser costs more than a whole warm check run)."""
    import celpy
    return celpy


@functools.lru_cache(maxsize=1)
def _cel_version():
    from importlib import metadata
    try:
        return metadata.version("cel-python")
    except metadata.PackageNotFoundError:   # reported per object below: nothing is waved through
        return None


@functools.lru_cache(maxsize=1)
def _env():
    return _celpy().Environment()


def _k8s_functions() -> dict:
    """A few of the Kubernetes CEL library's string functions (k8s.io/apiserver pkg/cel/library, cel-go ext
    strings) that cel-python lacks. Anything else unknown stays an evaluation error, i.e. `unchecked`."""
    import re
    from celpy import celtypes as t

    def split(s, sep):
        return t.ListType([t.StringType(x) for x in str(s).split(str(sep))])

    def find(s, pattern):
        m = re.search(str(pattern), str(s))
        return t.StringType(m.group(0) if m else "")

    return {"split": split, "find": find, "lowerAscii": lambda s: t.StringType(str(s).lower()),
            "upperAscii": lambda s: t.StringType(str(s).upper()), "trim": lambda s: t.StringType(str(s).strip())}


@functools.lru_cache(maxsize=None)
def _program(rule: str):
    env = _env()
    return env.program(env.compile(rule), functions=_k8s_functions())


def _defaulted(schema: dict, value):
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        out = dict(value)
        for k, s in props.items():
            if k not in out and "default" in s:
                out[k] = s["default"]
        for k, v in out.items():
            if k in props:
                out[k] = _defaulted(props[k], v)
            elif isinstance(schema.get("additionalProperties"), dict):
                out[k] = _defaulted(schema["additionalProperties"], v)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_defaulted(schema["items"], v) for v in value]
    return value


def _rules(schema: dict, value, path: str):
    if not isinstance(schema, dict) or value is None:
        return
    for rule in schema.get("x-kubernetes-validations") or []:
        yield path, rule, value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        ap = schema.get("additionalProperties")
        for k, v in value.items():
            if k in props:
                yield from _rules(props[k], v, f"{path}.{k}")
            elif isinstance(ap, dict):
                yield from _rules(ap, v, f"{path}.{k}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            yield from _rules(schema["items"], v, f"{path}[{i}]")


def _evaluate_rule(text: str, value) -> tuple[str, str]:
    """("pass" | "fail" | "unchecked", why) for one rule on one value."""
    if "oldSelf" in text:
        return "unchecked", "transition rule (oldSelf): evaluated on update only"
    celpy = _celpy()
    try:
        result = _program(text).evaluate({"self": celpy.json_to_cel(value)})
    except Exception as e:     # the library's compile/eval errors: not a verdict
        return "unchecked", f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
    if isinstance(result, Exception) or not isinstance(result, (bool, celpy.celtypes.BoolType)):
        return "unchecked", f"evaluated to {type(result).__name__}, not a boolean"
    return ("pass", "") if bool(result) else ("fail", "")


# Verdicts are pure functions of (library version, rule, value): cached on disk so a plan whose custom resources
# did not change never builds the CEL parser (seconds of start-up on a small machine).
_CACHE_VERSION = "1"


def _cache_path() -> Path:
    from plan.validate import ROOT
    version = _cel_version() or "none"
    return Path(os.environ.get("LLMFLEET_CACHE", ROOT / "out" / ".cache")) / f"cel-{version}-{_CACHE_VERSION}.json"


@functools.lru_cache(maxsize=1)
def _cache() -> dict:
    try:
        return json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _save_cache() -> None:
    path = _cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        json.dump(dict(list(_cache().items())[-20000:]), f)   # newest last: old values age out
    os.replace(tmp, path)


def evaluate(schema: dict, obj: dict) -> tuple[list, list, int]:
    """(failures, unchecked, passed) as (path, rule text, message) lists and a count."""
    fails, unchecked, passed = [], [], 0
    cache = _cache()
    for path, rule, value in _rules(schema, _defaulted(schema, obj), "self"):
        text = rule.get("rule", "")
        key = hashlib.sha256(json.dumps([text, value], sort_keys=True).encode()).hexdigest()
        if key not in cache:
            cache[key] = list(_evaluate_rule(text, value))
        verdict, why = cache[key]
        if verdict == "unchecked":
            unchecked.append((path, text, why))
        elif verdict == "pass":
            passed += 1
        else:
            fails.append((path, text, rule.get("message") or rule.get("messageExpression") or "failed"))
    return fails, unchecked, passed


def check(ctx) -> list[Check]:
    out = []
    before = len(_cache())
    index = validate.crd_index()
    for o in ctx.objects:
        group, _, version = o.get("apiVersion", "").rpartition("/")
        gvk = (group, version, o.get("kind"))
        if gvk not in index:
            continue
        m = o.get("metadata") or {}
        oid = f"{o['kind']} {m.get('namespace', '_cluster')}/{m.get('name')}"
        if _cel_version() is None:
            out.append(Check("api.cel", oid, "unchecked", "cel-python is not installed"))
            continue
        fails, unchecked, passed = evaluate(validate.schema(*gvk), o)
        for path, text, msg in fails:
            out.append(Check("api.cel", oid, "fail", f"{path}: {msg} (rule: {text})"))
        for path, text, why in unchecked:
            out.append(Check("api.cel", oid, "unchecked", f"{path}: rule {text!r} not evaluated: {why}"))
        if not fails and passed:
            out.append(Check("api.cel", oid, "pass", f"{passed} CEL rules hold"))
    if len(_cache()) != before:
        _save_cache()
    return out
