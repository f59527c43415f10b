"""The plan's command line and `make test`: CI trusts their exit codes.

0 only when every stack plans and validates; 1 when a plan renders invalid objects; 2 when a stack's config (or
stack file) is wrong; `--all` exits with the worst code of its stacks. A scratch project holds the stack files
(the program's code is the real one) so broken stacks never touch the checkout.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plan import __main__ as plan_cli
from plan import manifests, validate
from plan.runtime import ROOT

BROKEN_CONFIG = ("config:\n  llmfleet:cloud: aws\n  llmfleet:gpuPools:\n    - name: x\n      gpu: h100-80gb\n"
                 "      minNodes: 3\n      maxNodes: 1\n  llmfleet:modelz: []\n")


def _stacks(tmp_path: Path, **files: str) -> Path:
    """A project folder with Pulumi.yaml and the given stack files: name -> text, or None to copy the shipped one."""
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for name, text in files.items():
        name = name.replace("_", "-")
        if text is None:
            shutil.copy(ROOT / f"Pulumi.{name}.yaml", tmp_path / f"Pulumi.{name}.yaml")
        else:
            (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path


@pytest.fixture
def project(tmp_path, monkeypatch):
    """Points the CLI at a scratch folder for stack files and out/ (the program itself still runs from ROOT)."""
    def make(**files):
        root = _stacks(tmp_path, **files)
        monkeypatch.setattr(plan_cli, "ROOT", root)
        return root
    return make


def _bad_objects(monkeypatch, stack: str):
    """Renders one invalid Service into the plan of `stack` only."""
    real = manifests.objects

    def objects(resources):
        objs = real(resources)
        if any(f"urn:pulumi:{stack}::" in r.urn for r in resources):
            objs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad", "namespace": "x"},
                         "spec": {"ports": [{"port": "eighty"}]}})
        return objs
    monkeypatch.setattr(manifests, "objects", objects)


def test_single_stack_exit_codes(project, monkeypatch, capsys):
    root = project(edge=None, broken=BROKEN_CONFIG)
    assert plan_cli.main(["--stack", "edge"]) == 0
    assert (root / "out" / "edge" / "preview.json").is_file()
    assert plan_cli.main(["--stack", "broken"]) == 2
    assert plan_cli.main(["--stack", "no-such-stack"]) == 2
    err = capsys.readouterr().err
    assert "llmfleet:modelz: unknown key (did you mean 'models'?)" in err
    assert "no stack file Pulumi.no-such-stack.yaml; stacks: broken, edge" in err
    assert "Traceback" not in err
    _bad_objects(monkeypatch, "edge")
    assert plan_cli.main(["--stack", "edge", "--out", str(root / "elsewhere")]) == 1
    assert "v1 Service x/bad: spec.ports.0.port" in capsys.readouterr().err


def test_all_is_zero_only_when_every_stack_plans(project, capsys):
    root = project(edge=None, dev=None)
    assert plan_cli.main(["--all"]) == 0
    assert "planned 2 stacks: dev, edge; all valid" in capsys.readouterr().out
    assert sorted(p.name for p in (root / "out").iterdir()) == ["dev", "edge"]


def test_all_reports_a_config_error_with_2_and_still_plans_the_others(project, capsys):
    root = project(edge=None, broken=BROKEN_CONFIG)
    assert plan_cli.main(["--all"]) == 2
    captured = capsys.readouterr()
    assert "planned 2 stacks: broken, edge; FAILED: broken" in captured.out
    assert "llmfleet:gpuPools[0].maxNodes: must be >= minNodes (3), got 1" in captured.err
    assert (root / "out" / "edge" / "preview.json").is_file()
    assert not (root / "out" / "broken").exists()


def test_all_reports_invalid_objects_with_1(project, monkeypatch, capsys):
    project(edge=None, dev=None)
    _bad_objects(monkeypatch, "dev")
    assert plan_cli.main(["--all"]) == 1
    assert "FAILED: dev" in capsys.readouterr().out


def test_all_with_a_config_error_and_invalid_objects_exits_2(project, monkeypatch):
    project(edge=None, broken=BROKEN_CONFIG)
    _bad_objects(monkeypatch, "edge")
    assert plan_cli.main(["--all"]) == 2


def test_all_without_stack_files_is_an_error(project, capsys):
    project()
    assert plan_cli.main(["--all"]) == 2
    assert "no Pulumi.<stack>.yaml" in capsys.readouterr().err


# --- the real command line and make: a scratch checkout whose plan/ is a copy (plan/runtime.py finds the program
# next to itself) and whose program folders are links to the real ones.
@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(ROOT / "plan", root / "plan", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("__main__.py", "catalog", "components", "policy", "sizing", "spec", "stacks"):
        (root / name).symlink_to(ROOT / name)
    for name in ("Makefile", "Pulumi.yaml", "Pulumi.edge.yaml", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, root / name)
    if (ROOT / "setup.cfg").exists():     # under `make mutate`: mutmut's mutated code reads its config from here
        shutil.copy(ROOT / "setup.cfg", root / "setup.cfg")
    # make's virtualenv: a wrapper around this interpreter, marked installed after the requirements files.
    (root / ".venv" / "bin").mkdir(parents=True)
    wrapper = root / ".venv" / "bin" / "python"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    (root / ".venv" / ".installed").touch()
    # The scanner of `make test`: the real checkov of this checkout's scan venv (`make scan-venv`), and the skips
    # that apply to the one stack here (a skip for another stack's object would be stale in this checkout).
    shutil.copy(ROOT / "requirements-scan.txt", root / "requirements-scan.txt")
    (root / ".venv-scan" / "bin").mkdir(parents=True)
    (root / ".venv-scan" / "bin" / "checkov").symlink_to(ROOT / ".venv-scan" / "bin" / "checkov")
    (root / ".venv-scan" / ".installed").touch()
    (root / "security").mkdir()
    skips = yaml.safe_load((ROOT / "security" / "checkov-skips.yaml").read_text())
    # edge's vLLM StatefulSet, which has no Hugging Face token (so no secret-in-env finding, CKV_K8S_35).
    kept = [dict(e, objects=[o for o in e["objects"] if o == "*:StatefulSet.llm-serving.*"])
            for e in skips["skips"] if e["check"] != "CKV_K8S_35"]
    (root / "security" / "checkov-skips.yaml").write_text(yaml.safe_dump({"skips": [e for e in kept if e["objects"]]}))
    (root / "tests").mkdir()
    (root / "tests" / "test_marker.py").write_text("def test_marker():\n    print('UNIT TESTS RAN')\n")
    return root


def _run(root: Path, *cmd: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_CONFIG", "MAKE"))}
    env["LLMFLEET_CRDS"] = str(validate.crd_dir().resolve())
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)


def test_python_m_plan_exits_with_the_code(checkout):
    ok = _run(checkout, sys.executable, "-m", "plan", "--stack", "edge")
    assert ok.returncode == 0, ok.stderr
    broken = checkout / "Pulumi.cli-broken.yaml"
    broken.write_text(BROKEN_CONFIG)
    try:
        single = _run(checkout, sys.executable, "-m", "plan", "--stack", "cli-broken")
        everything = _run(checkout, sys.executable, "-m", "plan", "--all")
    finally:
        broken.unlink()
    assert single.returncode == 2 and "Traceback" not in single.stderr, single.stderr
    assert everything.returncode == 2, everything.stdout
    assert "FAILED: cli-broken" in everything.stdout


def test_make_test_fails_when_a_stack_fails(checkout):
    passing = _run(checkout, "make", "-s", "test")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 passed" in passing.stdout
    # The security scan ran between the plan and the tests, every failure covered by a skip.
    assert "scan: 1 stacks, 6 failed checks, 6 skipped with a reason, 0 unskipped, 0 stale skips" in passing.stdout
    broken = checkout / "Pulumi.make-broken.yaml"
    broken.write_text(BROKEN_CONFIG)
    try:
        failing = _run(checkout, "make", "-s", "test")
    finally:
        broken.unlink()
    assert failing.returncode != 0
    assert "FAILED: make-broken" in failing.stdout
    assert "passed" not in failing.stdout     # the unit tests never ran on a broken plan
