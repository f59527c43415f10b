"""Serving SLO and saturation rules, per model, as PrometheusRule groups (plain data).

SLOs follow the multi-window, multi-burn-rate scheme of the SRE workbook ("Alerting on SLOs", table 5-8 style):
page when the error budget burns 14.4x too fast over 1h and 5m (2% of a 30-day budget in an hour), open a ticket
at 6x over 6h and 30m. The short window makes the alert stop soon after the burn stops.

Engine series names come from catalog/serving_metrics.py; pod state from kube-state-metrics, joined to the model
through `kube_pod_labels{label_llmfleet_io_model=...}` (components/observability/values.py allowlists that label).
Only GPU pods count as replicas (Ray's head pod and KServe's storage initializer run no engine).
"""
from dataclasses import dataclass
from typing import Sequence

from catalog.serving_metrics import counter, le_matcher, series
from components.observability.rules import GPU_RESOURCES_RE
from spec.models import ModelSpec

# (long window, short window, burn-rate factor, severity, `for`)
BURN_WINDOWS = (("1h", "5m", 14.4, "critical", "2m"), ("6h", "30m", 6.0, "warning", "15m"))
SLI_WINDOWS = ("5m", "30m", "1h", "6h")
LATENCY_QUANTILE = 0.95            # "p95LatencySeconds": 95% of requests within the bound -> 5% budget
KV_CACHE_FULL = 0.95               # vllm:kv_cache_usage_perc is a 0..1 fraction
RESTARTS_IN_30M = 3
RUNBOOK = "docs/observability.md#"


@dataclass(frozen=True)
class Target:
    model: ModelSpec
    namespace: str                 # the serving namespace (vLLM series carry the scrape target's namespace)
    stack: str
    startup_budget_seconds: int    # the model's load estimate (components/serving/common.py model_load_seconds)

    @property
    def engine(self) -> str:
        return self.model.engine

    @property
    def sel(self) -> str:
        return f'namespace="{self.namespace}", model_name="{self.model.name}"'

    def labels(self, severity: str) -> dict:
        return {"severity": severity, "model": self.model.name, "stack": self.stack, "engine": self.engine,
                "namespace": self.namespace}


# --- kube-state-metrics building blocks ------------------------------------------------------------------------
def model_pods(t: Target) -> str:
    return (f'max by (namespace, pod) (kube_pod_labels{{namespace="{t.namespace}", '
            f'label_llmfleet_io_model="{t.model.name}"}})')


def gpu_pods(t: Target) -> str:
    """The model's pods that request a GPU: one per replica for every engine (TP shards run in one pod)."""
    return (f"({model_pods(t)}\n  and on (namespace, pod)\n  (sum by (namespace, pod) "
            f'(kube_pod_container_resource_requests{{namespace="{t.namespace}", resource=~"{GPU_RESOURCES_RE}"}}) > 0))')


def ready_replicas(t: Target) -> str:
    return (f'(count((kube_pod_status_ready{{namespace="{t.namespace}", condition="true"}} == 1)\n'
            f"  and on (namespace, pod) {gpu_pods(t)}) or vector(0))")


def pending_replicas(t: Target) -> str:
    return (f'count((kube_pod_status_phase{{namespace="{t.namespace}", phase="Pending"}} == 1)\n'
            f"  and on (namespace, pod) {gpu_pods(t)})")


def load_seconds_expr(t: Target) -> str:
    """Seconds from pod start to Ready of each ready GPU pod of the model (kube-state-metrics)."""
    return (f'(kube_pod_status_ready_time{{namespace="{t.namespace}"}} - on (namespace, pod) '
            f'kube_pod_start_time{{namespace="{t.namespace}"}})\n  and on (namespace, pod) {gpu_pods(t)}')


# --- SLIs ------------------------------------------------------------------------------------------------------
def record_name(sli: str, window: str) -> str:
    return f"llmfleet:slo_{sli}_errors:ratio_rate{window}"


def sli_expr(t: Target, sli: str, window: str) -> str:
    """Fraction of bad requests over `window`: slower than the objective, or finished with an error."""
    slo = t.model.slo
    if sli in ("latency", "ttft"):
        name = "vllm:e2e_request_latency_seconds" if sli == "latency" else "vllm:time_to_first_token_seconds"
        bound = slo.p95_latency_seconds if sli == "latency" else slo.ttft_seconds
        good = f"sum(rate({series(t.engine, name, '_bucket')}{{{t.sel}, {le_matcher(bound)}}}[{window}]))"
        total = f"sum(rate({series(t.engine, name, '_count')}{{{t.sel}}}[{window}]))"
        return f"1 - ({good} / {total})"
    requests = counter(t.engine, "vllm:request_success")
    return (f'(sum(rate({requests}{{{t.sel}, finished_reason="error"}}[{window}])) or vector(0))\n'
            f"/ sum(rate({requests}{{{t.sel}}}[{window}]))")


def objectives(t: Target) -> list[tuple[str, float, str]]:
    """(sli, error budget, what) for each objective the model sets."""
    slo = t.model.slo
    out = []
    if slo is None:
        return out
    if slo.p95_latency_seconds is not None:
        out.append(("latency", 1 - LATENCY_QUANTILE, f"P95 end-to-end latency within {slo.p95_latency_seconds:g}s"))
    if slo.ttft_seconds is not None:
        out.append(("ttft", 1 - LATENCY_QUANTILE, f"P95 time to first token within {slo.ttft_seconds:g}s"))
    if slo.availability is not None:
        out.append(("availability", round(1 - slo.availability, 6), f"{slo.availability:.4g} of requests without error"))
    return out


