"""The serving alerts, unit-tested the way `promtool test rules` does: input series -> expected alerts, firing and
not firing, on the rules the program renders (the PrometheusRule `llmfleet-serving` of a stack).

Annotations are dropped from the tested copy because promtool compares them verbatim after templating ($value);
`promtool check rules` runs on the full copy, so their templates are still checked. promtool comes from Debian's
`prometheus` package (the Makefile installs it when missing).
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components.serving.common import model_load_seconds
from tests.harness import run_stack

PROMTOOL = shutil.which("promtool")
# Outside CI a missing promtool skips (visibly); in CI (`make test` installs it) a missing promtool is a failure.
pytestmark = pytest.mark.skipif(PROMTOOL is None and os.environ.get("CI") != "true",
                                reason="promtool missing: `make test` installs it (Debian prometheus)")
NS = "llm-serving"


def serving_rules(stack: str) -> list[dict]:
    plan = run_stack(stack)
    return plan.manifest("PrometheusRule", "llmfleet-serving")["spec"]["groups"], plan


@pytest.fixture(scope="module")
def prod():
    groups, plan = serving_rules("prod")
    return groups, {m.name: m for m in plan.spec.models}


def write_rules(tmp: Path, groups: list[dict]) -> Path:
    full = tmp / "full.yaml"
    full.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    check = subprocess.run([PROMTOOL, "check", "rules", str(full)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    bare = [{**g, "rules": [{k: v for k, v in r.items() if k != "annotations"} for r in g["rules"]]} for g in groups]
    path = tmp / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": bare}, sort_keys=False))
    return path


def rule_labels(groups: list[dict], alert: str, **match) -> dict:
    found = [r["labels"] for g in groups for r in g["rules"]
             if r.get("alert") == alert and all(r["labels"].get(k) == v for k, v in match.items())]
    assert len(found) == 1, (alert, match, found)
    return found[0]


def promtool(tmp: Path, rules: Path, series: list[tuple[str, str]], alert: str, at: str, expected: list[dict]):
    test = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series],
        "alert_rule_test": [{"eval_time": at, "alertname": alert,
                             "exp_alerts": [{"exp_labels": labels} for labels in expected]}],
    }]}
    path = tmp / "test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    return subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True)


def assert_promtool(*args):
    run = promtool(*args)
    assert run.returncode == 0, run.stdout + run.stderr


def sel(model: str, **extra) -> str:
    labels = {"namespace": NS, "model_name": model, "engine": "0", **extra}
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


# --- SLO burn rates ------------------------------------------------------------------------------------------
def latency_series(model: str, good_per_min: int, le: str) -> list[tuple[str, str]]:
    return [(f"vllm:e2e_request_latency_seconds_count{sel(model)}", "0+100x400"),
            (f"vllm:e2e_request_latency_seconds_bucket{sel(model, le=le)}", f"0+{good_per_min}x400")]


def test_latency_burn_pages_and_tickets_when_most_requests_are_slow(prod, tmp_path):
    groups, _ = prod
    rules = write_rules(tmp_path, groups)
    # 90% of llama-70b's requests miss 30 s: far above 14.4 x the 5% budget (72%) on both windows.
    expected = [rule_labels(groups, "ModelLatencySLOBurn", model="llama-70b", severity=s) for s in ("critical", "warning")]
    assert_promtool(tmp_path, rules, latency_series("llama-70b", 10, "30.0"), "ModelLatencySLOBurn", "70m", expected)


def test_latency_burn_is_quiet_within_the_objective_and_reads_normalised_le(prod, tmp_path):
    groups, _ = prod
    rules = write_rules(tmp_path, groups)
    # 1% slow, and `le` as Prometheus 3 stores it ("30"): a matcher that missed this form would count 100% slow.
    assert_promtool(tmp_path, rules, latency_series("llama-70b", 99, "30"), "ModelLatencySLOBurn", "70m", [])


def test_latency_burn_waits_for_the_short_window(prod, tmp_path):
    """A slow hour that has recovered in the last minutes pages no one: the 5m window is clean again."""
    groups, _ = prod
    rules = write_rules(tmp_path, groups)
    series = [(f"vllm:e2e_request_latency_seconds_count{sel('llama-70b')}", "0+100x400"),
              (f"vllm:e2e_request_latency_seconds_bucket{sel('llama-70b', le='30.0')}", "0+10x60 610+100x20")]
    warning = rule_labels(groups, "ModelLatencySLOBurn", model="llama-70b", severity="warning")
    # At 75m: the 1h bad ratio is still ~75% but the last 5m are clean -> no page; 6h/30m still above 6x (30%)
    # and has held for its 15m -> the ticket stays.
    assert_promtool(tmp_path, rules, series, "ModelLatencySLOBurn", "75m", [warning])


def test_ttft_burn_fires_on_slow_first_tokens(prod, tmp_path):
    groups, _ = prod
    rules = write_rules(tmp_path, groups)
    series = [(f"vllm:time_to_first_token_seconds_count{sel('llama-70b')}", "0+50x200"),
              (f"vllm:time_to_first_token_seconds_bucket{sel('llama-70b', le='2.5')}", "0+5x200")]
    expected = [rule_labels(groups, "ModelTTFTSLOBurn", model="llama-70b", severity=s) for s in ("critical", "warning")]
    assert_promtool(tmp_path, rules, series, "ModelTTFTSLOBurn", "70m", expected)


def availability_series(prefix: str, model: str, ok: int, errors: int) -> list[tuple[str, str]]:
    name = f"{prefix}request_success_total"
    out = [(f"{name}{sel(model, finished_reason='stop')}", f"0+{ok}x400")]
    if errors:
        out.append((f"{name}{sel(model, finished_reason='error')}", f"0+{errors}x400"))
    return out


def test_error_budget_burn_fires_on_errors_and_not_without(prod, tmp_path):
    groups, _ = prod
    rules = write_rules(tmp_path, groups)
    expected = [rule_labels(groups, "ModelErrorBudgetBurn", model="llama-70b", severity=s) for s in ("critical", "warning")]
    # 10 errors per 110 requests = 9% against a 0.5% budget (page above 7.2%).
    assert_promtool(tmp_path, rules, availability_series("vllm:", "llama-70b", 100, 10), "ModelErrorBudgetBurn",
                    "70m", expected)
    # No error series at all (vLLM creates the `error` child only on the first error): ratio 0, no alert.
    assert_promtool(tmp_path, rules, availability_series("vllm:", "llama-70b", 100, 0), "ModelErrorBudgetBurn",
                    "70m", [])


def test_ray_serve_rules_use_the_ray_series_names(tmp_path):
    groups, _ = serving_rules("azure-prod")
    rules = write_rules(tmp_path, groups)
    expected = [rule_labels(groups, "ModelErrorBudgetBurn", model="llama-70b", severity=s) for s in ("critical", "warning")]
    assert_promtool(tmp_path, rules, availability_series("ray_vllm_", "llama-70b", 80, 20), "ModelErrorBudgetBurn",
                    "70m", expected)
    # The same traffic under vLLM's own names is not Ray's: nothing fires.
    assert_promtool(tmp_path, rules, availability_series("vllm:", "llama-70b", 80, 20), "ModelErrorBudgetBurn",
                    "70m", [])


# --- saturation ----------------------------------------------------------------------------------------------
def pod(name: str, model: str = "llama-70b", gpus: int = 4, ready: bool = True, phase: str = "Running",
        restarts: str = "0x60", oom: bool = False, start: str = "0x60") -> list[tuple[str, str]]:
    p = f'namespace="{NS}", pod="{name}"'
    out = [(f'kube_pod_labels{{{p}, label_llmfleet_io_model="{model}"}}', "1x60"),
           (f'kube_pod_status_phase{{{p}, phase="{phase}"}}', "1x60"),
           (f'kube_pod_status_ready{{{p}, condition="true"}}', ("1" if ready else "0") + "x60"),
           (f'kube_pod_status_ready{{{p}, condition="false"}}', ("0" if ready else "1") + "x60"),
           (f'kube_pod_container_status_restarts_total{{{p}, container="vllm"}}', restarts),
           (f'kube_pod_container_state_started{{{p}, container="vllm"}}', start)]
    if gpus:
        out.append((f'kube_pod_container_resource_requests{{{p}, container="vllm", resource="nvidia_com_gpu", '
                    f'unit="integer"}}', f"{gpus}x60"))
    if oom:
        out.append((f'kube_pod_container_status_last_terminated_reason{{{p}, container="vllm", '
                    f'reason="OOMKilled"}}', "1x60"))
    return out


def saturation(prod, tmp_path, alert, series, at, fires: bool, model="llama-70b"):
    groups, _ = prod
    rules = write_rules(tmp_path, groups)
    expected = [rule_labels(groups, alert, model=model)] if fires else []
    assert_promtool(tmp_path, rules, series, alert, at, expected)


def growing_queue():
    return [(f"vllm:num_requests_waiting{sel('llama-70b')}", "0+1x60")]


def test_queue_growing_at_max_replicas(prod, tmp_path):
    at_max = pod("a") + pod("b") + pod("c")            # prod's llama-70b: replicas.max 3
    saturation(prod, tmp_path, "ModelQueueGrowingAtMaxReplicas", growing_queue() + at_max, "25m", True)


def test_queue_growing_below_max_is_the_autoscalers_job(prod, tmp_path):
    # Two GPU replicas plus a pod without GPUs (it is not a replica): the autoscaler can still add one.
    below = pod("a") + pod("b") + pod("sidecar", gpus=0)
    saturation(prod, tmp_path, "ModelQueueGrowingAtMaxReplicas", growing_queue() + below, "25m", False)


def test_kv_cache_near_full(prod, tmp_path):
    full = [(f"vllm:kv_cache_usage_perc{sel('llama-70b')}", "0.97x30")]
    saturation(prod, tmp_path, "ModelKVCacheNearFull", full, "15m", True)
    busy = [(f"vllm:kv_cache_usage_perc{sel('llama-70b')}", "0.85x30")]
    saturation(prod, tmp_path, "ModelKVCacheNearFull", busy, "15m", False)


def test_gpu_pods_pending(prod, tmp_path):
    saturation(prod, tmp_path, "ModelGPUPodsPending", pod("a") + pod("b", ready=False, phase="Pending"), "20m", True)
    # A Pending pod of another model, and one of this model that needs no GPU, are not llama-70b's replicas:
    # only llama-8b's alert fires, with llama-8b's labels.
    other = pod("x", model="llama-8b", ready=False, phase="Pending") + pod("y", gpus=0, ready=False, phase="Pending")
    saturation(prod, tmp_path, "ModelGPUPodsPending", pod("a") + other, "20m", True, model="llama-8b")
    saturation(prod, tmp_path, "ModelGPUPodsPending", pod("y", gpus=0, ready=False, phase="Pending"), "20m", False)


def test_restarts(prod, tmp_path):
    saturation(prod, tmp_path, "ModelPodRestarting", pod("a", restarts="0+1x60"), "20m", True)
    saturation(prod, tmp_path, "ModelPodRestarting", pod("a", restarts="0 1 1x58"), "20m", False)


def test_oom_killed(prod, tmp_path):
    saturation(prod, tmp_path, "ModelPodOOMKilled", pod("a", oom=True, restarts="0x10 1x50"), "20m", True)
    # Killed long ago (no restart in the last 30 minutes): the last-terminated reason alone is history.
    saturation(prod, tmp_path, "ModelPodOOMKilled", pod("a", oom=True, restarts="1x60"), "40m", False)


def test_load_above_startup_budget(prod, tmp_path):
    _, models = prod
    budget = model_load_seconds(models["llama-70b"])
    at = f"{budget // 60 + 2}m"
    # kube_pod_container_state_started is a Unix time; promtool's clock starts at 0: 0 = started at the start.
    saturation(prod, tmp_path, "ModelLoadAboveStartupBudget", pod("a", ready=False), at, True)
    saturation(prod, tmp_path, "ModelLoadAboveStartupBudget", pod("a", ready=True), at, False)
    saturation(prod, tmp_path, "ModelLoadAboveStartupBudget", pod("a", ready=False),
               f"{max(budget // 60 - 2, 1)}m", False)
    # A container that restarted 5 minutes ago gets a fresh budget, however old the pod is.
    restarted = f"0x{budget // 60 - 3} {(budget // 60 - 3) * 60}x60"
    saturation(prod, tmp_path, "ModelLoadAboveStartupBudget", pod("a", ready=False, start=restarted), at, False)


def test_promtool_fails_a_wrong_expectation(prod, tmp_path):
    """Guards the harness against vacuous passes: a firing alert expected silent must make promtool fail."""
    groups, _ = prod
    rules = write_rules(tmp_path, groups)
    run = promtool(tmp_path, rules, latency_series("llama-70b", 10, "30.0"), "ModelLatencySLOBurn", "70m", [])
    assert run.returncode != 0 and "ModelLatencySLOBurn" in run.stdout + run.stderr
