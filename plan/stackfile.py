"""Reads Pulumi.yaml and Pulumi.<stack>.yaml into the config the Pulumi engine would hand the program.

The engine passes every value as a string, objects and lists JSON-encoded; we do the same so the program reads
exactly what `pulumi up` would give it. Project config defaults are applied as the CLI applies them
(pulumi/pulumi sdk/go/common/workspace, `mergeConfig`/`createConfigValue`): a declared default that is not nil, even
`""`, is set for a stack that does not set the key; primitives as their text, objects as JSON. `secure:` values cannot
be decrypted offline (no passphrase or cloud KMS): they are replaced by a fixed placeholder and marked secret, which
is all the program may do with them anyway.

Problems with the file itself (YAML syntax, a key given twice in one mapping, a document or `config:` of the wrong
shape, a key outside `config:` or without a namespace) are lines with the file name, line and column. The offline
plan prints them together with the program's own config problems (plan/__main__.py).
"""
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from spec.reader import printable

SECRET_PLACEHOLDER = "offline-plan-secret"
# Top-level keys of a stack file (pulumi/pulumi sdk/go/common/workspace ProjectStack).
STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
# An expanded document bigger than this is an alias bomb or a mistake, not a stack file.
MAX_NODES = 200_000
MAX_DEPTH = 64


class StackFileError(Exception):
    pass


@dataclass
class StackFile:
    project: str
    config: dict[str, str]
    secret_keys: list[str]
    problems: list[str] = field(default_factory=list)
    # The config could not be read at all (syntax error, wrong shape): running the program would only add
    # knock-on lines ("cloud is required") to the one real problem.
    fatal: bool = False


# --- a YAML loader that keeps positions, rejects duplicate keys and resolves scalars like YAML 1.2 ---------------

