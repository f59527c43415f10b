"""CRD `x-kubernetes-validations` (CEL) rules, evaluated with cel-python on each custom resource, after the
schema's defaults are applied (as the API server does before validating). A rule the library cannot compile or
evaluate, and a transition rule (oldSelf: update only), is reported `unchecked`, never passed."""
import functools

from plan import validate
from plan.checks import Check

try:
    import celpy
except ImportError:          # reported per object below: nothing is waved through
    celpy = None


@functools.lru_cache(maxsize=1)
def _env():
    return celpy.Environment()


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


def evaluate(schema: dict, obj: dict) -> tuple[list, list, int]:
    """(failures, unchecked, passed) as (path, rule text, message) lists and a count."""
    fails, unchecked, passed = [], [], 0
    for path, rule, value in _rules(schema, _defaulted(schema, obj), "self"):
        text = rule.get("rule", "")
        if "oldSelf" in text:
            unchecked.append((path, text, "transition rule (oldSelf): evaluated on update only"))
            continue
        try:
            result = _program(text).evaluate({"self": celpy.json_to_cel(value)})
        except Exception as e:     # the library's compile/eval errors: not a verdict
            unchecked.append((path, text, f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"))
            continue
        if isinstance(result, Exception) or not isinstance(result, (bool, celpy.celtypes.BoolType)):
            unchecked.append((path, text, f"evaluated to {type(result).__name__}, not a boolean"))
        elif bool(result):
            passed += 1
        else:
            fails.append((path, text, rule.get("message") or rule.get("messageExpression") or "failed"))
    return fails, unchecked, passed


def check(ctx) -> list[Check]:
    out = []
    index = validate.crd_index()
    for o in ctx.objects:
        group, _, version = o.get("apiVersion", "").rpartition("/")
        gvk = (group, version, o.get("kind"))
        if gvk not in index:
            continue
        m = o.get("metadata") or {}
        oid = f"{o['kind']} {m.get('namespace', '_cluster')}/{m.get('name')}"
        if celpy is None:
            out.append(Check("api.cel", oid, "unchecked", "cel-python is not installed"))
            continue
        fails, unchecked, passed = evaluate(validate.schema(*gvk), o)
        for path, text, msg in fails:
            out.append(Check("api.cel", oid, "fail", f"{path}: {msg} (rule: {text})"))
        for path, text, why in unchecked:
            out.append(Check("api.cel", oid, "unchecked", f"{path}: rule {text!r} not evaluated: {why}"))
        if not fails and passed:
            out.append(Check("api.cel", oid, "pass", f"{passed} CEL rules hold"))
    return out
