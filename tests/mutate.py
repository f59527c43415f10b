"""`make mutate`: mutation testing of the unit tests with mutmut (pinned in requirements-mutate.txt). Not run in CI.

mutmut rewrites every function of the files it mutates into many variants (an operator flipped, a constant
changed, an argument dropped) and runs the tests that reach each one; a variant no test notices "survives". The
project is copied into a scratch folder first (mutmut writes its `mutants/` tree and cache next to the code), so the
working tree is never touched and a run can be stopped at any time.

    python -m tests.mutate [--paths spec plan/__main__.py] [--sample 15] [--seed 20] [--cap 120] [--budget 3300]

`--paths` bounds a run (files or folders); the default is the folders issue 20 names. `--sample N` tests a seeded
random sample of N mutants from EACH top-level folder (stratified: every folder gets its own score and a 95% Wilson
interval; the overall score weighs each folder by its number of mutants). mutmut generates the mutants and maps
each function to the tests that reach it; this runner then runs, per mutant, every test of those tests' files
(fastest files first, stopping at the first failure) with a CPU cap (`--cap`): a survivor otherwise reruns most of
the suite. Verdicts: killed (a test failed), survived (all passed, or no test reaches the mutant), capped (the cap
was hit first: not known), error (pytest could not run). The score counts capped mutants as not killed, so it is a
lower bound; the upper bound counts them as killed. `--reuse` keeps the scratch copy, its mutants, verdicts and
test map, and re-tests only the sampled mutants not killed; `--new-tests` copies the checkout's tests in first and
runs test files the map does not know against every mutant, minus their tests that fail on the unmutated copy
(after adding tests: a killed mutant stays killed when tests are only added); `--remap` traces those new tests
once instead, so each mutant runs only the files that reach it. mutmut only mutates code inside
functions (module-level tables such as catalog facts are not mutated).
"""
import argparse
import concurrent.futures
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATHS = ("spec", "sizing", "components", "plan")
KILLED = ("killed",)
# Generate the mutants and map tests to functions (mutmut's first steps of `run`); mutmut is pinned, so its
# internals are stable. Mapping runs the whole suite once and fails if any test fails: the suite is green unmutated.
GENERATE = """
import sys, mutmut.__main__ as m
m.set_mutant_under_test("mutant_generation")
m.makedirs(m.Path("mutants"), exist_ok=True)
m.copy_src_dir(); m.copy_also_copy_files()
if m.Path(".venv-scan").exists() and not m.Path("mutants/.venv-scan").exists():
    m.Path("mutants/.venv-scan").symlink_to(m.Path(".venv-scan").resolve())
m.setup_source_paths(); m.store_lines_covered_by_tests()
m.create_mutants(int(sys.argv[1]))
m.collect_or_load_stats(m.get_mutant_runner(int(sys.argv[1])), apply_config_invalidation=True)
"""
# --remap: trace only the tests the map has not seen (mutmut's incremental stats, without its config invalidation,
# which would drop the whole map when the deselections below change pytest's arguments). The mutants are kept.
MAP_NEW = """
import sys, mutmut.__main__ as m
assert m.load_stats(), "no test map to extend"
m.state().current_function_hashes.update(m.state().old_function_hashes)
runner = m.get_mutant_runner(1)
m.set_mutant_under_test("list_all_tests")
listed = runner.list_all_tests()
listed.clear_out_obsolete_test_names()
new = sorted(listed.new_tests())
print(f"mapping {len(new)} tests the map does not know", flush=True)
if new:
    m.run_stats_collection(runner, tests=new)
"""


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
    # `make test`'s scanner venv (untracked, built by `make scan-venv`): tests/test_cli.py runs the real checkov.
    if (ROOT / ".venv-scan").is_dir():
        (scratch / ".venv-scan").symlink_to(ROOT / ".venv-scan")
    tracked = _tracked_files()
    for rel in tracked:
        dest = scratch / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    # The program and the tests read the whole checkout at run time (stack files, catalog, policy packs, docs).
    also_copy = sorted({rel.split("/")[0] for rel in tracked})
    # setup.cfg is read by mutmut only; pytest finds no [tool:pytest] section in it.
    lines = ["[mutmut]", "source_paths=", *[f"    {p}" for p in paths],
             "also_copy=", *[f"    {p}" for p in also_copy],
             "pytest_add_cli_args_test_selection=", "    tests",
             "pytest_add_cli_args=", "    -p", "    no:cacheprovider", "    -q",
             "use_git_change_detection=false", "timeout_multiplier=15.0", ""]
    (scratch / "setup.cfg").write_text("\n".join(lines))


