"""Runs a stack's real `__main__.py` under Pulumi's mock runtime and records every registration.

`preview=False` so every `.apply` runs and a failure inside one surfaces (with `preview=True` they never run and
anything passes). The runtime is drained with `run_pulumi_func`, which re-raises errors from outstanding RPCs and
outputs. A run that records nothing, or whose stack outputs never resolve, is an error, not an empty plan.
"""
import asyncio
import os
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from plan import fakes, options as _options

ROOT = Path(__file__).resolve().parent.parent
SECRET = "[secret]"


@dataclass
class Recorded:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict
    provider: str = ""
    dependencies: list = field(default_factory=list)    # URNs this resource waits for (depends_on + inputs)
    options: dict = field(default_factory=dict)         # resource options (plan/options.py)


@dataclass
class RunResult:
    project: str
    stack: str
    resources: list
    outputs: dict
    globals: dict
    config: dict = field(default_factory=dict)
    secret_keys: list = field(default_factory=list)


def redact(value: Any) -> Any:
    """Secret-wrapped values become "[secret]", as `pulumi preview --json` shows them."""
    if rpc.is_rpc_secret(value):
        inner = rpc.unwrap_rpc_secret(value)
        # A secret object (a Secret's stringData) keeps its keys so the manifest stays well-formed; every value
        # is redacted. pulumi preview prints the whole object as "[secret]"; the keys are not the secret.
        if isinstance(inner, dict):
            return {k: SECRET for k in inner}
        return SECRET
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class _Mocks(mocks.Mocks):
    def new_resource(self, args: mocks.MockResourceArgs):
        state = fakes.outputs_for(args.typ, args.name, args.inputs)
        # A read (StackReference: id = the referenced stack's name) keeps the id it was read with.
        return args.resource_id or f"{args.name}-id", state

    def call(self, args: mocks.MockCallArgs):
        return fakes.call(args.token, args.args), []   # no check failures


class _Monitor(mocks.MockMonitor):
    """Records parent, provider and custom-ness, which MockResourceArgs does not carry."""

    def __init__(self, m: mocks.Mocks):
        super().__init__(m)
        self.recorded: list[Recorded] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object)
            self.recorded.append(Recorded(
                type=request.type, name=request.name, urn=response.urn, parent=request.parent,
                custom=bool(request.custom), inputs=redact(_plain(inputs)), provider=request.provider,
                dependencies=sorted(set(request.dependencies)), options=_options.from_request(request)))
        return response


def _plain(value: Any) -> Any:
    """Resource references become their URN; integral floats stay floats here (the manifest writer fixes them)."""
    if isinstance(value, pulumi.Resource):
        return f"<resource {type(value).__name__}>"
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("__"))}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _reset_runtime() -> None:
    settings.ROOT.set(None)
    runtime_config.CONFIG.set({})
    runtime_config._SECRET_KEYS.set(set())
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()


class NeverResolved(RuntimeError):
    """The program (or a mock) left an output that never resolves: `pulumi up` would hang the same way."""


def run_program(project: str, stack: str, config: dict[str, str], secret_keys: list[str],
                root: Path = ROOT, timeout: float = 300.0) -> RunResult:
    """Runs `<root>/__main__.py` for one stack. Raises whatever the program raises (ConfigError via RunError)."""
    _reset_runtime()
    # Keep the engine's environment out: a developer's PULUMI_CONFIG must not leak into an offline plan.
    for var in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS"):
        os.environ.pop(var, None)
    monitor = _Monitor(_Mocks())
    mocks.set_mocks(_Mocks(), project=project, stack=stack, preview=False, monitor=monitor)
    runtime_config.set_all_config(config, secret_keys)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))

    program_globals: dict = {}

    def program():
        program_globals.update(runpy.run_path(str(root / "__main__.py"), run_name="__main__"))

    try:
        _sync_await(asyncio.wait_for(run_pulumi_func(program), timeout))
    except asyncio.TimeoutError:
        raise NeverResolved(f"stack {stack}: the program did not finish within {timeout:.0f}s; an output never "
                            f"resolved") from None
    outputs = _resolve_outputs()
    if not monitor.recorded:
        raise RuntimeError(f"stack {stack}: the program registered no resources")
    return RunResult(project, stack, monitor.recorded, outputs, program_globals, config, secret_keys)


def _resolve_outputs(timeout: float = 30.0) -> dict:
    """Stack exports, resolved. An export that never resolves is a bug in the program (or a mock)."""
    root = settings.get_root_resource()
    exported = getattr(root, "outputs", {}) or {}

    async def resolve_all():
        out = {}
        for key, value in exported.items():
            o = pulumi.Output.from_input(value)
            resolved = await asyncio.wait_for(o.future(), timeout)
            secret = await o.is_secret()
            out[key] = SECRET if secret else redact(_plain(resolved))
        return out

    return _sync_await(resolve_all())
