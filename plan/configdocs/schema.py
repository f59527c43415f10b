"""schema/stack.schema.json: a JSON Schema (draft 2020-12) of a whole Pulumi.<stack>.yaml, from the rows."""
import json
import re
from typing import Optional

from plan.configdocs.reference import ALL_CLOUDS, Entry, _parent

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
        "description": "Generated by `make docs` (plan/configdocs/) from spec/ and spec/keydocs.py; the program "
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