def set_pytest_args(scratch: Path, extra: list[str]) -> None:
    """mutmut's own pytest runs (the mapping) take these arguments too: deselections reach the mapping."""
    cfg = scratch / "setup.cfg"
    lines = cfg.read_text().splitlines()
    start = lines.index("pytest_add_cli_args=") + 1
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("    "))
    base = [ln for ln in lines[start:end] if not ln.strip().startswith("--deselect=")]
    cfg.write_text("\n".join(lines[:start] + base + [f"    {a}" for a in extra] + lines[end:]) + "\n")


def reach_map(scratch: Path) -> tuple[dict, dict]:
    """Function -> the test files to run against its mutants, fastest first. mutmut records a call under the test
    that made it; a module-scoped fixture or cache plans a stack once per test file, so only the file's first test
    would see a function its later tests check: the whole file of every test that reaches a function is run for it
    (whole files, not node ids, so tests added to a mapped file since the mapping run too, with --new-tests)."""
    stats = json.loads((scratch / "mutants" / "mutmut-stats.json").read_text())
    cost: dict = {}
    for test, seconds in stats["duration_by_test"].items():
        f = test.removeprefix("mutants/").split("::")[0]
        cost[f] = cost.get(f, 0) + seconds
    out = {}
    for function, tests in stats["tests_by_mangled_function_name"].items():
        files = {t.removeprefix("mutants/").split("::")[0] for t in tests}
        out[function] = sorted(files, key=lambda f: (cost.get(f, 0), f))
    return out, cost


def run_mutant(scratch: Path, env: dict, name: str, tests: list[str], cap: int) -> str:
    if not tests:
        return "survived"                 # no test reaches it: an untested line
    def limit():
        resource.setrlimit(resource.RLIMIT_CPU, (cap, cap + 5))
    run = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "--rootdir=.", "-p", "no:cacheprovider",
                          "-p", "no:randomly", *tests], cwd=scratch / "mutants", preexec_fn=limit,
                         env={**env, "MUTANT_UNDER_TEST": name.replace("__init__.", "")},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if run.returncode in (-24, -9, 152):
        return "capped"
    return {0: "survived", 1: "killed"}.get(run.returncode, "error")


def clean_failures(scratch: Path, env: dict, files: list[str]) -> list[str]:
    """Node ids of the tests in `files` that fail with no mutant active."""
    if not files:
        return []
    report = scratch / "clean.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "--rootdir=.", "-p", "no:cacheprovider",
                    f"--junitxml={report}", *files], cwd=scratch / "mutants", env={**env, "MUTANT_UNDER_TEST": ""},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = []
    for case in ElementTree.parse(report).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            out.append(case.get("classname").replace(".", "/") + ".py::" + case.get("name"))
    return out


def mutant_names(scratch: Path) -> list[str]:
    names = []
    for meta in (scratch / "mutants").rglob("*.py.meta"):
        names += json.loads(meta.read_text())["exit_code_by_key"]
    return sorted(names)


def folder(name: str) -> str:
    return name.split(".")[0]


def draw(names: list[str], per_folder: int, seed: int) -> list[str]:
    """A seeded uniform sample of `per_folder` mutants from each folder (all of a folder's if it has fewer)."""
    rng, sample = random.Random(seed), []
    for group in sorted({folder(n) for n in names}):
        members = sorted(n for n in names if folder(n) == group)
        sample += rng.sample(members, min(per_folder, len(members)))
    return sorted(sample)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if not n:
        return 0.0, 1.0
    p, d = k / n, 1 + z * z / n
    mid, half = (p + z * z / (2 * n)) / d, z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, mid - half), min(1.0, mid + half)


