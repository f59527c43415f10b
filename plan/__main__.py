"""`python -m plan --stack dev [--out out/dev]`: the offline plan of one stack (docs/offline-plan.md)."""
import argparse
import collections
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pulumi

from plan import cost, federation, manifests, policy, preview, routes, validate
from plan.checks.stage import run_stage
from plan.runtime import ROOT, run_program
from plan.stackfile import with_secret_placeholders, StackFileError, read_stack_file

# The program's RunError message starts with this line (__main__.py); the plan prints it once.
CONFIG_ERROR_HEADER = "invalid stack config:"


def plan(stack: str, out: Path, quiet: bool = False, stack_root: Path = ROOT) -> int:
    """Plans one stack; `stack_root` holds Pulumi.yaml and the stack file (tests plan files from a temporary
    folder). 0: planned and valid; 1: invalid objects; 2: a config or stack file problem."""
    say = (lambda *a: None) if quiet else print
    try:
        stack_file = read_stack_file(stack_root, stack)
    except StackFileError as e:
        print(f"plan: {e}", file=sys.stderr)
        return 2
    problems = list(stack_file.problems)
    if not stack_file.fatal and federation.is_federation(stack_file.config):
        # StackReferences resolve from the referenced stacks' own plans: plan (or reuse) them first.
        code, lines = federation.prepare(stack_file.config, stack_root,
                                         lambda s, o: plan(s, o, quiet=True, stack_root=stack_root), say)
        if lines:
            print(f"plan: stack {stack}: {CONFIG_ERROR_HEADER}\n" + "\n".join(problems + lines), file=sys.stderr)
            return code
    started = time.perf_counter_ns()
    result = None
    if not stack_file.fatal:
        # Secrets are never in the stack file: stand in for the ones this stack needs, marked secret, and say so.
        config, secret_keys, added = with_secret_placeholders(stack_file.config, stack_file.secret_keys, stack)
        for key in added:
            say(f"plan: llmfleet:{key} is a secret the stack needs; planning with a placeholder (before `pulumi "
                f"up`: pulumi config set --secret llmfleet:{key})")
        try:
            result = run_program(stack_file.project, stack, config, secret_keys)
        except pulumi.RunError as e:
            # A config mistake: one line per problem, no traceback (what `pulumi preview` would print).
            problems += str(e).splitlines()[1:] if str(e).startswith(CONFIG_ERROR_HEADER) else str(e).splitlines()
    if problems:
        # The stack file's own problems (with their positions) and the program's, all at once.
        print(f"plan: stack {stack}: {CONFIG_ERROR_HEADER}\n" + "\n".join(problems), file=sys.stderr)
        return 2
    duration = time.perf_counter_ns() - started

    if out.exists():
        shutil.rmtree(out)
    (out / "manifests").mkdir(parents=True)
    (out / "preview.json").write_text(json.dumps(preview.digest(result, duration), indent=2) + "\n")
    (out / "outputs.json").write_text(json.dumps(result.outputs, indent=2) + "\n")
    # Resource options per URN (not part of `pulumi preview --json`); the day-2 diff reads them (plan/diff.py).
    (out / "options.json").write_text(json.dumps({r.urn: r.options for r in result.resources}, indent=2) + "\n")
    composed = result.globals["STACK"]
    if getattr(composed, "federation", False):
        return plan_federation(result, composed, out, duration, say)
    objs = manifests.objects(result.resources)
    manifests.write(objs, out / "manifests")

    k8s_version = composed.spec.cluster.kubernetes_version
    invalid = validate.validate_all(objs, k8s_version)
    report = cost.report(composed)
    (out / "cost.json").write_text(json.dumps(report, indent=2) + "\n")
    pack_config = policy.pack_config(composed.spec)
    policies = policy.evaluate(result.resources, pack_config)
    (out / "policy-config.json").write_text(json.dumps(pack_config, indent=2) + "\n")
    (out / "policy.json").write_text(json.dumps(policies, indent=2) + "\n")
    (out / "cost.md").write_text(cost.markdown(report) + policy.markdown(policies))
    table = routes.report(composed)
    if table is not None:       # the Gateway's routing table (docs/gateway.md)
        (out / "routes.json").write_text(json.dumps(table, indent=2) + "\n")
        (out / "routes.md").write_text(routes.markdown(table))

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
    failed_checks = run_stage(result, objs, k8s_version, out, say)
    blocked = policy.failed(policies)
    if blocked:
        print(f"policy: {len(blocked)} mandatory cost-guard polic(ies) violated:", file=sys.stderr)
        for row in blocked:
            for v in row["violations"]:
                print(f"  {row['policy']}: {v['message']}", file=sys.stderr)
    else:
        advisory = sum(len(r["violations"]) for r in policies if r["status"] == "violated")
        say(f"policy: no mandatory cost-guard violation ({advisory} advisory)")
    t = report["total"]
    say(f"GPU cost: ${t['monthlyAtMin']:,.0f}/month at min, ${t['monthlyAtMax']:,.0f}/month at max; "
        f"the models' minimum replicas alone: ${t['modelsMonthlyAtMinReplicas']:,.0f}/month "
        f"(${t['modelsMonthlyFloorWholeNodes']:,.0f}/month in whole nodes)")
    for m in report["models"]:
        say(f"  model {m['model']}: {m['pool']} TP={m['tensorParallel']} KV {m['kvTokens']:,} tokens "
            f"({m['sequencesAtContext']} x {m['maxContext']})")
    return 1 if failed_checks or blocked else 0


