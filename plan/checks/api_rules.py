"""API validation the OpenAPI schema does not carry (FACTS-cluster 5, 6), and controllers' own admission rules."""
from plan.checks import Check

MAX_STABILIZATION = 3600     # autoscaling validation: stabilizationWindowSeconds 0..3600
MAX_POLICY_PERIOD = 1800     # policy periodSeconds 1..1800
MAX_KEDA_SO_NAME = 54        # keda v2.20 webhook: "keda-hpa-" + name <= 63 without a custom HPA name


def _behavior(b: dict, where: str) -> list[str]:
    problems = []
    for direction in ("scaleUp", "scaleDown"):
        rules = (b or {}).get(direction)
        if rules is None:
            continue
        w = rules.get("stabilizationWindowSeconds")
        if w is not None and not 0 <= int(w) <= MAX_STABILIZATION:
            problems.append(f"{where}.{direction}.stabilizationWindowSeconds: Invalid value: {w}: must be less than "
                            f"or equal to {MAX_STABILIZATION}")
        if "policies" in rules and not rules["policies"]:
            problems.append(f"{where}.{direction}.policies: Required value: must specify at least one Policy")
        for i, p in enumerate(rules.get("policies") or []):
            if p.get("type") not in ("Pods", "Percent"):
                problems.append(f"{where}.{direction}.policies[{i}].type must be Pods or Percent")
            if int(p.get("value", 0)) <= 0:
                problems.append(f"{where}.{direction}.policies[{i}].value must be greater than zero")
            if not 0 < int(p.get("periodSeconds", 0)) <= MAX_POLICY_PERIOD:
                problems.append(f"{where}.{direction}.policies[{i}].periodSeconds must be in 1..{MAX_POLICY_PERIOD}")
        if rules.get("selectPolicy", "Max") not in ("Max", "Min", "Disabled"):
            problems.append(f"{where}.{direction}.selectPolicy must be Max, Min or Disabled")
        if "tolerance" in rules:
            problems.append(f"{where}.{direction}.tolerance needs the alpha HPAConfigurableTolerance gate in 1.34")
    return problems


def _hpa(o) -> list[str]:
    s = o.get("spec") or {}
    problems = _behavior(s.get("behavior"), "spec.behavior")
    mn, mx = int(s.get("minReplicas", 1)), int(s.get("maxReplicas", 0))
    if mn < 1:
        problems.append("spec.minReplicas must be at least 1 (0 needs the alpha HPAScaleToZero gate)")
    if mx < max(1, mn):
        problems.append(f"spec.maxReplicas {mx} must be at least max(1, minReplicas {mn})")
    return problems


def _scaled_object(o) -> list[str]:
    s, name = o.get("spec") or {}, o["metadata"]["name"]
    adv = (s.get("advanced") or {}).get("horizontalPodAutoscalerConfig") or {}
    problems = _behavior(adv.get("behavior"), "spec.advanced.horizontalPodAutoscalerConfig.behavior")
    if not adv.get("name") and len(name) > MAX_KEDA_SO_NAME:
        problems.append(f"name longer than {MAX_KEDA_SO_NAME}: the HPA name keda-hpa-{name} exceeds 63")
    mn, mx = int(s.get("minReplicaCount", 0)), int(s.get("maxReplicaCount", 100))
    if mn > mx:
        problems.append(f"minReplicaCount {mn} is greater than maxReplicaCount {mx}")
    if "idleReplicaCount" in s and int(s["idleReplicaCount"]) >= mn:
        problems.append(f"IdleReplicaCount={s['idleReplicaCount']} must be less than MinReplicaCount={mn}")
    triggers = s.get("triggers") or []
    if triggers and all(t.get("type") in ("cpu", "memory") for t in triggers) and mn == 0:
        problems.append("only cpu/memory triggers with minReplicaCount 0 is rejected")
    fb = s.get("fallback")
    if fb:
        if not any(t.get("type") not in ("cpu", "memory") for t in triggers):
            problems.append("fallback needs at least one trigger that is not cpu/memory")
        # Policy of this project (issue 9 item 13): a metrics outage must not shrink a loaded model.
        if fb.get("behavior", "static") == "static" and int(fb.get("replicas", 0)) < mx:
            problems.append(f"fallback behavior static sets {fb.get('replicas')} replicas when metrics fail, "
                            f"shrinking a model that runs more; use currentReplicasIfHigher")
    return problems


def _pdb(o) -> list[str]:
    s = o.get("spec") or {}
    problems = []
    if "minAvailable" in s and "maxUnavailable" in s:
        problems.append("spec: minAvailable and maxUnavailable cannot be both set")
    for k in ("minAvailable", "maxUnavailable"):
        v = s.get(k)
        if isinstance(v, str) and v.endswith("%") and not 0 <= int(v[:-1]) <= 100:
            problems.append(f"spec.{k} {v} must be between 0% and 100%")
    return problems


def _rollout(o) -> list[str]:
    s = o.get("spec") or {}
    if o["kind"] == "Deployment":
        st = s.get("strategy") or {}
        ru = st.get("rollingUpdate")
        if st.get("type") == "Recreate" and ru:
            return ["spec.strategy.rollingUpdate: may not be specified when strategy type is 'Recreate'"]
        if ru and str(ru.get("maxUnavailable", "25%")) in ("0", "0%") and str(ru.get("maxSurge", "25%")) in ("0", "0%"):
            return ["spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"]
    if o["kind"] == "StatefulSet":
        ru = (s.get("updateStrategy") or {}).get("rollingUpdate") or {}
        if str(ru.get("maxUnavailable", 1)) in ("0", "0%"):
            return ["spec.updateStrategy.rollingUpdate.maxUnavailable may not be 0"]
        if len(o["metadata"]["name"]) > 63:
            return ["metadata.name: a StatefulSet name must be a DNS-1123 label (<= 63)"]
    if o["kind"] == "DaemonSet":
        ru = (s.get("updateStrategy") or {}).get("rollingUpdate") or {}
        nz = [k for k in ("maxSurge", "maxUnavailable") if str(ru.get(k, "0")) not in ("0", "0%")]
        if ru and len(nz) != 1:
            return ["spec.updateStrategy.rollingUpdate: exactly one of maxSurge and maxUnavailable must be non-zero"]
    return []


def _inference_service(o) -> list[str]:
    """KServe v0.20.0 validation (pkg/apis/serving/v1beta1/inference_service_validation.go; issue 9 item 4):
    an External metric needs `target.value`."""
    problems = []
    pred = (o.get("spec") or {}).get("predictor") or {}
    for i, metric in enumerate((pred.get("autoScaling") or {}).get("metrics") or []):
        if metric.get("type") == "External":
            target = (metric.get("external") or {}).get("target") or {}
            if "value" not in target:
                problems.append(f"spec.predictor.autoScaling.metrics[{i}]: External metrics need target.value "
                                f"(has {sorted(target)})")
    return problems


_RULES = {"HorizontalPodAutoscaler": _hpa, "ScaledObject": _scaled_object, "PodDisruptionBudget": _pdb,
          "Deployment": _rollout, "StatefulSet": _rollout, "DaemonSet": _rollout,
          "InferenceService": _inference_service}


def check(ctx) -> list[Check]:
    out = []
    for o in ctx.objects:
        rule = _RULES.get(o.get("kind"))
        if rule is None:
            continue
        m = o["metadata"]
        problems = rule(o)
        out.append(Check(f"api.{o['kind'].lower()}", f"{o['kind']} {m.get('namespace', '_cluster')}/{m['name']}",
                         "fail" if problems else "pass", "; ".join(problems) or "within the API's limits"))
    return out


