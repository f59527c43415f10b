"""Idle capacity off hours: a model with a schedule runs its minimum only in its hours and scales to zero outside
(a KEDA cron trigger beside the queue trigger); the cost report shows the saving."""
import copy
import json

import pytest

from plan import cost
from plan.runtime import ROOT
from plan.stackfile import load_stack_config
from tests.harness import config_error, run_config


def _dev(**keda) -> tuple[dict, dict]:
    _, config, secret_keys = load_stack_config(ROOT, "dev")
    cfg = {k.split(":", 1)[1]: (json.loads(v) if v[:1] in "[{" else v) for k, v in config.items()
           if k.startswith("llmfleet:") and k not in secret_keys}
    cfg["models"][0]["autoscaling"] = {"keda": {"targetQueueDepth": 5, **keda}}
    return cfg, {"hfToken": "x"}


def test_scheduled_model_scales_to_zero_outside_its_hours():
    cfg, secrets = _dev(schedule={"days": ["mon", "tue", "wed", "thu", "fri"], "from": "08:00", "to": "20:00",
                                  "timezone": "Europe/Berlin"})
    plan = run_config(cfg, stack="dev", secrets=secrets)
    so = plan.manifest("ScaledObject", "llama-8b-scaler", "llm-serving")["spec"]
    assert so["minReplicaCount"] == 0 and so["maxReplicaCount"] == 2
    prometheus, cron = so["triggers"]
    assert prometheus["type"] == "prometheus"
    assert cron == {"type": "cron", "metadata": {"timezone": "Europe/Berlin", "start": "0 8 * * 1,2,3,4,5",
                                                 "end": "0 20 * * 1,2,3,4,5", "desiredReplicas": "1"}}
    (row,) = cost.report(plan.stack)["models"]
    # 5 days x 12 h = 60 of 168 hours: the minimum replica's cost for the other 108 is saved.
    assert row["scheduledHoursPerWeek"] == 60
    expected = round(row["replicaPerHour"] * 730 * (1 - 60 / 168), 0)
    assert abs(row["monthlySavedBySchedule"] - expected) <= 1
    assert "| llama-8b | 60 |" in cost.markdown(cost.report(plan.stack))


def test_without_a_schedule_the_minimum_stays():
    cfg, secrets = _dev()
    plan = run_config(cfg, stack="dev", secrets=secrets)
    so = plan.manifest("ScaledObject", "llama-8b-scaler", "llm-serving")["spec"]
    assert so["minReplicaCount"] == 1 and [t["type"] for t in so["triggers"]] == ["prometheus"]
    assert "scheduledHoursPerWeek" not in cost.report(plan.stack)["models"][0]


@pytest.mark.parametrize("schedule,lines", [
    ({"days": ["monday"], "from": "8:00", "to": "25:00", "timezone": "Mars/Olympus"},
     ["llmfleet:models[0].autoscaling.keda.schedule.days[0]: must be one of fri, mon, sat, sun, thu, tue, wed, "
      "got 'monday' (did you mean 'mon'?)",
      "llmfleet:models[0].autoscaling.keda.schedule.from: must be HH:MM on a 24-hour clock, got '8:00'",
      "llmfleet:models[0].autoscaling.keda.schedule.to: must be HH:MM on a 24-hour clock, got '25:00'",
      "llmfleet:models[0].autoscaling.keda.schedule.timezone: must be an IANA time zone such as Europe/Berlin or "
      "UTC, got 'Mars/Olympus'"]),
    ({"from": "20:00", "to": "08:00"},
     ["llmfleet:models[0].autoscaling.keda.schedule.to: must be later than from (20:00): a window across midnight "
      "is two days' windows, not supported; got 08:00"]),
])
def test_schedule_mistakes_are_one_line_each(schedule, lines):
    cfg, secrets = _dev(schedule=schedule)
    assert config_error(cfg, stack="dev", secrets=secrets) == lines
