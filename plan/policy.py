"""The cost-guard policy pack, run on the offline plan: the pack's own validate functions, called with arguments
built from the recorded resources the way the Pulumi engine builds them for `pulumi preview --policy-pack`
(props = a resource's inputs, config = the pack's schema defaults plus the stack's policy config).

What differs from a real preview: the engine hands stack policies resource outputs, which in a preview are the
inputs plus unknowns; here they are the inputs. Mandatory violations fail the plan.
"""
from typing import Any

from pulumi_policy import (EnforcementLevel, PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions,
                           ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs)
from pulumi_policy.policy import _NotApplicableError

from catalog.prices import HOURS_PER_MONTH
from policy.costguards import POLICIES
from spec.environment import PROD_ENVIRONMENT

LEVELS = {"advisory": EnforcementLevel.ADVISORY, "mandatory": EnforcementLevel.MANDATORY,
          "disabled": EnforcementLevel.DISABLED}


def pack_config(spec) -> dict[str, dict]:
    """The `--policy-pack-config` file for a stack, from its spec (one source of truth: the stack file)."""
    g = spec.cost_guards
    overrides = {k: {"onDemand": p.on_demand, "spot": p.spot, "asOf": p.as_of}
                 for k, p in spec.prices.items() if p.source == "llmfleet:prices"}
    existing = [{"name": p.name, "maxNodes": p.max_nodes, "pricePerHour": p.price_per_hour or 0.0}
                for p in spec.pools] if spec.cloud == "existing" else []
    env = {"environment": spec.environment, "prodEnvironmentPattern": PROD_ENVIRONMENT}
    out: dict[str, dict] = {
        "gpu-budget-warning": {"prices": overrides, "existingPools": existing},
        "gpu-budget-ceiling": {"prices": overrides, "existingPools": existing},
        "nonprod-premium-gpus-not-on-demand": dict(env),
        "nonprod-gpu-scale-to-zero": dict(env),
        "max-gpus-per-pool": {"maxGpusPerPool": g.max_gpus_per_pool},
        "cost-tags": {"requiredTags": list(g.required_tags)},
        "gpu-requests-match-sizing": {"models": {m.name: m.placement.tensor_parallel
                                                 for m in spec.models if m.placement}},
    }
    if g.monthly_warning is not None:
        out["gpu-budget-warning"]["monthlyWarning"] = g.monthly_warning
    if g.monthly_ceiling is not None:
        out["gpu-budget-ceiling"]["monthlyCeiling"] = g.monthly_ceiling
    for name, level in g.enforcement.items():
        out.setdefault(name, {})["enforcementLevel"] = level
    return out


def _resources(recorded) -> list[PolicyResource]:
    by_urn: dict[str, PolicyResource] = {}
    for r in recorded:
        opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], r.parent or None)
        by_urn[r.urn] = PolicyResource(r.type, r.inputs, r.urn, r.name, opts, None, None, [], {})
    for r in recorded:
        by_urn[r.urn].parent = by_urn.get(r.parent)
        by_urn[r.urn].dependencies = [by_urn[d] for d in r.dependencies if d in by_urn]
    return list(by_urn.values())


def evaluate(recorded, config: dict[str, dict]) -> list[dict[str, Any]]:
    """One row per policy: its level, status (passed / violated / not-applicable / disabled) and violations."""
    resources = _resources(recorded)
    rows = []
    for policy in POLICIES:
        cfg = {k: v for k, v in config.get(policy.name, {}).items() if k != "enforcementLevel"}
        level_name = config.get(policy.name, {}).get("enforcementLevel")
        level = LEVELS[level_name] if level_name else policy.enforcement_level
        row = {"policy": policy.name, "description": policy.description, "level": level.value,
               "violations": [], "status": "passed"}
        rows.append(row)
        if level == EnforcementLevel.DISABLED:
            row["status"] = "disabled"
            continue

        def report(message: str, urn=None, _row=row, _default=None):
            _row["violations"].append({"message": message, "urn": urn or _default or ""})

        applicable = 0
        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, None, cfg)
                try:
                    policy.validate(args, lambda m, u=None, _u=r.urn: report(m, u or _u))
                    applicable += 1
                except _NotApplicableError:
                    pass
        else:
            try:
                policy.validate(StackValidationArgs(resources, cfg), report)
                applicable = 1
            except _NotApplicableError as e:
                row["reason"] = str(e.args[0]) if e.args else ""
        if row["violations"]:
            row["status"] = "violated"
        elif not applicable:
            row["status"] = "not-applicable"
    return rows


def failed(rows) -> list[dict]:
    return [r for r in rows if r["status"] == "violated" and r["level"] == EnforcementLevel.MANDATORY.value]


def markdown(rows) -> str:
    lines = ["", "## Cost guards (policy pack `policy/`)", "",
             "| policy | level | result |", "|---|---|---|"]
    for r in rows:
        result = r["status"] if not r["violations"] else f"{len(r['violations'])} violation(s)"
        lines.append(f"| {r['policy']} | {r['level']} | {result} |")
    for r in rows:
        for v in r["violations"]:
            lines.append(f"- **{r['policy']}** ({r['level']}): {v['message']}")
    return "\n".join(lines) + "\n"


__all__ = ["pack_config", "evaluate", "failed", "markdown", "HOURS_PER_MONTH"]
