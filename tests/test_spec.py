"""Stack config validation: every problem is one line naming the key, all reported together, before any resource."""
import pytest

from spec.reader import ConfigError
from spec.stack import load

KUBE = {"kubeconfig"}


def pool(**kw):
    return {"name": "h100", "gpu": "h100-80gb", **kw}


def edge(**kw):
    """A valid existing-cluster config; keyword args replace top-level keys."""
    cfg = {"cloud": "existing", "kubeconfig": "k",
           "gpuPools": [{"name": "e", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"gpu": "l4"}}]}
    cfg.update(kw)
    return cfg


def errors(cfg, secrets=KUBE):
    with pytest.raises(ConfigError) as e:
        load(cfg, set(secrets), "t")
    return e.value.lines


CASES = [
    ({"cloud": "aws", "gpuPools": [pool()], "modles": []},
     ["llmfleet:modles: unknown key (did you mean 'models'?); allowed: budget, cloud, cluster, costGuards, costTags, environment, gateway, gpuPools, "
      "hfToken, images, kubeconfig, models, nvidia, observability, platform, prices, rag, routing, security, serving"]),
    ({"cloud": "ibm", "gpuPools": [pool()]},
     ["llmfleet:cloud: must be one of aws, azure, existing, gcp, got 'ibm'"]),
    ({"cloud": "aws", "gpuPools": [pool(), pool(name="b", minNodes=2, maxNodes=1)]},
     ["llmfleet:gpuPools[1].maxNodes: must be >= minNodes (2), got 1"]),
    ({"cloud": "aws", "gpuPools": [pool(gpu="t4-16gb")]},
     ["llmfleet:gpuPools[0].gpu: t4-16gb is not offered on aws by any known type; aws GPUs: a100-40gb, a100-80gb, "
      "a10g-24gb, h100-80gb, h200-141gb, l4-24gb, l40s-48gb"]),
    ({"cloud": "aws", "gpuPools": [{"name": "x", "instanceType": "p5.48xlarge", "gpusPerNode": 4}]},
     ["llmfleet:gpuPools[0].gpusPerNode: p5.48xlarge has 8 GPU(s), got 4"]),
    ({"cloud": "aws", "gpuPools": [pool(image="al2-gpu")]},
     ["llmfleet:gpuPools[0].image: 'al2-gpu' is end-of-life (AL2 GPU AMIs stopped being published 2025-11-26); "
      "use one of al2023-nvidia, bottlerocket-nvidia"]),
    ({"cloud": "aws", "gpuPools": [pool(sharing={"mode": "mig", "migProfile": "1g.5gb"})]},
     ["llmfleet:gpuPools[0].sharing.migProfile: H100 80GB HBM3 supports 1g.10gb, 1g.10gb+me, 1g.20gb, 2g.20gb, "
      "3g.40gb, 4g.40gb, 7g.80gb, got '1g.5gb'"]),
    (edge(gpuPools=[{"name": "e", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"a": "b"},
                     "sharing": {"mode": "mig", "migProfile": "1g.5gb"}}]),
     ["llmfleet:gpuPools[0].sharing.mode: L4 24GB does not support MIG; use time-slicing or none"]),
    ({"cloud": "aws", "gpuPools": [pool(sharing={"mode": "time-slicing", "replicas": 1})]},
     ["llmfleet:gpuPools[0].sharing.replicas: must be >= 2 for time-slicing, got 1"]),
    (edge(models=[{"name": "a", "model": "qwen2.5-7", "maxContext": 4096}]),
     ["llmfleet:models[0].model: must be one of llama-2-7b, llama-3.1-405b, llama-3.1-70b, llama-3.1-8b, "
      "mistral-7b-instruct-v0.2, mixtral-8x7b, phi-3-medium, qwen2.5-72b, qwen2.5-7b, got 'qwen2.5-7' (did you mean "
      "'qwen2.5-7b'?)"]),
    (edge(models=[{"name": "a", "model": "qwen2.5-7b", "maxContext": 65536}]),
     ["llmfleet:models[0].maxContext: must be <= the model's context length (32768), got 65536"]),
    ({"cloud": "aws", "gpuPools": [pool()], "models": [{"name": "a", "model": "qwen2.5-7b", "tensorParallel": 8}]},
     ["llmfleet:models[0].tensorParallel: 8 is not a size vLLM accepts for qwen2.5-7b: 28 attention heads do not "
      "split into 8"]),
    (edge(models=[{"name": "big", "model": "qwen2.5-72b", "maxContext": 8192}]),
     ["llmfleet:models[0]: big (qwen2.5-72b, bf16) fits no allowed pool for 8192 tokens x 8 sequences "
      "(weights 138.1 GiB): pool 'e' (1x L4 24GB): needs 167.3 GiB on 1 GPU(s) (weights 138.1 + overhead 9.2 + KV "
      "for 65536 tokens), has 20.0 GiB at utilization 0.9"]),
    ({"cloud": "aws", "gpuPools": [pool(capacity=["spot"])],
      "models": [{"name": "a", "model": "qwen2.5-7b", "pools": ["h100"], "priority": "critical"}]},
     ["llmfleet:models[0].priority: critical keeps a model off spot-only pools (it must not be evicted), but its "
      "pools list spot-only pool(s) h100: add on-demand to their capacity, remove them from pools, or use priority "
      "standard"]),
    ({"cloud": "aws", "gpuPools": [pool()], "models": [{"name": "a", "model": "qwen2.5-7b", "pools": ["h200"]}]},
     ["llmfleet:models[0].pools: unknown pool 'h200'; pools: h100"]),
    ({"cloud": "aws", "gpuPools": [pool(), pool()]},
     ["llmfleet:gpuPools[1].name: duplicate pool name 'h100'"]),
    ({"cloud": "aws", "gpuPools": [pool(maxNodes="two")]},
     ["llmfleet:gpuPools[0].maxNodes: must be a whole number between 0 and 1000, got 'two'"]),
    ({"cloud": "aws", "gpuPools": [pool(name="H100_pool")]},
     ["llmfleet:gpuPools[0].name: must be a DNS label (lowercase letters, digits and '-', at most 63, starting and "
      "ending alphanumeric), got 'H100_pool'"]),
    (edge(cluster={"kubernetesVersion": "1.29"}),
     ["llmfleet:cluster.kubernetesVersion: must be one of 1.31, 1.32, 1.33, 1.34, 1.35, got '1.29'"]),
]


