"""The bring-your-own-cluster path (edge k3s): provider from the secret kubeconfig, declared pools, toolkit paths."""
from tests.harness import config_error, run_config, run_stack

EDGE_POOL = {"name": "edge", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"gpu": "l4"}}


def test_edge_stack_uses_the_secret_kubeconfig_and_k3s_toolkit_paths():
    p = run_stack("edge")
    provider = p.one("pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["enableServerSideApply"] == "true"
    cluster = p.one("llmfleet:cluster:ExistingCluster", "edge-k3s")
    assert provider.parent == cluster.urn
    # Every Kubernetes object goes through that provider.
    k8s = [r for r in p.resources if r.custom and r.type.startswith("kubernetes:")]
    assert k8s and all(r.provider.startswith(provider.urn) for r in k8s)
    operator = p.one("kubernetes:helm.sh/v3:Release", "edge-k3s-nvidia-gpu-operator")
    assert operator.inputs["values"]["toolkit"] == {"enabled": True, "env": [
        {"name": "CONTAINERD_CONFIG", "value": "/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl"},
        {"name": "CONTAINERD_SOCKET", "value": "/run/k3s/containerd/containerd.sock"}]}
    # The host owns the driver on this box: the operator must not install one.
    assert operator.inputs["values"]["driver"] == {"enabled": False}


def test_existing_pools_describe_the_nodes_that_are_there():
    p = run_stack("edge")
    (pool,) = p.stack.cluster.pools
    assert (pool.name, pool.cloud, pool.gpu.key, pool.gpus_per_node) == ("edge-l4", "existing", "l4-24gb", 1)
    assert pool.node_selector() == {"node-role.llmfleet.io/gpu": "true"}
    assert pool.tolerations() == []          # the only node is left untainted (llmfleet:cluster.gpuOnly)
    assert (pool.driver.driver, pool.driver.toolkit, pool.driver.device_plugin) == ("host", "operator", "operator")


def test_generic_distribution_keeps_chart_default_toolkit_paths():
    p = run_config({"cloud": "existing", "cluster": {"name": "byo"}, "gpuPools": [EDGE_POOL]},
                   secrets={"kubeconfig": "apiVersion: v1"})
    operator = p.one("kubernetes:helm.sh/v3:Release", "byo-nvidia-gpu-operator")
    assert operator.inputs["values"]["toolkit"] == {"enabled": True}


def test_distribution_only_applies_to_existing_clusters():
    lines = config_error({"cloud": "aws", "cluster": {"distribution": "k3s"},
                          "gpuPools": [{"name": "g", "instanceType": "g6.xlarge"}]})
    assert lines == ["llmfleet:cluster.distribution: only applies when cloud is existing (managed clusters use "
                     "standard paths)"]


def test_autoscalers_query_the_prometheus_the_observability_layer_installs():
    p = run_stack("edge")
    kps = p.one("kubernetes:helm.sh/v3:Release", "edge-k3s-observability-kube-prometheus-stack")
    assert (kps.inputs["name"], kps.inputs["namespace"]) == ("kube-prometheus-stack", "monitoring")
    assert kps.inputs["values"]["fullnameOverride"] == "kube-prometheus-stack"
    assert p.spec.serving.prometheus_url == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
