"""Records every Obj accessor call (spec/reader.py) while stack configs load: the facts of each key.

Only inside `recording()`: the accessors are wrapped for its duration and restored after, so `load()` and the plan
pay nothing.
"""
import ast
import copy
import json
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from spec import reader

ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = ROOT / "spec"
ACCESSORS = ("str", "int", "float", "bool", "str_map", "str_list", "obj", "list", "objs", "items")


@dataclass
class Key:
    """Everything recorded about one key path, over every config loaded."""
    path: str                                   # "gpuPools[].sharing.mode"; top level without "llmfleet:"
    kind: str                                   # the accessor that read it: str, int, obj, items, ...
    defaults: dict = field(default_factory=dict)   # cloud -> defaults seen, as JSON text ("required" if none)
    choices: Optional[tuple] = None
    lo: Any = None
    hi: Any = None
    pattern: Optional[str] = None
    hint: str = ""
    min_items: int = 0
    key_pattern: Optional[str] = None
    value_pattern: Optional[str] = None
    value_hint: str = ""
    items_are_objects: bool = False
    clouds: set = field(default_factory=set)
    sites: set = field(default_factory=set)      # (file, line) of the reader calls


class Recorder:
    def __init__(self) -> None:
        self.keys: dict[str, Key] = {}
        self.sites: set[tuple[str, int]] = set()
        self.cloud = ""
        self._active: list[tuple[int, str]] = []
        self._lists: dict[str, str] = {}       # printed path of a list -> its normalised path

    def norm(self, o: reader.Obj) -> str:
        mine = getattr(o, "_docpath", None)
        if mine is not None:
            return mine
        path = o.path
        if path == "llmfleet":
            return ""
        return re.sub(r"\[\d+\]", "[]", path.partition(":")[2] if path.startswith("llmfleet:") else path)

    def child(self, o: reader.Obj, key: str) -> str:
        from spec.keydocs import MAPS
        base = self.norm(o)
        name = MAPS.get(base, key) if base in MAPS else key
        return f"{base}.{name}" if base else name

    def record(self, o: reader.Obj, kind: str, key: str, bound: dict, site: tuple[str, int]) -> str:
        path = self.child(o, key)
        k = self.keys.get(path)
        if k is None:
            k = self.keys[path] = Key(path, kind)
        k.clouds.add(self.cloud)
        k.sites.add(site)
        self.sites.add(site)
        if "default" in bound:
            k.defaults.setdefault(self.cloud, set()).add(_show(bound["default"]))
        if bound.get("limit") is not None:
            k.lo, k.hi = bound["limit"].lo, bound["limit"].hi
        elif "min" in bound:
            k.lo, k.hi = bound.get("min"), bound.get("max")
        if bound.get("choices") is not None:
            choices = bound["choices"]      # a set has no order of its own: sorted, so the files do not churn
            k.choices = tuple(sorted(choices) if isinstance(choices, (set, frozenset)) else choices)
        for name in ("pattern", "hint", "key_pattern", "value_pattern", "value_hint"):
            if bound.get(name):
                setattr(k, name, bound[name])
        if kind == "obj" and bound.get("required"):
            k.defaults.setdefault(self.cloud, set()).add("required")
        if bound.get("min_items"):
            k.min_items = bound["min_items"]
        if kind == "objs" or kind == "items":
            k.items_are_objects = True
        return path


def _show(value: Any) -> str:
    if value is reader.REQUIRED:
        return "required"
    return json.dumps(list(value) if isinstance(value, tuple) else value, sort_keys=True, default=str)


