"""The security scan (plan/scan.py): the skip file's rules (reason required, stale patterns fail), checkov's JSON,
and checkov itself on small manifests with known faults (when its venv exists; CI always has it)."""
import json
import os
import textwrap

import pytest
import yaml

from plan import scan

REPORT = {"check_type": "kubernetes", "results": {"failed_checks": [
    {"check_id": "CKV_K8S_11", "check_name": "CPU limits should be set", "resource": "Deployment.llm-serving.m"},
    {"check_id": "CKV_K8S_43", "check_name": "Image should use digest", "resource": "Deployment.llm-serving.m"},
    {"check_id": "CKV_K8S_43", "check_name": "Image should use digest", "resource": "Job.rag-system.j"}]},
    "summary": {"failed": 3}}


def _skips(tmp_path, entries) -> list:
    p = tmp_path / "skips.yaml"
    p.write_text(yaml.safe_dump({"skips": entries}))
    return scan.load_skips(p)


REASON = "a reason long enough to say why this object cannot pass"


def test_failures_from_one_report_or_a_list_of_them():
    one = scan.failures(REPORT, "dev")
    assert [f.id for f in one] == ["dev:Deployment.llm-serving.m", "dev:Deployment.llm-serving.m",
                                   "dev:Job.rag-system.j"]
    assert [f.check for f in one] == ["CKV_K8S_11", "CKV_K8S_43", "CKV_K8S_43"]
    assert scan.failures([REPORT, REPORT], "prod") == [*scan.failures(REPORT, "prod")] * 2
    assert scan.failures({"results": {}}, "dev") == []


def test_a_skip_covers_only_its_check_and_objects(tmp_path):
    skips = _skips(tmp_path, [{"check": "CKV_K8S_43", "objects": ["*:Deployment.llm-serving.*"], "reason": REASON}])
    left, stale = scan.apply(scan.failures(REPORT, "dev"), skips)
    # CPU limits on the same object and the digest on the Job are not covered.
    assert [(f.check, f.resource) for f in left] == [("CKV_K8S_11", "Deployment.llm-serving.m"),
                                                     ("CKV_K8S_43", "Job.rag-system.j")]
    assert stale == []


def test_stack_part_of_a_pattern_matters(tmp_path):
    skips = _skips(tmp_path, [{"check": "CKV_K8S_11", "objects": ["prod:Deployment.llm-serving.m"], "reason": REASON}])
    left, stale = scan.apply(scan.failures(REPORT, "dev"), skips)
    assert "CKV_K8S_11" in [f.check for f in left]
    assert stale == ["CKV_K8S_11 prod:Deployment.llm-serving.m"]


def test_stale_patterns_are_reported_on_a_full_run_only(tmp_path):
    skips = _skips(tmp_path, [
        {"check": "CKV_K8S_43", "objects": ["*:Job.rag-system.*", "*:StatefulSet.llm-serving.*"], "reason": REASON},
        {"check": "CKV_K8S_11", "objects": ["*:Deployment.llm-serving.m"], "reason": REASON}])
    found = scan.failures(REPORT, "dev")
    left, stale = scan.apply(found, skips)
    assert [f.id for f in left] == ["dev:Deployment.llm-serving.m"] and left[0].check == "CKV_K8S_43"
    assert stale == ["CKV_K8S_43 *:StatefulSet.llm-serving.*"]
    assert scan.apply(found, skips, full=False)[1] == []


def test_skip_file_entries_need_a_check_objects_and_a_reason(tmp_path):
    with pytest.raises(ValueError) as err:
        _skips(tmp_path, [{"check": "K8S_11", "objects": ["*:Deployment.a.b"], "reason": REASON},
                          {"check": "CKV_K8S_11", "objects": [], "reason": REASON},
                          {"check": "CKV_K8S_11", "objects": ["Deployment.a.b"], "reason": REASON},
                          {"check": "CKV_K8S_11", "objects": ["*:Deployment.a.b"], "reason": "because"}])
    assert str(err.value).splitlines() == [
        "skips.yaml skips[0].check: 'K8S_11' is not a checkov check id (CKV_...)",
        "skips.yaml skips[1].objects: a list of '<stack>:<Kind>.<namespace>.<name>' patterns",
        "skips.yaml skips[2].objects: a list of '<stack>:<Kind>.<namespace>.<name>' patterns",
        "skips.yaml skips[3].reason: a written reason is required (why this object cannot pass)"]