class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars (the Pulumi CLI reads stack files with go-yaml v3): `yes`,
    `on`, `1:30` and dates stay strings; only true/false are booleans. Duplicate keys are collected, not kept."""

    yaml_implicit_resolvers: dict = {}

    def __init__(self, stream, problems: list, name: str):
        super().__init__(stream)
        self.problems = problems
        self.file = name

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep)
        seen: dict = {}
        kept = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                kept.append((key_node, value_node))
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (dict, list)):
                self.problems.append(f"{_at(self.file, key_node.start_mark)}: a mapping key must be a plain value, "
                                     f"got a {'mapping' if isinstance(key, dict) else 'list'}")
                continue
            if key in seen:
                self.problems.append(f"{_at(self.file, key_node.start_mark)}: duplicate key {key!r} (first at line "
                                     f"{seen[key].line + 1}); a key may appear once in a mapping")
            seen[key] = key_node.start_mark
            kept.append((key_node, value_node))
        node.value = kept
        return super().construct_mapping(node, deep)

    def _unsupported(self, node):
        raise yaml.constructor.ConstructorError(None, None, f"the tag {node.tag} is not supported in stack config",
                                                node.start_mark)


for _tag in ("binary", "timestamp", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _Loader._unsupported)
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(
    r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0o[0-7_]+|[-+]?0x[0-9a-fA-F_]+)$"), list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"),
                              ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _at(name: str, mark) -> str:
    return f"{name}:{mark.line + 1}:{mark.column + 1}"


def _construct_int(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text.startswith("0o"):
        return sign * int(text[2:], 8)
    if text.startswith("0x"):
        return sign * int(text[2:], 16)
    return sign * int(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def parse_yaml(text: str, name: str) -> tuple[Any, list[str], Optional[yaml.Node]]:
    """(document, problems, root node). A syntax error is one problem with its position and no document."""
    problems: list[str] = []
    loader = None
    try:
        # Inside the try: the reader rejects a control character while it is being built.
        loader = _Loader(text, problems, name)
        node = loader.get_single_node()
        doc = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = _at(name, mark) if mark else name
        what = "; ".join(x for x in (e.context, e.problem) if x) or "invalid YAML"
        if "\t" in text and "\\t" in str(what):
            what += " (YAML indents with spaces, not tabs)"
        return None, problems + [f"{where}: {what}"], None
    except yaml.reader.ReaderError as e:     # a character YAML does not allow; the position is an offset
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        char = chr(e.character) if isinstance(e.character, int) else e.character    # a code point for text input
        return None, problems + [f"{name}:{line}:{column}: character {char!r} is not allowed in YAML"], None
    except yaml.YAMLError as e:
        return None, problems + [f"{name}: {str(e).splitlines()[0]}"], None
    finally:
        if loader is not None:
            loader.dispose()
    size = _size(doc)
    if size is None:
        return None, problems + [f"{name}: the document expands to more than {MAX_NODES} values or nests deeper "
                                 f"than {MAX_DEPTH} levels (aliases?)"], None
    return doc, problems, node


def _size(value: Any, depth: int = 0, budget: Optional[list] = None) -> Optional[int]:
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        return None
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        if _size(child, depth + 1, budget) is None:
            return None
    return MAX_NODES - budget[0]


def _key_marks(node: Optional[yaml.Node], key: str) -> Optional[yaml.Node]:
    """The node of `key` in a mapping node (the last one, as the loader keeps the last of duplicates)."""
    found = None
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                found = (k, v)
    return found


# --- values as the engine passes them ----------------------------------------------------------------------------

def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _strip_secure(value: Any) -> tuple[Any, bool]:
    """Replaces nested `secure:` values; reports whether any were found."""
    if _is_secure(value):
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        found = False
        out = {}
        for k, v in value.items():
            out[k], f = _strip_secure(v)
            found = found or f
        return out, found
    if isinstance(value, list):
        items = [_strip_secure(v) for v in value]
        return [i[0] for i in items], any(i[1] for i in items)
    return value, False


def encode(value: Any) -> str:
    """A config value as the engine passes it: strings as they are, other scalars as text, objects as JSON.
    A null (`key:` with nothing after it) reaches the program as "" (go-yaml decodes null into an empty string)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def read_stack_file(root: Path, stack: str) -> StackFile:
    """Reads the project and stack files; every problem with them is a line with the file position."""
    project_file = root / "Pulumi.yaml"
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {stack_file.name}; stacks: {', '.join(stacks)}")
    project, project_problems, _ = parse_yaml(project_file.read_text(), project_file.name)
    if project_problems or not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise StackFileError("\n".join(project_problems) or f"{project_file.name}: must be a mapping with a name")
    name = project["name"]

    try:
        text = stack_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        return StackFile(name, {}, [], [f"{stack_file.name}: is not UTF-8 text ({e.reason} at byte {e.start})"],
                         fatal=True)
    doc, problems, node = parse_yaml(text, stack_file.name)
    problems[:] = [printable(p) for p in problems]
    out = StackFile(name, {}, [], problems)
    if doc is None and node is None and problems:
        out.fatal = True
        return out
    doc = {} if doc is None else doc
    if not isinstance(doc, dict):
        out.problems.append(f"{_at(stack_file.name, node.start_mark)}: a stack file must be a mapping with a "
                            f"config: mapping, got {_shape(doc)}")
        out.fatal = True
        return out

    config_raw = doc.get("config")
    config_node = _key_marks(node, "config")
    entries: list[tuple[str, Any, Any]] = []          # (key, value, key mark)
    if config_raw is not None and not isinstance(config_raw, dict):
        out.problems.append(f"{_at(stack_file.name, config_node[1].start_mark)}: config: must be a mapping of "
                            f"<namespace>:<key> settings, got {_shape(config_raw)}")
        out.fatal = True
    elif config_raw:
        nodes = {k.value: (k, v) for k, v in config_node[1].value if isinstance(k, yaml.ScalarNode)} \
            if isinstance(config_node[1], yaml.MappingNode) else {}
        entries = [(k, v, nodes.get(k if isinstance(k, str) else str(k))) for k, v in config_raw.items()]

    for key, value in doc.items():
        if key in STACK_FILE_KEYS:
            continue
        k_node = _key_marks(node, key) if isinstance(key, str) else None
        where = _at(stack_file.name, k_node[0].start_mark) if k_node else stack_file.name
        if isinstance(key, str) and (":" in key or key in _program_keys()):
            full = key if ":" in key else f"{name}:{key}"
            out.problems.append(f"{where}: {full} belongs under config: (Pulumi reads a stack's settings only "
                                f"from its config: mapping)")
            # Still checked, so its value's own problems show now and no "is required" line stands in for them.
            entries.append((full, value, k_node))
        else:
            out.problems.append(f"{where}: unknown top-level key {key!r}; a stack file has "
                                f"{', '.join(STACK_FILE_KEYS)}")

    config: dict[str, str] = {}
    for key, value, nodes in entries:
        where = _at(stack_file.name, nodes[0].start_mark) if nodes else stack_file.name
        if not isinstance(key, str):
            out.problems.append(f"{where}: config key {key!r} must be text of the form <namespace>:<key>")
            continue
        full = _config_key(key, name)
        if full is None:
            out.problems.append(f"{where}: {key!r} is not a config key: it must be <namespace>:<key> with one ':' "
                                f"(e.g. {name}:{key.split(':')[-1] or 'cloud'})")
            continue
        if ":" not in key:
            out.problems.append(f"{where}: config key {key!r} has no namespace: write {full} (Pulumi rejects stack "
                                f"config keys without one)")
        value, secret = _strip_secure(value)
        config[full] = encode(value)
        if nodes and isinstance(nodes[1], yaml.ScalarNode) and not isinstance(value, str) and value is not None:
            # The CLI decodes a top-level value into a string first, so a plain scalar keeps its text: 1.30
            # stays "1.30", 0x10 stays "0x10" (config.Value.UnmarshalYAML; nested values are JSON-encoded).
            config[full] = nodes[1].value
        if secret:
            out.secret_keys.append(full)

    # Project config defaults, as `pulumi preview` applies them: any declared default that is not null, "" too.
    for key, decl in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if full in config or not isinstance(decl, dict):
            continue
        chosen = None
        if decl.get("value") is not None:
            chosen = decl["value"]
        if decl.get("default") is not None:
            chosen = decl["default"]
        if chosen is not None:
            config[full] = encode(chosen)
    out.config = config
    out.problems = [printable(p) for p in out.problems]   # a key with a line break must not split its line
    return out