def plan_federation(result, composed, out: Path, duration: int, say) -> int:
    """The federation stack's objects per hub (manifests/<hub>/), validated against that hub's Kubernetes version
    and checked; the routing table to routes.json and routes.md (plan/federation.py)."""
    from components.federation.routing import resolve
    from plan.checks.context import Context
    from plan import checks
    spec = composed.spec
    outputs = {s.short: federation.fakes.STACK_OUTPUTS[s.name][0] for s in spec.stacks}
    routing = resolve(spec, {s: o.get("federation") for s, o in outputs.items()},
                      {s: "federationApiKey" in o for s, o in outputs.items()})
    federation.write_routes(routing, out, f"stack {result.stack}")
    failed = 0
    found = []
    for hub in spec.hubs:
        doc = outputs[hub]["federation"]
        hub_resources = [r for r in result.resources if federation.hub_of(r.provider) == hub]
        objs = manifests.objects(hub_resources)
        manifests.write(objs, out / "manifests" / hub)
        version = doc["kubernetesVersion"]
        invalid = validate.validate_all(objs, version)
        for obj, problems in invalid.items():
            for p in problems:
                print(f"validation: hub {hub}: {obj}: {p}", file=sys.stderr)
        failed += len(invalid)
        ctx = Context(doc["cloud"], version, objs, hub_resources, present=federation.hub_objects(doc))
        from plan.checks import federation as federation_refs
        found += [checks.Check(c.name, f"{hub}: {c.object}", c.verdict, c.message)
                  for c in checks.run(ctx) + federation_refs.check(ctx)]
        say(f"hub {hub} ({doc['cloud']}): {len(objs)} Kubernetes objects, "
            f"{len(objs) - len(invalid)} valid (Kubernetes {version} strict schema / CRDs)")
    checks.write(found, out / "checks.json")
    s = checks.summary(found)
    bad = [c for c in found if c.verdict == "fail"]
    say(f"cluster checks: {s['pass']} pass, {s['fail']} fail, {s['unchecked']} unchecked -> {out / 'checks.json'}")
    for c in bad:
        print(f"  {c.object}: [{c.name}] {c.message}", file=sys.stderr)
    say(f"stack {result.stack} (federation over {', '.join(s.short for s in spec.stacks)}): "
        f"{len(result.resources)} resources, planned in {duration / 1e9:.2f}s -> {out}; routes -> {out / 'routes.md'}")
    for v in routing.models:
        say(f"  {v.name}: " + " > ".join(f"{b.name} (${b.usd_per_1m_tokens:.2f}/1M)" for b in v.backends))
    return 1 if failed or bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="plan", description=__doc__)
    ap.add_argument("--stack", default="dev")
    ap.add_argument("--out", default=None, help="output folder (default out/<stack>)")
    ap.add_argument("--all", action="store_true", help="plan every Pulumi.<stack>.yaml into out/<stack>")
    ap.add_argument("--base", default=None, help="a previous out/ (or out/<stack>): after planning, print what a "
                    "second `pulumi up` would do relative to it (plan/diff.py)")
    args = ap.parse_args(argv)
    if args.all:
        stacks = federation.order(ROOT)
        if not stacks:
            print(f"plan: no Pulumi.<stack>.yaml in {ROOT}", file=sys.stderr)
            return 2
        codes = {s: plan(s, ROOT / "out" / s, stack_root=ROOT) for s in stacks}
        failed = [s for s, code in codes.items() if code != 0]
        print(f"planned {len(stacks)} stacks: {', '.join(stacks)}; "
              + (f"FAILED: {', '.join(failed)}" if failed else "all valid"))
        # The worst outcome: 2 if any stack's config is wrong, else 1 if any plan is invalid.
        return max(codes.values())
    out = Path(args.out or ROOT / "out" / args.stack)
    rc = plan(args.stack, out, stack_root=ROOT)
    if rc == 0 and args.base:
        from plan import diff
        base = Path(args.base)
        base = base / args.stack if (base / args.stack / "preview.json").exists() else base
        if not (base / "preview.json").exists():
            print(f"plan: --base {args.base}: no preview.json for stack {args.stack}", file=sys.stderr)
            return 2
        result = {args.stack: diff.diff_stack(diff.load_plan(base), diff.load_plan(out))}
        (out / "diff.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
        print(diff.markdown(result), end="")
    return rc


if __name__ == "__main__":
    code = main()
    # Everything is written and closed; skip tearing down hundreds of provider SDK modules (~0.5 s of CPU).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
