"""The cluster-autoscaler priority expander's ConfigMap for AKS, generated from the pools' capacity chains.

AKS runs the cluster-autoscaler itself; `autoScalerProfile.expander: priority` makes it read the ConfigMap
`cluster-autoscaler-priority-expander` in `kube-system`, key `priorities`: a YAML map from priority (higher =
preferred) to regexes over node group names. Without the ConfigMap the priority expander falls back to random.

Node group names: for VirtualMachineScaleSets agent pools the autoscaler's Azure provider names a node group after
its scale set (`ScaleSet.Id()` returns the VMSS name, kubernetes/autoscaler cloudprovider/azure), and AKS names
scale sets `aks-<agent pool>-<number>-vmss`. Agent pool names are letters and digits only, so
`^aks-<pool>-[0-9]+-vmss$` matches exactly one agent pool. Verified against the autoscaler source, not against a
live AKS cluster: check with `kubectl -n kube-system describe configmap cluster-autoscaler-status` after the first
scale-up (README, "Azure (AKS)").
"""
from typing import Sequence

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

CONFIGMAP_NAME = "cluster-autoscaler-priority-expander"
NAMESPACE = "kube-system"
CPU_POOL_PRIORITY = 1      # below every GPU node group; CPU pods can only land on CPU pools anyway


def node_group_regex(agent_pool: str) -> str:
    return f"^aks-{agent_pool}-[0-9]+-vmss$"


def priorities(gpu_groups: Sequence[tuple[str, int]], cpu_groups: Sequence[str]) -> str:
    """The `priorities` document: highest priority first, one regex per agent pool, stable order."""
    by_priority: dict[int, list[str]] = {}
    for pool, prio in gpu_groups:
        by_priority.setdefault(prio, []).append(node_group_regex(pool))
    for pool in cpu_groups:
        by_priority.setdefault(CPU_POOL_PRIORITY, []).append(node_group_regex(pool))
    lines = []
    for prio in sorted(by_priority, reverse=True):
        lines.append(f"{prio}:")
        # Single-quoted YAML scalars: regex characters stay literal.
        lines.extend(f"  - '{regex}'" for regex in sorted(by_priority[prio]))
    return "\n".join(lines) + "\n"


def make_priority_configmap(name: str, document: str, provider: k8s.Provider,
                            parent: pulumi.Resource, depends_on: list) -> k8s.core.v1.ConfigMap:
    return k8s.core.v1.ConfigMap(
        f"{name}-priority-expander",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=CONFIGMAP_NAME, namespace=NAMESPACE,
            labels={"app.kubernetes.io/managed-by": "llmfleet", "app.kubernetes.io/component": "autoscaler"}),
        data={"priorities": document},
        opts=ResourceOptions(parent=parent, provider=provider, depends_on=depends_on))
