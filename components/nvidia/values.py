"""Helm values and config file contents of the NVIDIA layer, as plain data (tests compare them key by key with the
charts' default values in shared/chart-values/).

Scheduling rule: the GPU taint and the pools' other taints (spot taints included) are tolerated by the NVIDIA
DaemonSets and the NFD worker only — they must run on every GPU node. The operator's and NFD's controllers keep their
chart defaults (control-plane toleration only), so they never land on, or keep alive, an expensive GPU node.
"""
from typing import Optional, Sequence

import yaml

from components.descriptors import GPU_TAINT, PoolDescriptor, all_tolerations
from components.nvidia.labels import (DEFAULT_CONFIG_KEY, DEPLOY_LABELS, LABEL_OPERANDS, device_plugin_config_key,
                                      operand_free, operator_flags,
                                      time_slicing_pools)

# The runtime class the operator stamps on its operand pods. Where the operator's toolkit configures containerd
# it is `nvidia` (chart default). AKS GPU nodes with the AKS-installed driver define only
# `nvidia-container-runtime` (NVIDIA/cloud-native-docs gpu-operator/microsoft-aks.rst: driver and toolkit off,
# operator.runtimeClass=nvidia-container-runtime); spec/clouds/azure.py rejects mixing the two driver modes.
AKS_RUNTIME_CLASS = "nvidia-container-runtime"

CONTROL_PLANE_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "",
                            "effect": "NoSchedule"}
DCGM_METRICS_KEY = "dcgm-metrics.csv"
DCGM_METRICS_DIR = "/etc/dcgm-exporter/llmfleet"

# The DCGM fields we export: names as dcgm-exporter's etc/default-counters.csv and etc/dcp-metrics-included.csv
# spell them (NVIDIA/dcgm-exporter, read 2026-11). DCGM_FI_PROF_SM_ACTIVE is commented out upstream, so the
# defaults do not export it: we ship our own list. PROF (DCP) fields need a datacenter GPU; dcgm-exporter skips
# fields a GPU does not support.
DCGM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %)."),
    ("DCGM_FI_PROF_SM_ACTIVE", "gauge", "Ratio of cycles an SM has at least 1 warp assigned."),
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "gauge", "Ratio of time the graphics engine is active."),
    ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "gauge", "Ratio of cycles the tensor (HMMA) pipe is active."),
    ("DCGM_FI_PROF_DRAM_ACTIVE", "gauge", "Ratio of cycles the device memory interface is active."),
    ("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %)."),
    ("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB)."),
    ("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB)."),
    ("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C)."),
    ("DCGM_FI_DEV_MEMORY_TEMP", "gauge", "Memory temperature (in C)."),
    ("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W)."),
    ("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz)."),
    ("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered."),
    ("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for uncorrectable errors."),
    ("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed."),
    ("DCGM_FI_DRIVER_VERSION", "label", "Driver Version."),
)
DCGM_METRICS = frozenset(name for name, kind, _ in DCGM_FIELDS if kind != "label")


def dcgm_metrics_csv() -> str:
    lines = ["# llmfleet: DCGM fields exported by dcgm-exporter (field, Prometheus type, help)"]
    lines += [f"{name}, {kind}, {help_}" for name, kind, help_ in DCGM_FIELDS]
    return "\n".join(lines) + "\n"


# Where the container toolkit must find containerd when it is not at the default paths.
#  * k3s / RKE2 embed containerd and regenerate config.toml at start from a template next to it: the toolkit edits
#    the template (NVIDIA GPU Operator docs, "RKE2" install notes; k3s docs, "Configuring containerd"). Both use the
#    k3s socket path. Unverified: k3s releases shipping containerd 2.x read `config-v3.toml.tmpl` instead; on such
#    a k3s, install the toolkit on the host (k3s detects the nvidia runtime itself) and use `distribution: generic`.
#  * GKE 1.33+ with the operator's toolkit: the toolkit misreads `containerd config dump`; NVIDIA's documented
#    workaround is to read the file instead (GPU Operator docs, GKE known issue).
_CONTAINERD = {
    "k3s": ("/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl", "/run/k3s/containerd/containerd.sock"),
    "rke2": ("/var/lib/rancher/rke2/agent/etc/containerd/config.toml.tmpl", "/run/k3s/containerd/containerd.sock"),
}