@pytest.mark.parametrize("cfg,expected", CASES, ids=[c[1][0].split(":")[1][:40] for c in CASES])
def test_bad_config_gives_exact_lines(cfg, expected):
    assert errors(cfg) == expected


def test_plain_text_kubeconfig_is_refused():
    assert errors(edge(), secrets=set()) == [
        "llmfleet:kubeconfig: holds a credential: set it with `pulumi config set --secret llmfleet:kubeconfig`"]


def test_existing_cluster_needs_kubeconfig_and_node_labels():
    cfg = edge(gpuPools=[{"name": "e", "gpu": "l4-24gb", "gpusPerNode": 1}])
    del cfg["kubeconfig"]
    assert errors(cfg) == [
        "llmfleet:gpuPools[0].labels: is required on an existing cluster: the labels its GPU nodes already carry, "
        "to select them",
        'llmfleet:kubeconfig: is required when cloud is existing: set it with `pulumi config set --secret llmfleet:kubeconfig -- "$(cat kubeconfig.yaml)"`']


def test_every_problem_is_reported_at_once():
    cfg = {"cloud": "aws", "gpuPools": [pool(minNodes=5, maxNodes=1, diskSizeGb=10, colour="red")],
           "models": [{"name": "m", "model": "qwen2.5-7b", "concurrency": 0}], "platfrom": {}}
    lines = errors(cfg)
    assert lines == [
        "llmfleet:gpuPools[0].maxNodes: must be >= minNodes (5), got 1",
        "llmfleet:gpuPools[0].diskSizeGb: must be >= 100, got 10",
        "llmfleet:gpuPools[0].colour: unknown key; allowed: " + lines[2].split("allowed: ")[1],
        "llmfleet:models[0].concurrency: must be >= 1, got 0",
        "llmfleet:platfrom: unknown key (did you mean 'platform'?); allowed: " + lines[4].split("allowed: ")[1],
    ]


