"""`make bench`: offline plan time per stack, and how it grows with the number of models in a stack.

Each in-process figure is the median of a few runs after one warm-up (imports and schema loading are paid once and
reported apart). The whole-process figures are what a user waits for: `python -m plan --stack S` from start to exit
(interpreter, imports, the program, validation, cluster checks, files written), median wall and CPU (user+sys) time
of a few runs with warm caches (out/.cache). Numbers are for whatever machine runs it; wall time on a busy machine
grows with the load, CPU time much less. Compare runs on the same machine only.
"""
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from plan import checks, federation, manifests, validate
from plan.checks.context import Context
from plan.runtime import ROOT, run_program
from plan.stackfile import encode, load_stack_config

REPEATS = 3


def _timed(fn):
    samples, result = [], None
    for _ in range(REPEATS):
        t = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples), result


def _plan(project, stack, config, secrets, k8s_version):
    result = run_program(project, stack, config, secrets)
    objs = manifests.objects(result.resources)
    invalid = validate.validate_all(objs, k8s_version)
    if invalid:
        raise SystemExit(f"bench: {stack} has invalid objects: {list(invalid)[:3]}")
    checks.run(Context.from_run(result, objs, k8s_version))   # failures are the plan's business, not the bench's
    return result


def synthetic(n_models: int) -> tuple[dict, list]:
    """An existing cluster with one large pool and n small models (each sized and rendered)."""
    models = [{"name": f"m{i:03d}", "model": "qwen2.5-7b", "maxContext": 4096, "concurrency": 4}
              for i in range(n_models)]
    cfg = {
        "cloud": "existing",
        "cluster": {"name": "bench", "kubernetesVersion": "1.34"},
        "gpuPools": [{"name": "h100", "gpu": "h100-80gb", "gpusPerNode": 8, "minNodes": 1, "maxNodes": 64,
                      "labels": {"gpu": "h100"}}],
        "models": models,
    }
    config = {f"llmfleet:{k}": encode(v) for k, v in cfg.items()}
    config["llmfleet:kubeconfig"] = "bench-kubeconfig"
    config["llmfleet:hfToken"] = "bench-token"
    return config, ["llmfleet:kubeconfig", "llmfleet:hfToken"]


def whole_process(stack: str, repeats: int = REPEATS) -> tuple[float, float]:
    """Median (wall, cpu) seconds of `python -m plan --stack <stack>` as separate processes."""
    walls, cpus = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "plan", "--stack", stack, "--out", str(Path(tmp) / stack)]
        subprocess.run(cmd, cwd=ROOT, capture_output=True)        # warm the caches
        for _ in range(repeats):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, capture_output=True)
            walls.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def federation_row(stack: str) -> str:
    """A federation stack: its references resolved first (planned once if stale, then reused), the program alone
    in process (its objects are validated per hub by the whole-process run)."""
    from plan.__main__ import plan
    project, config, secrets = load_stack_config(ROOT, stack)
    code, lines = federation.prepare(config, ROOT, lambda s, o: plan(s, o, quiet=True, stack_root=ROOT),
                                     say=lambda *a: None)
    if code:
        raise SystemExit(f"bench: {stack}: " + "; ".join(lines))
    run_program(project, stack, config, secrets)                  # warm-up
    secs, result = _timed(lambda: run_program(project, stack, config, secrets))
    wall, cpu = whole_process(stack)
    return (f"| {stack} (program only in process) | {len(result.resources)} | "
            f"{len(manifests.objects(result.resources))} | {secs:.2f} | {wall:.2f} | {cpu:.2f} |")


def main() -> int:
    t = time.perf_counter()
    validate.crd_index()
    print(f"one-off: indexing {len(validate.crd_index())} CRD schemas (cached per file hash) took {time.perf_counter() - t:.2f}s\n")
    stacks = federation.cloud_stacks(ROOT)
    print("| stack | resources | k8s objects | in-process plan s (median of %d) | whole process wall s | "
          "whole process CPU s |" % REPEATS)
    print("|---|---|---|---|---|---|")
    for stack in stacks:
        project, config, secrets = load_stack_config(ROOT, stack)
        _plan(project, stack, config, secrets, "1.34")  # warm-up
        version = _plan(project, stack, config, secrets, "1.34").globals["STACK"].spec.cluster.kubernetes_version
        secs, result = _timed(lambda: _plan(project, stack, config, secrets, version))
        wall, cpu = whole_process(stack)
        print(f"| {stack} | {len(result.resources)} | {len(manifests.objects(result.resources))} | {secs:.2f} | "
              f"{wall:.2f} | {cpu:.2f} |")
    for stack in federation.federation_stacks(ROOT):
        print(federation_row(stack))
    print("\n| models | resources | k8s objects | plan s (median of %d) | ms per model |" % REPEATS)
    print("|---|---|---|---|---|")
    for n in (1, 10, 50):
        config, secrets = synthetic(n)
        _plan("llmfleet", "bench", config, secrets, "1.34")
        secs, result = _timed(lambda: _plan("llmfleet", "bench", config, secrets, "1.34"))
        print(f"| {n} | {len(result.resources)} | {len(manifests.objects(result.resources))} | {secs:.2f} | "
              f"{secs / n * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