def toolkit_env(cloud: str, distribution: str) -> list[dict]:
    """Environment of the operator's container-toolkit DaemonSet for this cluster (empty: chart defaults)."""
    if cloud == "gcp":
        return [{"name": "RUNTIME_CONFIG_SOURCE", "value": "file"}]
    if cloud == "existing" and distribution in _CONTAINERD:
        config, socket = _CONTAINERD[distribution]
        return [{"name": "CONTAINERD_CONFIG", "value": config}, {"name": "CONTAINERD_SOCKET", "value": socket}]
    return []


def gpu_tolerations(pools: Sequence[PoolDescriptor]) -> list[dict]:
    """Every GPU pool's taints (GPU taint, spot taints, user taints); the GPU taint even if no pool declares it
    (an existing cluster's nodes might add it later, and DaemonSets tolerating it cost nothing)."""
    tol = all_tolerations(pools)
    if not any(t.get("key") == GPU_TAINT.key for t in tol):
        tol.insert(0, {"key": GPU_TAINT.key, "operator": "Exists", "effect": GPU_TAINT.effect})
    return tol


def served_pools(pools: Sequence[PoolDescriptor]) -> list[PoolDescriptor]:
    """Pools whose nodes run NVIDIA operands of ours (all but GKE-managed and Bottlerocket ones)."""
    return [p for p in pools if not operand_free(p.driver)]


def device_plugin_config(pools: Sequence[PoolDescriptor], mig_strategy: str) -> dict[str, str]:
    """Device plugin config files: `default` for nodes without a config label, one entry per time-sliced pool."""
    base = {"version": "v1", "flags": {"migStrategy": mig_strategy}}
    out = {DEFAULT_CONFIG_KEY: yaml.safe_dump(base, sort_keys=False)}
    for p in time_slicing_pools(pools):
        entry = dict(base)
        entry["sharing"] = {"timeSlicing": {
            # Slices of one GPU are not isolated GPUs: a pod asking for 2 could get two slices of the same GPU,
            # which would wreck tensor parallelism. Fail such requests instead of granting them.
            "failRequestsGreaterThanOne": True,
            "resources": [{"name": "nvidia.com/gpu", "replicas": p.sharing.replicas}],
        }}
        out[device_plugin_config_key(p.name)] = yaml.safe_dump(entry, sort_keys=False)
    return out


def _gpu_node_affinity(skip_labels: Sequence[str]) -> dict:
    """GPU nodes (NFD's NVIDIA PCI label, or the operator's gpu.present), minus nodes opted out by `skip_labels`."""
    opt_out = [{"key": k, "operator": "NotIn", "values": ["false"]} for k in skip_labels]
    terms = [{"matchExpressions": [{"key": key, "operator": "In", "values": ["true"]}, *opt_out]}
             for key in ("feature.node.kubernetes.io/pci-10de.present", "nvidia.com/gpu.present")]
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}}


