"""NvidiaStack: the GPU Operator (or the standalone device plugin + GPU Feature Discovery + DCGM exporter), set
from the pools' driver ownership so that every node gets exactly one driver, toolkit and device plugin.

Mixed pools (e.g. Bottlerocket next to AL2023, or an AKS pool next to an operator-driver pool) share one install:
an operand is enabled chart-wide when any pool needs it, and every pool that must not get it carries the
operator's opt-out node label from creation (components/nvidia/labels.py, merged by the cluster components).
GKE-managed pools carry `nvidia.com/gpu.deploy.operands=false`: GKE runs their driver and device plugin, and
GKE partitions/time-shares them itself. When every pool is GKE-managed no chart is installed at all.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.descriptors import PoolDescriptor
from components.helm import chart_release
from components.nvidia.labels import dcgm_source, missing_node_labels, pool_node_labels
from components.nvidia.values import (DCGM_METRICS_KEY, dcgm_exporter_values, dcgm_metrics_csv,
                                      device_plugin_config, device_plugin_values, operator_values, served_pools)
from components.platform import MANAGED_BY
from spec.nvidia import NvidiaSpec

DEVICE_PLUGIN_CONFIG_MAP = "llmfleet-device-plugin-config"
DCGM_METRICS_CONFIG_MAP = "llmfleet-dcgm-metrics"
RELEASE_TIMEOUT = 900     # seconds: the operator's validator waits for drivers on fresh nodes


class NvidiaStackArgs(TypedDict):
    nvidia: NvidiaSpec
    """Validated `llmfleet:nvidia` spec: chart choice, DCGM exporter, MIG strategy."""
    pools: Sequence[PoolDescriptor]
    """The cluster component's pool descriptors (driver ownership, taints, labels, sharing)."""
    namespace: str
    """Namespace for the charts and config maps (spec.platform.GPU_OPERATOR_NAMESPACE), created by PlatformBase."""
    toolkit_env: Sequence[dict]
    """Container-toolkit environment for this cluster's containerd (values.toolkit_env); empty for defaults."""


class NvidiaStack(pulumi.ComponentResource):
    chart: Optional[str]
    """Chart installed for the device plugin: gpu-operator, nvidia-device-plugin, or None (all pools GKE-managed)."""
    releases: dict
    """Chart name -> helm.v3.Release."""
    values: dict
    """Chart name -> the values passed to it (plain data)."""
    node_labels: dict
    """Pool name -> the labels its nodes must carry for this layer (see components/nvidia/labels.py)."""
    dcgm_source: Optional[str]
    """"operator", "chart" or None: who exports DCGM metrics (the observability layer derives the same)."""

    def __init__(self, name: str, args: NvidiaStackArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:nvidia:NvidiaStack", name, None, opts)
        nv, pools, ns = args["nvidia"], list(args["pools"]), args["namespace"]
        self.releases, self.values = {}, {}
        self.node_labels = {p.name: pool_node_labels(p) for p in pools}
        self.dcgm_source = dcgm_source(nv.stack, nv.dcgm_exporter, pools)
        missing = missing_node_labels(pools)
        if missing:
            # A cluster component that did not merge nvidia_node_labels(): the pool would get a second driver or
            # lose its sharing config while the plan looks fine. A program bug (spec/nvidia.py already checks the
            # labels users declare on existing clusters), so it stops the program.
            raise ValueError("; ".join(f"GPU pool {pool!r}: node group lacks the NVIDIA layer's labels {labels}"
                                       for pool, labels in missing.items()))

        served = served_pools(pools)
        self.chart = None
        if served:
            self.chart = "gpu-operator" if nv.stack == "gpu-operator" else "nvidia-device-plugin"
        configs = []
        plugin_cm = None
        if served and any(p.driver.device_plugin == "operator" for p in served):
            plugin_cm = DEVICE_PLUGIN_CONFIG_MAP
            configs.append(self._config_map(name, "device-plugin-config", plugin_cm, ns,
                                            device_plugin_config(served, nv.mig_strategy)))
        dcgm_cm = None
        if self.dcgm_source is not None:
            dcgm_cm = DCGM_METRICS_CONFIG_MAP
            configs.append(self._config_map(name, "dcgm-metrics", dcgm_cm, ns,
                                            {DCGM_METRICS_KEY: dcgm_metrics_csv()}))

        if self.chart == "gpu-operator":
            self._release(name, "gpu-operator", ns, operator_values(
                nv.mig_strategy, nv.dcgm_exporter, nv.gfd, served, plugin_cm, dcgm_cm,
                args.get("toolkit_env", ())), configs)
        elif self.chart == "nvidia-device-plugin":
            self._release(name, "nvidia-device-plugin", ns, device_plugin_values(
                nv.mig_strategy, nv.gfd, served, plugin_cm), configs)
            if dcgm_cm:
                self._release(name, "dcgm-exporter", ns, dcgm_exporter_values(served, dcgm_cm), configs)

        self.register_outputs({"chart": self.chart or "", "nodeLabels": self.node_labels})

    def _config_map(self, name: str, suffix: str, cm_name: str, ns: str, data: dict) -> k8s.core.v1.ConfigMap:
        return k8s.core.v1.ConfigMap(
            f"{name}-{suffix}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=cm_name, namespace=ns, labels=MANAGED_BY),
            data=data,
            opts=ResourceOptions(parent=self))

    def _release(self, name: str, chart_key: str, ns: str, values: dict, configs: list) -> None:
        self.values[chart_key] = values
        # The config maps must exist before the device plugin / exporter pods mount them.
        self.releases[chart_key] = chart_release(f"{name}-{chart_key}", chart_key, ns, values, parent=self,
                                                 depends_on=configs, timeout=RELEASE_TIMEOUT)
