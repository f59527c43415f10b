"""The harness must not pass vacuously: no resources, or an export that never resolves, is a failure."""
import pytest

from plan.runtime import NeverResolved, run_program


def _program(tmp_path, body: str):
    (tmp_path / "__main__.py").write_text(body)
    return tmp_path


def test_a_program_that_registers_nothing_fails(tmp_path):
    root = _program(tmp_path, "x = 1\n")
    with pytest.raises(RuntimeError, match="registered no resources"):
        run_program("llmfleet", "t", {}, [], root=root)


def test_an_export_that_never_resolves_fails(tmp_path):
    root = _program(tmp_path, (
        "import asyncio, pulumi\n"
        "pulumi.ComponentResource('llmfleet:test:Thing', 'thing')\n"
        "never = asyncio.get_event_loop().create_future()\n"
        "pulumi.export('never', pulumi.Output.from_input(never))\n"))
    with pytest.raises(NeverResolved, match="did not finish within 2s; an output never resolved"):
        run_program("llmfleet", "t", {}, [], root=root, timeout=2)


def test_an_assertion_inside_apply_is_not_swallowed(tmp_path):
    root = _program(tmp_path, (
        "import pulumi\n"
        "c = pulumi.ComponentResource('llmfleet:test:Thing', 'thing')\n"
        "def check(v):\n"
        "    assert v == 2, 'apply ran and failed'\n"
        "pulumi.export('x', pulumi.Output.from_input(1).apply(check))\n"))
    with pytest.raises(AssertionError, match="apply ran and failed"):
        run_program("llmfleet", "t", {}, [], root=root)
