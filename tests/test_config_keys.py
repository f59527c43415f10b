"""Every config block rejects a key it does not know, at every level, naming it.

Driven by the spec itself: every `Obj` the readers create while loading a stack (spec/reader.py: one per block,
`o.obj(...)`, `o.objs(...)` items) is a block a user can write. For each one, a copy of the stack's config gets an
unknown key in that block (the block is added when the stack leaves it out), and loading must fail with a line for
that key, or reject the block as a whole (a cloud block of another cloud). A new block is covered without a new
test, as soon as a reader creates it for one of the stacks below.
"""
import copy

import pytest

from plan.runtime import ROOT
from plan.stackfile import load_stack_config
from plan.federation import cloud_stacks, federation_stacks
from spec import federation, reader
from spec.stack import PROJECT, load, project_config

UNKNOWN = "zzNotAKey"
STACKS = cloud_stacks(ROOT)
# Federation stacks (spec/federation.py) have blocks of their own: tested below with the same machinery.
FEDERATION_STACKS = federation_stacks(ROOT)


def _raw(stack: str) -> tuple[dict, set]:
    _, config, secret_keys = load_stack_config(ROOT, stack)
    return project_config(config), {k.partition(":")[2] for k in secret_keys}


# Lists of blocks that no shipped stack writes: one item each, so their blocks are reached too.
EXTRA = {"platform": {"namespaces": [{"name": "team-a"}]}}


def _with_extras(raw: dict) -> dict:
    out = copy.deepcopy(raw)
    if federation.is_federation(out):
        return out
    for key, block in EXTRA.items():
        node = out.setdefault(key, {})
        for k, v in block.items():
            node.setdefault(k, copy.deepcopy(v))
    # PreferNoSchedule: a repelling taint is refused on a gpuOnly cluster (edge), which is a problem of its own.
    out["gpuPools"][0].setdefault("taints", [{"key": "example.com/team", "value": "a", "effect": "PreferNoSchedule"}])
    return out


def _load_recording(raw: dict, secrets: set, stack: str) -> tuple[list, list[str]]:
    """Loads `raw`; returns every Obj the readers created and the problem lines (empty when it loads)."""
    created = []
    original = reader.Obj.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        created.append(self)

    reader.Obj.__init__ = recording
    try:
        if federation.is_federation(raw):
            federation.load(raw, stack)
        else:
            load(raw, secrets, stack)
        lines = []
    except reader.ConfigError as e:
        lines = e.lines
    finally:
        reader.Obj.__init__ = original
    return created, lines


def _locations(raw: dict) -> dict[str, object]:
    """Every mapping or list in the config by the path the readers print for it."""
    out: dict[str, object] = {PROJECT: raw}

    def walk(path: str, value):
        out[path] = value
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{path}.{k}", v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(f"{path}[{i}]", v)

    for k, v in raw.items():
        walk(f"{PROJECT}:{k}", v)
    return out


def _inject(raw: dict, path: str) -> dict:
    """A copy of `raw` with UNKNOWN set in the block at `path`, creating the block (and absent parents)."""
    out = copy.deepcopy(raw)
    where = _locations(out)
    if isinstance(where.get(path), dict):
        where[path][UNKNOWN] = "x"
        return out
    parent, sep, key = path.rpartition(".")
    if not sep:                                   # a top-level block: "llmfleet:key"
        out[path.partition(":")[2]] = {UNKNOWN: "x"}
        return out
    holder = _inject_block(out, parent)
    holder[key] = {UNKNOWN: "x"}
    return out


def _inject_block(out: dict, path: str) -> dict:
    where = _locations(out)
    if isinstance(where.get(path), dict):
        return where[path]
    parent, sep, key = path.rpartition(".")
    holder = out if not sep else _inject_block(out, parent)
    holder[key if sep else path.partition(":")[2]] = {}
    return holder[key if sep else path.partition(":")[2]]


def _silent_blocks(stack: str) -> tuple[list[str], set[str]]:
    """(blocks that accepted an unknown key, every block tried) for one stack."""
    raw, secrets = _raw(stack)
    raw = _with_extras(raw)
    created, lines = _load_recording(raw, secrets, stack)
    assert lines == [], lines            # the base config (with the extra list items) is valid
    todo = {o.path: o for o in created}
    tried: set[str] = set()
    silent = []
    while todo:
        path, block = todo.popitem()
        tried.add(path)
        more, lines = _load_recording(_inject(raw, path), secrets, stack)
        named = block.key_path(UNKNOWN) + ": "
        if not any(line.startswith(named) or line.startswith(block.path + ": ") for line in lines):
            silent.append(f"{path}: {UNKNOWN} accepted; problems were {lines}")
        for o in more:                   # blocks that only exist once their parent is written
            if o.path not in tried and o.path not in todo:
                todo[o.path] = o
    return silent, tried


@pytest.mark.parametrize("stack", STACKS)
def test_every_block_rejects_an_unknown_key(stack):
    silent, tried = _silent_blocks(stack)
    assert not silent, "\n".join(silent)
    # Not vacuous: the top level, the cluster, every pool and model, and the nested blocks were all tried.
    for path in (PROJECT, "cluster", "gpuPools[0]", "models[0].autoscaling", "platform.namespaces[0].quota",
                 "platform.namespaces[0].limits", "gpuPools[0].taints[0]", "observability.alerts", "nvidia", "serving"):
        assert (path if path == PROJECT else f"{PROJECT}:{path}") in tried, path
    assert len(tried) >= 25, sorted(tried)


@pytest.mark.parametrize("stack", FEDERATION_STACKS)
def test_every_federation_block_rejects_an_unknown_key(stack):
    silent, tried = _silent_blocks(stack)
    assert not silent, "\n".join(silent)
    for path in (PROJECT, "federation", "federation.stacks[0]", "federation.tls", "federation.dns",
                 "federation.dns.route53", "federation.tiers"):
        assert (path if path == PROJECT else f"{PROJECT}:{path}") in tried, path


def test_a_block_that_forgets_done_is_caught(monkeypatch):
    """The check itself: a reader that stops rejecting unknown keys in one nested block fails the test above."""
    real = reader.Obj.done

    def lenient(self, extra_allowed=()):
        if not self.path.endswith("observability.alerts"):
            real(self, extra_allowed)

    monkeypatch.setattr(reader.Obj, "done", lenient)
    silent, _ = _silent_blocks("dev")
    assert [line.partition(":")[2].partition(":")[0] for line in silent] == ["observability.alerts"], silent
