"""Autoscaling and disruption objects for one serving workload: HPA on the queue (through prometheus-adapter),
KEDA ScaledObject (Prometheus or Redis-list trigger), VPA (recommendations only on GPU pods) and the PDB.

spec/serving_options.py guarantees at most one of HPA / ScaledObject per workload: KEDA creates its own HPA, and
two HPAs on one Deployment fight over its replica count.
"""
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.platform import MANAGED_BY
from components.serving.common import labels, model_load_seconds, selector
from spec.models import ModelSpec
from spec.serving_options import MAX_STABILIZATION_SECONDS

# The vLLM gauge, and the name prometheus-adapter exposes it under in custom.metrics.k8s.io: the rule in
# controllers.py renames `vllm:num_requests_waiting` to `vllm_num_requests_waiting` (a ':' is not usable in a
# custom-metrics API path segment the HPA controller requests).
QUEUE_METRIC = "vllm:num_requests_waiting"
ADAPTER_QUEUE_METRIC = "vllm_num_requests_waiting"
KEDA_POLLING_SECONDS = 15
KEDA_FALLBACK_FAILURES = 3


def scale_down_window(model: ModelSpec) -> int:
    """Never give a replica back sooner than it takes to load one: flapping costs a full model load."""
    return model.autoscaling.cooldown_seconds or model_load_seconds(model)


def hpa_window(model: ModelSpec) -> int:
    """The scale-down window as an HPA takes it: the API server rejects a stabilizationWindowSeconds above 3600
    (FACTS-cluster.md section 5), which a 405B model's load estimate exceeds. cooldownSeconds is capped there by
    the spec; the load estimate is clamped here."""
    return min(scale_down_window(model), MAX_STABILIZATION_SECONDS)


def _meta(model: ModelSpec, name: str, namespace: str) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=labels(model))


def pdb(parent: pulumi.Resource, res_name: str, model: ModelSpec, namespace: str,
        match: Optional[dict] = None) -> k8s.policy.v1.PodDisruptionBudget:
    """maxUnavailable 1: a drain or node upgrade can always move one replica, never all at once."""
    return k8s.policy.v1.PodDisruptionBudget(
        res_name,
        metadata=_meta(model, f"{model.name}-pdb", namespace),
        spec={"maxUnavailable": 1, "selector": {"matchLabels": match or selector(model)}},
        opts=ResourceOptions(parent=parent))


def hpa(parent: pulumi.Resource, res_name: str, model: ModelSpec, namespace: str, kind: str, target: str,
        depends_on: list) -> k8s.autoscaling.v2.HorizontalPodAutoscaler:
    """Scales on requests waiting per pod (AverageValue over the target's pods)."""
    a = model.autoscaling
    return k8s.autoscaling.v2.HorizontalPodAutoscaler(
        res_name,
        metadata=_meta(model, f"{model.name}-hpa", namespace),
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
            "minReplicas": model.replicas.min, "maxReplicas": model.replicas.max,
            "metrics": [{"type": "Pods", "pods": {
                "metric": {"name": ADAPTER_QUEUE_METRIC},
                "target": {"type": "AverageValue", "averageValue": str(a.target_queue_depth)}}}],
            "behavior": {
                "scaleUp": {"stabilizationWindowSeconds": 0,
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]},
                "scaleDown": {"stabilizationWindowSeconds": hpa_window(model),
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}]}},
        },
        opts=ResourceOptions(parent=parent, depends_on=depends_on))


def queue_query(model: ModelSpec, namespace: str) -> str:
    # vLLM labels its metrics with model_name = the served model name (--served-model-name).
    return f'sum({QUEUE_METRIC}{{namespace="{namespace}",model_name="{model.name}"}})'


