"""The offline plan of a federation stack (docs/federation.md, "Offline plan").

StackReferences resolve from the referenced stacks' own offline outputs, `out/<stack>/outputs.json`:
  - a name `<org>/llmfleet/<stack>` or `<stack>` maps to the local stack file `Pulumi.<stack>.yaml` (the
    organization is not checked: one checkout holds one organization's stacks);
  - a referenced stack is planned first unless its outputs.json is fresh (newer than its stack file and every
    program source file); a stack whose own plan fails stops the federation plan with one line;
  - outputs the referenced plan wrote as "[secret]" (plan/runtime.py) are handed to the program as a placeholder
    marked secret by name (`secretOutputNames`), so they stay secret in everything the program makes from them.
The hubs' objects are written per hub (manifests/<hub>/), validated against that hub's Kubernetes version and run
through the cluster checks; the routing table goes to routes.json and routes.md.
"""
import json
from pathlib import Path
from typing import Callable, Optional

from plan import fakes
from plan.runtime import ROOT as PROGRAM_ROOT, SECRET
from plan.stackfile import SECRET_PLACEHOLDER
from spec.stack import PROJECT

KEY = f"{PROJECT}:federation"
# Program sources: outputs.json older than any of these may no longer be what the program exports.
PROGRAM = ("__main__.py", "catalog", "components", "sizing", "spec", "stacks")


def is_federation(config: dict) -> bool:
    return KEY in config


def local_stack(name: str) -> Optional[str]:
    """`<org>/llmfleet/<stack>` or `<stack>` -> `<stack>`; None for another project or shape."""
    parts = str(name).split("/")
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 3 and parts[1] == PROJECT:
        return parts[2]
    return None


def referenced(config: dict) -> list[tuple[str, str]]:
    """(path, stack name) of every referenced stack the config names; what cannot be read is left to the program,
    which reports it at its key."""
    try:
        doc = json.loads(config.get(KEY) or "{}")
    except json.JSONDecodeError:
        return []
    stacks = doc.get("stacks") if isinstance(doc, dict) else None
    out = []
    for i, item in enumerate(stacks if isinstance(stacks, list) else []):
        name = item.get("name") if isinstance(item, dict) else None
        if isinstance(name, str):
            out.append((f"{KEY}.stacks[{i}].name", name))
    return out


def _newest_source(root: Path) -> float:
    newest = 0.0
    for entry in PROGRAM:
        p = root / entry
        files = [p] if p.is_file() else p.rglob("*.py") if p.is_dir() else []
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


def fresh(outputs: Path, stack_file: Path) -> bool:
    """Newer than its stack file and every source file of the program that made it (plan/runtime.py ROOT)."""
    if not outputs.exists():
        return False
    return outputs.stat().st_mtime >= max(stack_file.stat().st_mtime, _newest_source(PROGRAM_ROOT))


def load_outputs(path: Path) -> tuple[dict, list]:
    """outputs.json -> (outputs with placeholders for secrets, names of the secret outputs)."""
    outputs = json.loads(path.read_text())
    secret = sorted(k for k, v in outputs.items() if v == SECRET)
    return {k: (SECRET_PLACEHOLDER if k in secret else v) for k, v in outputs.items()}, secret


def prepare(config: dict, stack_root: Path, plan_stack: Callable[[str, Path], int],
            say=print) -> tuple[int, list[str]]:
    """Plans (or reuses) every referenced stack into `<stack_root>/out/<stack>` (whatever --out the federation
    stack itself has) and loads its outputs for the StackReference mock.
    Returns (exit code, problem lines): 0 and no lines when every reference resolves."""
    fakes.STACK_OUTPUTS.clear()
    out_root = stack_root / "out"
    lines, code = [], 0
    available = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stack_root.glob("Pulumi.*.yaml"))
    for path, name in referenced(config):
        short = local_stack(name)
        stack_file = stack_root / f"Pulumi.{short}.yaml"
        if short is None or not stack_file.exists():
            lines.append(f"{path}: {name} maps to no stack file here (<org>/{PROJECT}/<stack> -> Pulumi.<stack>.yaml; "
                         f"stacks: {', '.join(available)})")
            code = max(code, 2)
            continue
        if _is_federation_file(stack_root, short):
            lines.append(f"{path}: {name} is a federation stack; a federation references cloud stacks")
            code = max(code, 2)
            continue
        outputs = out_root / short / "outputs.json"
        if fresh(outputs, stack_file):
            say(f"plan: {name}: reusing {outputs} (newer than its stack file and the program)")
        else:
            say(f"plan: {name}: planning stack {short} first (its outputs are missing or older than the program)")
            rc = plan_stack(short, out_root / short)
            if rc != 0 or not outputs.exists():
                lines.append(f"{path}: the referenced stack {short} does not plan (exit {rc}): see `python -m plan "
                             f"--stack {short}`")
                code = max(code, rc if rc in (1, 2) else 1)
                continue
        fakes.STACK_OUTPUTS[name] = load_outputs(outputs)
    return code, lines


def hub_objects(doc: dict) -> list[dict]:
    """What a hub's cluster already has from its own cloud stack, as that stack's `federation` output declares it:
    the GatewayClass its Gateway layer serves. The federation's Gateway names it; the checks resolve it here."""
    from components.gateway.objects import CONTROLLER_NAME
    name = (doc.get("gateway") or {}).get("className")
    return [{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": name},
             "spec": {"controllerName": CONTROLLER_NAME}}] if name else []


def _is_federation_file(root: Path, stack: str) -> bool:
    from plan.stackfile import StackFileError, read_stack_file
    try:
        return is_federation(read_stack_file(root, stack).config)
    except StackFileError:
        return False


def hub_of(provider: str) -> Optional[str]:
    """The hub a Kubernetes object goes to, from its provider reference (`...::hub-<stack>::<id>`)."""
    head = provider.split("::")
    return head[-2][len("hub-"):] if len(head) >= 2 and head[-2].startswith("hub-") else None


def write_routes(routing, out: Path, title: str) -> None:
    from components.federation.routing import markdown
    (out / "routes.json").write_text(json.dumps(routing.to_json(), indent=2) + "\n")
    (out / "routes.md").write_text(markdown(routing, title))


def order(root: Path) -> list[str]:
    """Every stack of `root`, federation stacks after the cloud stacks (so they reuse the fresh outputs)."""
    names = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
    return sorted(names, key=lambda n: (_is_federation_file(root, n), n))


def cloud_stacks(root: Path) -> list[str]:
    """The stacks with a cluster of their own (what tests of clusters iterate over)."""
    return [n for n in order(root) if not _is_federation_file(root, n)]


def federation_stacks(root: Path) -> list[str]:
    return [n for n in order(root) if _is_federation_file(root, n)]
