"""Cluster checks: what the API server, admission chain, scheduler and autoscalers would do with a rendered plan.

A stage of the offline plan after rendering and schema validation (see docs/cluster-checks.md). Each rule family
is one module with `check(ctx) -> list[Check]`; every check has a verdict `pass`, `fail` or `unchecked` (a rule
that cannot decide, e.g. a chart that renders pods this plan cannot see, or a CEL rule the library cannot
evaluate: never silently a pass). Any `fail` fails the plan.
"""
import json
from dataclasses import asdict, dataclass
from pathlib import Path

VERDICTS = ("pass", "fail", "unchecked")


@dataclass(frozen=True)
class Check:
    name: str       # rule id, e.g. "admission.limitrange"
    object: str     # "Kind namespace/name" (plus a container or pool where it helps)
    verdict: str    # pass | fail | unchecked
    message: str

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {VERDICTS}")


def rule_modules():
    # Imported here so that `import plan.checks` stays cheap for code that only reads checks.json.
    from plan.checks import (admission, api_rules, cel, gateway, helm_values, hygiene, network, rbac, references,
                             scale_from_zero, scheduling, secrets, storage)
    return (admission, scheduling, scale_from_zero, storage, references, gateway, api_rules, cel, helm_values,
            network, secrets, hygiene, rbac)


def run(ctx) -> list[Check]:
    out = []
    for module in rule_modules():
        out.extend(module.check(ctx))
    return out


def summary(checks: list[Check]) -> dict:
    counts = {v: sum(1 for c in checks if c.verdict == v) for v in VERDICTS}
    return dict(counts, total=len(checks))


def write(checks: list[Check], path: Path) -> None:
    doc = {"summary": summary(checks), "checks": [asdict(c) for c in checks]}
    path.write_text(json.dumps(doc, indent=1) + "\n")
