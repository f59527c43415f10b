"""`python -m plan.costdiff <base out/> <head out/>`: what a change does to the GPU bill, per stack and per model,
as markdown for a pull request comment. Reads the two plans' cost.json (the cost report, plan/cost.py); the full
resource diff, with the same totals, is `python -m plan.diff`."""
import argparse
import json
import sys
from pathlib import Path
from typing import Optional

from plan.diff import stack_folders

TOTALS = (("monthlyAtMin", "at min"), ("monthlyAtMax", "at max"),
          ("modelsMonthlyFloorWholeNodes", "models' floor (whole nodes)"))
MODEL = (("monthlyAtMinReplicas", "min replicas"), ("monthlyAtMaxReplicas", "max replicas"))


def _load(folder: Optional[Path]) -> Optional[dict]:
    f = folder / "cost.json" if folder else None
    return json.loads(f.read_text()) if f and f.exists() else None


def _cell(base: Optional[float], head: Optional[float]) -> str:
    if base is None and head is None:
        return "-"
    b, h = base or 0.0, head or 0.0
    return f"{b:,.0f} -> {h:,.0f} ({h - b:+,.0f})"


def costdiff(base_root: Path, head_root: Path) -> dict:
    bs, hs = stack_folders(base_root), stack_folders(head_root)
    out = {}
    for stack in sorted(set(bs) | set(hs)):
        b, h = _load(bs.get(stack)), _load(hs.get(stack))
        totals = {k: ((b or {}).get("total", {}).get(k), (h or {}).get("total", {}).get(k)) for k, _ in TOTALS}
        models = {}
        for side, report in (("base", b), ("head", h)):
            for m in (report or {}).get("models", []):
                models.setdefault(m["model"], {})[side] = m
        out[stack] = {"totals": totals, "models": {
            name: {k: (sides.get("base", {}).get(k), sides.get("head", {}).get(k)) for k, _ in MODEL}
            for name, sides in sorted(models.items())}}
    return out


def markdown(result: dict) -> str:
    lines = ["## GPU cost", "", "| stack | " + " | ".join(f"$/month {label}" for _, label in TOTALS) + " |",
             "|---|" + "---|" * len(TOTALS)]
    for stack, d in result.items():
        lines.append(f"| {stack} | " + " | ".join(_cell(*d["totals"][k]) for k, _ in TOTALS) + " |")
    changed = [(s, n, m) for s, d in result.items() for n, m in d["models"].items()
               if any(m[k][0] != m[k][1] for k, _ in MODEL)]
    if changed:
        lines += ["", "| stack | model | " + " | ".join(f"$/month at {label}" for _, label in MODEL) + " |",
                  "|---|---|" + "---|" * len(MODEL)]
        lines += [f"| {s} | {n} | " + " | ".join(_cell(*m[k]) for k, _ in MODEL) + " |" for s, n, m in changed]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="plan.costdiff", description=__doc__.split("\n")[0])
    ap.add_argument("base", type=Path)
    ap.add_argument("head", type=Path)
    args = ap.parse_args(argv)
    if not stack_folders(args.base) and not stack_folders(args.head):
        print(f"plan.costdiff: no offline plan under {args.base} or {args.head}", file=sys.stderr)
        return 2
    print(markdown(costdiff(args.base, args.head)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
