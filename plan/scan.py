"""Security scan of the rendered manifests: checkov over out/<stack>/manifests, filtered by security/checkov-skips.yaml.

checkov runs from its own virtualenv (`.venv-scan`, `make scan-venv`): its pinned dependencies downgrade packages
the program's venv pins. It runs offline (`--skip-download`: no Bridgecrew policies or metadata) over the
Kubernetes framework only. It sees the objects the program renders itself; pods that Helm charts render (KEDA,
KServe, Karpenter, Prometheus, Qdrant, ...) are recorded as releases and are not in manifests/, and checkov has
no checks for custom resources such as RayService or InferenceService (plan/checks/hygiene.py covers those).

Every failed check must be fixed or skipped in the skip file, which names the check, the objects
(`<stack>:<Kind>.<namespace>.<name>`, shell-style wildcards) and a reason. A skip whose object pattern matches no
failure of a full run is stale and fails the scan too, so the file never outlives its reasons.

    python -m plan.scan [--stack S ...]    (default: every stack planned under out/)
"""
import argparse
import fnmatch
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

from plan.runtime import ROOT

SKIPS = ROOT / "security" / "checkov-skips.yaml"
CHECKOV = ROOT / ".venv-scan" / "bin" / "checkov"
ARGS = ("--framework", "kubernetes", "--skip-download", "--quiet", "--compact", "-o", "json")


@dataclass(frozen=True)
class Failure:
    stack: str
    check: str
    name: str       # checkov's check name
    resource: str   # checkov's resource id: Kind.namespace.name

    @property
    def id(self) -> str:
        return f"{self.stack}:{self.resource}"


@dataclass(frozen=True)
class Skip:
    check: str
    objects: tuple
    reason: str


def load_skips(path: Optional[Path] = None) -> list[Skip]:
    """The skip file (default SKIPS), checked: every entry needs a check id, at least one object and a reason."""
    path = path or SKIPS
    doc = yaml.safe_load(path.read_text()) or {}
    out, errors = [], []
    for i, e in enumerate(doc.get("skips") or []):
        check, objects, reason = e.get("check"), e.get("objects") or [], str(e.get("reason") or "").strip()
        if not (isinstance(check, str) and check.startswith("CKV")):
            errors.append(f"{path.name} skips[{i}].check: {check!r} is not a checkov check id (CKV_...)")
        if not objects or not all(isinstance(o, str) and ":" in o for o in objects):
            errors.append(f"{path.name} skips[{i}].objects: a list of '<stack>:<Kind>.<namespace>.<name>' patterns")
        if len(reason) < 20:
            errors.append(f"{path.name} skips[{i}].reason: a written reason is required (why this object cannot pass)")
        out.append(Skip(str(check), tuple(objects), reason))
    if errors:
        raise ValueError("\n".join(errors))
    return out


def failures(report, stack: str) -> list[Failure]:
    """checkov's JSON (one report, or a list of them per framework) -> failed checks."""
    reports = report if isinstance(report, list) else [report]
    return [Failure(stack, f["check_id"], f["check_name"], f["resource"])
            for r in reports for f in (r.get("results") or {}).get("failed_checks") or []]


def apply(found: list[Failure], skips: list[Skip], full: bool = True):
    """(unskipped failures, stale skip patterns). Staleness is only decided over a full run (every stack)."""
    used = set()
    left = []
    for f in found:
        hit = [(i, p) for i, s in enumerate(skips) if s.check == f.check
               for p in s.objects if fnmatch.fnmatchcase(f.id, p)]
        used.update(hit)
        if not hit:
            left.append(f)
    stale = [f"{s.check} {p}" for i, s in enumerate(skips) for p in s.objects if (i, p) not in used] if full else []
    return left, stale


def run_checkov(manifests: Path, checkov: Path = CHECKOV):
    r = subprocess.run([str(checkov), "-d", str(manifests), *ARGS], capture_output=True, text=True, cwd=ROOT)
    try:
        return json.loads(r.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"checkov over {manifests} exited {r.returncode} without JSON: {r.stderr.strip()[-2000:]}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="plan.scan", description=__doc__.split("\n")[0])
    ap.add_argument("--stack", action="append", help="scan only these stacks (no stale-skip check)")
    ap.add_argument("--out", default=str(ROOT / "out"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    if not CHECKOV.exists():
        print(f"scan: {CHECKOV} missing: run `make scan-venv`", file=sys.stderr)
        return 2
    planned = sorted(p.parent.name for p in out.glob("*/preview.json"))
    stacks = args.stack or planned
    missing = [s for s in stacks if not (out / s / "manifests").is_dir()]
    if not stacks or missing:
        print(f"scan: no rendered manifests for {', '.join(missing) or 'any stack'} under {out}: "
              "run `python -m plan --all` first", file=sys.stderr)
        return 2
    skips = load_skips()
    found, start = [], time.monotonic()
    # Two checkov processes at a time (CI has 2 cores); each report is kept beside the stack's plan.
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = dict(zip(stacks, pool.map(lambda s: run_checkov(out / s / "manifests"), stacks)))
    for s in stacks:
        (out / s / "checkov.json").write_text(json.dumps(reports[s], indent=1) + "\n")
        mine = failures(reports[s], s)
        found += mine
        print(f"scan {s}: checkov {len(mine)} failed before skips -> {out / s / 'checkov.json'}")
    left, stale = apply(found, skips, full=not args.stack)
    where = SKIPS.relative_to(ROOT) if SKIPS.is_relative_to(ROOT) else SKIPS
    for f in left:
        print(f"  {f.id}: [{f.check}] {f.name} (fix it, or skip it with a reason in {where})", file=sys.stderr)
    for p in stale:
        print(f"  stale skip {p}: matches no failure; remove it from {where}", file=sys.stderr)
    print(f"scan: {len(stacks)} stacks, {len(found)} failed checks, {len(found) - len(left)} skipped with a "
          f"reason, {len(left)} unskipped, {len(stale)} stale skips ({time.monotonic() - start:.1f}s)")
    return 1 if left or stale else 0


if __name__ == "__main__":
    sys.exit(main())