def scaled_object(parent: pulumi.Resource, res_name: str, model: ModelSpec, namespace: str, kind: str,
                  target: str, prometheus_url: str, depends_on: list) -> k8s.apiextensions.CustomResource:
    """KEDA ScaledObject. Trigger metadata values are strings. The Prometheus trigger's default metricType is
    AverageValue (the sum is divided by the replicas), which is also the only type KEDA's fallback supports."""
    a = model.autoscaling
    if a.kind == "kedaRedis":
        trigger = {"type": "redis", "metadata": {
            "address": a.redis_address, "listName": a.list_name, "listLength": str(a.target_queue_depth),
            "databaseIndex": "0"}}
    else:
        trigger = {"type": "prometheus", "metadata": {
            "serverAddress": prometheus_url, "query": queue_query(model, namespace),
            "threshold": str(a.target_queue_depth)}}
    window = scale_down_window(model)
    triggers, min_replicas = [trigger], model.replicas.min
    if a.schedule is not None:
        # Outside the hours the cron trigger is inactive, the queue of a model with no pods is empty, so KEDA
        # scales to zero after cooldownPeriod and the autoscaler removes the nodes; inside, the cron trigger holds
        # the model's minimum while the queue trigger scales above it (the HPA takes the largest of its metrics).
        # KEDA 2.20 cron scaler metadata: timezone, start, end, desiredReplicas.
        triggers.append({"type": "cron", "metadata": {
            "timezone": a.schedule.timezone, "start": a.schedule.cron(a.schedule.start),
            "end": a.schedule.cron(a.schedule.end), "desiredReplicas": str(max(1, model.replicas.min))}})
        min_replicas = 0
    return k8s.apiextensions.CustomResource(
        res_name,
        api_version="keda.sh/v1alpha1",
        kind="ScaledObject",
        metadata=_meta(model, f"{model.name}-scaler", namespace),
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
            "minReplicaCount": min_replicas, "maxReplicaCount": model.replicas.max,
            "pollingInterval": KEDA_POLLING_SECONDS,
            # cooldownPeriod only governs the last replica (to zero) and has no 3600 s cap: the full load estimate;
            # the HPA behaviour below governs N -> N-1.
            "cooldownPeriod": window,
            # If the trigger source is unreachable, hold the current size (never fewer than `replicas`): KEDA 2.20.2
            # pkg/fallback/fallback.go reports max(current, replicas) for currentReplicasIfHigher, where the
            # default `static` would shrink a busy model to `replicas` exactly when its metrics are gone.
            "fallback": {"failureThreshold": KEDA_FALLBACK_FAILURES, "replicas": max(1, model.replicas.min),
                         "behavior": "currentReplicasIfHigher"},
            "advanced": {"horizontalPodAutoscalerConfig": {
                "name": f"{model.name}-keda-hpa",
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": hpa_window(model),
                                           "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}]}}}},
            "triggers": triggers,
        },
        opts=ResourceOptions(parent=parent, depends_on=depends_on))


def vpa(parent: pulumi.Resource, res_name: str, model: ModelSpec, namespace: str, kind: str, target: str,
        update_mode: str = "Off", depends_on: Optional[list] = None) -> k8s.apiextensions.CustomResource:
    """VPA only manages cpu and memory. On GPU pods: recommendations only (Off); evicting a replica to resize
    its CPU request would cost a full model load."""
    return k8s.apiextensions.CustomResource(
        res_name,
        api_version="autoscaling.k8s.io/v1",
        kind="VerticalPodAutoscaler",
        metadata=_meta(model, f"{model.name}-vpa", namespace),
        spec={"targetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
              "updatePolicy": {"updateMode": update_mode},
              "resourcePolicy": {"containerPolicies": [{"containerName": "*",
                                                        "controlledResources": ["cpu", "memory"]}]}},
        opts=ResourceOptions(parent=parent, depends_on=depends_on or []))


def cpu_service_vpa(parent: pulumi.Resource, res_name: str, deployment: str, namespace: str,
                    depends_on: list) -> k8s.apiextensions.CustomResource:
    """VPA that applies its recommendations (Recreate) to a CPU-only controller: restarting one costs seconds."""
    return k8s.apiextensions.CustomResource(
        res_name,
        api_version="autoscaling.k8s.io/v1",
        kind="VerticalPodAutoscaler",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{deployment}-vpa", namespace=namespace,
                                            labels=MANAGED_BY),
        spec={"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
              "updatePolicy": {"updateMode": "Recreate", "minReplicas": 1},
              "resourcePolicy": {"containerPolicies": [{"containerName": "*",
                                                        "controlledResources": ["cpu", "memory"]}]}},
        opts=ResourceOptions(parent=parent, depends_on=depends_on))
