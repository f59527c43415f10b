"""The serving layer: the Hugging Face token Secret, the operators the stack's models need, and one component
per model on its engine (vLLM, KServe or Ray Serve), each sized by its placement."""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.descriptors import PoolDescriptor
from components.serving.common import (HF_SECRET_KEY, HF_SECRET_NAME, KSERVE_SERVICE_ACCOUNT, MANAGED_BY,
                                       pool_descriptors, resource_share)
from components.serving.controllers import ServingControllers
from components.serving.kserve import KServeModel
from components.serving.rayserve import RayServeModel
from components.serving.vllm import VllmServer
from spec.models import ModelSpec
from spec.platform import SYSTEM_NAMESPACE
from spec.pools import PoolSpec
from spec.serving import ServingSpec


class ServingLayerArgs(TypedDict):
    models: Sequence[ModelSpec]
    """Placed models (spec.models)."""
    pools: Sequence[PoolSpec]
    """The stack's pool specs (node sizes)."""
    descriptors: Sequence[PoolDescriptor]
    """The cluster component's pool descriptors (labels, taints per capacity group)."""
    serving: ServingSpec
    """Stack-wide serving settings (namespace, image, Prometheus, storage class, HF token)."""
    namespaces: dict
    """Namespace name -> Namespace resource from the platform base."""
    depends_on: Sequence[pulumi.Resource]
    """Layers the model pods need first (NVIDIA device plugin, monitoring CRDs), if the stack has them."""
    metrics_server: bool
    """Whether the VPA install must bring metrics-server (spec.cluster.METRICS_API_BUILTIN is false)."""
    restricted: bool
    """Model servers meet Pod Security `restricted` (llmfleet:security.restrictedPods); optional, default off."""
    external_token: tuple
    """(Secret name, resources that write it): the token Secret comes from a vault or a SealedSecret
    (stacks/secrets.py) instead of llmfleet:hfToken; optional, default none."""
    ray_image: str
    """Ray Serve LLM image (llmfleet:images ray-llm); optional, default the catalog's."""
    gateway: Optional[pulumi.Resource]
    """The stack's Gateway controllers, if any (cert-manager installs after them); optional."""


class ServingLayer(pulumi.ComponentResource):
    controllers: ServingControllers
    """Operators installed for the models' engines and autoscalers."""
    models: dict
    """Model name -> its VllmServer, KServeModel or RayServeModel."""
    hf_secret: Optional[k8s.core.v1.Secret]
    """The Hugging Face token Secret, when llmfleet:hfToken is set."""
    kserve_service_account: Optional[k8s.core.v1.ServiceAccount]
    """ServiceAccount listing that Secret for KServe's storage initializer, when a KServe model and a token exist."""

    def __init__(self, name: str, args: ServingLayerArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:serving:ServingLayer", name, None, opts)
        s = args["serving"]
        ns = s.namespace
        pools = {p.name: p for p in args["pools"]}
        layers = list(args["depends_on"])
        serving_ns = [args["namespaces"][ns]] if ns in args["namespaces"] else []
        system_ns = [args["namespaces"][SYSTEM_NAMESPACE]] if SYSTEM_NAMESPACE in args["namespaces"] else []

        self.hf_secret = None
        hf_name = None
        external = args.get("external_token")
        token_writers = list(external[1]) if external else []
        if external:
            hf_name = external[0]
        elif s.hf_token is not None:
            # The value stays a Pulumi secret end to end: encrypted in state, `[secret]` in previews.
            self.hf_secret = k8s.core.v1.Secret(
                f"{name}-hf-token",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=HF_SECRET_NAME, namespace=ns, labels=MANAGED_BY),
                type="Opaque",
                string_data={HF_SECRET_KEY: s.hf_token.output()},
                opts=ResourceOptions(parent=self, depends_on=serving_ns))
            hf_name = HF_SECRET_NAME

        self.kserve_service_account = None
        if hf_name is not None and any(m.engine == "kserve" for m in args["models"]):
            # KServe's storage initializer reads HF_TOKEN only from Secrets its pod's ServiceAccount lists (kserve
            # v0.20.0 pkg/credentials/service_account_credentials.go). The model server needs no API token.
            self.kserve_service_account = k8s.core.v1.ServiceAccount(
                f"{name}-kserve-sa",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=KSERVE_SERVICE_ACCOUNT, namespace=ns, labels=MANAGED_BY),
                secrets=[k8s.core.v1.ObjectReferenceArgs(name=hf_name)],
                automount_service_account_token=False,
                opts=ResourceOptions(parent=self, depends_on=serving_ns + [r for r in (self.hf_secret,) if r]
                                     + token_writers))

        self.controllers = ServingControllers(
            f"{name}-controllers",
            {"models": args["models"], "namespace": SYSTEM_NAMESPACE, "prometheus_url": s.prometheus_url,
             "depends_on": system_ns + layers, "cpu_vpa": any(m.autoscaling.vpa for m in args["models"]),
             "metrics_server": args["metrics_server"], "gateway": args.get("gateway")},
            opts=ResourceOptions(parent=self))
        ctl = self.controllers
        base = serving_ns + layers + [r for r in (self.hf_secret, ctl.vpa) if r is not None] + token_writers
        sa_name = KSERVE_SERVICE_ACCOUNT if self.kserve_service_account is not None else None

        self.models = {}
        for m in args["models"]:
            # CPU and memory are a share of the node: with fallback pools, the smallest share fits all of them.
            pool = min((pools[p] for p in m.placement.pools), key=resource_share)
            common = {"model": m, "pool": pool,
                      "descriptors": pool_descriptors(m, args["descriptors"]), "namespace": ns, "hf_secret": hf_name}
            hardening = {"restricted": args.get("restricted", False)}
            child = ResourceOptions(parent=self)
            if m.engine == "kserve":
                deps = base + [ctl.kserve] + ([ctl.keda] if m.autoscaling.kind == "keda" and ctl.keda else []) \
                    + ([self.kserve_service_account] if self.kserve_service_account is not None else [])
                self.models[m.name] = KServeModel(f"{name}-{m.name}", {
                    **common, "service_account": sa_name, "prometheus_url": s.prometheus_url,
                    "depends_on": deps}, opts=child)
            elif m.engine == "rayserve":
                ray = {"image": args["ray_image"]} if args.get("ray_image") else {}
                self.models[m.name] = RayServeModel(f"{name}-{m.name}", {
                    **common, **hardening, **ray, "depends_on": base + [ctl.kuberay]}, opts=child)
            else:
                self.models[m.name] = VllmServer(f"{name}-{m.name}", {
                    **common, **hardening, "image": s.vllm_image, "storage_class": s.storage_class_for(m),
                    "cache_min_gi": s.cache_min_gi(m),
                    "prometheus_url": s.prometheus_url, "keda": ctl.keda, "adapter": ctl.adapter,
                    "depends_on": base}, opts=child)
        self.register_outputs({"models": sorted(self.models)})
