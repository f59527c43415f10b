"""Runs the real program for a stack file or a config dict and returns what it recorded.

Guards against vacuous passes: the mock runtime runs with preview=False (applies execute), is drained before
anything is read, and a run that records no resource or leaves an export unresolved fails (plan/runtime.py).
"""
import copy
import json
from dataclasses import dataclass
from typing import Any, Optional

import pulumi

from plan import manifests
from plan.runtime import ROOT, Recorded, RunResult, run_program
from plan.stackfile import encode, load_stack_config

PROJECT = "llmfleet"
# A production stack needs a budget (spec/costguards.py); tests that build prod configs from scratch add this one.
PROD_BUDGET = {"monthly": 100000, "contacts": ["platform-oncall@example.com"]}


@dataclass
class Plan:
    result: RunResult

    @property
    def resources(self) -> list[Recorded]:
        return self.result.resources

    @property
    def stack(self):
        return self.result.globals["STACK"]

    @property
    def spec(self):
        return self.stack.spec

    @property
    def outputs(self) -> dict:
        return self.result.outputs

    @property
    def manifests(self) -> list[dict]:
        return manifests.objects(self.resources)

    def of_type(self, type_: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: Optional[str] = None) -> Recorded:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise AssertionError(f"expected one {type_} named {name!r}, found {len(found)}; names: {names}")
        return found[0]

    def manifest(self, kind: str, name: str, namespace: Optional[str] = None) -> dict:
        found = [m for m in self.manifests if m["kind"] == kind and m["metadata"].get("name") == name
                 and (namespace is None or m["metadata"].get("namespace") == namespace)]
        if len(found) != 1:
            raise AssertionError(f"expected one {kind} {namespace}/{name}, found {len(found)}")
        return found[0]

    def waits_for(self, resource: Recorded, other: Recorded, through_parents: bool = False) -> bool:
        """Whether `resource` is created after `other` (directly or through the resources it depends on, which is
        how the engine orders them). `through_parents`: also through its parents' dependencies (a child registers
        only once its parent's URN resolves, and a component registers only after its own depends_on exist)."""
        by_urn = {r.urn: r for r in self.resources}
        step = (lambda r: [*r.dependencies, r.parent]) if through_parents else (lambda r: list(r.dependencies))
        seen, todo = set(), step(resource)
        while todo:
            urn = todo.pop()
            if urn == other.urn:
                return True
            if urn not in seen and urn in by_urn:
                seen.add(urn)
                todo.extend(step(by_urn[urn]))
        return False

    def children_of(self, parent: Recorded) -> list[Recorded]:
        return [r for r in self.resources if r.parent == parent.urn]


def keys_in(value: Any, match, path: str = ""):
    """(path, value) of every dict entry in a nested value (chart values, manifests) where `match(key, value, path)`
    holds; a match is not searched further. Paths read `.key` and `[i]`, e.g. `.controller.resources`."""
    if isinstance(value, dict):
        for k, v in value.items():
            if match(k, v, path):
                yield f"{path}.{k}", v
            else:
                yield from keys_in(v, match, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from keys_in(v, match, f"{path}[{i}]")


def changed(base: dict, **changes: Any) -> dict:
    """A deep copy of a config with values replaced by path: `changed(cfg, cluster__aws={...},
    gpuPools__0__maxNodes=3)` (`__` separates keys; numbers index lists)."""
    out = copy.deepcopy(base)
    for path, value in changes.items():
        node = out
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
        node[keys[-1]] = value
    return out


def run_stack(stack: str) -> Plan:
    """A shipped stack as the offline plan runs it: with placeholders for the secrets it needs (never in the file)."""
    project, config, secret_keys = load_stack_config(ROOT, stack)
    return Plan(run_program(project, stack, config, secret_keys))


def run_config(config: dict[str, Any], stack: str = "test", secrets: Optional[dict[str, Any]] = None) -> Plan:
    """Runs the program with `config` (keys without the `llmfleet:` prefix) and `secrets` marked secret."""
    full = {f"{PROJECT}:{k}": encode(v) for k, v in config.items()}
    secret_keys = []
    for k, v in (secrets or {}).items():
        full[f"{PROJECT}:{k}"] = encode(v)
        secret_keys.append(f"{PROJECT}:{k}")
    return Plan(run_program(PROJECT, stack, full, secret_keys))


def config_error(config: dict[str, Any], stack: str = "test", secrets: Optional[dict[str, Any]] = None) -> list[str]:
    """The problem lines a bad config produces; fails the test if the program accepts it."""
    try:
        run_config(config, stack, secrets)
    except pulumi.RunError as e:
        lines = str(e).splitlines()
        assert lines[0] == "invalid stack config:", lines[0]
        return lines[1:]
    raise AssertionError("the program accepted a config that should have been rejected:\n" + json.dumps(config))
