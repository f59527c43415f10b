"""Exact numbers for the shipped stacks where a number is a decision, with the arithmetic written out.

A plausible edit (a factor dropped, a comparator flipped, a cap removed) changes one of these numbers and nothing
else; every rendered object stays valid, so only an exact value catches it. Numbers that sizing or pricing work is
expected to move (KV-cache tokens, cost per model) live in tests/test_numbers.py instead.
"""
import functools

import pytest

from tests.harness import changed, run_config, run_stack
from plan.stackfile import load_stack_config
from plan.runtime import ROOT
from spec.stack import project_config

plan_of = functools.lru_cache(maxsize=None)(run_stack)


def _server(stack: str, name: str) -> dict:
    found = [m for m in plan_of(stack).manifests if m["kind"] in ("Deployment", "StatefulSet")
             and m["metadata"]["name"] == name and m["metadata"].get("namespace") == "llm-serving"]
    assert len(found) == 1, found
    return found[0]


def _container(stack: str, name: str) -> dict:
    return _server(stack, name)["spec"]["template"]["spec"]["containers"][0]


# --- GPU quota of the serving namespace: every GPU the pools can reach, maxNodes x GPUs per node ----------------
@pytest.mark.parametrize("stack,gpus", [
    ("prod", 48),          # h100 p5.48xlarge 4 x 8 = 32, h200 p5en.48xlarge 2 x 8 = 16
    ("gcp-prod", 52),      # h100 a3-highgpu-8g 4 x 8 = 32, a100 a2-ultragpu-8g 2 x 8 = 16, l4 g2-standard-8 4 x 1
    ("azure-prod", 40),    # h100 ND96isr_H100_v5 4 x 8 = 32, a100 NC24ads_A100_v4 6 x 1, a100mig 2 x 1
    ("prod-karpenter", 32),  # h100 p5.48xlarge 4 x 8
    ("dev", 2),            # l40s g6e.xlarge 2 x 1
    ("edge", 1),           # one L4 workstation
])
def test_serving_gpu_quota(stack, gpus):
    quota = plan_of(stack).manifest("ResourceQuota", "llmfleet-quota", "llm-serving")
    assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] == str(gpus)


# --- CPU and memory per model server: 75% of the node's per-GPU share, capped at 16 CPUs and 128 GiB per GPU ----
@pytest.mark.parametrize("stack,model,cpu,memory", [
    # p5.48xlarge 192 vCPU / 8 = 24 x 0.75 = 18 -> cap 16; 2048 GiB / 8 = 256 x 0.75 = 192 -> cap 128; x TP 1
    ("prod", "llama-8b", "16", "128Gi"),
    # the same node, TP 4: 16 x 4 = 64 CPUs, 128 x 4 = 512 GiB
    ("prod", "llama-70b", "64", "512Gi"),
    # a3-highgpu-8g 208 / 8 = 26 x 0.75 = 19.5 -> cap 16; 1872 / 8 = 234 x 0.75 = 175.5 -> cap 128; x TP 4
    ("gcp-prod", "llama-70b", "64", "512Gi"),
    # NC24ads_A100_v4 24 vCPU / 1 x 0.75 = 18 -> cap 16; 220 GiB x 0.75 = 165 -> cap 128
    ("azure-prod", "llama-8b", "16", "128Gi"),
    # g6e.xlarge 4 vCPU x 0.75 = 3; 32 GiB x 0.75 = 24 (below the caps: the share decides)
    ("dev", "llama-8b", "3", "24Gi"),
    # existing cluster, node size unknown: 4 CPUs and 16 GiB per GPU
    ("edge", "qwen-7b", "4", "16Gi"),
])
def test_model_server_resources(stack, model, cpu, memory):
    resources = _container(stack, model)["resources"]
    tp = plan_of(stack).spec.models[[m.name for m in plan_of(stack).spec.models].index(model)].placement.tensor_parallel
    assert resources["requests"] == {"cpu": cpu, "memory": memory, "nvidia.com/gpu": str(tp)}
    # memory limit = request (a memory-backed /dev/shm is charged to it); no CPU limit (throttling stalls GPUs)
    assert resources["limits"] == {"memory": memory, "nvidia.com/gpu": str(tp)}