def test_valid_config_produces_a_typed_spec_with_placements():
    spec = load(edge(models=[{"name": "q", "model": "qwen2.5-7b", "maxContext": 4096, "concurrency": 4}]), KUBE, "t")
    assert spec.cloud == "existing" and spec.cluster.name == "llm-t"
    (m,) = spec.models
    assert (m.placement.pool, m.placement.tensor_parallel) == ("e", 1)
    assert m.placement.kv_tokens >= 4096 * 4
    assert repr(spec.secrets["kubeconfig"]) == "SecretRef(llmfleet:kubeconfig=[secret])"


def test_platform_namespaces_default_and_override():
    # A valid override next to a forbidden one: only the forbidden one is reported, at its own index.
    lines = errors(edge(platform={"namespaces": [{"name": "llm-serving", "podSecurity": "restricted",
                                                  "quota": {"gpus": 2, "cpu": "32", "memory": "256Gi"}},
                                                 {"name": "gpu-operator", "podSecurity": "baseline"}]}))
    assert lines == ["llmfleet:platform.namespaces[1].podSecurity: gpu-operator runs node agents that need host "
                     "access: must stay privileged"]
    lines = errors(edge(platform={"namespaces": [{"name": "gpu-operator", "podSecurity": "baseline"}]}))
    assert lines == ["llmfleet:platform.namespaces[0].podSecurity: gpu-operator runs node agents that need host "
                     "access: must stay privileged"]
    spec = load(edge(platform={"namespaces": [{"name": "llm-serving", "podSecurity": "restricted",
                                                "quota": {"gpus": 2, "cpu": "32", "memory": "256Gi"}}]}), KUBE, "t")
    serving = spec.platform.namespace("llm-serving")
    assert serving.pod_security == "restricted" and serving.quota.gpus == 2 and serving.quota.memory == "256Gi"
    assert spec.platform.namespace("monitoring").pod_security == "privileged"


def test_price_overrides_replace_catalog_rows():
    spec = load({"cloud": "aws", "gpuPools": [pool()],
                 "prices": {"aws/p5.48xlarge": {"onDemand": 40.0, "spot": 15.5, "asOf": "2026-11"}}}, set(), "t")
    p = spec.prices["aws/p5.48xlarge"]
    assert (p.on_demand, p.spot, p.as_of, p.source) == (40.0, 15.5, "2026-11", "llmfleet:prices")


def test_sizing_problems_are_reported_next_to_unrelated_ones():
    lines = errors(edge(cluster={"kubernetesVersion": "1.20"},
                        models=[{"name": "big", "model": "qwen2.5-72b", "maxContext": 8192}]))
    assert lines[0] == "llmfleet:cluster.kubernetesVersion: must be one of 1.31, 1.32, 1.33, 1.34, 1.35, got '1.20'"
    assert lines[1].startswith("llmfleet:models[0]: big (qwen2.5-72b, bf16) fits no allowed pool")
    assert len(lines) == 2


def test_sizing_waits_for_valid_pools():
    # A broken pool would make any sizing verdict meaningless: only the pool's own problem is reported.
    lines = errors(edge(gpuPools=[{"name": "e", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"a": "b"},
                                   "minNodes": 2, "maxNodes": 1}],
                        models=[{"name": "big", "model": "qwen2.5-72b", "maxContext": 8192}]))
    assert lines == ["llmfleet:gpuPools[0].maxNodes: must be >= minNodes (2), got 1"]
