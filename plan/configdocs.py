"""The config reference (docs/config.md) and the stack-file JSON Schema (schema/stack.schema.json), generated from
the readers themselves: `make docs` writes both, tests/test_docs_generated.py fails when the committed files differ.

How: while generating (never during a plan), every accessor call of spec/reader.py `Obj` is recorded: the key's
path (list positions as `[]`), its kind, default, choices, bounds and pattern, and the cloud of the config being
loaded. Every shipped stack and a few synthetic configs (spec/keydocs.py `synthetic`, reaching blocks no stack
writes) are loaded; a reader call site in spec/ that none of them reaches fails the generator, as does a key
without a meaning in spec/keydocs.py. Types, defaults and allowed values thus come from the code; only the
one-line meaning is written by hand.
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

ROOT = Path(__file__).resolve().parent.parent
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


def call_sites() -> set[tuple[str, int]]:
    """Every line in spec/ that calls an Obj accessor with a key (what the loads must reach)."""
    out = set()
    for path in sorted(SPEC_DIR.rglob("*.py")):
        if path.name in ("reader.py", "keydocs.py"):
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
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
    from spec.stack import load
    rec.cloud = raw.get("cloud") if isinstance(raw.get("cloud"), str) else ""
    with recording(rec):
        try:
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
        load_recorded(rec, _merge(raw, extra), secrets | {"observability"}, base)
    return rec



# --- the reference and the schema -------------------------------------------------------------------------------

class DocsError(Exception):
    """What keeps the generator from writing complete files: one line per key or call site."""


TYPE_NAMES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "str_map": "map of strings",
              "str_list": "list of strings", "obj": "object", "list": "list", "objs": "list of objects",
              "items": "list of objects"}
ALL_CLOUDS = ("aws", "gcp", "azure", "existing")


@dataclass
class Entry:
    """One row of the reference: what was recorded, with its meaning and the texts shown."""
    key: Key
    doc: Any                     # spec.keydocs.Doc
    type: str
    default: str
    allowed: str
    clouds: tuple


def entries(rec: Recorder) -> list[Entry]:
    """Every key with its meaning; DocsError lists every key without one, every stale meaning and every reader
    call no config reached."""
    from spec.keydocs import KEYS, Doc
    problems = []
    missed = sorted(call_sites() - rec.sites)
    problems += [f"{f}:{line}: a reader call no stack or synthetic config reaches (spec/keydocs.py synthetic)"
                 for f, line in missed]
    keys = dict(rec.keys)
    for path, doc in KEYS.items():
        doc = doc if isinstance(doc, Doc) else Doc(doc)
        if path not in keys and doc.type:
            keys[path] = Key(path, doc.type, clouds=set(doc.clouds or ALL_CLOUDS))
        elif path not in keys:
            problems.append(f"{path}: documented in spec/keydocs.py, but no reader reads it")
    # Keys spec/stack.py reads by name, not through an accessor (the secrets): declared with a type in KEYS.
    from spec.stack import SECRET_KEYS, TOP_LEVEL_KEYS
    for name in (*TOP_LEVEL_KEYS, *SECRET_KEYS):
        if name not in keys and name not in KEYS:
            problems.append(f"{name}: read by name in spec/stack.py; declare it in spec/keydocs.py KEYS with "
                            f"Doc(..., type=\"str\")")
    for name in SECRET_KEYS:
        doc = KEYS.get(name)
        if doc is not None and not (isinstance(doc, Doc) and doc.secret):
            problems.append(f"{name}: a secret (spec/stack.py SECRET_KEYS): say Doc(..., secret=True)")
    out: list[Entry] = []
    placed: dict[str, Entry] = {}
    for path in _reading_order(list(keys)):
        k = keys[path]
        doc = KEYS.get(path)
        if doc is None:
            problems.append(f"{path}: no meaning in spec/keydocs.py KEYS (add one line: what the key does)")
            continue
        doc = doc if isinstance(doc, Doc) else Doc(doc)
        default = doc.default if doc.default is not None else _default(k, problems)
        # A key applies where its block does (budget.monthly: where llmfleet:budget does).
        clouds = _clouds(k, doc)
        parent = placed.get(_parent(path))
        if parent is not None:
            clouds = tuple(c for c in clouds if c in parent.clouds)
        out.append(Entry(k, doc, _type(k, doc), default, _allowed(k, doc), clouds))
        placed[path] = out[-1]
    if problems:
        raise DocsError("\n".join(problems))
    return out


def _parent(path: str) -> str:
    """`gpuPools[].sharing.mode` -> `gpuPools[].sharing`; `gpuPools[].name` -> `gpuPools`; top level -> ""."""
    if "." not in path:
        return ""
    head = path.rsplit(".", 1)[0]
    return head[:-2] if head.endswith("[]") else head


def _reading_order(paths: list[str]) -> list[str]:
    """Top-level keys in TOP_LEVEL_KEYS order, then the others as read; below them, each key's children in the
    order the readers read them (name first, as in the stack files)."""
    from spec.stack import TOP_LEVEL_KEYS
    children: dict[str, list[str]] = {}
    for path in paths:
        children.setdefault(_parent(path), []).append(path)
    top = children.get("", [])
    top = sorted(top, key=lambda p: (TOP_LEVEL_KEYS.index(p) if p in TOP_LEVEL_KEYS else len(TOP_LEVEL_KEYS),
                                     top.index(p)))
    out: list[str] = []

    def walk(path: str) -> None:
        out.append(path)
        for child in children.get(path, []):
            walk(child)

    for path in top:
        walk(path)
    return out


def _type(k: Key, doc) -> str:
    from spec.keydocs import MAPS
    if doc.secret:
        return "secret string"
    if k.path in MAPS:
        return f"map of objects by `{MAPS[k.path]}`"
    if k.kind == "list":
        return "list of objects" if k.items_are_objects else f"list of {doc.items or 'values'}s"
    return TYPE_NAMES.get(k.kind, k.kind)


def _default(k: Key, problems: list) -> str:
    if k.kind == "obj" and not k.defaults:
        return ""
    if k.kind == "str_map":
        return ""
    seen = {cloud: values for cloud, values in k.defaults.items()}
    if any(len(v) > 1 for v in seen.values()):
        problems.append(f"{k.path}: its default varies ({', '.join(sorted(set().union(*seen.values())))}): it "
                        f"derives from other keys; say how in spec/keydocs.py (Doc(..., default=...))")
        return ""
    per_cloud = {cloud: next(iter(v)) for cloud, v in seen.items()}
    values = set(per_cloud.values())
    if k.min_items and values == {"[]"}:
        return "required"
    if len(values) == 1:
        return _literal(values.pop())
    return "; ".join(f"{c}: {_literal(per_cloud[c])}" for c in ALL_CLOUDS if c in per_cloud)


def _literal(shown: str) -> str:
    if shown == "required":
        return "required"
    if shown == "null":
        return "unset"
    return f"`{_yaml(json.loads(shown))}`"


def _yaml(value: Any) -> str:
    """A default as a stack file would write it (flow style)."""
    if isinstance(value, str):
        return value if value and value.strip() == value and not value[0] in "[{\"'" else json.dumps(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    return str(value)


def _allowed(k: Key, doc) -> str:
    parts = []
    choices = doc.allowed or k.choices
    if choices:
        parts.append(", ".join(f"`{c}`" for c in (sorted(choices) if not doc.allowed else choices)))
    if k.lo is not None and k.hi is not None:
        parts.append(f"{_num(k.lo)}–{_num(k.hi)}")
    elif k.lo is not None:
        parts.append(f">= {_num(k.lo)}")
    elif k.hi is not None:
        parts.append(f"<= {_num(k.hi)}")
    if k.pattern:
        parts.append(k.hint or f"`{k.pattern}`")
    if k.key_pattern:
        parts.append(f"keys: {k.hint or k.key_pattern}")
    if k.value_pattern:
        parts.append(f"values: {k.value_hint or k.value_pattern}")
    if k.min_items:
        parts.append(f"at least {k.min_items} item{'s' if k.min_items > 1 else ''}")
    return "; ".join(parts)


def _num(x: Any) -> str:
    """A bound as written in a stack file: 4194304, 0.9999, 7680 (never 4.1943e+06)."""
    if isinstance(x, float) and x.is_integer():
        x = int(x)
    return str(x) if isinstance(x, int) else repr(x)


def _clouds(k: Key, doc) -> tuple:
    if doc.clouds:
        return tuple(c for c in ALL_CLOUDS if c in doc.clouds)
    m = re.match(r"cluster\.(aws|gcp|azure)(\.|$)", k.path)
    if m:
        return (m.group(1),)
    return tuple(c for c in ALL_CLOUDS if c in k.clouds)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _applies(clouds: tuple) -> str:
    return "all" if set(clouds) == set(ALL_CLOUDS) else ", ".join(clouds)


def _section(path: str) -> str:
    from spec.keydocs import SECTIONS
    for root in sorted(SECTIONS, key=len, reverse=True):
        if path == root or path.startswith(root + ".") or path.startswith(root + "["):
            return root
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def markdown(items: list[Entry]) -> str:
    """docs/config.md: the hand-written head (docs/config.head.md), the top-level keys, a table per block."""
    from spec.keydocs import SECTIONS
    head = (ROOT / "docs" / "config.head.md").read_text().rstrip() + "\n"
    lines = [head, "<!-- Generated by `make docs` (plan/configdocs.py) from spec/ and spec/keydocs.py: edit those or "
             "docs/config.head.md, not this file. -->", "", "## Top-level keys", "",
             "| key | type | default | allowed | applies to | meaning |", "|---|---|---|---|---|---|"]
    by_path = {e.key.path: e for e in items}
    sections: dict[str, list[Entry]] = {}
    for e in items:
        if _parent(e.key.path) == "":
            lines.append(f"| `llmfleet:{e.key.path}` | {e.type} | {_cell(e.default)} | {_cell(e.allowed)} | "
                         f"{_applies(e.clouds)} | {_cell(e.doc.meaning)} |")
        else:   # a block with a section of its own is also a row of its parent's table
            sections.setdefault(_section(_parent(e.key.path) if e.key.path in SECTIONS else e.key.path),
                                []).append(e)
    for root, rows in sections.items():
        lines += ["", f"## llmfleet:{root}", "", by_path[root].doc.meaning, "",
                  "| key | type | default | allowed | applies to | meaning |", "|---|---|---|---|---|---|"]
        for e in rows:
            if e.key.path == root:
                continue
            rel = re.sub(r"^(\[\])?\.", "", e.key.path[len(root):])
            lines.append(f"| `{rel}` | {e.type} | {_cell(e.default)} | {_cell(e.allowed)} | {_applies(e.clouds)} | "
                         f"{_cell(e.doc.meaning)} |")
    return "\n".join(lines) + "\n"


SECURE = {"type": "object", "properties": {"secure": {"type": "string"}}, "required": ["secure"],
          "additionalProperties": False, "description": "A value encrypted by `pulumi config set --secret`."}


def _leaf(e: Entry) -> dict:
    from spec.keydocs import MAPS
    k = e.key
    out: dict = {}
    if k.kind == "str" or e.doc.secret:
        out["type"] = "string"
        choices = e.doc.allowed or k.choices
        if choices:
            out["enum"] = list(choices)
        if k.pattern:
            out["pattern"] = f"^(?:{k.pattern})$"
    elif k.kind in ("int", "float"):
        out["type"] = "integer" if k.kind == "int" else "number"
        if k.lo is not None:
            out["minimum"] = k.lo
        if k.hi is not None:
            out["maximum"] = k.hi
    elif k.kind == "bool":
        out["type"] = "boolean"
    elif k.kind == "str_map":
        out = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
        if k.key_pattern:
            out["propertyNames"] = {"pattern": f"^(?:{k.key_pattern})$"}
    elif k.kind == "str_list" or (k.kind == "list" and not k.items_are_objects):
        item: dict = {"type": "string"} if k.kind == "str_list" or e.doc.items == "string" else {}
        if k.choices:
            item["enum"] = list(k.choices)
        out = {"type": "array", "items": item}
        if k.min_items:
            out["minItems"] = k.min_items
    elif k.kind in ("list", "objs", "items"):
        out = {"type": "array", "items": {"type": "object", "properties": {}, "additionalProperties": False}}
        if k.min_items:
            out["minItems"] = k.min_items
    elif k.kind == "obj":
        out = {"type": "object", "properties": {}, "additionalProperties": False}
        if k.path in MAPS:
            out = {"type": "object", "additionalProperties": {}}     # schema() puts the placeholder's here
    # Editors show this text: links as plain paths, "required" as such.
    meaning = re.sub(r"\[([^\]]+)\]\(([^)#]+)[^)]*\)", r"docs/\2", e.doc.meaning)
    default = e.default.replace("`", "")
    description = meaning + (" Required." if default == "required" else f" Default: {default}." if default else "")
    if len(e.clouds) < len(ALL_CLOUDS):
        description += f" Applies to: {', '.join(e.clouds)}."
    out["description"] = description
    literal = next(iter(next(iter(k.defaults.values()))), None) if k.defaults and e.doc.default is None else None
    if literal not in (None, "required", "null") and len({v for vs in k.defaults.values() for v in vs}) == 1:
        out["default"] = json.loads(literal)
    if e.doc.secret:                # the text, or `{secure: ...}` (object keywords do not apply to strings)
        out = {**out, **{k: v for k, v in SECURE.items() if k != "description"}, "type": ["string", "object"]}
    return out


def schema(items: list[Entry]) -> dict:
    """schema/stack.schema.json: a JSON Schema (draft 2020-12) of a whole Pulumi.<stack>.yaml."""
    from plan.stackfile import STACK_FILE_KEYS
    from spec.keydocs import MAPS
    nodes: dict[str, dict] = {}
    config: dict = {}
    for e in items:
        path = e.key.path
        node = _leaf(e)
        nodes[path] = node
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        if not parent:
            config[f"llmfleet:{path}"] = node
            continue
        name = path.rsplit(".", 1)[1]
        holder = nodes[parent[:-2]] if parent.endswith("[]") else nodes[parent]
        if parent in MAPS:                  # the placeholder (`<zone>`): every key of the map is one of these
            holder["additionalProperties"] = node
            continue
        holder = holder["items"] if parent.endswith("[]") else holder
        holder["properties"][name] = node
        # Required within its block (a top-level key may come from a Pulumi ESC environment instead).
        if e.default == "required":
            holder.setdefault("required", []).append(name)
    for name, node in config.items():
        if node.get("type") in ("object", "array"):
            # `pulumi new` writes structured answers as JSON text, which the program decodes. One schema, not an
            # anyOf, so a wrong object is told what is wrong: `pattern` applies to strings only, the rest to the
            # object or list only.
            node["type"] = [node["type"], "string"]
            node["pattern"] = r"^\s*[\[{]"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        # A key that does not apply to the stack's cloud is refused there, as the readers refuse it.
        "allOf": [rule for rule in (_cloud_rule(cloud, items) for cloud in ALL_CLOUDS) if rule],
        "title": "llmfleet stack file (Pulumi.<stack>.yaml)",
        "description": "Generated by `make docs` (plan/configdocs.py) from spec/ and spec/keydocs.py; the program "
                       "checks more than this schema can (rules across keys): run the offline plan.",
        "type": "object",
        "properties": {
            "config": {
                "type": "object",
                "properties": config,
                # Other namespaces configure their provider (aws:region); this project's keys are the ones above.
                "propertyNames": {"pattern": "^[^:]+:", "anyOf": [{"enum": sorted(config)},
                                                                  {"not": {"pattern": "^llmfleet:"}}]},
            },
            **{k: ({} if k == "environment" else {"type": "string"}) for k in STACK_FILE_KEYS if k != "config"},
        },
        "additionalProperties": False,
    }


def _cloud_rule(cloud: str, items: list[Entry]) -> Optional[dict]:
    """if llmfleet:cloud is `cloud`, then every key that does not apply to it (and whose block does) is absent."""
    by_path = {e.key.path: e for e in items}
    config: dict = {}
    for e in items:
        parent = by_path.get(_parent(e.key.path))
        if cloud in e.clouds or (parent is not None and cloud not in parent.clouds):
            continue
        segments = e.key.path.split(".")
        node = config.setdefault(f"llmfleet:{segments[0].removesuffix('[]')}", {})
        if len(segments) == 1:
            config[f"llmfleet:{segments[0]}"] = False
            continue
        if segments[0].endswith("[]"):
            node = node.setdefault("items", {})
        for seg in segments[1:-1]:
            node = node.setdefault("properties", {}).setdefault(seg.removesuffix("[]"), {})
            if seg.endswith("[]"):
                node = node.setdefault("items", {})
        node.setdefault("properties", {})[segments[-1]] = False
    if not config:
        return None
    return {"if": {"properties": {"config": {"properties": {"llmfleet:cloud": {"const": cloud}},
                                             "required": ["llmfleet:cloud"]}},
                   "required": ["config"]},
            "then": {"properties": {"config": {"properties": config}}}}


OUTPUTS = {"docs/config.md": "markdown", "schema/stack.schema.json": "schema"}


def render() -> dict[str, str]:
    """The text of every generated file, by path relative to the repository."""
    items = entries(record_all())
    return {"docs/config.md": markdown(items),
            "schema/stack.schema.json": json.dumps(schema(items), indent=2, ensure_ascii=False) + "\n"}


def main(argv: list[str]) -> int:
    try:
        texts = render()
    except DocsError as e:
        print(f"make docs: every config key needs a meaning, and every reader call a config that reaches it:\n{e}",
              file=sys.stderr)
        return 1
    for rel, text in texts.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