@contextmanager
def recording(rec: Recorder) -> Iterator[Recorder]:
    """Wraps Obj's accessors for the duration; nothing is wrapped outside it (plans pay nothing)."""
    import inspect
    saved = {name: getattr(reader.Obj, name) for name in (*ACCESSORS, "__init__")}

    def wrap(name: str):
        real = saved[name]
        sig = inspect.signature(real)

        def accessor(self, key, *args, **kwargs):
            mark = (id(self), key)
            if rec._active and rec._active[-1] == mark:     # str_list -> list, objs -> items -> list
                return real(self, key, *args, **kwargs)
            caller = sys._getframe(1)
            where = Path(caller.f_code.co_filename).resolve()
            site = (where.relative_to(ROOT).as_posix() if where.is_relative_to(ROOT) else str(where), caller.f_lineno)
            bound = sig.bind(self, key, *args, **kwargs)
            bound.apply_defaults()
            path = rec.record(self, name, str(key), dict(bound.arguments), site)
            if name in ("list", "str_list", "objs", "items"):
                rec._lists[self.key_path(key)] = path
            rec._active.append(mark)
            try:
                result = real(self, key, *args, **kwargs)
            finally:
                rec._active.pop()
            if name == "obj":
                result._docpath = path
            return result
        return accessor

    def init(self, value, path, problems):
        saved["__init__"](self, value, path, problems)
        m = re.fullmatch(r"(.*)\[\d+\]", path)
        if m and m.group(1) in rec._lists:
            self._docpath = rec._lists[m.group(1)] + "[]"
            listed = rec.keys.get(rec._lists[m.group(1)])
            if listed is not None:
                listed.items_are_objects = True

    try:
        for name in ACCESSORS:
            setattr(reader.Obj, name, wrap(name))
        reader.Obj.__init__ = init
        yield rec
    finally:
        for name, fn in saved.items():
            setattr(reader.Obj, name, fn)


def _mutmut_copy(node: ast.AST) -> bool:
    """Under `make mutate`, mutmut runs each function as its copy `x_<name>__mutmut_orig` (or a variant
    `x_<name>__mutmut_<n>` under that variant's test); the decorated `<name>` keeps a body that never runs."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    if "__mutmut_" in node.name:
        return not node.name.endswith("__mutmut_orig")
    return any(isinstance(d, ast.Call) and getattr(d.func, "id", "") == "_mutmut_mutated" for d in node.decorator_list)


def _walk(tree: ast.AST):
    """ast.walk, minus the function copies mutation testing adds that never run unmutated (`_mutmut_copy`)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if _mutmut_copy(node):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def call_sites() -> set[tuple[str, int]]:
    """Every line in spec/ that calls an Obj accessor with a key (what the loads must reach)."""
    out = set()
    for path in sorted(SPEC_DIR.rglob("*.py")):
        if path.name in ("reader.py", "keydocs.py"):
            continue
        tree = ast.parse(path.read_text())
        for node in _walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ACCESSORS
                    and node.args and isinstance(node.func.value, (ast.Name, ast.Attribute))
                    and not (isinstance(node.func.value, ast.Name) and node.func.value.id in ("re", "json", "os"))):
                out.add((path.relative_to(ROOT).as_posix(), node.lineno))
    return out


def stacks() -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def stack_config(stack: str) -> tuple[dict, set]:
    from plan.stackfile import load_stack_config
    from spec.stack import project_config
    _, config, secret_keys = load_stack_config(ROOT, stack)
    return project_config(config), {k.partition(":")[2] for k in secret_keys}


def load_recorded(rec: Recorder, raw: dict, secrets: set, stack: str) -> list[str]:
    """Loads one config under `rec`; returns its problem lines (synthetic configs need not be valid)."""
    from spec import federation
    from spec.stack import load
    rec.cloud = raw.get("cloud") if isinstance(raw.get("cloud"), str) else ""
    with recording(rec):
        try:
            if federation.is_federation(raw):      # a federation stack has a loader of its own
                federation.load(raw, stack)
            else:
                load(raw, secrets, stack)
        except reader.ConfigError as e:
            return e.lines
    return []


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = _merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(extra, list):
        return [*base, *copy.deepcopy(extra)]
    return copy.deepcopy(extra)


def record_all() -> Recorder:
    """Every shipped stack, then the synthetic configs, under one recorder."""
    rec = Recorder()
    for s in stacks():
        raw, secrets = stack_config(s)
        load_recorded(rec, raw, secrets, s)
    from spec.keydocs import synthetic
    for base, extra in synthetic():
        raw, secrets = stack_config(base)
        # As if `observability` were set with --secret --path: alert receiver URLs are read as the secrets they are.
        load_recorded(rec, _merge(raw, extra), secrets | {"observability"}, base)
    return rec