def operator_values(mig_strategy: str, dcgm_exporter: bool, gfd: bool, pools: Sequence[PoolDescriptor],
                    device_plugin_config_map: Optional[str], dcgm_config_map: Optional[str],
                    toolkit_env_vars: Sequence[dict] = ()) -> dict:
    """gpu-operator v26.7.0 values (keys checked against shared/chart-values/gpu-operator-v26.7.0.yaml)."""
    served = served_pools(pools)
    flags = operator_flags(p.driver for p in served)
    tol = gpu_tolerations(pools)
    device_plugin: dict = {"enabled": flags["device_plugin"]}
    if device_plugin_config_map:
        device_plugin["config"] = {"create": False, "name": device_plugin_config_map, "default": DEFAULT_CONFIG_KEY}
    dcgm: dict = {"enabled": dcgm_exporter,
                  # The operator creates this ServiceMonitor once the monitoring.coreos.com CRDs exist (the
                  # observability layer installs them first); Prometheus selects every ServiceMonitor.
                  "serviceMonitor": {"enabled": dcgm_exporter, "interval": "15s"}}
    if dcgm_exporter and dcgm_config_map:
        # Documented in the chart's commented `dcgmExporter.config` block: an existing ConfigMap in the release
        # namespace with the fields under `dcgm-metrics.csv`.
        dcgm["config"] = {"name": dcgm_config_map}
    toolkit: dict = {"enabled": flags["toolkit"]}
    if flags["toolkit"] and toolkit_env_vars:
        toolkit["env"] = list(toolkit_env_vars)
    values: dict = {
        "driver": {"enabled": flags["driver"]},
        "toolkit": toolkit,
        "devicePlugin": device_plugin,
        "mig": {"strategy": mig_strategy},
        # Without a pool asking for MIG the manager still runs and keeps MIG-capable GPUs at `all-disabled`.
        # MIG-capable GPUs without a pool MIG profile are kept at `all-disabled`; pools partitioned by the cloud
        # opt out per node (nvidia.com/gpu.deploy.mig-manager=false).
        "migManager": {"enabled": True, "config": {"default": "all-disabled"}},
        "gfd": {"enabled": gfd},
        "dcgmExporter": dcgm,
        "nfd": {"enabled": True},
        # Operand DaemonSets (driver, toolkit, device plugin, GFD, DCGM exporter, MIG manager, validator).
        "daemonsets": {"priorityClassName": "system-node-critical", "tolerations": tol},
        # NFD's worker labels every node, GPU nodes included, so it tolerates the GPU pools' taints too; without a
        # spot taint toleration an AKS spot node is never labelled as a GPU node and gets no device plugin.
        "node-feature-discovery": {"worker": {"tolerations": [CONTROL_PLANE_TOLERATION, *tol]}},
    }
    if any(p.cloud == "azure" and p.driver.driver == "cloud" for p in served):
        values["operator"] = {"runtimeClass": AKS_RUNTIME_CLASS}
    return values


def device_plugin_values(mig_strategy: str, gfd: bool, pools: Sequence[PoolDescriptor],
                         device_plugin_config_map: Optional[str]) -> dict:
    """nvidia-device-plugin 0.20.0 values (keys checked against shared/chart-values/nvidia-device-plugin-0.20.0.yaml)."""
    tol = gpu_tolerations(pools)
    values = {
        "migStrategy": mig_strategy,
        # Keep the plugin off nodes whose image or cloud runs its own (Bottlerocket, GKE): the same opt-out labels
        # the GPU Operator honours.
        "affinity": _gpu_node_affinity([DEPLOY_LABELS["device_plugin"], LABEL_OPERANDS]),
        # Replaces the chart default, which also tolerates the deprecated CriticalAddonsOnly taint.
        "tolerations": tol,
        "gfd": {"enabled": gfd},
        # NFD provides the pci-10de label the affinity above relies on (the chart enables it with gfd by default).
        "nfd": {"enabled": True, "worker": {"tolerations": [CONTROL_PLANE_TOLERATION, *tol]}},
    }
    if device_plugin_config_map:
        values["config"] = {"name": device_plugin_config_map, "default": DEFAULT_CONFIG_KEY}
    return values


def dcgm_exporter_values(pools: Sequence[PoolDescriptor], dcgm_config_map: str) -> dict:
    """dcgm-exporter 4.8.2 values (keys checked against shared/chart-values/dcgm-exporter-4.8.2.yaml), used with
    the standalone device plugin. Our ServiceMonitor comes from the observability layer, not the chart."""
    return {
        "arguments": ["-f", f"{DCGM_METRICS_DIR}/{DCGM_METRICS_KEY}"],
        "serviceMonitor": {"enabled": False},
        "tolerations": gpu_tolerations(pools),
        "affinity": _gpu_node_affinity([LABEL_OPERANDS]),
        # Replaces the chart's default metrics volume (its own counters file) with our field list.
        "extraConfigMapVolumes": [{"name": "llmfleet-dcgm-metrics", "configMap": {
            "name": dcgm_config_map, "items": [{"key": DCGM_METRICS_KEY, "path": DCGM_METRICS_KEY}]}}],
        "extraVolumeMounts": [{"name": "llmfleet-dcgm-metrics", "mountPath": DCGM_METRICS_DIR, "readOnly": True}],
    }
