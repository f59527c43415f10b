"""Composes a stack from its spec: cluster (per cloud) -> platform base -> the layers that build on the pools.

This is the only place that decides which components a stack gets. Every Kubernetes object goes through the
cluster's provider, passed once here as a parent option so it flows to every child.
"""
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi import ResourceOptions

from components.cost import CostLayer
from components.existing import ExistingCluster
from components.gateway import gateway_controllers, gateway_paths, stack_gateway
from components.nvidia.labels import dcgm_source
from components.nvidia.stack import NvidiaStack
from components.nvidia.values import toolkit_env
from components.observability.stack import Observability
from components.observability.serving import ServingObservability
from components.platform import PlatformBase
from components.rag import rag_system
from components.serving import ServingLayer
from spec.platform import GPU_OPERATOR_NAMESPACE, MONITORING_NAMESPACE, SYSTEM_NAMESPACE
from spec.cluster import METRICS_API_BUILTIN
from spec.pools import pool_groups
from spec.stack import StackSpec
from stacks.exports import export_federation


@dataclass
class Stack:
    spec: StackSpec
    cluster: Any
    platform: PlatformBase
    observability: Any = None
    nvidia: Any = None
    serving: Any = None
    cost: Any = None
    gateway: Any = None       # components/gateway GatewayLayer (virtual_models, url, openai_url), if any


def make_cluster(spec: StackSpec):
    name = spec.cluster.name
    # A model's shared cache on the cloud's own RWX class: the cluster provides the storage behind it.
    shared_cache = spec.serving.needs_managed_rwx(spec.models)
    if spec.cloud == "existing":
        return ExistingCluster(name, {"cluster": spec.cluster, "pools": spec.pools,
                                      "kubeconfig": spec.secrets["kubeconfig"]})
    if spec.cloud == "aws":
        from components.aws import EksCluster   # imported here: other clouds' stacks never load pulumi_aws
        return EksCluster(name, {"cluster": spec.cluster, "pools": spec.pools, "prices": spec.prices,
                                 "shared_cache": shared_cache, "mig_strategy": spec.nvidia.mig_strategy})
    if spec.cloud == "gcp":
        from components.gcp import GkeCluster   # imported here: other clouds' stacks never load pulumi_gcp
        return GkeCluster(name, {"cluster": spec.cluster, "pools": spec.pools, "prices": spec.prices,
                                 "shared_cache": shared_cache, "pool_groups": pool_groups(spec.pools, spec.models)})
    if spec.cloud == "azure":
        from components.azure import AksCluster   # imported here: other clouds' stacks never load azure-native
        return AksCluster(name, {"cluster": spec.cluster, "pools": spec.pools, "prices": spec.prices,
                                 "mig_strategy": spec.nvidia.mig_strategy})
    raise AssertionError(f"unreachable: spec/cluster.py admits only {spec.cloud!r} clouds it knows")


def cloud_providers(cluster) -> dict:
    """The cluster's explicit cloud providers (EKS: the region's AWS provider), for cloud resources beside it."""
    aws_provider = getattr(cluster, "aws_provider", None)
    return {"aws": aws_provider} if aws_provider is not None else {}


def network_policies(spec: StackSpec, cluster, platform, serving, extra_charts: dict = None) -> None:
    """Default deny plus the path table's rules in every namespace the program owns (components/security)."""
    from components.observability.stack import gke_managed_dcgm
    from components.security import NetworkPolicies
    from components.security.paths import NetworkInputs, endpoints_for
    from components.serving.common import PORT
    from components.serving.kserve import HF_RUNTIME_PORT
    from components.serving.rayserve import METRICS_PORT
    charts = {"kube-prometheus-stack": MONITORING_NAMESPACE,
              **{chart: SYSTEM_NAMESPACE for chart in serving.controllers.values}, **(extra_charts or {})}
    dcgm = (("gpu-namespace",) if dcgm_source(spec.nvidia.stack, spec.nvidia.dcgm_exporter, cluster.pools) else ()) \
        + (("gke",) if gke_managed_dcgm(spec.nvidia, cluster.pools) else ())
    clients, scrapes = tuple(spec.security.model_clients), ()
    if spec.rag is not None:
        # The RAG system (components/rag): Prometheus scrapes its embedding service (TEI metrics on the HTTP port)
        # and Qdrant; its front end is a model client (spec/stack.py adds its namespace to modelClients).
        from catalog.embeddings import TEI_PORT
        from components.rag.vectorstore import HTTP_PORT
        scrapes = (("rag-embeddings", spec.rag.namespace, (TEI_PORT,)), ("rag-qdrant", spec.rag.namespace, (HTTP_PORT,)))
    inputs = NetworkInputs(
        serving_namespace=spec.serving.namespace, model_clients=clients, scrapes=scrapes, gateway=gateway_paths(spec),
        models=endpoints_for(spec.models, HF_RUNTIME_PORT, METRICS_PORT["containerPort"], PORT),
        charts=charts, prometheus_url=spec.serving.prometheus_url, dcgm=dcgm,
        redis=tuple(m.autoscaling.redis_address for m in spec.models if m.autoscaling.kind == "kedaRedis"),
        metrics_server=bool(((serving.controllers.values.get("vpa") or {}).get("metrics-server") or {}).get("enabled")))
    NetworkPolicies(f"{spec.cluster.name}-network", {"inputs": inputs, "depends_on": [platform]},
                    opts=ResourceOptions(providers={"kubernetes": cluster.provider}))


