"""Cloud budgets per stack: the right resource on each cloud, scoped to the stack's cluster, with its alerts; a
production stack without one is a config error."""
import copy
import json

import pytest

from plan.runtime import ROOT
from plan.stackfile import load_stack_config
from tests.harness import config_error, run_config, run_stack


def _config(stack: str) -> tuple[dict, dict]:
    _, config, secret_keys = load_stack_config(ROOT, stack)
    cfg, secrets = {}, {}
    for k, v in config.items():
        if not k.startswith("llmfleet:"):
            continue
        value = json.loads(v) if v[:1] in "[{" else v
        (secrets if k in secret_keys else cfg)[k.split(":", 1)[1]] = value
    return cfg, secrets


def test_aws_budget_filters_on_the_cluster_tag_and_alerts_the_contacts():
    plan = run_stack("dev")
    budget = plan.one("aws:budgets/budget:Budget")
    assert budget.inputs == {
        "name": "llmfleet-llm-dev", "budgetType": "COST", "timeUnit": "MONTHLY", "limitAmount": "6000.00",
        "limitUnit": "USD",
        # The cost-allocation tag every taggable resource of the stack carries (activate it in Billing first).
        "costFilters": [{"name": "TagKeyValue", "values": ["user:llmfleet.io/cluster$llm-dev"]}],
        "notifications": [
            {"comparisonOperator": "GREATER_THAN", "notificationType": "ACTUAL", "threshold": 80.0,
             "thresholdType": "PERCENTAGE", "subscriberEmailAddresses": ["platform-oncall@example.com"]},
            {"comparisonOperator": "GREATER_THAN", "notificationType": "FORECASTED", "threshold": 100.0,
             "thresholdType": "PERCENTAGE", "subscriberEmailAddresses": ["platform-oncall@example.com"]}],
        "tags": {"environment": "dev", "cost-center": "inference", "owner": "ml-platform",
                 "llmfleet.io/cluster": "llm-dev"}}
    # Through the stack's region provider, like every other AWS resource.
    assert budget.provider.startswith(plan.one("pulumi:providers:aws").urn)


def test_gcp_budget_belongs_to_the_billing_account_and_mails_through_monitoring_channels():
    plan = run_stack("gcp-prod")
    budget = plan.one("gcp:billing/budget:Budget").inputs
    (channel,) = plan.of_type("gcp:monitoring/notificationChannel:NotificationChannel")
    assert channel.inputs["type"] == "email"
    assert channel.inputs["labels"] == {"email_address": "platform-oncall@example.com"}
    assert budget["billingAccount"] == "012345-6789AB-CDEF01"
    assert budget["amount"] == {"specifiedAmount": {"currencyCode": "USD", "units": "420000", "nanos": 0}}
    assert budget["budgetFilter"] == {"labels": {"llmfleet-cluster": "llm-gcp-prod"}, "calendarPeriod": "MONTH"}
    assert budget["thresholdRules"] == [{"thresholdPercent": 0.8, "spendBasis": "CURRENT_SPEND"},
                                        {"thresholdPercent": 1.0, "spendBasis": "FORECASTED_SPEND"}]
    assert budget["allUpdatesRule"] == {"monitoringNotificationChannels": [f"{channel.name}-id"]}
    # The label the budget filters on is on the cluster (GKE puts it on the nodes' VMs and disks).
    assert plan.one("gcp:container/cluster:Cluster").inputs["resourceLabels"]["llmfleet-cluster"] == "llm-gcp-prod"


def test_azure_budget_covers_the_subscription_filtered_by_the_cluster_tag():
    plan = run_stack("azure-prod")
    budget = plan.one("azure-native:consumption:Budget").inputs
    assert budget["scope"] == "/subscriptions/00000000-0000-0000-0000-000000000000"
    assert budget["filter"] == {"tags": {"name": "llmfleet-cluster", "operator": "In", "values": ["llm-azure-prod"]}}
    assert (budget["amount"], budget["category"], budget["timeGrain"], budget["timePeriod"]) == (
        480000.0, "Cost", "Monthly", {"startDate": "2027-01-01"})
    assert budget["notifications"]["forecasted-100pct"] == {
        "enabled": True, "operator": "GreaterThan", "threshold": 100.0, "thresholdType": "Forecasted",
        "contactEmails": ["platform-oncall@example.com"]}
    # The VMs live in AKS's node resource group: the agent pools carry the tag the filter needs.
    for pool in plan.of_type("azure-native:containerservice:AgentPool"):
        assert pool.inputs["tags"]["llmfleet-cluster"] == "llm-azure-prod", pool.name


def test_azure_budget_starts_this_month_unless_given_and_keeps_its_start():
    from components.cost.budget import first_of_this_month
    cfg, secrets = _config("azure-prod")
    del cfg["budget"]["azureStartDate"]
    plan = run_config(cfg, stack="azure-prod", secrets=secrets)
    budget = plan.one("azure-native:consumption:Budget")
    assert budget.inputs["timePeriod"] == {"startDate": first_of_this_month()}
    assert budget.options["ignoreChanges"] == ["timePeriod"]


def test_a_production_stack_needs_a_budget_and_others_may_go_without():
    cfg, secrets = _config("prod")
    del cfg["budget"]
    assert config_error(cfg, stack="prod", secrets=secrets) == [
        "llmfleet:budget: is required in a production environment ('prod'): {monthly, contacts, alerts}, so the "
        "cloud alerts before a month overruns (docs/cost-guards.md)"]
    cfg, secrets = _config("dev")
    del cfg["budget"]
    assert not run_config(cfg, stack="dev", secrets=secrets).of_type("aws:budgets/budget:Budget")


@pytest.mark.parametrize("stack,budget,lines", [
    ("dev", {"monthly": 0, "contacts": ["ops"], "alerts": [{"percent": 80, "type": "actaul"}] * 6},
     ["llmfleet:budget.monthly: must be >= 1, got 0.0",
      "llmfleet:budget.alerts[0].type: must be one of actual, forecasted, got 'actaul' (did you mean 'actual'?)",
      "llmfleet:budget.alerts[1].type: must be one of actual, forecasted, got 'actaul' (did you mean 'actual'?)",
      "llmfleet:budget.alerts[2].type: must be one of actual, forecasted, got 'actaul' (did you mean 'actual'?)",
      "llmfleet:budget.alerts[3].type: must be one of actual, forecasted, got 'actaul' (did you mean 'actual'?)",
      "llmfleet:budget.alerts[4].type: must be one of actual, forecasted, got 'actaul' (did you mean 'actual'?)",
      "llmfleet:budget.alerts[5].type: must be one of actual, forecasted, got 'actaul' (did you mean 'actual'?)",
      "llmfleet:budget.alerts: must have at most 5 items (Azure's limit per budget), got 6",
      "llmfleet:budget.contacts[0]: must be an email address, got 'ops'"]),
    ("gcp-prod", {"monthly": 10, "contacts": ["a@b.io"], "azureStartDate": "2027-01-15"},
     ["llmfleet:budget.azureStartDate: must be the first day of a month, YYYY-MM-01, got '2027-01-15'",
      "llmfleet:budget.gcpBillingAccount: is required on GCP: budgets belong to a billing account"]),
    ("edge", {"monthly": 10, "contacts": ["a@b.io"]},
     ["llmfleet:budget.monthly: budgets are cloud resources; an existing cluster has no cloud account here"]),
])
def test_budget_mistakes_are_one_line_each(stack, budget, lines):
    cfg, secrets = _config(stack)
    cfg["budget"] = copy.deepcopy(budget)
    assert config_error(cfg, stack=stack, secrets=secrets) == lines
