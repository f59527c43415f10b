"""The GPU fleet's alerts (PrometheusRule `llmfleet-gpu`) and the idle-model cost alert (`llmfleet-cost`), tested
the way `promtool test rules` does: series that fire each alert and series that do not, on dev's rendered rules."""
import pytest

from tests.harness import run_stack
from tests.test_serving_alerts_promtool import PROMTOOL, assert_promtool, pytestmark, promtool, write_rules  # noqa: F401

GPU = '{Hostname="n1", gpu="0", UUID="GPU-1", modelName="NVIDIA L40S"}'


@pytest.fixture(scope="module")
def dev():
    plan = run_stack("dev")
    return [g for name in ("llmfleet-gpu", "llmfleet-cost") for g in plan.manifest("PrometheusRule", name)["spec"]["groups"]]


def test_one_missing_gpu_rule_per_pool(dev):
    names = [r["labels"].get("pool") for g in dev for r in g["rules"] if r.get("alert") == "GPUsMissingFromAllocatable"]
    assert names == ["l40s"]      # dev's l40s pool has two capacity groups and one selector


def test_xid_error_fires_at_once(dev, tmp_path):
    rules = write_rules(tmp_path, dev)
    labels = {"severity": "critical", "Hostname": "n1", "gpu": "0", "UUID": "GPU-1", "modelName": "NVIDIA L40S"}
    assert_promtool(tmp_path, rules, [(f"DCGM_FI_DEV_XID_ERRORS{GPU}", "0 0 48 48")], "GPUXidError", "3m", [labels])
    assert_promtool(tmp_path, rules, [(f"DCGM_FI_DEV_XID_ERRORS{GPU}", "0x5")], "GPUXidError", "3m", [])


def test_temperature_and_memory_fire_after_ten_minutes(dev, tmp_path):
    rules = write_rules(tmp_path, dev)
    hot = [(f"DCGM_FI_DEV_GPU_TEMP{GPU}", "90x20")]
    labels = {"severity": "warning", "Hostname": "n1", "gpu": "0"}
    assert_promtool(tmp_path, rules, hot, "GPUTemperatureHigh", "15m", [labels])
    assert_promtool(tmp_path, rules, hot, "GPUTemperatureHigh", "5m", [])            # not yet for 10 minutes
    assert_promtool(tmp_path, rules, [(f"DCGM_FI_DEV_GPU_TEMP{GPU}", "80x20")], "GPUTemperatureHigh", "15m", [])
    # 98% used > 97: fires; vLLM's usual ~92% does not.
    full = [(f"DCGM_FI_DEV_FB_USED{GPU}", "98x20"), (f"DCGM_FI_DEV_FB_FREE{GPU}", "2x20")]
    assert_promtool(tmp_path, rules, full, "GPUMemoryNearFull", "15m", [labels])
    usual = [(f"DCGM_FI_DEV_FB_USED{GPU}", "92x20"), (f"DCGM_FI_DEV_FB_FREE{GPU}", "8x20")]
    assert_promtool(tmp_path, rules, usual, "GPUMemoryNearFull", "15m", [])


def test_a_node_missing_its_gpus_fires_per_pool(dev, tmp_path):
    rules = write_rules(tmp_path, dev)
    node = '{node="ip-10-20-1-5", label_llmfleet_io_pool="l40s"}'
    missing = [(f"kube_node_labels{node}", "1x30"),
               ('kube_node_status_allocatable{node="ip-10-20-1-5", resource="nvidia_com_gpu"}', "0x30")]
    expected = [{"severity": "critical", "pool": "l40s", "node": "ip-10-20-1-5"}]
    assert_promtool(tmp_path, rules, missing, "GPUsMissingFromAllocatable", "20m", expected)
    present = [missing[0], ('kube_node_status_allocatable{node="ip-10-20-1-5", resource="nvidia_com_gpu"}', "1x30")]
    assert_promtool(tmp_path, rules, present, "GPUsMissingFromAllocatable", "20m", [])


def test_idle_model_fires_after_its_window_and_not_when_busy(dev, tmp_path):
    rules = write_rules(tmp_path, dev)
    pod = '{namespace="llm-serving", pod="llama-8b-7f9c", Hostname="n1", gpu="0"}'
    expected = [{"severity": "warning", "model": "llama-8b"}]
    # Under 5% for the 120-minute window, then 5 minutes more ("for").
    assert_promtool(tmp_path, rules, [(f"DCGM_FI_DEV_GPU_UTIL{pod}", "1x200")], "ModelGPUsIdle", "130m", expected)
    assert_promtool(tmp_path, rules, [(f"DCGM_FI_DEV_GPU_UTIL{pod}", "60x200")], "ModelGPUsIdle", "130m", [])
    # One busy minute inside the window keeps it quiet.
    assert_promtool(tmp_path, rules, [(f"DCGM_FI_DEV_GPU_UTIL{pod}", "1x100 90 1x99")], "ModelGPUsIdle", "130m", [])


def test_the_promtool_harness_fails_a_wrong_expectation(dev, tmp_path):
    rules = write_rules(tmp_path, dev)
    run = promtool(tmp_path, rules, [(f"DCGM_FI_DEV_XID_ERRORS{GPU}", "0x5")], "GPUXidError", "3m",
                   [{"severity": "critical", "Hostname": "n1"}])
    assert run.returncode != 0


def test_idle_gpus_while_gpu_pods_pend(dev, tmp_path):
    rules = write_rules(tmp_path, dev)
    pending = [('kube_pod_status_phase{namespace="llm-serving", pod="llama-8b-x", phase="Pending"}', "1x60"),
               ('kube_pod_container_resource_requests{namespace="llm-serving", pod="llama-8b-x", '
                'resource="nvidia_com_gpu"}', "1x60")]
    idle = [(f"DCGM_FI_DEV_GPU_UTIL{GPU}", "0x60")]
    assert_promtool(tmp_path, rules, pending + idle, "GPUsIdleWhileGPUPodsPending", "40m", [{"severity": "warning"}])
    busy = [(f"DCGM_FI_DEV_GPU_UTIL{GPU}", "80x60")]
    assert_promtool(tmp_path, rules, pending + busy, "GPUsIdleWhileGPUPodsPending", "40m", [])
    running = [('kube_pod_status_phase{namespace="llm-serving", pod="llama-8b-x", phase="Pending"}', "0x60"),
               pending[1]]
    assert_promtool(tmp_path, rules, running + idle, "GPUsIdleWhileGPUPodsPending", "40m", [])
