"""`python -m plan --stack dev [--out out/dev]`: the offline plan of one stack (see README)."""
import argparse
import collections
import json
import shutil
import sys
import time
from pathlib import Path

import pulumi

from plan import cost, manifests, preview, validate
from plan.runtime import ROOT, run_program
from plan.stackfile import StackFileError, load_stack_config


def plan(stack: str, out: Path, quiet: bool = False) -> int:
    say = (lambda *a: None) if quiet else print
    try:
        project, config, secret_keys = load_stack_config(ROOT, stack)
    except StackFileError as e:
        print(f"plan: {e}", file=sys.stderr)
        return 2
    started = time.perf_counter_ns()
    try:
        result = run_program(project, stack, config, secret_keys)
    except pulumi.RunError as e:
        # A config mistake: one line per problem, no traceback (what `pulumi preview` would print).
        print(f"plan: stack {stack}: {e}", file=sys.stderr)
        return 2
    duration = time.perf_counter_ns() - started

    if out.exists():
        shutil.rmtree(out)
    (out / "manifests").mkdir(parents=True)
    (out / "preview.json").write_text(json.dumps(preview.digest(result, duration), indent=2) + "\n")
    (out / "outputs.json").write_text(json.dumps(result.outputs, indent=2) + "\n")
    # Resource options (ignore_changes, protect, ...) per URN: preview.json has no place for them.
    (out / "options.json").write_text(json.dumps({r.urn: r.options for r in result.resources}, indent=2) + "\n")
    objs = manifests.objects(result.resources)
    manifests.write(objs, out / "manifests")

    composed = result.globals["STACK"]
    k8s_version = composed.spec.cluster.kubernetes_version
    invalid = validate.validate_all(objs, k8s_version)
    report = cost.report(composed)
    (out / "cost.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "cost.md").write_text(cost.markdown(report))

    counts = collections.Counter(r.type for r in result.resources)
    say(f"stack {stack} ({composed.spec.cloud}): {len(result.resources)} resources, "
        f"{len(objs)} Kubernetes objects, planned in {duration / 1e9:.2f}s -> {out}")
    for type_, n in sorted(counts.items()):
        say(f"  {n:4d}  {type_}")
    if invalid:
        print(f"validation: {len(invalid)} of {len(objs)} objects invalid (Kubernetes {k8s_version} strict "
              f"schema / CRDs):", file=sys.stderr)
        for obj, problems in invalid.items():
            for p in problems:
                print(f"  {obj}: {p}", file=sys.stderr)
        return 1
    say(f"validation: all {len(objs)} objects valid (Kubernetes {k8s_version} strict schema, "
        f"{sum(1 for o in objs if (o['apiVersion'].rpartition('/')[0], o['apiVersion'].rpartition('/')[2], o['kind']) in validate.crd_index())} against CRDs)")
    t = report["total"]
    say(f"GPU cost: ${t['monthlyAtMin']:,.0f}/month at min, ${t['monthlyAtMax']:,.0f}/month at max; "
        f"the models' minimum replicas alone: ${t['modelsMonthlyAtMinReplicas']:,.0f}/month")
    for m in report["models"]:
        say(f"  model {m['model']}: {m['pool']} TP={m['tensorParallel']} KV {m['kvTokens']:,} tokens "
            f"({m['sequencesAtContext']} x {m['maxContext']})")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="plan", description=__doc__)
    ap.add_argument("--stack", default="dev")
    ap.add_argument("--out", default=None, help="output folder (default out/<stack>)")
    ap.add_argument("--all", action="store_true", help="plan every Pulumi.<stack>.yaml into out/<stack>")
    args = ap.parse_args(argv)
    if args.all:
        stacks = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
        if not stacks:
            print(f"plan: no Pulumi.<stack>.yaml in {ROOT}", file=sys.stderr)
            return 2
        codes = {s: plan(s, ROOT / "out" / s) for s in stacks}
        failed = [s for s, code in codes.items() if code != 0]
        print(f"planned {len(stacks)} stacks: {', '.join(stacks)}; "
              + (f"FAILED: {', '.join(failed)}" if failed else "all valid"))
        # The worst outcome: 2 if any stack's config is wrong, else 1 if any plan is invalid.
        return max(codes.values())
    return plan(args.stack, Path(args.out or ROOT / "out" / args.stack))


if __name__ == "__main__":
    sys.exit(main())
