"""Reads Pulumi.yaml and Pulumi.<stack>.yaml into the config the Pulumi engine would hand the program.

The engine passes every value as a string, objects and lists JSON-encoded; we do the same so the program reads
exactly what `pulumi up` would give it. `secure:` values cannot be decrypted offline (no passphrase or cloud KMS):
they are replaced by a fixed placeholder and marked secret, which is all the program may do with them anyway.
"""
import json
from pathlib import Path
from typing import Any

import yaml

SECRET_PLACEHOLDER = "offline-plan-secret"


class StackFileError(Exception):
    pass


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
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def load_stack_config(root: Path, stack: str) -> tuple[str, dict[str, str], list[str]]:
    """Returns (project name, config as the engine passes it, secret keys)."""
    project_file = root / "Pulumi.yaml"
    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise StackFileError(f"no stack file {stack_file.name}; stacks: {', '.join(stacks)}")
    project = yaml.safe_load(project_file.read_text())
    name = project["name"]
    config: dict[str, str] = {}
    for key, decl in (project.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        if isinstance(decl, dict) and "default" in decl and decl["default"] not in ("", None):
            config[full] = encode(decl["default"])
    doc = yaml.safe_load(stack_file.read_text()) or {}
    secret_keys = []
    for key, value in (doc.get("config") or {}).items():
        full = key if ":" in key else f"{name}:{key}"
        value, secret = _strip_secure(value)
        config[full] = encode(value)
        if secret:
            secret_keys.append(full)
    return name, config, secret_keys