def test_the_project_skip_file_is_valid_and_names_each_object_once_per_check():
    skips = scan.load_skips()
    assert skips, "the skip file is empty: then delete it, or the scan has nothing to filter"
    seen = set()
    for s in skips:
        for p in s.objects:
            assert (s.check, p) not in seen, f"{s.check} {p} listed twice"
            seen.add((s.check, p))


needs_checkov = pytest.mark.skipif(not scan.CHECKOV.exists() and not os.environ.get("CI"),
                                   reason="checkov's venv is missing: `make scan-venv` (CI always installs it)")

BAD = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: bad, namespace: t}
    spec:
      selector: {matchLabels: {app: bad}}
      template:
        metadata: {labels: {app: bad}}
        spec:
          containers:
          - name: c
            image: nginx:1.27
            env:
            - name: TOKEN
              valueFrom: {secretKeyRef: {name: s, key: k}}
    """)


@needs_checkov
def test_checkov_flags_a_careless_deployment_and_not_the_collection_job(tmp_path):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "Deployment-bad.yaml").write_text(BAD)
    found = {f.check for f in scan.failures(scan.run_checkov(tmp_path), "t")}
    # No token opt-out, secret as env, root, no probes, no limits: the rules the stacks rely on the scanner for.
    assert {"CKV_K8S_38", "CKV_K8S_35", "CKV_K8S_23", "CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_11", "CKV_K8S_13",
            "CKV_K8S_22"} <= found


@needs_checkov
def test_checkov_on_the_collection_job_as_rendered(tmp_path):
    """The Job the program renders (dev's RAG): of the checks on the Job itself, only the skipped pull-policy and
    digest checks fail (graph checks such as CKV2_K8S_6 name a Pod and need the whole namespace: not counted)."""
    from tests.harness import run_stack
    job = next(o for o in run_stack("dev").manifests if o["kind"] == "Job")
    (tmp_path / "rag").mkdir()
    (tmp_path / "rag" / "Job.yaml").write_text(yaml.safe_dump(job))
    mine = f"Job.{job['metadata']['namespace']}.{job['metadata']['name']}"
    found = sorted(f.check for f in scan.failures(scan.run_checkov(tmp_path), "dev") if f.resource == mine)
    assert found == ["CKV_K8S_15", "CKV_K8S_43"], json.dumps(found)


def test_main_fails_on_an_unskipped_failure_and_on_a_stale_skip(tmp_path, monkeypatch, capsys):
    for s in ("a", "b"):
        (tmp_path / s / "manifests").mkdir(parents=True)
        (tmp_path / s / "preview.json").write_text("{}")
    skips = tmp_path / "skips.yaml"
    monkeypatch.setattr(scan, "SKIPS", skips)
    monkeypatch.setattr(scan, "CHECKOV", tmp_path / "a" / "preview.json")      # exists: the venv check passes
    monkeypatch.setattr(scan, "run_checkov", lambda manifests: REPORT if manifests.parent.name == "a" else {})
    all_covered = [{"check": "CKV_K8S_11", "objects": ["a:Deployment.llm-serving.m"], "reason": REASON},
                   {"check": "CKV_K8S_43", "objects": ["*:Deployment.llm-serving.*", "a:Job.rag-system.j"],
                    "reason": REASON}]
    skips.write_text(yaml.safe_dump({"skips": all_covered}))
    assert scan.main(["--out", str(tmp_path)]) == 0
    assert "scan: 2 stacks, 3 failed checks, 3 skipped with a reason, 0 unskipped, 0 stale skips" in capsys.readouterr().out
    assert (tmp_path / "a" / "checkov.json").exists()
    skips.write_text(yaml.safe_dump({"skips": all_covered[1:] + [
        {"check": "CKV_K8S_11", "objects": ["b:Deployment.llm-serving.m"], "reason": REASON}]}))
    assert scan.main(["--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "a:Deployment.llm-serving.m: [CKV_K8S_11] CPU limits should be set" in err
    assert "stale skip CKV_K8S_11 b:Deployment.llm-serving.m: matches no failure" in err
    # One stack alone: no staleness verdict (the other stacks' failures were not looked at).
    skips.write_text(yaml.safe_dump({"skips": all_covered + [
        {"check": "CKV_K8S_11", "objects": ["b:Deployment.llm-serving.m"], "reason": REASON}]}))
    assert scan.main(["--out", str(tmp_path), "--stack", "a"]) == 0
