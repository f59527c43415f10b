"""PlatformBase: namespaces with Pod Security labels, priority tiers, GPU quotas and container defaults."""
from typing import Optional, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from spec.platform import PRIORITY_TIERS, PlatformSpec, pod_security_why

MANAGED_BY = {"app.kubernetes.io/managed-by": "llmfleet"}


class PlatformBaseArgs(TypedDict):
    platform: PlatformSpec
    """Validated platform spec: namespaces, their Pod Security level, quota and container defaults."""
    kubernetes_version: str
    """Cluster minor version, e.g. "1.34"; pins the Pod Security Standards version the labels enforce."""


def namespace_metadata(name: str, level: str, kubernetes_version: str, why: str = "") -> k8s.meta.v1.ObjectMetaArgs:
    """A namespace the program owns: Pod Security enforced, audited and warned at `level`, pinned to the cluster's
    version (a cluster upgrade does not tighten the checks under running pods), and the reason when it is not
    `restricted` as the `llmfleet.io/why` annotation."""
    labels = {**MANAGED_BY}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = (
            "latest" if kubernetes_version == "latest" else f"v{kubernetes_version}")
    return k8s.meta.v1.ObjectMetaArgs(name=name, labels=labels, annotations={"llmfleet.io/why": why} if why else None)


class PlatformBase(pulumi.ComponentResource):
    namespaces: dict
    """Namespace name -> the Namespace resource (later layers depend on it)."""
    priority_classes: dict
    """Tier name (critical, standard, batch) -> PriorityClass resource."""

    def __init__(self, name: str, args: PlatformBaseArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:platform:PlatformBase", name, None, opts)
        spec, version = args["platform"], args["kubernetes_version"]
        child = ResourceOptions(parent=self)
        self.namespaces = {}
        for ns in spec.namespaces:
            namespace = k8s.core.v1.Namespace(
                f"{name}-ns-{ns.name}",
                metadata=namespace_metadata(ns.name, ns.pod_security, version,
                                            pod_security_why(ns.name, ns.pod_security)),
                opts=child)
            self.namespaces[ns.name] = namespace
            in_ns = ResourceOptions(parent=self, depends_on=[namespace])
            if ns.quota is not None:
                hard = {}
                if ns.quota.gpus is not None:
                    # Extended resources are quota'd by their request only (requests.nvidia.com/gpu).
                    hard["requests.nvidia.com/gpu"] = str(ns.quota.gpus)
                if ns.quota.cpu is not None:
                    hard["requests.cpu"] = ns.quota.cpu
                if ns.quota.memory is not None:
                    hard["requests.memory"] = ns.quota.memory
                if ns.quota.pods is not None:
                    hard["pods"] = str(ns.quota.pods)
                if hard:
                    k8s.core.v1.ResourceQuota(
                        f"{name}-quota-{ns.name}",
                        metadata=k8s.meta.v1.ObjectMetaArgs(name="llmfleet-quota", namespace=ns.name, labels=MANAGED_BY),
                        spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=hard),
                        opts=in_ns)
            lim = ns.limits
            # No default CPU limit unless the user set one on a namespace of their own (spec/platform.py Limits).
            default = {"memory": lim.default_memory}
            if lim.default_cpu is not None:
                default["cpu"] = lim.default_cpu
            k8s.core.v1.LimitRange(
                f"{name}-limits-{ns.name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="llmfleet-defaults", namespace=ns.name, labels=MANAGED_BY),
                spec=k8s.core.v1.LimitRangeSpecArgs(limits=[k8s.core.v1.LimitRangeItemArgs(
                    type="Container",
                    default=default,
                    default_request={"cpu": lim.default_request_cpu, "memory": lim.default_request_memory},
                )]),
                opts=in_ns)

        self.priority_classes = {}
        for key, tier in PRIORITY_TIERS.items():
            self.priority_classes[key] = k8s.scheduling.v1.PriorityClass(
                f"{name}-priority-{key}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=tier.name, labels=MANAGED_BY),
                value=tier.value,
                global_default=False,
                preemption_policy="PreemptLowerPriority" if tier.preempts else "Never",
                description=tier.description,
                opts=child)

        self.register_outputs({"namespaces": list(self.namespaces)})
