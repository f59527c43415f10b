"""`make mutate`: mutation testing of the unit tests with mutmut (pinned in requirements-mutate.txt). Not run in CI.

mutmut rewrites every function of the files it mutates into many variants (an operator flipped, a constant
changed, an argument dropped) and runs the tests that reach each one; a variant no test notices "survives". The
project is copied into a scratch folder first (mutmut writes its `mutants/` tree and cache next to the code), so the
working tree is never touched and a run can be stopped at any time.

    python -m tests.mutate [--paths spec/platform.py plan/__main__.py] [--sample 300] [--jobs 2] [--budget 3300]

`--paths` bounds a run (files or folders); the default is the folders issue 20 names. `--sample N` tests a
seeded random sample of N of their mutants (the score of a sample estimates the whole); `--budget` stops the run.
mutmut only mutates code inside functions (module-level tables such as catalog facts are not mutated). The score
is killed / (killed + survived + not reached): an unreached line is an untested line.
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ("spec", "sizing", "components", "plan")
# The program and the tests read these at run time (the real __main__.py runs under the mock runtime).
ALWAYS_COPY = ("__main__.py", "Pulumi.yaml", "catalog", "stacks", "spec", "sizing", "components", "plan", "tests",
               "Makefile", "requirements.txt", "requirements-dev.txt")


def _tracked_files() -> list[str]:
    """The project's files (tracked or new, not ignored); every file under ROOT outside a git checkout."""
    git = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    if git.returncode == 0:
        return [f for f in git.stdout.splitlines() if (ROOT / f).is_file()]
    skip = {".venv", "out", "mutants", "__pycache__", ".git"}
    return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def prepare(scratch: Path, paths: list[str], shared: Path) -> None:
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    # Tests find the upstream facts at <checkout>/../shared; mutmut runs them from <scratch>/mutants/.
    (scratch / "shared").symlink_to(shared.resolve())
    for rel in _tracked_files():
        dest = scratch / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    also_copy = sorted({p.name for p in ROOT.glob("Pulumi.*.yaml")} | set(ALWAYS_COPY))
    # setup.cfg is read by mutmut only; pytest finds no [tool:pytest] section in it.
    lines = ["[mutmut]", "source_paths=", *[f"    {p}" for p in paths],
             "also_copy=", *[f"    {p}" for p in also_copy],
             "pytest_add_cli_args_test_selection=", "    tests",
             "pytest_add_cli_args=", "    -p", "    no:cacheprovider", "    -q",
             "use_git_change_detection=false", "timeout_multiplier=15.0", ""]
    (scratch / "setup.cfg").write_text("\n".join(lines))


def statuses(scratch: Path, env: dict) -> dict[str, str]:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=scratch, env=env,
                         capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            found[name] = status
    return found


def score(scratch: Path, env: dict, only=None) -> dict:
    counts: dict = {}
    survivors = []
    for name, status in sorted(statuses(scratch, env).items()):
        if only is not None and name not in only:
            continue
        counts[status] = counts.get(status, 0) + 1
        if status in ("survived", "no tests"):
            survivors.append(name)
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    judged = killed + counts.get("survived", 0) + counts.get("no tests", 0)
    return {"counts": counts, "score": round(100 * killed / judged, 1) if judged else 0.0, "survivors": survivors}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="mutate", description=__doc__.splitlines()[0])
    ap.add_argument("--paths", nargs="+", default=list(DEFAULT_PATHS))
    ap.add_argument("--sample", type=int, default=0, help="test a random sample of this many mutants")
    ap.add_argument("--seed", type=int, default=20, help="the sample's seed (default 20)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel test processes (default 2)")
    ap.add_argument("--scratch", type=Path, default=ROOT / "out" / "mutate")
    ap.add_argument("--budget", type=int, default=3300, help="seconds before the run is stopped (default 55 min)")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                    help="the upstream facts (CRDs, chart values)")
    ap.add_argument("--reuse", action="store_true", help="keep the scratch copy and mutmut's cache (resume a run)")
    args = ap.parse_args(argv)
    for p in args.paths:
        if not (ROOT / p).exists():
            ap.error(f"--paths: {p} does not exist")
    if not args.reuse or not args.scratch.exists():
        prepare(args.scratch, args.paths, args.shared)
    env = {k: v for k, v in os.environ.items() if k not in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    env["LLMFLEET_CRDS"] = str(args.shared.resolve() / "crds")
    started = time.monotonic()
    run = [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs)]
    sample = None
    if args.sample:
        # A filter that matches nothing: mutmut generates the mutants and maps tests to them, then stops.
        subprocess.run(run + ["no-such-mutant"], cwd=args.scratch, env=env, capture_output=True)
        names = sorted(statuses(args.scratch, env))
        sample = sorted(random.Random(args.seed).sample(names, min(args.sample, len(names))))
        print(f"sampled {len(sample)} of {len(names)} mutants (seed {args.seed})")
    try:
        code = subprocess.run(run + (sample or []), cwd=args.scratch, env=env,
                              timeout=max(1, args.budget - (time.monotonic() - started))).returncode
        finished = True
    except subprocess.TimeoutExpired:
        finished = False
    result = score(args.scratch, env, set(sample) if sample else None)
    if finished and code != 0:
        print(f"mutmut failed (exit {code}) before testing every mutant; see its output above", file=sys.stderr)
    print(f"mutation run over {' '.join(args.paths)}: {'finished' if finished else 'STOPPED at the budget'} in "
          f"{time.monotonic() - started:.0f}s")
    print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(result["counts"].items())))
    print(f"  score (killed / judged): {result['score']}%")
    for name in result["survivors"]:
        print(f"  survived: {name}")
    print(f"inspect one: (cd {args.scratch} && {sys.executable} -m mutmut show <name>)")
    return 0 if finished and code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
