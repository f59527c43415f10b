"""What the shipped stacks' alert rules and Grafana dashboards read and how the dashboards are laid out, checked as
whole classes (tests/test_promql.py checks that every expression parses; the promtool tests check the alerts'
behaviour on a few stacks):

- every series an expression reads (rules, dashboards, a dashboard variable's query, autoscaler and adapter
  queries) is one an exporter the program deploys or relies on emits, or a recording rule the stack defines: a
  misspelt metric name parses fine and matches nothing, so the panel stays empty and the alert never fires;
- every dashboard follows Grafana's dashboard model: known unit ids and panel types, panels tiling the 24-column
  grid without overlap or gap, ids 1..n and refIds A, B, ... in order, a percent axis from 0 to its full scale,
  every `$variable` a query uses defined, and the dashboard-level settings this program documents.
"""
import functools
import json
import re

import promql_parser
import pytest

from catalog.serving_metrics import VLLM_METRICS, series
from components.nvidia.values import DCGM_FIELDS
from plan.federation import cloud_stacks
from spec.platform import SERVING_NAMESPACE
from plan.runtime import ROOT
from tests.harness import run_stack
from tests.test_promql import expressions, grafana_query, selectors

STACKS = cloud_stacks(ROOT)
plan_of = functools.lru_cache(maxsize=None)(run_stack)

# kube-state-metrics v2 series the program reads (kube-state-metrics docs/metrics/workload/*.md and
# docs/metrics/cluster/node-metrics.md: pod, deployment, statefulset and node metrics).
KSM = {"kube_node_labels", "kube_node_status_allocatable", "kube_pod_container_resource_requests",
       "kube_pod_container_state_started", "kube_pod_container_status_last_terminated_reason",
       "kube_pod_container_status_restarts_total", "kube_pod_labels", "kube_pod_start_time", "kube_pod_status_phase",
       "kube_pod_status_ready", "kube_pod_status_ready_time", "kube_deployment_spec_replicas",
       "kube_statefulset_replicas"}
# OpenCost's allocation and node price metrics (opencost docs, "Prometheus metrics").
OPENCOST = {"container_gpu_allocation", "node_gpu_hourly_cost"}
# text-embeddings-inference v1.9.3 (components/rag/dashboard.py) and Qdrant's REST metrics, with and without the
# `qdrant_` prefix some Qdrant releases add.
TEI = {"te_queue_size", "te_request_count", "te_request_success", "te_request_duration_bucket",
       "te_request_queue_duration_bucket", "te_request_inference_duration_bucket"}
QDRANT = {p + m for p in ("", "qdrant_") for m in ("rest_responses_total", "rest_responses_fail_total",
                                                     "rest_responses_duration_seconds_bucket", "collections_vector_total")}
ENGINE = {series(e, n, s) for e in ("vllm", "kserve", "rayserve") for n in VLLM_METRICS
          for s in ("_bucket", "_count", "_sum", "_total", "")}
DCGM = {name for name, _, _ in DCGM_FIELDS}
# Grafana unit ids (grafana/packages/grafana-data/src/valueFormats/categories.ts) and panel types the program uses.
UNITS = {"percent", "percentunit", "bytes", "celsius", "watt", "none", "short", "s", "reqps", "currencyUSD"}
PANEL_TYPES = {"timeseries", "stat"}
GRID_COLUMNS = 24


def recorded(plan) -> set:
    return {r["record"] for m in plan.manifests if m["kind"] == "PrometheusRule"
            for g in m["spec"]["groups"] for r in g["rules"] if "record" in r}


