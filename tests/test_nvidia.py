"""The NVIDIA layer and observability base: driver ownership -> exact Helm values, GPU sharing, tolerations,
dashboards, PrometheusRules and the plan-time contradictions."""
import json
import re
from pathlib import Path

import pytest
import yaml

from catalog.gpus import GPUS
from catalog.versions import CHARTS
from components.descriptors import GPU_TAINT, PoolDescriptor, driver_ownership
from components.nvidia.labels import gpu_resource, mig_instances_per_gpu, missing_node_labels, nvidia_node_labels
from components.nvidia.values import (DCGM_METRICS, dcgm_exporter_values, device_plugin_values, dcgm_metrics_csv,
                                      operator_values)
from components.observability.dashboards import DASHBOARDS
from components.observability.rules import rule_groups
from components.observability.values import kps_values
from plan.validate import validate_object
from spec.nvidia import Alerts, ObservabilitySpec
from spec.pools import Sharing, Taint
from tests.harness import config_error, keys_in, run_config

CHART_VALUES = Path(__file__).resolve().parents[2] / "shared" / "chart-values"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SPOT_AKS = Taint("kubernetes.azure.com/scalesetpriority", "spot", "NoSchedule")
GPU_TOL = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
CP_TOL = {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "", "effect": "NoSchedule"}


def desc(name="p", cloud="aws", image="al2023-nvidia", driver="cloud", sharing=Sharing(), gpu="h100-80gb",
         gpus=8, taints=(GPU_TAINT,), labels=None):
    own = driver_ownership(cloud, image, driver)
    node_labels = {"llmfleet.io/pool": name, **nvidia_node_labels(name, cloud, own, sharing), **(labels or {})}
    return PoolDescriptor(name=name, cloud=cloud, capacity="on-demand", node_group=f"{name}-od", gpu=GPUS[gpu],
                          gpus_per_node=gpus, instance_type=None, node_labels=node_labels, taints=taints,
                          sharing=sharing, driver=own, min_nodes=0, max_nodes=2)


# --- driver ownership matrix --------------------------------------------------------------------------------------
# (cloud, image, driver) -> (driver.enabled, toolkit.enabled, devicePlugin.enabled, node labels). None = no chart.
MATRIX = [
    ("aws", "al2023-nvidia", "cloud", (False, False, True),
     {"nvidia.com/gpu.deploy.driver": "false", "nvidia.com/gpu.deploy.container-toolkit": "false"}),
    # Bottlerocket: out of every operand (issue 9 item 21); no chart serves it.
    ("aws", "bottlerocket-nvidia", "cloud", None, {"nvidia.com/gpu.deploy.operands": "false"}),
    ("gcp", "al2023-nvidia", "cloud", None, {"nvidia.com/gpu.deploy.operands": "false"}),
    ("gcp", "al2023-nvidia", "operator", (True, True, True), {"gke-no-default-nvidia-gpu-device-plugin": "true"}),
    ("azure", "al2023-nvidia", "cloud", (False, False, True),
     {"nvidia.com/gpu.deploy.driver": "false", "nvidia.com/gpu.deploy.container-toolkit": "false"}),
    ("azure", "al2023-nvidia", "operator", (True, True, True), {}),
    ("existing", "al2023-nvidia", "cloud", (False, True, True), {"nvidia.com/gpu.deploy.driver": "false"}),
    ("existing", "al2023-nvidia", "operator", (True, True, True), {}),
]


@pytest.mark.parametrize("cloud,image,driver,flags,labels", MATRIX)
def test_driver_ownership_matrix(cloud, image, driver, flags, labels):
    p = desc(cloud=cloud, image=image, driver=driver)
    assert nvidia_node_labels("p", cloud, p.driver, Sharing()) == labels
    if flags is None:
        # GKE or the Bottlerocket image runs it: no chart of ours on these nodes.
        assert p.driver.device_plugin in ("cloud", "image")
        return
    v = operator_values("mixed", True, True, [p], "cm", "dcgm")
    assert (v["driver"], v["toolkit"], v["devicePlugin"]["enabled"]) == ({"enabled": flags[0]},
                                                                         {"enabled": flags[1]}, flags[2])


