"""The cost layer: OpenCost on the stack's Prometheus, the GPU-cost dashboard, and the idle-model alert."""
import json

import pytest
import yaml

from plan.validate import ROOT
from tests.harness import config_error, run_config, run_stack

CHART_VALUES = ROOT.parent / "shared" / "chart-values" / "opencost-2.5.17.yaml"
HELM = "kubernetes:helm.sh/v3:Release"


def _keys_exist(values: dict, defaults: dict, path: str = "") -> list[str]:
    """Keys we set that the chart's values.yaml does not have (maps the chart leaves empty are free-form)."""
    missing = []
    for key, value in values.items():
        if key not in defaults:
            missing.append(f"{path}{key}")
        elif isinstance(value, dict) and isinstance(defaults[key], dict) and defaults[key]:
            missing += _keys_exist(value, defaults[key], f"{path}{key}.")
    return missing


@pytest.fixture(scope="module", params=["dev", "gcp-prod", "azure-prod", "edge"])
def stack(request):
    return run_stack(request.param)


def _opencost(plan):
    return next(r for r in plan.of_type(HELM) if r.inputs["name"] == "opencost")


def test_opencost_reads_the_stack_prometheus_with_keys_the_chart_has(stack):
    release = _opencost(stack)
    assert (release.inputs["chart"], release.inputs["version"]) == ("opencost", "2.5.17")
    assert release.inputs["repositoryOpts"]["repo"] == "https://opencost.github.io/opencost-helm-chart"
    assert release.inputs["namespace"] == "monitoring"
    values = release.inputs["values"]
    assert values["opencost"]["prometheus"]["internal"] == {
        "enabled": True, "serviceName": "kube-prometheus-stack-prometheus", "namespaceName": "monitoring",
        "port": 9090}
    assert values["opencost"]["exporter"]["defaultClusterId"] == stack.spec.cluster.name
    assert _keys_exist(values, yaml.safe_load(CHART_VALUES.read_text())) == []
    # After Prometheus: the ServiceMonitor CRD comes with kube-prometheus-stack.
    kps = next(r for r in stack.of_type(HELM) if r.inputs["name"] == "kube-prometheus-stack")
    assert kps.urn in release.dependencies


def test_custom_gpu_price_on_existing_clusters_only(stack):
    custom = _opencost(stack).inputs["values"]["opencost"].get("customPricing")
    if stack.spec.cloud == "existing":
        # edge declares pricePerHour 0 for its one-GPU node.
        # Every price set: Helm would otherwise keep the chart's sample CPU 1.25 / RAM 0.50 per hour.
        assert custom == {"enabled": True, "provider": "custom", "costModel": {
            "description": "llmfleet: GPU price from llmfleet:gpuPools pricePerHour; the rest OpenCost's defaults",
            "CPU": 0.031611, "spotCPU": 0.006655, "RAM": 0.004237, "spotRAM": 0.000892, "storage": 0.00005479452,
            "zoneNetworkEgress": 0.01, "regionNetworkEgress": 0.01, "internetNetworkEgress": 0.12, "GPU": 0.0}}
    else:
        assert custom is None


def test_existing_cluster_gpu_price_is_the_dearest_pool_per_gpu():
    cfg = yaml.safe_load((ROOT / "Pulumi.edge.yaml").read_text())["config"]
    cfg = {k.split(":", 1)[1]: v for k, v in cfg.items() if "kubeconfig" not in k}
    cfg["gpuPools"][0]["pricePerHour"] = 2.4
    cfg["gpuPools"].append({"name": "big", "gpu": "h100-80gb", "gpusPerNode": 8, "minNodes": 1, "maxNodes": 1,
                            "labels": {"box": "h100"}, "pricePerHour": 40.0})
    plan = run_config(cfg, stack="edge", secrets={"kubeconfig": "k"})
    # max(2.4 / 1, 40 / 8) = 5.0 $ per GPU-hour.
    assert _opencost(plan).inputs["values"]["opencost"]["customPricing"]["costModel"]["GPU"] == 5.0


def test_dashboard_and_model_label_allowlist(stack):
    cm = stack.manifest("ConfigMap", "llmfleet-dashboard-gpu-cost", "monitoring")
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    board = json.loads(cm["data"]["llmfleet-gpu-cost.json"])
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert all("node_gpu_hourly_cost" in e for e in exprs)
    assert any("label_llmfleet_io_model" in e and "kube_pod_labels" in e for e in exprs)
    kps = next(r for r in stack.of_type(HELM) if r.inputs["name"] == "kube-prometheus-stack")
    assert "pods=[llmfleet.io/model]" in kps.inputs["values"]["kube-state-metrics"]["metricLabelsAllowlist"]


def test_idle_model_alert_carries_the_models_hourly_cost():
    plan = run_stack("dev")
    rule = plan.manifest("PrometheusRule", "llmfleet-cost", "monitoring")
    (alert,) = rule["spec"]["groups"][0]["rules"]
    model = plan.spec.models[0]
    assert alert["alert"] == "ModelGPUsIdle" and alert["labels"]["model"] == "llama-8b"
    assert alert["expr"] == ('max(max_over_time(DCGM_FI_DEV_GPU_UTIL{namespace="llm-serving", pod=~"llama-8b-.*"}'
                             '[120m])) < 5')
    assert f"${model.placement.price_hour:,.2f}/h" in alert["annotations"]["description"]


def test_no_idle_alert_without_gpu_metrics():
    # gcp-prod: GKE installs the driver and device plugin, so no DCGM exporter of ours runs.
    plan = run_stack("gcp-prod")
    assert not [m for m in plan.manifests if m["kind"] == "PrometheusRule" and
                m["metadata"]["name"] == "llmfleet-cost"]


def test_idle_thresholds_are_bounded():
    cfg = yaml.safe_load((ROOT / "Pulumi.edge.yaml").read_text())["config"]
    cfg = {k.split(":", 1)[1]: v for k, v in cfg.items() if "kubeconfig" not in k}
    cfg["costGuards"] = {"idleGpuPercent": 150, "idleGpuMinutes": 1}
    assert config_error(cfg, stack="edge", secrets={"kubeconfig": "k"}) == [
        "llmfleet:costGuards.idleGpuPercent: must be <= 100, got 150.0",
        "llmfleet:costGuards.idleGpuMinutes: must be >= 5, got 1"]
