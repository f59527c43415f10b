"""Serving-engine metric names and histogram buckets, per engine, as Prometheus stores them (facts, not code).

vLLM (engine `vllm`, vllm/vllm-openai v0.33.0): read in that wheel's vllm/v1/metrics/loggers.py (PrometheusStatLogger)
and buckets.py. Every series carries `model_name` (= --served-model-name, our model name) and `engine` (the engine
core index). Counters are registered without `_total`; the Prometheus client appends it on exposition.
No engine metric measures model load time at 0.33.0 (the only start-up series is the `vllm:cache_config_info`
info gauge), so load time comes from kube-state-metrics (pod start to Ready).

KServe (engine `kserve`): the Hugging Face runtime of KServe v0.20.0 runs vLLM 0.24.0 in-process and serves the
same Prometheus registry on its /metrics (catalog/versions.py KSERVE_VLLM_VERSION). The names below are assumed
unchanged between 0.24.0 and 0.33.0 (all of them predate 0.24 in vLLM's V1 metrics design); that release's
loggers.py was not read (unverified). `model_name` is the InferenceService name (runtime arg --model_name).

Ray Serve LLM (engine `rayserve`, ray 2.52.0): vLLM's RayPrometheusStatLogger (vllm/v1/metrics/ray_wrappers.py)
sanitises the name (`:` -> `_`, `_get_sanitized_opentelemetry_name`) and adds a `ReplicaId` tag; Ray's metrics
agent prefixes application metrics with `ray_`, and counters get `_total`. `ray_vllm_*` is therefore derived,
not observed on a running Ray 2.52 cluster (unverified; `curl <ray-pod>:8080/metrics | grep vllm` settles it).
"""
from typing import Literal

Kind = Literal["gauge", "counter", "histogram"]

# Base names (vLLM's own, as registered in v0.33.0 loggers.py) and their kinds.
VLLM_METRICS: dict[str, Kind] = {
    "vllm:e2e_request_latency_seconds": "histogram",
    "vllm:time_to_first_token_seconds": "histogram",
    "vllm:inter_token_latency_seconds": "histogram",     # replaced time_per_output_token_seconds in the V1 engine
    "vllm:request_queue_time_seconds": "histogram",
    "vllm:num_requests_running": "gauge",
    "vllm:num_requests_waiting": "gauge",
    "vllm:kv_cache_usage_perc": "gauge",                  # fraction 0..1 of KV blocks in use, despite the name
    "vllm:num_preemptions": "counter",
    "vllm:prompt_tokens": "counter",
    "vllm:generation_tokens": "counter",
    "vllm:request_success": "counter",                    # label finished_reason
}

# Default bucket upper bounds (vllm 0.33.0 v1/metrics/buckets.py REQUEST_LATENCY_BUCKETS and
# TIME_TO_FIRST_TOKEN_BUCKETS). A latency objective must be one of them: the SLI counts requests in the bucket
# `le=<objective>`, and a value between bounds would silently be rounded to the next one.
E2E_LATENCY_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0,
                       240.0, 480.0, 960.0, 1920.0, 7680.0)
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
                40.0, 80.0, 160.0, 640.0, 2560.0)

def series(engine: str, name: str, suffix: str = "") -> str:
    """The series name Prometheus stores for vLLM metric `name` under `engine`; suffix e.g. `_bucket`, `_total`."""
    if name not in VLLM_METRICS:
        raise KeyError(f"{name} is not in the checked metric list (catalog/serving_metrics.py)")
    full = name + suffix
    if engine == "rayserve":
        return "ray_" + full.replace(":", "_")
    return full


def counter(engine: str, name: str) -> str:
    assert VLLM_METRICS[name] == "counter", name
    return series(engine, name, "_total")


def le_matcher(bound: float) -> str:
    """A bucket matcher that holds whether `le` was stored as the client wrote it ("5.0", prometheus_client) or
    normalised ("5", Prometheus 3 normalises classic-histogram `le` values on ingestion)."""
    text = repr(float(bound))
    short = text[:-2] if text.endswith(".0") else text
    return f'le=~"{short}|{short}\\\\.0"' if short != text else f'le="{text}"'
