"""Runs the offline plan (plan/__main__.py `plan`) on a stack file's text, as `python -m plan --stack` would.

The file is written to a temporary folder next to a copy of the project's Pulumi.yaml, so the plan reads it exactly
as it reads the example stacks: YAML parsing, project defaults, the program under the mock runtime, validation.
"""
import contextlib
import io
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from plan.__main__ import plan
from plan.runtime import ROOT

STACK = "fuzz"
# Every problem line names a config key (`llmfleet:gpuPools[0].maxNodes: ...`, `llmfleat:models: ...`) or a
# position in the stack file (`Pulumi.fuzz.yaml:12:5: ...`; whole-file problems name the file only).
KEY_LINE = re.compile(r"[^:\s][^:\n]*:\S.*?: \S")     # <namespace>:<key path>: <what is wrong>
FILE_LINE = re.compile(r"Pulumi\.[A-Za-z0-9_.-]+\.yaml(:\d+:\d+)?: \S")
HEADER = re.compile(r"plan: stack [A-Za-z0-9_.-]+: invalid stack config:$")


@dataclass
class Outcome:
    code: int
    stderr: str
    out: Path

    @property
    def problems(self) -> list[str]:
        lines = self.stderr.splitlines()
        assert lines and HEADER.match(lines[0]), f"exit {self.code} without the config error header:\n{self.stderr}"
        return lines[1:]


def plan_text(text: str, workdir: Path = None) -> Outcome:
    """Plans `text` as Pulumi.fuzz.yaml; returns the exit code, what the plan printed to stderr, and its out dir."""
    workdir = Path(workdir or tempfile.mkdtemp(prefix="llmfleet-plan-"))
    shutil.copy(ROOT / "Pulumi.yaml", workdir / "Pulumi.yaml")
    (workdir / f"Pulumi.{STACK}.yaml").write_text(text, encoding="utf-8")
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = plan(STACK, workdir / "out", quiet=True, stack_root=workdir)
    return Outcome(code, err.getvalue(), workdir / "out")


def assert_config_problem_lines(outcome: Outcome) -> list[str]:
    """Exit 2 with at least one line, each naming a key or a file position; returns the lines."""
    assert outcome.code == 2, f"expected exit 2, got {outcome.code}:\n{outcome.stderr}"
    lines = outcome.problems
    assert lines, "exit 2 with no problem line"
    for line in lines:
        assert FILE_LINE.match(line) or KEY_LINE.match(line), f"line names neither a key nor a position: {line!r}"
    assert len(set(lines)) == len(lines), f"a problem printed twice:\n{outcome.stderr}"
    return lines
