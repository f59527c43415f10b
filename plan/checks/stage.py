"""The plan stage: build the context, run every rule, write checks.json, print a summary and every failure."""
import sys
from pathlib import Path

from plan import checks
from plan.checks.context import Context


def run_stage(result, objs: list, k8s_version: str, out: Path, say=print) -> int:
    """Number of failed checks (0 = the cluster would take the plan as far as these rules can see)."""
    ctx = Context.from_run(result, objs, k8s_version)
    found = checks.run(ctx)
    checks.write(found, out / "checks.json")
    s = checks.summary(found)
    failed = [c for c in found if c.verdict == "fail"]
    line = (f"cluster checks: {s['pass']} pass, {s['fail']} fail, {s['unchecked']} unchecked "
            f"-> {out / 'checks.json'}")
    if failed:
        print(line, file=sys.stderr)
        for c in failed:
            print(f"  {c.object}: [{c.name}] {c.message}", file=sys.stderr)
    else:
        say(line)
    return len(failed)
