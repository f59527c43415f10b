"""Cost alerts: a model whose GPUs have sat idle for long, with what its replicas cost per hour.

DCGM exporter labels each GPU's series with the namespace and pod it is allocated to; a model's pods carry
`llmfleet.io/model`, so a model's GPUs are its pods' GPUs.
"""
from typing import Sequence

from catalog.prices import HOURS_PER_MONTH
from spec.models import ModelSpec

GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"


def idle_model_rule(model: ModelSpec, namespace: str, percent: float, minutes: int) -> dict:
    hour = model.placement.price_hour
    return {
        "alert": "ModelGPUsIdle",
        # Pods of the model are named after it (Deployment/StatefulSet pods, KServe `<isvc>-predictor-...`,
        # Ray workers `<rayservice>-...`).
        "expr": (f'max(max_over_time({GPU_UTIL}{{namespace="{namespace}", pod=~"{model.name}-.*"}}[{minutes}m])) '
                 f"< {percent:g}"),
        "for": "5m",
        "labels": {"severity": "warning", "model": model.name},
        "annotations": {
            "summary": f"Model {model.name}: its GPUs have stayed under {percent:g}% for {minutes} minutes",
            "description": (f"Each replica costs about ${hour:,.2f}/h (${hour * HOURS_PER_MONTH:,.0f}/month) on "
                            f"{model.placement.pool}. Lower replicas.min, add a schedule, or scale it to zero."),
        },
    }


def cost_rule_groups(models: Sequence[ModelSpec], namespace: str, percent: float, minutes: int) -> list[dict]:
    return [{"name": "llmfleet-cost", "rules": [
        idle_model_rule(m, namespace, percent, minutes) for m in models if m.placement]}]
