"""The cloud's own monthly budget for a stack, with actual and forecast alerts to the stack's contacts.

Resource names and required arguments are the pinned SDKs' (shared/FACTS-wave2.md section 9). Each budget is
scoped to this stack's cluster, not its environment, since several stacks may share an environment name:
- AWS Budgets: cost filtered by the cost-allocation tag `llmfleet.io/cluster` (every taggable resource carries it;
  it must be activated as a cost allocation tag in the Billing console before AWS can filter on it);
- GCP billing budget: the billing account's spend filtered by the label `llmfleet-cluster` (the cluster's
  resource labels, which GKE puts on its nodes' VMs and disks), e-mail alerts through Cloud Monitoring channels;
- Azure consumption budget: the subscription's cost filtered by the tag `llmfleet-cluster` (the cluster's own
  resource group would miss the node resource group where AKS keeps the VMs; the agent pools carry the tag).
"""
import datetime
from typing import Optional, TypedDict

import pulumi
from pulumi import ResourceOptions

from spec.costguards import BudgetSpec

AWS_CLUSTER_TAG = "llmfleet.io/cluster"
GCP_CLUSTER_LABEL = "llmfleet-cluster"
AZURE_CLUSTER_TAG = "llmfleet-cluster"


def first_of_this_month() -> str:
    """Azure budgets start on the first of a month, not before the current one (its consumption API)."""
    today = datetime.date.today()
    return f"{today.year:04d}-{today.month:02d}-01"


class CloudBudgetArgs(TypedDict):
    budget: BudgetSpec
    """`llmfleet:budget`: monthly amount, currency, alerts, contacts and the cloud's own settings."""
    cloud: str
    """aws, gcp or azure."""
    cluster: str
    """Cluster name: the tag or label the budget filters on."""
    project: Optional[str]
    """GCP project (its notification channels live there); None elsewhere."""
    tags: dict
    """Cost-allocation tags (spec.cluster.tags), on the AWS budget itself."""


class CloudBudget(pulumi.ComponentResource):
    budget: pulumi.CustomResource
    """The cloud's budget resource."""

    def __init__(self, name: str, args: CloudBudgetArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:cost:CloudBudget", name, None, opts)
        b, cloud, cluster = args["budget"], args["cloud"], args["cluster"]
        child = ResourceOptions(parent=self)
        if cloud == "aws":
            import pulumi_aws as aws
            self.budget = aws.budgets.Budget(
                f"{name}-aws", name=f"llmfleet-{cluster}", budget_type="COST", time_unit="MONTHLY",
                limit_amount=f"{b.monthly:.2f}", limit_unit=b.currency,
                cost_filters=[{"name": "TagKeyValue", "values": [f"user:{AWS_CLUSTER_TAG}${cluster}"]}],
                notifications=[{"comparison_operator": "GREATER_THAN", "notification_type": a.kind.upper(),
                                "threshold": a.percent, "threshold_type": "PERCENTAGE",
                                "subscriber_email_addresses": list(b.contacts)} for a in b.alerts],
                tags={**args["tags"], AWS_CLUSTER_TAG: cluster}, opts=child)
        elif cloud == "gcp":
            import pulumi_gcp as gcp
            channels = [gcp.monitoring.NotificationChannel(
                f"{name}-email-{i}", project=args["project"], type="email", display_name=f"llmfleet {cluster} budget",
                labels={"email_address": email}, opts=child) for i, email in enumerate(b.contacts)]
            units, cents = divmod(round(b.monthly * 100), 100)
            self.budget = gcp.billing.Budget(
                f"{name}-gcp", billing_account=b.billing_account, display_name=f"llmfleet-{cluster}",
                amount={"specified_amount": {"currency_code": b.currency, "units": str(units),
                                             "nanos": cents * 10_000_000}},
                budget_filter={"labels": {GCP_CLUSTER_LABEL: cluster}, "calendar_period": "MONTH"},
                threshold_rules=[{"threshold_percent": a.percent / 100,
                                  "spend_basis": "FORECASTED_SPEND" if a.kind == "forecasted" else "CURRENT_SPEND"}
                                 for a in b.alerts],
                all_updates_rule={"monitoring_notification_channels": [c.id for c in channels]},
                opts=child)
        elif cloud == "azure":
            from pulumi_azure_native import authorization, consumption
            me = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
            self.budget = consumption.Budget(
                f"{name}-azure", budget_name=f"llmfleet-{cluster}",
                scope=me.subscription_id.apply(lambda sub: f"/subscriptions/{sub}"),
                amount=b.monthly, category="Cost", time_grain="Monthly",
                time_period={"start_date": b.start_date or first_of_this_month()},
                filter={"tags": {"name": AZURE_CLUSTER_TAG, "operator": "In", "values": [cluster]}},
                notifications={f"{a.kind}-{a.percent:g}pct": {
                    "enabled": True, "operator": "GreaterThan", "threshold": a.percent,
                    "threshold_type": "Forecasted" if a.kind == "forecasted" else "Actual",
                    "contact_emails": list(b.contacts)} for a in b.alerts},
                # Azure takes a start in the current month or up to a year ahead, and keeps it: set once, at the
                # first `up`, and never sent again (a later run's "this month" would be a change it refuses).
                opts=ResourceOptions(parent=self, ignore_changes=["timePeriod"]))
        else:
            raise ValueError(f"no budget resource for cloud {cloud!r} (spec/costguards.py rejects it)")
        self.register_outputs({"budget": self.budget.id})