def test_mixed_pools_share_one_operator_with_per_node_opt_out():
    al2023, bottle = desc("gen", image="al2023-nvidia"), desc("br", image="bottlerocket-nvidia")
    v = operator_values("mixed", True, True, [al2023, bottle], "cm", None)
    assert v["devicePlugin"] == {"enabled": True, "config": {"create": False, "name": "cm", "default": "default"}}
    assert v["driver"] == {"enabled": False} and v["toolkit"] == {"enabled": False}
    # The Bottlerocket pool is out of every operand (device plugin, GFD, DCGM exporter, validator, MIG manager).
    assert bottle.node_labels["nvidia.com/gpu.deploy.operands"] == "false"
    assert "nvidia.com/gpu.deploy.operands" not in al2023.node_labels
    # A descriptor without the opt-out label is reported (the Bottlerocket node would get two device plugins).
    bare = PoolDescriptor(**{**bottle.__dict__, "node_labels": {"llmfleet.io/pool": "br"}})
    assert missing_node_labels([al2023, bare]) == {"br": {"nvidia.com/gpu.deploy.operands": "false"}}


# --- the program, end to end, on an existing cluster ---------------------------------------------------------------
KUBECONFIG = {"kubeconfig": "apiVersion: v1\nkind: Config\n"}


def edge_pool(**kw):
    return {"name": "edge-l4", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"node-role.llmfleet.io/gpu": "true"},
            "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}], **kw}


def run(pools, **extra):
    return run_config({"cloud": "existing", "cluster": {"name": "edge"}, "gpuPools": pools, **extra},
                      secrets=KUBECONFIG)


@pytest.fixture(scope="module")
def sliced():
    """Two existing pools: an L4 box time-sliced 4 ways, and a spot-tainted H100 node in MIG 1g.10gb."""
    return run([
        edge_pool(driver="operator", sharing={"mode": "time-slicing", "replicas": 4},
                  labels={"node-role.llmfleet.io/gpu": "true", "nvidia.com/device-plugin.config": "pool-edge-l4"}),
        {"name": "h100", "gpu": "h100-80gb", "gpusPerNode": 8, "driver": "operator",
         "labels": {"pool": "h100", "nvidia.com/mig.config": "all-1g.10gb"},
         "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
                    {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}],
         "sharing": {"mode": "mig", "migProfile": "1g.10gb"}},
    ])


def test_operator_release_exact(sliced):
    r = sliced.one(RELEASE, "edge-nvidia-gpu-operator")
    chart = CHARTS["gpu-operator"]
    assert (r.inputs["chart"], r.inputs["version"], r.inputs["repositoryOpts"], r.inputs["namespace"],
            r.inputs["name"]) == ("gpu-operator", "v26.7.0", {"repo": chart.repo}, "gpu-operator", "gpu-operator")
    v = r.inputs["values"]
    assert v["driver"] == {"enabled": True} and v["toolkit"] == {"enabled": True}
    assert v["devicePlugin"] == {"enabled": True, "config": {"create": False, "name": "llmfleet-device-plugin-config",
                                                             "default": "default"}}
    assert v["mig"] == {"strategy": "mixed"}
    assert v["migManager"] == {"enabled": True, "config": {"default": "all-disabled"}}
    assert v["dcgmExporter"] == {"enabled": True, "serviceMonitor": {"enabled": True, "interval": "15s"},
                                 "config": {"name": "llmfleet-dcgm-metrics"}}
    assert v["nfd"] == {"enabled": True} and v["gfd"] == {"enabled": True}
    spot = {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal", "value": "spot",
            "effect": "NoSchedule"}
    assert v["daemonsets"] == {"priorityClassName": "system-node-critical", "tolerations": [GPU_TOL, spot]}
    assert v["node-feature-discovery"] == {"worker": {"tolerations": [CP_TOL, GPU_TOL, spot]}}
    parent = sliced.one("llmfleet:nvidia:NvidiaStack", "edge-nvidia")
    assert r.parent == parent.urn