def _config_key(key: str, project: str) -> Optional[str]:
    """The engine's name for a stack file key: `ns:name`, or the old `ns:config:name` form; None if neither."""
    parts = key.split(":")
    if len(parts) == 1:
        return f"{project}:{key}" if key else None
    if len(parts) == 2 and all(parts):
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    return None


def _program_keys() -> tuple[str, ...]:
    from spec.federation import KEY
    from spec.stack import TOP_LEVEL_KEYS
    return (*TOP_LEVEL_KEYS, KEY)


def _shape(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"the value {value!r}"


def load_stack_config(root: Path, stack: str) -> tuple[str, dict[str, str], list[str]]:
    """Returns (project name, config as the engine passes it, secret keys) as the offline plan runs the stack: with
    placeholders for the secrets it needs (with_secret_placeholders); StackFileError on any file problem."""
    sf = read_stack_file(root, stack)
    if sf.problems:
        raise StackFileError("\n".join(sf.problems))
    config, secret_keys, _ = with_secret_placeholders(sf.config, sf.secret_keys, stack)
    return sf.project, config, secret_keys


def with_secret_placeholders(config: dict, secret_keys: list, stack: str) -> tuple[dict, list, list]:
    """Secrets are never in the stack file. For the secret keys this stack needs and does not set (spec/stack.py
    missing_secrets), the offline plan passes the placeholder, marked secret, as the engine would pass a set secret.
    Returns the config, the secret keys and the keys it added."""
    from spec.stack import PROJECT, missing_secrets
    config, secret_keys = dict(config), list(secret_keys)
    added = list(missing_secrets(config, secret_keys, stack))
    for key in added:
        config[f"{PROJECT}:{key}"] = SECRET_PLACEHOLDER
        secret_keys.append(f"{PROJECT}:{key}")
    return config, secret_keys, added
