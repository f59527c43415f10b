"""Cost guards (`llmfleet:costGuards`): the limits the policy pack enforces for this stack.

The offline plan turns this block into the pack's config (`out/<stack>/policy-config.json`), the file users pass
to `pulumi preview --policy-pack policy --policy-pack-config`.
"""
import re
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


ALERT_KINDS = ("actual", "forecasted")
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
GCP_BILLING_ACCOUNT = r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}"
FIRST_OF_MONTH = r"20[2-9][0-9]-(0[1-9]|1[0-2])-01"
# Azure allows five notifications per budget; the same cap keeps a stack portable.
MAX_ALERTS = 5


@dataclass(frozen=True)
class BudgetAlert:
    percent: float               # of the monthly amount
    kind: str                    # actual | forecasted


@dataclass(frozen=True)
class BudgetSpec:
    monthly: float
    currency: str
    alerts: tuple[BudgetAlert, ...]
    contacts: tuple[str, ...]
    billing_account: str = ""    # GCP: the billing account the budget belongs to
    start_date: str = ""         # Azure: first day of the first budgeted month (fixed, so updates do not churn)


def read_budget(o: Obj, cloud: str) -> Optional[BudgetSpec]:
    """`llmfleet:budget`: the cloud's own monthly budget for this stack, with actual and forecast alerts."""
    if not o.ok:
        return None
    if cloud == "existing":
        o.error("monthly", "budgets are cloud resources; an existing cluster has no cloud account here")
    known = cloud in ("aws", "gcp", "azure")          # None: llmfleet:cloud itself was rejected
    monthly = o.float("monthly", min=1, max=100_000_000)
    currency = o.str("currency", "USD", pattern=r"[A-Z]{3}", hint="an ISO 4217 code such as USD, EUR")
    alerts = []
    for path, item in o.list("alerts", ({"percent": 80, "type": "actual"}, {"percent": 100, "type": "forecasted"}),
                             min_items=1):
        a = Obj(item, path, o.problems)
        if a.ok:
            alerts.append(BudgetAlert(a.float("percent", min=1, max=1000), a.str("type", "actual",
                                                                                 choices=ALERT_KINDS)))
            a.done()
        elif item is None:
            o.problems.add(path, "must be an object, got null")
    if len(alerts) > MAX_ALERTS:
        o.error("alerts", f"must have at most {MAX_ALERTS} items (Azure's limit per budget), got {len(alerts)}")
    contacts = tuple(o.str_list("contacts", min_items=1))
    for i, c in enumerate(contacts):
        if not re.fullmatch(EMAIL, c):
            o.problems.add(f"{o.key_path('contacts')}[{i}]", f"must be an email address, got {c!r}")
    billing = o.str("gcpBillingAccount", None, pattern=GCP_BILLING_ACCOUNT, hint="a billing account id such as "
                    "012345-6789AB-CDEF01")
    start = o.str("azureStartDate", None, pattern=FIRST_OF_MONTH, hint="the first day of a month, YYYY-MM-01")
    if known and cloud == "gcp" and billing is None:
        o.error("gcpBillingAccount", "is required on GCP: budgets belong to a billing account")
    if known and cloud != "gcp" and billing is not None:
        o.error("gcpBillingAccount", "only applies when cloud is gcp")
    if known and cloud != "azure" and start is not None:
        o.error("azureStartDate", "only applies when cloud is azure")
    return BudgetSpec(monthly, currency, tuple(alerts), contacts, billing or "", start or "")