ALERT_NAMES = {"latency": "ModelLatencySLOBurn", "ttft": "ModelTTFTSLOBurn", "availability": "ModelErrorBudgetBurn"}


def slo_group(t: Target) -> dict:
    rules: list[dict] = []
    m = t.model.name
    for sli, budget, what in objectives(t):
        for w in SLI_WINDOWS:
            rules.append({"record": record_name(sli, w), "expr": sli_expr(t, sli, w),
                          "labels": {"model": m, "stack": t.stack}})
        for long_w, short_w, factor, severity, for_ in BURN_WINDOWS:
            threshold = round(factor * budget, 6)
            sel = f'{{model="{m}", stack="{t.stack}"}}'
            rules.append({
                "alert": ALERT_NAMES[sli],
                "expr": (f"{record_name(sli, long_w)}{sel} > {threshold:g}\n"
                         f"and\n{record_name(sli, short_w)}{sel} > {threshold:g}"),
                "for": for_,
                "labels": {**t.labels(severity), "slo": sli, "long_window": long_w},
                "annotations": {
                    "summary": (f"{m}: the error budget of '{what}' burns {factor:g}x too fast "
                                f"({long_w} and {short_w} windows)"),
                    "description": (f"{{{{ $value | humanizePercentage }}}} of requests missed the objective over "
                                    f"{short_w} (budget {budget:g}). At this rate a 30-day budget is gone in "
                                    f"{30 / factor:.1f} days."),
                    "runbook": RUNBOOK + ALERT_NAMES[sli].lower(),
                },
            })
    return {"name": f"llmfleet-slo-{m}", "rules": rules}


def saturation_group(t: Target) -> dict:
    m, ns, eng = t.model.name, t.namespace, t.engine
    waiting = f"sum({series(eng, 'vllm:num_requests_waiting')}{{{t.sel}}})"
    kv = f"max({series(eng, 'vllm:kv_cache_usage_perc')}{{{t.sel}}})"
    restarts = (f'sum(increase(kube_pod_container_status_restarts_total{{namespace="{ns}"}}[30m])\n'
                f"  and on (namespace, pod) {gpu_pods(t)})")
    oom = (f'max(kube_pod_container_status_last_terminated_reason{{namespace="{ns}", reason="OOMKilled"}}\n'
           f"  and on (namespace, pod) {gpu_pods(t)})")
    # Since the newest container start, not the pod's: a crashed engine reloads the weights after each restart.
    not_ready_since_start = (
        f'max((time() - max by (namespace, pod) (kube_pod_container_state_started{{namespace="{ns}"}}))'
        f' > {t.startup_budget_seconds}\n'
        f'  and on (namespace, pod) (kube_pod_status_ready{{namespace="{ns}", condition="false"}} == 1)\n'
        f"  and on (namespace, pod) {gpu_pods(t)})")

    def alert(name: str, expr: str, for_: str, severity: str, summary: str, description: str) -> dict:
        return {"alert": name, "expr": expr, "for": for_, "labels": t.labels(severity),
                "annotations": {"summary": summary, "description": description, "runbook": RUNBOOK + name.lower()}}

    return {"name": f"llmfleet-saturation-{m}", "rules": [
        alert("ModelQueueGrowingAtMaxReplicas",
              (f"({waiting} > 0)\nand on () (deriv({waiting}[10m:1m]) > 0)\n"
               f"and on () ({ready_replicas(t)} >= {t.model.replicas.max})"),
              "10m", "warning",
              f"{m}: requests queue up and keep growing while all {t.model.replicas.max} replicas run",
              "The autoscaler cannot add replicas (replicas.max reached): latency grows with the queue. Raise "
              "replicas.max (and the pool's maxNodes), or shed load."),
        alert("ModelKVCacheNearFull", f"{kv} > {KV_CACHE_FULL:g}", "10m", "warning",
              f"{m}: KV cache {{{{ $value | humanizePercentage }}}} full",
              "With the KV cache full vLLM preempts running requests and recomputes them later "
              "(vllm:num_preemptions rises): throughput drops and latency spikes."),
        alert("ModelGPUPodsPending", f"{pending_replicas(t)} > 0", "15m", "critical",
              f"{m}: {{{{ $value }}}} GPU replica(s) Pending: running below the desired replica count",
              "The scheduler finds no node with a free GPU that the pod may use, and the node autoscaler did not "
              "add one (pool at maxNodes, cloud quota or capacity, or a selector/taint mismatch)."),
        alert("ModelPodRestarting", f"{restarts} >= {RESTARTS_IN_30M}", "0m", "warning",
              f"{m}: model containers restarted {{{{ $value }}}} times in 30 minutes",
              "A crash loop: every restart reloads the weights. Check the previous container's log."),
        alert("ModelPodOOMKilled", f"({oom} == 1)\nand on () ({restarts} > 0)", "0m", "critical",
              f"{m}: a model container was OOM-killed and restarted",
              "The container exceeded its memory limit (host RAM, not GPU memory): CPU offload, a large "
              "tokenizer/processor pool or too small a limit for the model's loading."),
        alert("ModelLoadAboveStartupBudget", f"{not_ready_since_start} > 0", "0m", "warning",
              f"{m}: a replica started {{{{ $value | humanizeDuration }}}} ago and is not Ready (budget "
              f"{t.startup_budget_seconds}s)",
              "Model load takes longer than the startup budget the probes allow: slow weight download, "
              "a cold cache or a stuck engine start."),
    ]}


def serving_rule_groups(targets: Sequence[Target]) -> list[dict]:
    groups = []
    for t in targets:
        if t.model.slo is not None:
            groups.append(slo_group(t))
        groups.append(saturation_group(t))
    return groups