def test_time_slicing_config_map(sliced):
    cm = sliced.manifest("ConfigMap", "llmfleet-device-plugin-config", "gpu-operator")
    assert set(cm["data"]) == {"default", "pool-edge-l4"}
    assert yaml.safe_load(cm["data"]["default"]) == {"version": "v1", "flags": {"migStrategy": "mixed"}}
    assert yaml.safe_load(cm["data"]["pool-edge-l4"]) == {
        "version": "v1", "flags": {"migStrategy": "mixed"},
        "sharing": {"timeSlicing": {"failRequestsGreaterThanOne": True,
                                    "resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}}


def test_stack_layers_and_dependencies(sliced):
    obs = sliced.one("llmfleet:observability:Observability", "edge-observability")
    kps = sliced.one(RELEASE, "edge-observability-kube-prometheus-stack")
    assert kps.parent == obs.urn
    assert (kps.inputs["chart"], kps.inputs["version"], kps.inputs["namespace"]) == (
        "kube-prometheus-stack", "88.5.3", "monitoring")
    p = kps.inputs["values"]["prometheus"]["prometheusSpec"]
    assert (p["retention"], p["retentionSize"], p["serviceMonitorSelectorNilUsesHelmValues"],
            p["ruleSelectorNilUsesHelmValues"]) == ("15d", "45GB", False, False)
    assert p["storageSpec"] == {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                                                 "resources": {"requests": {"storage": "50Gi"}}}}}
    assert kps.inputs["values"]["kube-state-metrics"] == {
        "metricLabelsAllowlist": ["nodes=[node-role.llmfleet.io/gpu,nvidia.com/device-plugin.config,pool,"
                                  "nvidia.com/mig.config]", "pods=[llmfleet.io/model]"]}
    # The operator's ServiceMonitor is used: no ServiceMonitor of ours.
    assert not [m for m in sliced.manifests if m["kind"] == "ServiceMonitor"]
    names = sorted(m["metadata"]["name"] for m in sliced.manifests if m["kind"] == "ConfigMap"
                   and m["metadata"].get("labels", {}).get("grafana_dashboard") == "1")
    assert names == ["llmfleet-dashboard-gpu-cost", "llmfleet-dashboard-gpu-health", "llmfleet-dashboard-gpu-usage"]


def test_every_custom_resource_validates(sliced):
    assert any(m["kind"] == "PrometheusRule" for m in sliced.manifests)
    for m in sliced.manifests:
        assert validate_object(m, "1.34") == [], (m["kind"], m["metadata"]["name"])


def test_mig_resources_and_labels():
    h100 = GPUS["h100-80gb"]
    assert [mig_instances_per_gpu(h100, p) for p in ("1g.10gb", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb",
                                                     "7g.80gb")] == [7, 4, 3, 2, 1, 1]
    assert [mig_instances_per_gpu(GPUS["a100-40gb"], p) for p in ("1g.5gb", "1g.10gb", "2g.10gb", "3g.20gb",
                                                                  "7g.40gb")] == [7, 4, 3, 2, 1]
    aws = desc("m", sharing=Sharing("mig", 1, "1g.10gb"))
    assert aws.node_labels["nvidia.com/mig.config"] == "all-1g.10gb"
    assert gpu_resource(aws, "mixed") == ("nvidia.com/mig-1g.10gb", 56)
    assert gpu_resource(aws, "single") == ("nvidia.com/gpu", 56)
    # GKE partitions and exposes partitions as nvidia.com/gpu; AKS partitions at pool creation (gpuInstanceProfile)
    # and the operator's MIG manager must leave those GPUs alone.
    gke = desc("g", cloud="gcp", sharing=Sharing("mig", 1, "3g.40gb"))
    assert gpu_resource(gke, "mixed") == ("nvidia.com/gpu", 16)
    assert nvidia_node_labels("g", "gcp", gke.driver, gke.sharing) == {"nvidia.com/gpu.deploy.operands": "false"}
    aks = desc("a", cloud="azure", sharing=Sharing("mig", 1, "1g.10gb"))
    assert nvidia_node_labels("a", "azure", aks.driver, aks.sharing) == {
        "nvidia.com/gpu.deploy.driver": "false", "nvidia.com/gpu.deploy.container-toolkit": "false",
        "nvidia.com/gpu.deploy.mig-manager": "false"}
    ts = desc("t", sharing=Sharing("time-slicing", 4, ""), gpus=1)
    assert ts.node_labels["nvidia.com/device-plugin.config"] == "pool-t"
    assert gpu_resource(ts, "mixed") == ("nvidia.com/gpu", 4)


# --- tolerations ---------------------------------------------------------------------------------------------------
def _tolerations(obj):
    """(path, toleration) for every toleration list anywhere in a nested structure."""
    for where, items in keys_in(obj, lambda k, v, _: k == "tolerations" and isinstance(v, list)):
        for t in items:
            yield where, t


# Where the GPU taint may be tolerated: NVIDIA DaemonSets, NFD's worker, and node-exporter (tolerates everything).
GPU_TOLERATION_PATHS = {
    "gpu-operator": {".daemonsets.tolerations", ".node-feature-discovery.worker.tolerations"},
    "nvidia-device-plugin": {".tolerations", ".nfd.worker.tolerations"},
    "dcgm-exporter": {".tolerations"},
    "kube-prometheus-stack": {".prometheus-node-exporter.tolerations"},
}


def _tolerates_gpu(t):
    return t.get("key") == "nvidia.com/gpu" or (not t.get("key") and t.get("operator") == "Exists")


def test_only_nvidia_daemonsets_tolerate_the_gpu_taint(sliced):
    seen = 0
    for r in sliced.of_type(RELEASE):
        for path, t in _tolerations(r.inputs["values"]):
            if _tolerates_gpu(t):
                seen += 1
                assert path in GPU_TOLERATION_PATHS.get(r.inputs["chart"], ()), (r.inputs["chart"], path)
    assert seen > 0        # the scan found the NVIDIA DaemonSets' tolerations: it is looking in the right place
    for m in sliced.manifests:
        assert not [t for _, t in _tolerations(m) if _tolerates_gpu(t)], m["metadata"]["name"]


def test_standalone_device_plugin_tolerations_and_values():
    pools = [desc("a", taints=(GPU_TAINT, SPOT_AKS), cloud="azure"), desc("b", cloud="azure")]
    spot = {"key": SPOT_AKS.key, "operator": "Equal", "value": "spot", "effect": "NoSchedule"}
    dp = device_plugin_values("mixed", True, pools, "cm")
    assert dp["tolerations"] == [GPU_TOL, spot]
    assert dp["nfd"] == {"enabled": True, "worker": {"tolerations": [CP_TOL, GPU_TOL, spot]}}
    assert dp["config"] == {"name": "cm", "default": "default"}
    terms = dp["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms[0]["matchExpressions"] == [
        {"key": "feature.node.kubernetes.io/pci-10de.present", "operator": "In", "values": ["true"]},
        {"key": "nvidia.com/gpu.deploy.device-plugin", "operator": "NotIn", "values": ["false"]},
        {"key": "nvidia.com/gpu.deploy.operands", "operator": "NotIn", "values": ["false"]}]
    dcgm = dcgm_exporter_values(pools, "m")
    assert dcgm["tolerations"] == [GPU_TOL, spot] and dcgm["serviceMonitor"] == {"enabled": False}


def test_device_plugin_stack_plans_with_dcgm_service_monitor():
    # EKS AL2023: the image has driver and toolkit, so the standalone device plugin is enough.
    plan = run_config({"cloud": "aws", "cluster": {"name": "edge", "region": "us-east-1"},
                       "gpuPools": [{"name": "l40s", "instanceType": "g6e.xlarge", "capacity": ["spot", "on-demand"]}],
                       "nvidia": {"stack": "device-plugin"}})
    nvidia = plan.one("llmfleet:nvidia:NvidiaStack", "edge-nvidia")
    assert sorted(r.inputs["chart"] for r in plan.children_of(nvidia) if r.type == RELEASE) == [
        "dcgm-exporter", "nvidia-device-plugin"]
    sm = plan.manifest("ServiceMonitor", "dcgm-exporter", "monitoring")
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["spec"]["namespaceSelector"] == {"matchNames": ["gpu-operator"]}
    assert sm["spec"]["endpoints"][0]["port"] == "metrics"
    assert validate_object(sm, "1.34") == []
    kps = plan.one(RELEASE, "edge-observability-kube-prometheus-stack")
    sm_res = plan.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")
    assert sm_res.inputs["metadata"]["namespace"] == "monitoring"
    # The ServiceMonitor kind comes with the kube-prometheus-stack chart: it must be created after it.
    assert plan.waits_for(sm_res, kps) and not plan.waits_for(kps, sm_res)
    for r in plan.of_type(RELEASE):
        for path, t in _tolerations(r.inputs["values"]):
            if _tolerates_gpu(t):
                assert path in GPU_TOLERATION_PATHS.get(r.inputs["chart"], ()), (r.inputs["chart"], path)
    dp = plan.one(RELEASE, "edge-nvidia-nvidia-device-plugin").inputs["values"]
    # EKS managed node groups mark spot nodes with a label, not a taint: only the GPU taint is tolerated.
    assert dp["tolerations"] == [GPU_TOL]
    assert plan.manifest("ConfigMap", "llmfleet-dcgm-metrics", "gpu-operator")["data"]["dcgm-metrics.csv"] == \
        dcgm_metrics_csv()


# --- chart values, key by key -------------------------------------------------------------------------------------
# Keys we set that the chart's values.yaml does not list: documented in a commented block, or a subchart's value.
EXTRA_KEYS = {
    "gpu-operator": {"dcgmExporter.config", "dcgmExporter.config.name"},
    "nvidia-device-plugin": {"nfd.enabled", "nfd.worker.tolerations"},
    "dcgm-exporter": set(),
    "kube-prometheus-stack": {"kube-state-metrics.metricLabelsAllowlist", "prometheus-node-exporter.tolerations"},
}


def _paths(d, prefix=""):
    for k, v in d.items():
        p = f"{prefix}{k}"
        yield p
        if isinstance(v, dict) and v and not k.endswith(("tolerations", "affinity", "resources", "storageSpec")):
            yield from _paths(v, p + ".")


def _default_paths(chart):
    defaults = yaml.safe_load((CHART_VALUES / f"{chart}-{CHARTS[chart].version}.yaml").read_text())
    return set(_paths(defaults))


@pytest.mark.parametrize("chart,values", [
    ("gpu-operator", operator_values("mixed", True, True, [desc("a", sharing=Sharing("mig", 1, "1g.10gb"))],
                                     "cm", "m")),
    ("nvidia-device-plugin", device_plugin_values("mixed", True, [desc("a")], "cm")),
    ("dcgm-exporter", dcgm_exporter_values([desc("a")], "m")),
    ("kube-prometheus-stack", kps_values(ObservabilitySpec(storage_class="gp3"), ["llmfleet.io/pool"])),
])
def test_values_keys_exist_in_chart_defaults(chart, values):
    unknown = set(_paths(values)) - _default_paths(chart) - EXTRA_KEYS[chart]
    assert unknown == set()


# --- dashboards and rules ------------------------------------------------------------------------------------------
DCGM_NAME = re.compile(r"\bDCGM_FI_[A-Z_]+\b")


def test_dcgm_field_list_is_the_exported_metric_set():
    csv = dcgm_metrics_csv()
    for name in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP",
                 "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_PROF_SM_ACTIVE"):
        assert name in DCGM_METRICS and f"\n{name}, " in csv


