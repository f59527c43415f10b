"""Grafana dashboards for the GPU fleet, built as Python data and serialised to JSON (Grafana's dashboard model:
panels of type timeseries/stat with Prometheus targets; the datasource is the sidecar-provisioned default, picked
through the `datasource` template variable so the dashboards work whatever the datasource's uid is)."""
import json

_DS = {"type": "prometheus", "uid": "${datasource}"}


def panel(pid: int, title: str, exprs: list[tuple[str, str]], unit: str, x: int, y: int, kind: str = "timeseries",
           w: int = 12, h: int = 8, max_: float = None) -> dict:
    defaults: dict = {"unit": unit}
    if max_ is not None:
        defaults["max"], defaults["min"] = max_, 0
    return {
        "id": pid, "type": kind, "title": title, "datasource": _DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom"}} if kind == "timeseries" else {},
        "targets": [{"refId": chr(ord("A") + i), "datasource": _DS, "expr": e, "legendFormat": legend}
                    for i, (e, legend) in enumerate(exprs)],
    }


_NODE_VARIABLE = {"name": "node", "type": "query", "datasource": _DS, "label": "Node", "includeAll": True,
                  "multi": True, "query": "label_values(DCGM_FI_DEV_GPU_UTIL, Hostname)", "refresh": 2,
                  "current": {"text": "All", "value": "$__all"}}


def dashboard(uid: str, title: str, panels: list[dict], variables: list = None) -> dict:
    """A dashboard with a datasource picker and `variables` (default: the GPU node picker)."""
    return {
        "uid": uid, "title": title, "tags": ["llmfleet", "gpu"], "timezone": "utc", "editable": False,
        "schemaVersion": 39, "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
            *([_NODE_VARIABLE] if variables is None else variables),
        ]},
        "panels": panels,
    }


_SEL = 'Hostname=~"$node"'


def gpu_usage() -> dict:
    return dashboard("llmfleet-gpu-usage", "llmfleet / GPU utilisation and memory", [
        panel(1, "GPU utilisation", [(f"DCGM_FI_DEV_GPU_UTIL{{{_SEL}}}", "{{Hostname}} gpu {{gpu}}")],
               "percent", 0, 0, max_=100),
        # SM active is the better "is the GPU really busy" signal: GPU_UTIL counts any kernel running at all.
        panel(2, "SM active", [(f"DCGM_FI_PROF_SM_ACTIVE{{{_SEL}}}", "{{Hostname}} gpu {{gpu}}")],
               "percentunit", 12, 0, max_=1),
        panel(3, "GPU memory used", [(f"DCGM_FI_DEV_FB_USED{{{_SEL}}} * 1024 * 1024", "{{Hostname}} gpu {{gpu}}")],
               "bytes", 0, 8),
        panel(4, "GPU memory used %", [(
            f"100 * DCGM_FI_DEV_FB_USED{{{_SEL}}} / (DCGM_FI_DEV_FB_USED{{{_SEL}}} + DCGM_FI_DEV_FB_FREE{{{_SEL}}})",
            "{{Hostname}} gpu {{gpu}}")], "percent", 12, 8, max_=100),
        panel(5, "Tensor pipe active", [(f"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{{{_SEL}}}", "{{Hostname}} gpu {{gpu}}")],
               "percentunit", 0, 16, max_=1),
        panel(6, "GPUs allocatable vs requested", [
            ('sum(kube_node_status_allocatable{resource=~"nvidia_com_gpu|nvidia_com_mig_.*"})', "allocatable"),
            ('sum(kube_pod_container_resource_requests{resource=~"nvidia_com_gpu|nvidia_com_mig_.*"})', "requested"),
        ], "short", 12, 16),
    ])


def gpu_health() -> dict:
    return dashboard("llmfleet-gpu-health", "llmfleet / GPU temperature, power and errors", [
        panel(1, "GPU temperature", [(f"DCGM_FI_DEV_GPU_TEMP{{{_SEL}}}", "{{Hostname}} gpu {{gpu}}")],
               "celsius", 0, 0),
        panel(2, "Memory temperature", [(f"DCGM_FI_DEV_MEMORY_TEMP{{{_SEL}}}", "{{Hostname}} gpu {{gpu}}")],
               "celsius", 12, 0),
        panel(3, "Power draw", [(f"DCGM_FI_DEV_POWER_USAGE{{{_SEL}}}", "{{Hostname}} gpu {{gpu}}")],
               "watt", 0, 8),
        panel(4, "Last XID error (0 = none)", [(f"DCGM_FI_DEV_XID_ERRORS{{{_SEL}}}", "{{Hostname}} gpu {{gpu}}")],
               "none", 12, 8),
        panel(5, "GPUs with an XID error", [(f"count(DCGM_FI_DEV_XID_ERRORS{{{_SEL}}} > 0) or vector(0)", "GPUs")],
               "none", 0, 16, kind="stat", w=6),
        panel(6, "Uncorrectable remapped rows", [(
            f"DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS{{{_SEL}}}", "{{Hostname}} gpu {{gpu}}")], "none", 6, 16, w=18),
    ])


DASHBOARDS = {"gpu-usage": gpu_usage, "gpu-health": gpu_health}


def dashboard_json(key: str) -> str:
    return json.dumps(DASHBOARDS[key](), indent=2, sort_keys=True)
