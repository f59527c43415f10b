"""Fuzz: random mutations of the example stack files and random YAML damage never crash the plan.

Invariant (issue 10, item 5): the plan either exits 2 with every line naming a config key or a file position, or
plans successfully with every object valid (`accepted`). Never a traceback, never exit 1 from a config mistake.

The default run is short and deterministic (`make test`); LLMFLEET_FUZZ_EXAMPLES=3000 runs a long, random one.
Every failing example a run finds is added to tests/test_config_errors.py as a regular test.
"""
import functools
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from plan.runtime import ROOT
from plan.stackfile import parse_yaml
from tests.planfile import Outcome, assert_config_problem_lines, plan_text

EXAMPLES = int(os.environ.get("LLMFLEET_FUZZ_EXAMPLES", "0") or 0)
LONG = EXAMPLES > 0
FUZZ = settings(max_examples=EXAMPLES or 12, deadline=None, database=None, derandomize=not LONG,
                suppress_health_check=list(HealthCheck), print_blob=True)

SOURCES = {p.name: p.read_text() for p in sorted(ROOT.glob("Pulumi.*.yaml"))}


def accepted(outcome: Outcome) -> bool:
    """A plan that ran: every object valid and every cluster check passed (exit 0), or all of that and the cost
    guards refusing it (exit 1 with a mandatory policy violation: a fuzzed maxNodes may well break the budget,
    which is the pack doing its job). A failed cluster check on a config the spec accepted is a gap in the spec."""
    if outcome.code == 0:
        return (outcome.out / "preview.json").exists()
    checks, policy = outcome.out / "checks.json", outcome.out / "policy.json"
    if outcome.code != 1 or not checks.exists() or not policy.exists():
        return False
    failed_checks = json.loads(checks.read_text())["summary"]["fail"]
    blocked = [r for r in json.loads(policy.read_text()) if r["status"] == "violated" and r["level"] == "mandatory"]
    return failed_checks == 0 and bool(blocked)


@functools.cache
def _referenced_outputs() -> dict:
    """The cloud stacks the shipped federation stacks reference, with their outputs.json (planned once if stale)."""
    from plan import __main__ as plan_cli, federation
    from plan.stackfile import read_stack_file
    out = {}
    for stack in federation.federation_stacks(ROOT):
        config = read_stack_file(ROOT, stack).config
        code, lines = federation.prepare(config, ROOT, lambda s, o: plan_cli.plan(s, o, quiet=True, stack_root=ROOT),
                                         say=lambda *a: None)
        assert (code, lines) == (0, []), lines
        for _, name in federation.referenced(config):
            short = federation.local_stack(name)
            out[short] = (ROOT / "out" / short / "outputs.json").read_text()
    return out


def _with_references(text: str, workdir: Path) -> None:
    """A federation stack file plans against the referenced stacks' outputs: put them beside it, so a mutation
    reaches the program instead of stopping at 'maps to no stack file'."""
    if "llmfleet:federation" not in text:
        return
    for stack, outputs in _referenced_outputs().items():
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", workdir / f"Pulumi.{stack}.yaml")
        (workdir / "out" / stack).mkdir(parents=True)
        (workdir / "out" / stack / "outputs.json").write_text(outputs)


def check(text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="llmfleet-fuzz-") as workdir:
        _with_references(text, Path(workdir))
        outcome = plan_text(text, Path(workdir))
        event(f"plan exit {outcome.code}")     # --hypothesis-show-statistics: how many planned, how many were errors
        assert "Traceback" not in outcome.stderr, outcome.stderr
        if not accepted(outcome):
            assert_config_problem_lines(outcome)


# --- structured mutations ---------------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=6), SCALARS, max_size=2))
EDGE_NUMBERS = st.sampled_from([-1, 0, 1, 2, 3, 7, 8, 15, 16, 17, 48, 49, 99, 100, 101, 255, 256, 1000, 1001,
                                65536, 10**9, 2**63, -2**63, 0.5, 0.97, 0.99, 1.5, -0.0, 1e300])
UNICODE = st.text(st.characters(blacklist_categories=("Cs",), min_codepoint=0x80), min_size=1, max_size=8)


def _paths(value, prefix=()):
    """Every path into the config: dict keys and list positions."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


def _parent(doc, path):
    node = doc
    for p in path[:-1]:
        node = node[p]
    return node


@st.composite
def mutated_stack(draw) -> str:
    name = draw(st.sampled_from(sorted(SOURCES)))
    doc, _, _ = parse_yaml(SOURCES[name], name)
    config = doc["config"]
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(config)
        path = draw(st.sampled_from(paths))
        parent, last = _parent(config, path), path[-1]
        op = draw(st.sampled_from(["delete", "retype", "duplicate", "nest", "range", "unicode", "rename", "null"]))
        if op == "delete":
            del parent[last]
        elif op == "retype":
            parent[last] = draw(VALUES)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(last, yaml.safe_load(yaml.safe_dump(parent[last])))
        elif op == "duplicate":
            parent[f"{last}2"] = parent[last]         # a sibling the program does not know
        elif op == "nest":
            parent[last] = draw(st.sampled_from([[parent[last]], {"x": parent[last]}, {last: parent[last]}]))
        elif op == "range":
            parent[last] = draw(EDGE_NUMBERS)
        elif op == "unicode":
            parent[last] = draw(UNICODE)
        elif op == "rename" and isinstance(parent, dict):
            new = draw(st.sampled_from([str(last) + "x", str(last)[:-1], str(last).upper(), "llmfleat:" +
                                        str(last).partition(":")[2], str(last).replace(":", ""), " " + str(last)]))
            if new and new not in parent:
                parent[new] = parent.pop(last)
        else:
            parent[last] = None
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)


# --- text damage ----------------------------------------------------------------------------------------------------

DAMAGE_CHARS = st.sampled_from(list(":-[]{}'\"#&*!|>%@`,?\t\n ") + ["  ", "é", "\u00a0", "\ufeff", "---\n", "<<: "])


@st.composite
def damaged_stack(draw) -> str:
    text = SOURCES[draw(st.sampled_from(sorted(SOURCES)))]
    for _ in range(draw(st.integers(1, 3))):
        lines = text.split("\n")
        op = draw(st.sampled_from(["insert", "delete", "dup-line", "swap", "indent", "dedent"]))
        if op in ("insert", "delete"):
            pos = draw(st.integers(0, len(text)))
            if op == "insert":
                text = text[:pos] + draw(DAMAGE_CHARS) + text[pos:]
            else:
                text = text[:pos] + text[pos + draw(st.integers(1, 12)):]
            continue
        i = draw(st.integers(0, len(lines) - 1))
        if op == "dup-line":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = "  " + lines[i]
        else:
            lines[i] = re.sub(r"^ {1,2}", "", lines[i])
        text = "\n".join(lines)
    return text


@FUZZ
@given(mutated_stack())
def test_mutated_stack_files_plan_or_give_one_line_problems(text):
    check(text)


@FUZZ
@given(damaged_stack())
def test_damaged_yaml_plans_or_gives_positions(text):
    check(text)
