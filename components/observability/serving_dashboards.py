"""One Grafana dashboard per served model: latency percentiles, queue, KV cache, throughput per GPU and per dollar,
replicas and load time. Built with the `panel`/`dashboard` helpers of dashboards.py (the GPU dashboards' model),
so every dashboard of the program shares one datasource variable and schema version.

Series names come from catalog/serving_metrics.py (per engine); replica and load-time series from
kube-state-metrics through serving_rules.py's joins, so a dashboard and the alerts count replicas the same way.
"""
import json

from catalog.serving_metrics import counter, series
from components.observability.dashboards import dashboard, panel
from components.observability.serving_rules import (Target, load_seconds_expr, objectives, ready_replicas,
                                                    record_name)

RATE = "5m"


def _quantiles(t: Target, name: str) -> list[tuple[str, str]]:
    bucket = series(t.engine, name, "_bucket")
    return [(f"histogram_quantile({q}, sum by (le) (rate({bucket}{{{t.sel}}}[{RATE}])))", f"P{int(q * 100)}")
            for q in (0.5, 0.95, 0.99)]


def desired_replicas(t: Target) -> str:
    """What the workload is asked to run: spec.replicas, which the HPA (ours or KEDA's) writes when it scales."""
    ns, m = t.namespace, t.model.name
    if t.engine == "vllm":
        return (f'sum(kube_deployment_spec_replicas{{namespace="{ns}", deployment="{m}"}}) '
                f'or sum(kube_statefulset_replicas{{namespace="{ns}", statefulset="{m}"}})')
    if t.engine == "kserve":
        # Standard mode: Deployment <isvc>-predictor; Serverless: one Deployment per Knative revision.
        return f'sum(kube_deployment_spec_replicas{{namespace="{ns}", deployment=~"{m}-predictor.*"}})'
    # Ray Serve scales inside the RayService; KubeRay's worker group is not a workload kube-state-metrics knows.
    return f"vector({t.model.replicas.max})"


def serving_dashboard(t: Target) -> dict:
    m, eng = t.model, t.engine
    gen = counter(eng, "vllm:generation_tokens")
    prompt = counter(eng, "vllm:prompt_tokens")
    gen_rate = f"sum(rate({gen}{{{t.sel}}}[{RATE}]))"
    gpus = m.placement.tensor_parallel if m.placement else 1
    price = m.placement.price_hour if m.placement else 0.0
    replicas = ready_replicas(t)
    panels = [
        panel(1, "End-to-end latency", _quantiles(t, "vllm:e2e_request_latency_seconds"), "s", 0, 0),
        panel(2, "Time to first token", _quantiles(t, "vllm:time_to_first_token_seconds"), "s", 12, 0),
        panel(3, "Inter-token latency", _quantiles(t, "vllm:inter_token_latency_seconds"), "s", 0, 8),
        panel(4, "Requests running and waiting", [
            (f"sum({series(eng, 'vllm:num_requests_running')}{{{t.sel}}})", "running"),
            (f"sum({series(eng, 'vllm:num_requests_waiting')}{{{t.sel}}})", "waiting"),
        ], "short", 12, 8),
        panel(5, "KV cache usage", [
            (f"max by (pod) ({series(eng, 'vllm:kv_cache_usage_perc')}{{{t.sel}}})", "{{pod}}")],
              "percentunit", 0, 16, max_=1),
        panel(6, "Tokens per second", [
            (f"sum(rate({prompt}{{{t.sel}}}[{RATE}]))", "prompt"), (gen_rate, "generation")], "short", 12, 16),
        panel(7, f"Generation tokens/s per GPU ({gpus} GPU(s) per replica)", [
            (f"{gen_rate}\n/ ({replicas} * {gpus})", "per GPU")], "short", 0, 24),
        panel(8, f"Generation tokens per dollar (${price:.2f}/h per replica)", [
            (f"{gen_rate} * 3600\n/ ({replicas} * {price:.4f})", "tokens per $")], "short", 12, 24),
        panel(9, "Replicas: ready vs desired", [
            (replicas, "ready"), (desired_replicas(t), "desired"),
            (f"vector({m.replicas.min})", "min"), (f"vector({m.replicas.max})", "max")], "short", 0, 32),
        # vLLM 0.33.0 exports no model-load metric; pod start -> Ready covers download, load and graph capture.
        panel(10, f"Model load time, pod start to Ready (budget {t.startup_budget_seconds}s)", [
            (f"max by (pod) ({load_seconds_expr(t)})", "{{pod}}")], "s", 12, 32),
    ]
    slis = objectives(t)
    if slis:
        panels.append(panel(11, "SLO: share of bad requests (1h)", [
            (f'{record_name(sli, "1h")}{{model="{m.name}", stack="{t.stack}"}}', f"{sli} (budget {budget:g})")
            for sli, budget, _ in slis], "percentunit", 0, 40, w=24))
    d = dashboard(f"llmfleet-model-{m.name}", f"llmfleet / model {m.name} ({eng})", panels, variables=[])
    d["tags"] = ["llmfleet", "serving", eng]
    return d


def serving_dashboard_json(t: Target) -> str:
    return json.dumps(serving_dashboard(t), indent=2, sort_keys=True)