def dashboards(plan) -> list[dict]:
    return [json.loads(text) for m in plan.manifests
            if m["kind"] == "ConfigMap" and m["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
            for text in m["data"].values()]


@pytest.mark.parametrize("stack", STACKS)
def test_every_series_read_is_emitted_by_something_the_stack_runs(stack):
    plan = plan_of(stack)
    known = KSM | OPENCOST | TEI | QDRANT | ENGINE | DCGM | recorded(plan)
    exprs = expressions(plan) + [(f"dashboard {d['uid']} variable {v['name']}",
                                  re.sub(r"label_values\((\w+), \w+\)", r"\1", v["query"]))
                                 for d in dashboards(plan) for v in d["templating"]["list"] if v["type"] == "query"]
    names = {(where, n) for where, e in exprs for n in selectors(promql_parser.parse(e))}
    unknown = sorted({f"{where}: {n}" for where, n in names if n not in known})
    assert unknown == []
    read = {n for _, n in names}
    # Not vacuous: the stack reads DCGM, kube-state-metrics and engine series (and its SLO recording rules, where
    # it has SLOs).
    assert read & DCGM and read & KSM and read & ENGINE and recorded(plan) <= read, sorted(read)


def tiles(panels: list[dict]) -> list[str]:
    """Layout problems: a panel off the 24-column grid, two panels overlapping, a panel not starting at the top
    nor right under another one (a gap Grafana closes by moving panels up, so the order the code meant is lost)."""
    bad = []
    cells = {}
    for p in panels:
        g = p["gridPos"]
        if g["x"] < 0 or g["w"] <= 0 or g["h"] <= 0 or g["x"] + g["w"] > GRID_COLUMNS:
            bad.append(f"panel {p['id']} off the grid: {g}")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    bad.append(f"panels {cells[(x, y)]} and {p['id']} overlap at {(x, y)}")
                cells[(x, y)] = p["id"]
    bottoms = {p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels}
    bad += [f"panel {p['id']} leaves a gap above it" for p in panels
            if p["gridPos"]["y"] != 0 and p["gridPos"]["y"] not in bottoms]
    # Rows are full: every row band of the grid is covered edge to edge (no hole to the right of a panel).
    rows = sorted({p["gridPos"]["y"] for p in panels})
    for y in rows:
        covered = {x for (x, yy) in cells if yy == y}
        if covered != set(range(GRID_COLUMNS)):
            bad.append(f"row at y={y} covers columns {sorted(covered)}")
    return bad


@pytest.mark.parametrize("stack", STACKS)
def test_every_dashboard_follows_grafanas_model(stack):
    boards = dashboards(plan_of(stack))
    assert len(boards) >= 4, [d["uid"] for d in boards]   # GPU usage, health, cost and a model dashboard at least
    for d in boards:
        uid = d["uid"]
        # Settings dashboards.py documents: UTC, read-only (provisioned from a ConfigMap), 6h window, 30s refresh,
        # Grafana's dashboard JSON schema version 39, datasource picked through the `datasource` variable.
        assert (d["timezone"], d["editable"], d["time"], d["refresh"], d["schemaVersion"]) == (
            "utc", False, {"from": "now-6h", "to": "now"}, "30s", 39), uid
        assert d["templating"]["list"][0] == {"name": "datasource", "type": "datasource", "query": "prometheus",
                                              "label": "Data source"}, uid
        assert d["tags"][0] == "llmfleet" and uid.startswith("llmfleet-"), uid
        panels = d["panels"]
        assert [p["id"] for p in panels] == list(range(1, len(panels) + 1)), uid
        assert tiles(panels) == [], uid
        defined = {v["name"] for v in d["templating"]["list"]}
        for p in panels:
            where = f"{uid} panel {p['id']}"
            assert p["type"] in PANEL_TYPES, where
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
            defaults = p["fieldConfig"]["defaults"]
            assert defaults["unit"] in UNITS, where
            # A percent axis runs from 0 to its full scale: 100 for `percent`, 1 for `percentunit`.
            if "max" in defaults:
                assert (defaults["min"], defaults["max"]) == (0, {"percent": 100, "percentunit": 1}[defaults["unit"]]), where
            if p["type"] == "timeseries":
                assert p["options"] == {"legend": {"displayMode": "table", "placement": "bottom"}}, where
            else:
                assert p["options"] == {}, where
            targets = p["targets"]
            assert [t["refId"] for t in targets] == [chr(ord("A") + i) for i in range(len(targets))], where
            for t in targets:
                assert t["datasource"] == p["datasource"], where
                used = set(re.findall(r"\$(\w+)", t["expr"])) - {"__range", "__rate_interval", "__interval"}
                assert used <= defined, (where, used)
                promql_parser.parse(grafana_query(t["expr"].replace("$node", ".*")))


def test_the_gpu_dashboards_pick_the_node_from_dcgm_hostnames():
    """The node picker lists DCGM's Hostname label values, refreshed on a time range change (Grafana's refresh 2),
    with All selected: every panel of the GPU dashboards filters on it."""
    boards = {d["uid"]: d for d in dashboards(plan_of("dev"))}
    for uid in ("llmfleet-gpu-usage", "llmfleet-gpu-health"):
        node = boards[uid]["templating"]["list"][1]
        assert node["name"] == "node" and node["query"] == "label_values(DCGM_FI_DEV_GPU_UTIL, Hostname)"
        assert (node["refresh"], node["includeAll"], node["multi"], node["current"]["value"]) == (2, True, True, "$__all")
        assert all('Hostname=~"$node"' in t["expr"] for p in boards[uid]["panels"] for t in p["targets"]
                   if "DCGM_FI" in t["expr"])


def test_the_layout_check_bites():
    a = {"id": 1, "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8}}
    b = {"id": 2, "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8}}
    assert tiles([a, b]) == []
    assert tiles([a, {"id": 2, "gridPos": {"x": 13, "y": 0, "w": 12, "h": 8}}])        # off the grid, and a hole
    assert tiles([a, {"id": 2, "gridPos": {"x": 11, "y": 0, "w": 12, "h": 8}}])        # overlap
    assert tiles([a, b, {"id": 3, "gridPos": {"x": 0, "y": 9, "w": 24, "h": 8}}])      # gap above


# Every alert the program renders: (`for`, severity, label keys, annotation keys). The durations are the documented
# figures: docs/observability.md's runbook (KV cache full for 10 minutes, GPU pods Pending for 15 minutes, restarts
# and OOM kills alert at once: the expression already looks back 30 minutes), the SRE workbook's burn-rate pairs
# (page after 2m of a 1h/5m burn, ticket after 15m of a 6h/30m one), components/observability/rules.py (an XID
# error is an event: at once; temperature and memory for 10 minutes) and spec/nvidia.py's defaults (GPUs missing
# and idle-while-pending: 15 minutes); the cost alert waits 5 minutes on top of its idle window.
SERVING_LABELS = {"severity", "model", "stack", "engine", "namespace"}
BURN_LABELS = SERVING_LABELS | {"slo", "long_window"}
RUNBOOK = {"summary", "description", "runbook"}
ALERTS = {
    "GPUXidError": ("0m", "critical", {"severity"}, {"summary", "description"}),
    "GPUMemoryNearFull": ("10m", "warning", {"severity"}, {"summary", "description"}),
    "GPUTemperatureHigh": ("10m", "warning", {"severity"}, {"summary"}),
    "GPUsIdleWhileGPUPodsPending": ("15m", "warning", {"severity"}, {"summary", "description"}),
    "GPUsMissingFromAllocatable": ("15m", "critical", {"severity", "pool"}, {"summary", "description"}),
    "ModelGPUsIdle": ("5m", "warning", {"severity", "model"}, {"summary", "description"}),
    "ModelQueueGrowingAtMaxReplicas": ("10m", "warning", SERVING_LABELS, RUNBOOK),
    "ModelKVCacheNearFull": ("10m", "warning", SERVING_LABELS, RUNBOOK),
    "ModelGPUPodsPending": ("15m", "critical", SERVING_LABELS, RUNBOOK),
    "ModelPodRestarting": ("0m", "warning", SERVING_LABELS, RUNBOOK),
    "ModelPodOOMKilled": ("0m", "critical", SERVING_LABELS, RUNBOOK),
    "ModelLoadAboveStartupBudget": ("0m", "warning", SERVING_LABELS, RUNBOOK),
}
BURNS = {"ModelLatencySLOBurn": "latency", "ModelTTFTSLOBurn": "ttft", "ModelErrorBudgetBurn": "availability"}
BURN_FOR = {("1h", "critical"): "2m", ("6h", "warning"): "15m"}


@pytest.mark.parametrize("stack", STACKS)
def test_every_alert_waits_routes_and_labels_as_documented(stack):
    plan = plan_of(stack)
    engines = {m.name: m.engine for m in plan.spec.models}
    pools = {p.name for p in plan.spec.pools}
    seen = set()
    for m in plan.manifests:
        if m["kind"] != "PrometheusRule":
            continue
        for g in m["spec"]["groups"]:
            for r in g["rules"]:
                if "record" in r:
                    assert set(r["labels"]) == {"model", "stack"} and r["labels"]["stack"] == stack, r["record"]
                    assert r["labels"]["model"] in engines, r["record"]
                    continue
                name, labels = r["alert"], r["labels"]
                seen.add(name)
                if name in BURNS:
                    assert set(labels) == BURN_LABELS and set(r["annotations"]) == RUNBOOK, name
                    assert labels["slo"] == BURNS[name], name
                    assert r["for"] == BURN_FOR[(labels["long_window"], labels["severity"])], name
                    assert f"ratio_rate{labels['long_window']}" in r["expr"], name
                else:
                    for_, severity, keys, notes = ALERTS[name]
                    assert (r["for"], labels["severity"], set(labels), set(r["annotations"])) == (
                        for_, severity, keys, notes), name
                if "model" in labels:
                    assert labels["model"] in engines, name
                if "engine" in labels:
                    assert labels["engine"] == engines[labels["model"]] and labels["stack"] == stack, name
                    assert labels["namespace"] == SERVING_NAMESPACE, name
                if "pool" in labels:
                    assert labels["pool"] in pools, name
                assert all(v for v in r["annotations"].values()), name
    # Every stack has the GPU health rules and the model saturation rules.
    assert {"GPUXidError", "GPUsMissingFromAllocatable", "ModelKVCacheNearFull", "ModelPodOOMKilled"} <= seen, seen


RELABEL_NODE = [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node", "action": "replace"}]


@pytest.mark.parametrize("stack", ["dev", "gcp-prod"])
def test_prometheus_selects_every_monitor_and_grafana_loads_every_dashboard(stack):
    plan = plan_of(stack)
    kps = next(r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "kube-prometheus-stack")
    # The chart's CRDs and Prometheus take long on a fresh cluster: 15 minutes before Helm gives up.
    assert kps.inputs["timeout"] == 900
    v = kps.inputs["values"]
    p = v["prometheus"]["prometheusSpec"]
    # Every ServiceMonitor, PodMonitor, PrometheusRule and Probe of the cluster, not only the release's own.
    assert [p[f"{k}SelectorNilUsesHelmValues"] for k in ("serviceMonitor", "podMonitor", "rule", "probe")] == [
        False] * 4
    # Grafana's sidecar loads the ConfigMaps carrying exactly the label our dashboards carry, in any namespace.
    sidecar = v["grafana"]["sidecar"]["dashboards"]
    assert sidecar == {"enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL"}
    boards = [m for m in plan.manifests if m["kind"] == "ConfigMap"
              and m["metadata"].get("labels", {}).get(sidecar["label"]) == sidecar["labelValue"]]
    assert len(boards) >= 4
    assert v["fullnameOverride"] == "kube-prometheus-stack"
    # node-exporter tolerates every taint: GPU and spot nodes are the ones whose node metrics matter most.
    assert v["prometheus-node-exporter"] == {"tolerations": [{"operator": "Exists"}]}


def test_gke_managed_dcgm_is_scraped_with_the_node_name():
    pm = plan_of("gcp-prod").manifest("PodMonitor", "gke-managed-dcgm-exporter", "monitoring")["spec"]
    (ep,) = pm["podMetricsEndpoints"]
    assert (ep["path"], ep["interval"], ep["scrapeTimeout"], ep["relabelings"]) == (
        "/metrics", "15s", "10s", RELABEL_NODE)
    assert pm["namespaceSelector"] == {"matchNames": ["gke-managed-system"]}


def test_chart_dcgm_exporter_is_scraped_with_the_node_name():
    from tests.harness import run_config
    plan = run_config({"cloud": "aws", "cluster": {"name": "edge", "region": "us-east-1"},
                       "gpuPools": [{"name": "l40s", "instanceType": "g6e.xlarge", "capacity": ["on-demand"]}],
                       "nvidia": {"stack": "device-plugin"}})
    sm = plan.manifest("ServiceMonitor", "dcgm-exporter", "monitoring")["spec"]
    assert sm["selector"] == {"matchLabels": {"app.kubernetes.io/name": "dcgm-exporter",
                                              "app.kubernetes.io/component": "dcgm-exporter"}}
    (ep,) = sm["endpoints"]
    # 15s scrapes (10s timeout); the node name joins GPU series to kube-state-metrics' node series.
    assert (ep["port"], ep["path"], ep["interval"], ep["scrapeTimeout"], ep["relabelings"]) == (
        "metrics", "/metrics", "15s", "10s", RELABEL_NODE)


def test_alertmanager_routes_groups_inhibits_and_reads_urls_from_files():
    from components.observability.alertmanager import alertmanager_values
    from spec.slo import AlertmanagerSpec
    mount = "/etc/alertmanager/secrets/llmfleet-alertmanager-receivers"
    v = alertmanager_values(AlertmanagerSpec(True, True, "#alerts", "oncall@example.com", "smtp.example.com:587",
                                             "alertmanager@example.com"))
    cfg = v["config"]
    # Alerts of one model and stack arrive together; Watchdog (the chart's always-firing alert) goes nowhere.
    assert cfg["route"] == {"receiver": "llmfleet", "group_by": ["alertname", "stack", "model"],
                            "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}]}
    # The chart's default inhibit rules, with `model` added to the first two's `equal`.
    assert cfg["inhibit_rules"] == [
        {"source_matchers": ["severity = critical"], "target_matchers": ["severity =~ warning|info"],
         "equal": ["namespace", "alertname", "model"]},
        {"source_matchers": ["severity = warning"], "target_matchers": ["severity = info"],
         "equal": ["namespace", "alertname", "model"]},
        {"source_matchers": ["alertname = InfoInhibitor"], "target_matchers": ["severity = info"],
         "equal": ["namespace"]},
        {"target_matchers": ["alertname = InfoInhibitor"]}]
    null, ours = cfg["receivers"]
    assert null == {"name": "null"}
    # URLs are read from the mounted Secret's files (keys webhook-url, slack-url); resolved alerts are sent too.
    assert ours == {
        "name": "llmfleet",
        "webhook_configs": [{"url_file": f"{mount}/webhook-url", "send_resolved": True}],
        "slack_configs": [{"api_url_file": f"{mount}/slack-url", "send_resolved": True, "channel": "#alerts",
                           "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} "
                                    "{{ .CommonLabels.model }}",
                           "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}"}],
        "email_configs": [{"to": "oncall@example.com", "from": "alertmanager@example.com",
                           "smarthost": "smtp.example.com:587", "send_resolved": True}]}
    assert v["alertmanagerSpec"] == {"secrets": ["llmfleet-alertmanager-receivers"]}
    # E-mail only: no URL, so no Secret is mounted; no channel means the Slack app's default channel.
    email_only = alertmanager_values(AlertmanagerSpec(email="a@example.com", smtp_smarthost="s.example.com:25",
                                                      smtp_from="b@example.com"))
    assert email_only["alertmanagerSpec"] == {"secrets": []}
    assert [r["name"] for r in email_only["config"]["receivers"]] == ["null", "llmfleet"]
    assert set(email_only["config"]["receivers"][1]) == {"name", "email_configs"}
    slack_only = alertmanager_values(AlertmanagerSpec(slack=True))
    assert "channel" not in slack_only["config"]["receivers"][1]["slack_configs"][0]
    # Either URL alone is enough to mount the Secret.
    for one in (slack_only, alertmanager_values(AlertmanagerSpec(webhook=True))):
        assert one["alertmanagerSpec"] == {"secrets": ["llmfleet-alertmanager-receivers"]}
