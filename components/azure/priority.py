"""The cluster-autoscaler priority expander's ConfigMap for AKS, generated from the pools' capacity chains.

AKS runs the cluster-autoscaler itself; `autoScalerProfile.expander: priority` makes it read the ConfigMap
`cluster-autoscaler-priority-expander` in `kube-system`, key `priorities`: a YAML map from priority (higher =
preferred) to regexes over node group names. Without the ConfigMap the priority expander falls back to random.

Node group names: for VirtualMachineScaleSets agent pools the autoscaler's Azure provider names a node group after
its scale set (`ScaleSet.Id()` returns the VMSS name, kubernetes/autoscaler cloudprovider/azure), and AKS names
scale sets `aks-<agent pool>-<number>-vmss`. Agent pool names are letters and digits only, so
`^aks-<pool>-[0-9]+-vmss$` matches exactly one agent pool. Verified against the autoscaler source, not against a
live AKS cluster: check with `kubectl -n kube-system describe configmap cluster-autoscaler-status` after the first
scale-up (docs/azure.md).
"""
from typing import Sequence

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components import priority_expander
from components.platform import MANAGED_BY

CONFIGMAP_NAME = priority_expander.CONFIGMAP_NAME
NAMESPACE = priority_expander.NAMESPACE
CPU_POOL_PRIORITY = 1      # below every GPU node group; CPU pods can only land on CPU pools anyway


def node_group_regex(agent_pool: str) -> str:
    return f"^aks-{agent_pool}-[0-9]+-vmss$"


def priorities(gpu_groups: Sequence[tuple[str, int]], cpu_groups: Sequence[str]) -> str:
    """The `priorities` document: one regex per agent pool, CPU pools below every GPU pool."""
    return priority_expander.document(
        [(prio, node_group_regex(pool)) for pool, prio in gpu_groups]
        + [(CPU_POOL_PRIORITY, node_group_regex(pool)) for pool in cpu_groups])


def make_priority_configmap(name: str, document: str, provider: k8s.Provider,
                            parent: pulumi.Resource, depends_on: list) -> k8s.core.v1.ConfigMap:
    return k8s.core.v1.ConfigMap(
        f"{name}-priority-expander",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=CONFIGMAP_NAME, namespace=NAMESPACE,
            labels={**MANAGED_BY, "app.kubernetes.io/component": "autoscaler"}),
        data={"priorities": document},
        opts=ResourceOptions(parent=parent, provider=provider, depends_on=depends_on))
