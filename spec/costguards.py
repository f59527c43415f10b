"""Cost guards (`llmfleet:costGuards`): the limits the policy pack enforces for this stack.

The offline plan turns this block into the pack's config (`out/<stack>/policy-config.json`), the file users pass
to `pulumi preview --policy-pack policy --policy-pack-config`.
"""
from dataclasses import dataclass, field
from typing import Optional

from spec.reader import Obj

LEVELS = ("advisory", "mandatory", "disabled")
# A sanity bound, not a budget: the largest GPU group any cloud sells quota for is well below this.
MAX_GPUS_PER_POOL_LIMIT = 4096
# The pack's policies (policy/costguards.py POLICIES; a test keeps the two equal), for `enforcement` overrides.
POLICY_NAMES = ("gpu-budget-warning", "gpu-budget-ceiling", "nonprod-premium-gpus-not-on-demand",
                "nonprod-gpu-scale-to-zero", "max-gpus-per-pool", "cost-tags", "gpu-workload-priority-class",
                "gpu-requests-match-sizing", "gpu-workload-pdb")


@dataclass(frozen=True)
class CostGuardsSpec:
    monthly_warning: Optional[float] = None      # USD at every GPU group's max; advisory above it
    monthly_ceiling: Optional[float] = None      # USD; mandatory above it
    max_gpus_per_pool: int = 64
    required_tags: tuple[str, ...] = ("environment", "cost-center", "owner")
    enforcement: dict = field(default_factory=dict)     # policy name -> advisory | mandatory | disabled
    idle_gpu_percent: float = 5.0                # ModelGPUsIdle: a model's GPUs all under this utilisation...
    idle_gpu_minutes: int = 120                  # ...for this long


def read_cost_guards(o: Obj) -> CostGuardsSpec:
    warning = o.float("monthlyWarning", None, min=0)
    ceiling = o.float("monthlyCeiling", None, min=0)
    if warning is not None and ceiling is not None and warning > ceiling:
        o.error("monthlyWarning", f"must be <= monthlyCeiling ({ceiling:g}), got {warning:g}")
    cap = o.int("maxGpusPerPool", 64, min=1, max=MAX_GPUS_PER_POOL_LIMIT)
    tags = tuple(o.str_list("requiredTags", CostGuardsSpec.required_tags))
    idle_percent = o.float("idleGpuPercent", 5.0, min=0, max=100)
    # At most a week: Prometheus' max_over_time window must stay inside the retention of a small stack.
    idle_minutes = o.int("idleGpuMinutes", 120, min=5, max=7 * 24 * 60)
    levels = o.obj("enforcement")
    enforcement = {name: levels.str(name, choices=LEVELS) for name in list(levels) if name in POLICY_NAMES}
    levels.done(extra_allowed=POLICY_NAMES)
    return CostGuardsSpec(warning, ceiling, cap, tags, enforcement, idle_percent, idle_minutes)


# GKE label values are the strictest of the three clouds' tag values: one rule that fits all.
TAG_VALUE = r"[a-z0-9]([-_a-z0-9]{0,61}[a-z0-9])?"


def read_cost_tags(o: Obj, environment: str) -> dict:
    """`llmfleet:costTags: {costCenter, owner}` -> the tags in every cloud's spelling (the same keys everywhere:
    `environment`, `cost-center`, `owner` are valid AWS and Azure tag names and GKE label keys)."""
    hint = "lowercase letters, digits, '-' and '_', at most 63 (GKE label values)"
    tags = {"environment": environment}
    for key, tag in (("costCenter", "cost-center"), ("owner", "owner")):
        value = o.str(key, None, pattern=TAG_VALUE, hint=hint)
        if value is not None:
            tags[tag] = value
    return tags