def compose(spec: StackSpec) -> Stack:
    cluster = make_cluster(spec)
    on_cluster = ResourceOptions(providers={"kubernetes": cluster.provider})
    platform = PlatformBase(f"{spec.cluster.name}-platform",
                            {"platform": spec.platform, "kubernetes_version": spec.cluster.kubernetes_version},
                            opts=on_cluster)
    # Observability first: its chart brings the monitoring CRDs the GPU Operator's ServiceMonitor needs.
    after_platform = ResourceOptions(providers={"kubernetes": cluster.provider}, depends_on=[platform])
    observability = Observability(f"{spec.cluster.name}-observability", {
        "observability": spec.observability, "nvidia": spec.nvidia, "pools": cluster.pools,
        "namespace": MONITORING_NAMESPACE, "gpu_namespace": GPU_OPERATOR_NAMESPACE}, opts=after_platform)
    nvidia = NvidiaStack(f"{spec.cluster.name}-nvidia", {
        "nvidia": spec.nvidia, "pools": cluster.pools, "namespace": GPU_OPERATOR_NAMESPACE,
        "toolkit_env": toolkit_env(spec.cloud, spec.cluster.distribution)},
        opts=ResourceOptions(providers={"kubernetes": cluster.provider}, depends_on=[platform, observability]))
    # Model pods need the GPU device plugin (NVIDIA layer) and the monitoring CRDs (ServiceMonitor, PodMonitor);
    # shared-cache claims need the StorageClass the cluster made for them (EKS `efs-sc`).
    # Claims without a class (per-replica caches) need the cluster's default class (EKS `gp3`).
    storage = [c for c in (getattr(cluster, "model_cache", None), getattr(cluster, "block_storage", None)) if c]
    # The Hugging Face token from a vault or a SealedSecret instead of Pulumi config (stacks/secrets.py).
    from stacks.secrets import deliver_token
    token = deliver_token(spec, cluster, platform)
    external = {"external_token": (token.secret_name, token.resources)} if token.resources else {}
    gateway_ctl = gateway_controllers(spec, cluster, after=[platform])    # before cert-manager (serving controllers)
    serving = ServingLayer(f"{spec.cluster.name}-serving", {
        "models": spec.models, "pools": spec.pools, "descriptors": cluster.pools, "serving": spec.serving,
        "namespaces": platform.namespaces, "depends_on": [nvidia, observability, *storage],
        "metrics_server": not METRICS_API_BUILTIN[spec.cloud], "restricted": spec.security.restricted_pods,
        "ray_image": spec.images.get("ray-llm"), **external, "gateway": gateway_ctl},
        opts=ResourceOptions(providers={"kubernetes": cluster.provider}, depends_on=[platform]))
    if spec.security.network_policies:
        network_policies(spec, cluster, platform, serving, token.charts)
    cost = CostLayer(f"{spec.cluster.name}-cost", {
        "cost_guards": spec.cost_guards, "models": spec.models, "pools": cluster.pools, "cluster": spec.cluster.name,
        "cloud": spec.cloud, "namespace": MONITORING_NAMESPACE, "serving_namespace": spec.serving.namespace,
        "gpu_metrics": dcgm_source(spec.nvidia.stack, spec.nvidia.dcgm_exporter, cluster.pools) is not None,
        "grafana": spec.observability.grafana, "depends_on": [observability.release]}, opts=after_platform)
    ServingObservability(f"{spec.cluster.name}-serving-observability", {"models": spec.models, "serving_namespace": spec.serving.namespace, "namespace": MONITORING_NAMESPACE, "stack": spec.stack, "grafana": spec.observability.grafana, "depends_on": [observability.release]}, opts=after_platform)  # noqa: E501

    rag = rag_system(spec, cluster, after=[platform, serving], depends_on=[nvidia, observability, *storage])
    # The federation hub's key is one more client of this stack's Gateway (docs/federation.md).
    federation_key = export_federation(spec)    # the federation stack's view of this one
    gateway = stack_gateway(spec, cluster, gateway_ctl, serving, rag,
                            client_keys={"federation": federation_key} if federation_key is not None else None)
    if spec.budget is not None:
        from components.cost.budget import CloudBudget
        CloudBudget(f"{spec.cluster.name}-budget", {
            "budget": spec.budget, "cloud": spec.cloud, "cluster": spec.cluster.name,
            "project": getattr(spec.cluster.settings, "project", None), "tags": spec.cluster.tags},
            opts=ResourceOptions(providers=cloud_providers(cluster)))

    pulumi.export("opencostAdminToken", cost.admin_token)
    if observability.grafana_admin_password is not None:
        pulumi.export("grafanaAdmin", {"user": "admin", "password": observability.grafana_admin_password})
    pulumi.export("cloud", spec.cloud)
    pulumi.export("clusterName", spec.cluster.name)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    # What names this cluster for the Kubernetes provider (see each cluster component): a federation hub's provider
    # uses it too, so a changed kubeconfig updates that provider instead of replacing it and every hub object.
    pulumi.export("clusterIdentifier", cluster.cluster_identifier)
    pulumi.export("gpuPools", [{"name": p.name, "nodeGroup": p.node_group, "capacity": p.capacity,
                                "instanceType": p.instance_type, "gpu": p.gpu.key, "gpusPerNode": p.gpus_per_node}
                               for p in cluster.pools])
    pulumi.export("models", [{"name": m.name, "pool": m.placement.pool, "tensorParallel": m.placement.tensor_parallel,
                              "kvTokens": m.placement.kv_tokens} for m in spec.models if m.placement])
    return Stack(spec, cluster, platform, observability, nvidia, serving, cost, gateway)
