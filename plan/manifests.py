"""Kubernetes objects from the recorded resources, ready for `kubectl apply` (bar the redacted secret values).

Helm releases are not expanded (their chart, version, repo and values are in preview.json). Objects Pulumi would
autoname get the name the offline plan can predict only approximately, so the program names everything itself;
an unnamed object is reported as a validation problem.
"""
from pathlib import Path
from typing import Iterable

import yaml

# Resource types that are Pulumi machinery, not Kubernetes objects.
NOT_OBJECTS = ("pulumi:providers:", "kubernetes:helm.sh/", "kubernetes:yaml:", "kubernetes:kustomize:")


def is_k8s_object(type_: str) -> bool:
    return type_.startswith("kubernetes:") and not any(type_.startswith(p) for p in NOT_OBJECTS)


def ints(value):
    """The engine hands numbers over as floats; Kubernetes wants integers where they are whole."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ints(v) for v in value]
    return value


def to_object(type_: str, inputs: dict) -> dict:
    obj = ints(dict(inputs))
    if "apiVersion" not in obj or "kind" not in obj:
        # Typed resources carry apiVersion/kind in their inputs; derive them from the token otherwise.
        _, module, kind = type_.split(":")
        group, _, version = module.rpartition("/")
        obj.setdefault("apiVersion", version if group in ("core", "") else f"{group}/{version}")
        obj.setdefault("kind", kind)
    ordered = {"apiVersion": obj.pop("apiVersion"), "kind": obj.pop("kind")}
    if "metadata" in obj:
        ordered["metadata"] = obj.pop("metadata")
    ordered.update(obj)
    return ordered


def objects(resources: Iterable) -> list[dict]:
    return [to_object(r.type, r.inputs) for r in resources if r.custom and is_k8s_object(r.type)]


def path_for(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace") or "_cluster"
    return f"{ns}/{obj['kind']}-{meta.get('name', 'UNNAMED')}.yaml"


# libyaml's emitter when PyYAML has it (the pure-Python one costs a tenth of a second per stack); same output.
class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    pass


def _str_presenter(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_presenter)


def write(objs: list[dict], out: Path) -> list[str]:
    written = []
    for obj in objs:
        rel = path_for(obj)
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False))
        written.append(rel)
    return written