@pytest.mark.parametrize("key", sorted(DASHBOARDS))
def test_dashboards_are_json_with_real_metrics(key, sliced):
    cm = sliced.manifest("ConfigMap", f"llmfleet-dashboard-{key}", "monitoring")
    board = json.loads(cm["data"][f"llmfleet-{key}.json"])
    assert board["uid"] == f"llmfleet-{key}" and board["panels"]
    exprs = [t["expr"] for p in board["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in DCGM_NAME.findall(e)}
    assert used and used <= DCGM_METRICS
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


def test_dashboards_cover_utilisation_memory_temperature_xid():
    text = "".join(json.dumps(f()) for f in DASHBOARDS.values())
    for m in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_XID_ERRORS",
              "DCGM_FI_PROF_SM_ACTIVE"):
        assert m in text


def test_prometheus_rule(sliced):
    rule = sliced.manifest("PrometheusRule", "llmfleet-gpu", "monitoring")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert validate_object(rule, "1.34") == []
    rules = [r for g in rule["spec"]["groups"] for r in g["rules"]]
    assert [r["alert"] for r in rules] == ["GPUXidError", "GPUMemoryNearFull", "GPUTemperatureHigh",
                                          "GPUsIdleWhileGPUPodsPending", "GPUsMissingFromAllocatable",
                                          "GPUsMissingFromAllocatable"]
    for r in rules:
        assert set(DCGM_NAME.findall(r["expr"])) <= DCGM_METRICS
    missing = {r["labels"]["pool"]: r["expr"] for r in rules if r["alert"] == "GPUsMissingFromAllocatable"}
    # Time-sliced L4: 1 GPU x 4 replicas; MIG H100 (mixed): 8 GPUs x 7 instances of 1g.10gb.
    assert 'kube_node_labels{label_node_role_llmfleet_io_gpu="true", label_nvidia_com_device_plugin_config=' \
           '"pool-edge-l4"}) * 0 + 4)' in missing["edge-l4"]
    assert 'kube_node_status_allocatable{resource="nvidia_com_gpu"}) >= 4)' in missing["edge-l4"]
    assert 'kube_node_status_allocatable{resource="nvidia_com_mig_1g_10gb"}) >= 56)' in missing["h100"]
    # The operator's ServiceMonitor depends on the CRDs: the rule depends on the chart release too.
    rec = sliced.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    assert rec.inputs["metadata"]["namespace"] == "monitoring"
    (kps,) = [r for r in sliced.of_type(RELEASE) if r.inputs["chart"] == "kube-prometheus-stack"]
    assert sliced.waits_for(rec, kps) and not sliced.waits_for(kps, rec)


def test_rules_without_dcgm_keep_only_capacity():
    groups = rule_groups([desc("a")], Alerts(), "mixed", dcgm=False)
    assert [g["name"] for g in groups] == ["llmfleet-gpu-capacity"]


# --- config errors -------------------------------------------------------------------------------------------------
def aws(*pools, **extra):
    return {"cloud": "aws", "gpuPools": list(pools), **extra}


ERRORS = [
    (aws({"name": "a", "gpu": "h100-80gb"}, nvidia={"driver": True}),
     ["llmfleet:nvidia.driver: is true, but pool 'a' gets its driver from the node image (AL2023 NVIDIA AMI: "
      "driver+toolkit in the image); installing a second one breaks the node: remove driver or change the pool"]),
    ({"cloud": "gcp", "cluster": {"region": "us-central1", "gcp": {"project": "example-llmfleet"}},
      "gpuPools": [{"name": "a", "gpu": "l4-24gb"}], "nvidia": {"devicePlugin": True}},
     ["llmfleet:nvidia.devicePlugin: is true, but pool 'a' gets its devicePlugin from the cloud (GKE-managed "
      "driver and device plugin); installing a second one breaks the node: remove devicePlugin or change the pool"]),
    (aws({"name": "a", "gpu": "h100-80gb"}, nvidia={"devicePlugin": False}),
     ["llmfleet:nvidia.devicePlugin: is false, but pool 'a' has nobody else to install its devicePlugin (AL2023 "
      "NVIDIA AMI: driver+toolkit in the image); remove devicePlugin or change the pool"]),
    ({"cloud": "azure", "gpuPools": [{"name": "a", "gpu": "a100-80gb", "driver": "operator"}],
      "nvidia": {"stack": "device-plugin"}},
     ["llmfleet:nvidia.stack: device-plugin installs no driver or toolkit, but pool 'a' needs driver and toolkit "
      "from the GPU Operator (AKS gpuProfile.driver None); use gpu-operator"]),
    (aws({"name": "a", "gpu": "h100-80gb", "sharing": {"mode": "mig", "migProfile": "1g.10gb"}},
         nvidia={"stack": "device-plugin"}),
     ["llmfleet:nvidia.stack: device-plugin has no MIG manager to partition pool 'a''s GPUs (1g.10gb); "
      "use gpu-operator"]),
    (aws({"name": "a", "gpu": "h100-80gb", "image": "bottlerocket-nvidia",
          "sharing": {"mode": "time-slicing", "replicas": 4}}),
     ["llmfleet:gpuPools[0].sharing.mode: time-slicing needs our device plugin config, but bottlerocket-nvidia "
      "runs the image's own device plugin; use image al2023-nvidia or mode none"]),
    (aws({"name": "a", "gpu": "h100-80gb", "sharing": {"mode": "mig", "migProfile": "1g.10gb+me"}}),
     ["llmfleet:gpuPools[0].sharing.migProfile: media-extension profiles ('1g.10gb+me') have no all-<profile> "
      "MIG config; use one without '+me'"]),
    ({"cloud": "existing", "gpuPools": [edge_pool(sharing={"mode": "time-slicing", "replicas": 2})]},
     ["llmfleet:gpuPools[0].labels: the pool's nodes must carry nvidia.com/device-plugin.config: 'pool-edge-l4' "
      "(label them with kubectl label node, then list the labels here)"]),
    ({"cloud": "existing", "gpuPools": [edge_pool(), edge_pool(name="op", driver="operator")]},
     ["llmfleet:gpuPools[0].labels: the pool's nodes must carry nvidia.com/gpu.deploy.driver: 'false' "
      "(label them with kubectl label node, then list the labels here)"]),
    ({"cloud": "existing", "gpuPools": [edge_pool()], "nvidia": {"stack": "operator", "migStrategy": "none"},
      "observability": {"retention": "15 days", "retentionSize": "45G", "alerts": {"gpuMemoryFullPercent": 20}}},
     ["llmfleet:nvidia.stack: must be one of device-plugin, gpu-operator, got 'operator' (did you mean "
      "'gpu-operator'?)",
      "llmfleet:nvidia.migStrategy: must be one of mixed, single, got 'none'",
      "llmfleet:observability.alerts.gpuMemoryFullPercent: must be >= 50, got 20.0",
      "llmfleet:observability.retention: must be a Prometheus duration such as 15d, 12h, 2w, got '15 days'",
      "llmfleet:observability.retentionSize: must be a Prometheus byte size such as 45GB, 500MB, got '45G'"]),
]


@pytest.mark.parametrize("cfg,lines", ERRORS)
def test_config_errors(cfg, lines):
    secrets = KUBECONFIG if cfg["cloud"] == "existing" else None
    assert config_error(cfg, secrets=secrets) == lines