# --- startup budget: load = ceil((180 s + 6 s/GiB x checkpoint GiB) / 60) minutes; probe period 10 s; Pulumi waits
# image pull (900 s) + load ------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack,model,threshold,timeout", [
    # Llama 3.1 8B bf16: 8.03e9 x 2 B = 14.96 GiB; 180 + 89.7 = 269.7 s -> 5 min = 300 s -> 30 probes; 900 + 300
    ("prod", "llama-8b", 30, 1200),
    # Llama 3.1 70B bf16: 70.6e9 x 2 B = 131.5 GiB; 180 + 789.0 = 969.0 s -> 17 min = 1020 s -> 102; 900 + 1020
    ("prod", "llama-70b", 102, 1920),
    # an FP8 KV cache does not change the checkpoint that is downloaded
    ("gcp-prod", "llama-70b", 102, 1920),
    # Qwen2.5 7B bf16: 7.6e9 x 2 B = 14.16 GiB; 180 + 84.9 = 264.9 s -> 5 min -> 30; 900 + 300
    ("edge", "qwen-7b", 30, 1200),
])
def test_startup_budget(stack, model, threshold, timeout):
    c = _container(stack, model)
    assert c["startupProbe"]["periodSeconds"] == 10
    assert c["startupProbe"]["failureThreshold"] == threshold
    # readiness and liveness start after the startup probe: 3 x 10 s to leave the Service, 4 x 15 s to restart
    assert (c["readinessProbe"]["periodSeconds"], c["readinessProbe"]["failureThreshold"]) == (10, 3)
    assert (c["livenessProbe"]["periodSeconds"], c["livenessProbe"]["failureThreshold"]) == (15, 4)
    annotations = _server(stack, model)["metadata"]["annotations"]
    assert annotations["pulumi.com/timeoutSeconds"] == str(timeout)


# --- rollout: surge one replica only when the pools can hold replicas.max + 1 replicas --------------------------
def _dev_raw() -> dict:
    _, config, _ = load_stack_config(ROOT, "dev")
    raw = project_config(config)
    raw.pop("hfToken")
    return raw


@pytest.mark.parametrize("max_nodes,max_replicas,strategy", [
    (3, 2, {"maxSurge": 1, "maxUnavailable": 0}),   # 3 nodes x 1 GPU >= (2 + 1) x TP 1: room for the surge pod
    (2, 2, {"maxSurge": 0, "maxUnavailable": 1}),   # 2 < 3: a surge pod would wait forever; replace in place
    (4, 3, {"maxSurge": 1, "maxUnavailable": 0}),   # 4 >= (3 + 1) x 1, exactly
    (3, 3, {"maxSurge": 0, "maxUnavailable": 1}),   # 3 < 4
])
def test_surge_only_when_the_pool_has_room(max_nodes, max_replicas, strategy):
    raw = changed(_dev_raw(), gpuPools__0__capacity=["on-demand"], gpuPools__0__maxNodes=max_nodes,
                  models__0__replicas={"min": 1, "max": max_replicas})
    d = run_config(raw, stack="dev", secrets={"hfToken": "hf_test"}).manifest("Deployment", "llama-8b", "llm-serving")
    assert d["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": strategy}


@pytest.mark.parametrize("stack,model,surge", [
    ("prod-karpenter", "llama-70b", 1),   # 4 nodes x 8 = 32 >= (4 + 1) x TP 4 = 20
    ("gcp-prod", "llama-70b", 1),         # h100 4 x 8 = 32 >= (1 + 1) x 4 = 8
    ("dev", "llama-8b", 1),               # l40s spot + on-demand groups, 2 x 1 each = 4 >= (2 + 1) x 1
])
def test_shipped_rollouts(stack, model, surge):
    strategy = _server(stack, model)["spec"]["strategy"]["rollingUpdate"]
    assert strategy == {"maxSurge": surge, "maxUnavailable": 1 - surge}


# --- alerts: threshold, comparator and duration ---------------------------------------------------------------
def _alerts(stack: str) -> dict:
    rules = {}
    for m in plan_of(stack).manifests:
        if m["kind"] == "PrometheusRule":
            for g in m["spec"]["groups"]:
                for r in g["rules"]:
                    if "alert" in r:          # recording rules (serving SLOs) have `record` instead
                        rules.setdefault(r["alert"], []).append(r)
    return rules


def test_gpu_alerts_thresholds_and_comparators():
    rules = _alerts("prod")
    (xid,) = rules["GPUXidError"]
    assert xid["expr"].endswith("(DCGM_FI_DEV_XID_ERRORS) > 0") and xid["for"] == "0m"   # any XID, at once
    (mem,) = rules["GPUMemoryNearFull"]
    # vLLM preallocates ~90-92% of GPU memory: only above 97% used, for 10 minutes
    assert mem["expr"].startswith("100 * max by (Hostname, gpu) (DCGM_FI_DEV_FB_USED) / ")
    assert mem["expr"].endswith("> 97") and mem["for"] == "10m"
    (temp,) = rules["GPUTemperatureHigh"]
    assert temp["expr"] == "max by (Hostname, gpu) (DCGM_FI_DEV_GPU_TEMP) > 85" and temp["for"] == "10m"
    (idle,) = rules["GPUsIdleWhileGPUPodsPending"]
    # a GPU idle below 5% utilisation over 15 minutes while GPU pods are Pending
    assert idle["expr"].endswith("(count(max_over_time(DCGM_FI_DEV_GPU_UTIL[15m]) < 5) > 0)")
    assert idle["for"] == "15m"
    # prod: two pools (one rule each, whatever their capacity groups), 8 GPUs per p5 / p5en node must all be
    # allocatable
    missing = rules["GPUsMissingFromAllocatable"]
    assert sorted(r["labels"]["pool"] for r in missing) == ["h100", "h200"]
    for r in missing:
        assert 'kube_node_status_allocatable{resource="nvidia_com_gpu"}) >= 8' in r["expr"] and r["for"] == "15m"