def report(found: dict[str, str], sample: list[str], population: dict[str, int]) -> dict:
    """Per folder: counts by verdict, score, 95% Wilson interval; overall: folders weighted by their mutants."""
    rows, est, var = {}, 0.0, 0.0
    total = sum(population[f] for f in {folder(n) for n in sample})
    for group in sorted({folder(n) for n in sample}):
        verdicts = [found.get(n, "not checked") for n in sample if folder(n) == group]
        counts = {s: verdicts.count(s) for s in sorted(set(verdicts))}
        tested = len(verdicts) - counts.get("not checked", 0)
        killed = sum(counts.get(s, 0) for s in KILLED)
        low, high = wilson(killed, tested)
        p = killed / tested if tested else 0.0
        upper = (killed + counts.get("capped", 0)) / tested if tested else 0.0
        rows[group] = {"mutants": population[group], "tested": tested, "counts": counts,
                       "score": round(100 * p, 1), "ci95": [round(100 * low, 1), round(100 * high, 1)],
                       "upper": round(100 * upper, 1)}
        w = population[group] / total
        est += w * p
        var += w * w * p * (1 - p) / max(tested, 1)
    half = 1.96 * math.sqrt(var)
    overall = {"score": round(100 * est, 1), "ci95": [round(100 * max(0, est - half), 1),
                                                        round(100 * min(1, est + half), 1)]}
    return {"folders": rows, "overall": overall,
            "survivors": {n: found[n] for n in sample if found.get(n, "not checked") not in KILLED + ("not checked",)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="mutate", description=__doc__.splitlines()[0])
    ap.add_argument("--paths", nargs="+", default=list(DEFAULT_PATHS))
    ap.add_argument("--sample", type=int, default=0, help="test this many random mutants per folder (0: all)")
    ap.add_argument("--seed", type=int, default=20, help="the sample's seed (default 20)")
    ap.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    ap.add_argument("--cap", type=int, default=120, help="CPU seconds per mutant before it counts as capped")
    ap.add_argument("--scratch", type=Path, default=ROOT / "out" / "mutate")
    ap.add_argument("--budget", type=int, default=3300, help="seconds before the run is stopped (default 55 min)")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared",
                    help="the upstream facts (CRDs, chart values)")
    ap.add_argument("--reuse", action="store_true",
                    help="keep the scratch copy, its test map and verdicts; re-test the sampled mutants not killed")
    ap.add_argument("--new-tests", action="store_true",
                    help="with --reuse: copy the checkout's current tests in first (re-measure after adding tests)")
    ap.add_argument("--remap", action="store_true",
                    help="with --new-tests: trace the tests the map does not know (slower once, then each mutant runs "
                         "only the files that reach it instead of every new file)")
    args = ap.parse_args(argv)
    if args.remap and not args.new_tests:
        ap.error("--remap: only with --reuse --new-tests (a fresh run maps every test anyway)")
    args.scratch = args.scratch.resolve()      # pytest runs in <scratch>/mutants: paths handed to it are absolute
    for p in args.paths:
        if not (ROOT / p).exists():
            ap.error(f"--paths: {p} does not exist")
    reuse = args.reuse and (args.scratch / "mutants" / "mutmut-stats.json").exists()
    if not reuse:
        prepare(args.scratch, args.paths, args.shared)
    env = {k: v for k, v in os.environ.items() if k not in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")}
    env["LLMFLEET_CRDS"] = str(args.shared.resolve() / "crds")
    started = time.monotonic()
    if not reuse:
        print("generating mutants and mapping the tests to them (runs the suite once)", flush=True)
        gen = subprocess.run([sys.executable, "-c", GENERATE, str(args.jobs)], cwd=args.scratch, env=env,
                             capture_output=True, text=True)
        if gen.returncode != 0:
            print(gen.stdout[-3000:], gen.stderr[-3000:], "mutmut could not generate mutants or map the tests",
                  sep="\n", file=sys.stderr)
            return 1
    new_files = []
    if reuse and args.new_tests:
        # The code under test is unchanged: the checkout's tests replace the copy's, and test files the map does
        # not know yet run (whole, after the mapped ones) against every mutant: no reachability map for them.
        before = {f"tests/{q.name}": q.read_bytes() for q in (args.scratch / "tests").glob("*.py")}
        changed = {f"tests/{q.name}" for q in (ROOT / "tests").glob("*.py")
                   if before.get(f"tests/{q.name}") != q.read_bytes()}
        for dest in (args.scratch / "tests", args.scratch / "mutants" / "tests"):
            shutil.rmtree(dest)
            shutil.copytree(ROOT / "tests", dest, ignore=shutil.ignore_patterns("__pycache__"))
        _, known = reach_map(args.scratch)
        new_files = sorted(f"tests/{p.name}" for p in (ROOT / "tests").glob("test_*.py")
                           if f"tests/{p.name}" not in known)
        print("new test files run against every mutant: " + (", ".join(new_files) or "none"), flush=True)
        # A test that fails on the unmutated copy (it needs a fix the copy predates) would "kill" every mutant:
        # every new or changed test file runs once unmutated and its failures are deselected (every file, when a
        # shared helper such as the harness changed).
        helpers = {c for c in changed if not Path(c).name.startswith("test_") and c != "tests/mutate.py"}
        suspects = sorted({*new_files, *known}) if helpers else sorted(c for c in changed
                                                                        if Path(c).name.startswith("test_"))
        failing = clean_failures(args.scratch, env, suspects)
        for t in failing:
            print(f"  deselected, fails on the unmutated copy: {t}", flush=True)
        # Kept across runs: a file unchanged since the last run is not run unmutated again.
        kept = args.scratch / "deselected.json"
        failing = sorted({*failing, *(json.loads(kept.read_text()) if kept.exists() else [])})
        kept.write_text(json.dumps(failing, indent=1))
        deselect = [f"--deselect={t}" for t in failing]
        if args.remap:
            set_pytest_args(args.scratch, deselect)
            mapped = subprocess.run([sys.executable, "-c", MAP_NEW], cwd=args.scratch, env=env,
                                    capture_output=True, text=True)
            print(mapped.stdout[-2000:], flush=True)
            if mapped.returncode != 0:
                print(mapped.stderr[-3000:], "mutmut could not map the new tests", sep="\n", file=sys.stderr)
                return 1
            new_files = []
        new_files += deselect
    tests_of, _ = reach_map(args.scratch)
    names = mutant_names(args.scratch)
    population = {g: sum(folder(n) == g for n in names) for g in {folder(n) for n in names}}
    sample = draw(names, args.sample, args.seed) if args.sample else names
    verdict_file = args.scratch / "verdicts.json"
    found = json.loads(verdict_file.read_text()) if reuse and verdict_file.exists() else {}
    todo = [n for n in sample if found.get(n) not in KILLED]
    random.Random(args.seed).shuffle(todo)          # a run stopped early has still tested a random subset
    print(f"{len(sample)} mutants sampled ({args.sample or 'all'} per folder, seed {args.seed}) of {len(names)}: "
          + ", ".join(f"{g} {population[g]}" for g in sorted(population)) + f"; testing {len(todo)}", flush=True)
    finished = True
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        jobs = {pool.submit(run_mutant, args.scratch, env, n,
                            tests_of.get(n.replace("__init__.", "").partition("__mutmut_")[0], []) + new_files,
                            args.cap): n
                for n in todo}
        try:
            left = max(1, args.budget - (time.monotonic() - started))
            for done in concurrent.futures.as_completed(jobs, timeout=left):
                found[jobs[done]] = done.result()
                verdict_file.write_text(json.dumps(found, indent=1, sort_keys=True))
                print(f"  {found[jobs[done]]}: {jobs[done]}", flush=True)
        except concurrent.futures.TimeoutError:
            finished = False
            for job in jobs:
                job.cancel()
    result = report(found, sample, population)
    result.update(seed=args.seed, per_folder=args.sample, cap=args.cap, paths=args.paths,
                  seconds=round(time.monotonic() - started))
    (args.scratch / "score.json").write_text(json.dumps(result, indent=1))
    print(f"mutation run over {' '.join(args.paths)}: {'finished' if finished else 'STOPPED at the budget'} in "
          f"{result['seconds']}s")
    for group, row in result["folders"].items():
        counts = ", ".join(f"{k}: {v}" for k, v in row["counts"].items())
        print(f"  {group}: {row['score']}% killed of {row['tested']} tested (95% CI {row['ci95'][0]}-"
              f"{row['ci95'][1]}%; {row['upper']}% if capped ones count as killed; {row['mutants']} mutants) {counts}")
    print(f"  overall (weighted by mutants): {result['overall']['score']}% (95% CI {result['overall']['ci95'][0]}-"
          f"{result['overall']['ci95'][1]}%)")
    for name, status in result["survivors"].items():
        print(f"  {status}: {name}")
    print(f"inspect one: (cd {args.scratch} && {sys.executable} -m mutmut show <name>)")
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
