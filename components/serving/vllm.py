"""VllmServer: one model on the vLLM OpenAI server, as a Deployment (shared or no cache) or a StatefulSet (a
cache volume per replica), with its Service, ServiceMonitor, PDB and autoscaler."""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import CustomTimeouts, ResourceOptions

from components.descriptors import PoolDescriptor
from components.serving import autoscaling as scaling
from components.serving import common as c
from components.serving.hardening import restrict_vllm
from spec.models import ModelSpec
from spec.pools import PoolSpec


def vllm_args(model: ModelSpec) -> list[str]:
    """`vllm serve <hf id>` (positional model tag; `--model` is deprecated) with the sized flags."""
    return [model.hf_repo, "--served-model-name", model.name, "--port", str(c.PORT)] \
        + c.engine_flags(model) + list(model.extra_args)


def rollout(model: ModelSpec, descriptors: Sequence[PoolDescriptor]) -> dict:
    """Surge one replica only when the pool can hold one more than the autoscaler's maximum; otherwise the new
    pod would wait forever for GPUs held by the old one, so replace in place (one replica down at a time)."""
    tp = model.placement.tensor_parallel
    pool_gpus = sum(d.max_nodes * d.gpus_per_node for d in descriptors)
    if pool_gpus >= (model.replicas.max + 1) * tp:
        return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}


def pod_spec(model: ModelSpec, pool: PoolSpec, descriptors: Sequence[PoolDescriptor], image: str,
             hf_secret: Optional[str], cache_volume: Optional[dict], restricted: bool = False) -> dict:
    tp = model.placement.tensor_parallel
    container = {
        "name": "vllm",
        "image": image,
        "imagePullPolicy": c.IMAGE_PULL_POLICY,
        "command": ["vllm", "serve"],
        "args": vllm_args(model),
        "ports": [{"name": "http", "containerPort": c.PORT, "protocol": "TCP"}],
        "env": c.hf_env(hf_secret, optional=not model.gated) + [{"name": "HF_HOME", "value": c.CACHE_MOUNT}],
        "resources": c.resources(model, pool),
        "volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"},
                         {"name": "model-cache", "mountPath": c.CACHE_MOUNT}] + c.hf_mounts(hf_secret),
        "securityContext": c.container_security(),
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(c.PRESTOP_SLEEP_SECONDS)]}}},
        **c.probes(model),
    }
    volumes = [c.shm_volume(tp)]
    if cache_volume is not None:
        volumes.append(cache_volume)
    volumes += c.hf_volumes(hf_secret, optional=not model.gated)
    spec = {
        "containers": [container],
        "volumes": volumes,
        **c.gpu_pod_scheduling(model, descriptors),
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
    }
    return restrict_vllm(spec) if restricted else spec


class VllmServerArgs(TypedDict):
    model: ModelSpec
    """The placed model (placement is set)."""
    pool: PoolSpec
    """The pool the model is placed on (node size for CPU/memory shares)."""
    descriptors: Sequence[PoolDescriptor]
    """Every capacity group of that pool, from the cluster component."""
    namespace: str
    """Serving namespace."""
    image: str
    """Pinned vLLM image."""
    hf_secret: Optional[str]
    """Name of the Secret holding the Hugging Face token, if the stack has one."""
    storage_class: Optional[str]
    """Storage class of the cache volume (shared: RWX class; per-replica: None = the cluster default)."""
    cache_min_gi: int
    """Smallest claim that class provisions (Filestore, premium Azure Files); the claim asks for at least this."""
    prometheus_url: str
    """Prometheus the KEDA trigger queries."""
    keda: Optional[pulumi.Resource]
    """KEDA release (ScaledObjects depend on it)."""
    adapter: Optional[pulumi.Resource]
    """prometheus-adapter release (the HPA's metric comes from it)."""
    depends_on: Sequence[pulumi.Resource]
    """Namespace, HF Secret, and layers that must exist first (NVIDIA device plugin, monitoring CRDs)."""
    restricted: bool
    """Run as non-root with a read-only root filesystem (components/serving/hardening.py); optional, default off."""


class VllmServer(pulumi.ComponentResource):
    workload: pulumi.CustomResource
    """The Deployment or StatefulSet."""
    service: k8s.core.v1.Service
    """ClusterIP Service on port 8000 (named http)."""
    autoscaler: Optional[pulumi.CustomResource]
    """HPA or KEDA ScaledObject, if any (never both)."""

    def __init__(self, name: str, args: VllmServerArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:serving:VllmServer", name, None, opts)
        m, ns, deps = args["model"], args["namespace"], list(args["depends_on"])
        descriptors = args["descriptors"]
        meta_labels = c.labels(m)
        timeout = c.timeout_seconds(m)
        per_replica = m.cache.mode == "per-replica"
        kind = "StatefulSet" if per_replica else "Deployment"
        # A smaller claim would be rounded up by the CSI driver anyway; asking for the real size keeps it visible.
        claim_gi = max(c.cache_size_gi(m), args.get("cache_min_gi", 0))

        cache_volume: Optional[dict]
        if m.cache.mode == "shared":
            pvc = k8s.core.v1.PersistentVolumeClaim(
                f"{name}-cache",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{m.name}-cache", namespace=ns, labels=meta_labels),
                spec={"accessModes": ["ReadWriteMany"], "storageClassName": args["storage_class"],
                      "resources": {"requests": {"storage": f"{claim_gi}Gi"}}},
                # WaitForFirstConsumer classes leave the claim Pending until the pod exists; pulumi-kubernetes
                # treats Pending as ready for them (pulumi-kubernetes#3130, merged 2024, before the pinned 4.34.2),
                # so the claim does not deadlock the Deployment that binds it.
                opts=ResourceOptions(parent=self, depends_on=deps))
            deps.append(pvc)
            cache_volume = {"name": "model-cache", "persistentVolumeClaim": {"claimName": f"{m.name}-cache"}}
        elif per_replica:
            cache_volume = None       # volumeClaimTemplates below
        else:
            # No persistent cache: weights land on the node's disk and are downloaded again by each new pod.
            cache_volume = {"name": "model-cache", "emptyDir": {"sizeLimit": f"{c.cache_size_gi(m)}Gi"}}

        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=m.name, namespace=ns, labels=meta_labels),
            spec={"type": "ClusterIP", "selector": c.selector(m),
                  "ports": [{"name": "http", "port": c.PORT, "targetPort": "http", "protocol": "TCP"}]},
            opts=ResourceOptions(parent=self, depends_on=deps))

        template = {"metadata": {"labels": meta_labels},
                    "spec": pod_spec(m, args["pool"], descriptors, args["image"], args["hf_secret"], cache_volume,
                                     args.get("restricted", False))}
        autoscaled = m.autoscaling.kind != "none"
        metadata = k8s.meta.v1.ObjectMetaArgs(
            name=m.name, namespace=ns, labels=meta_labels,
            # Pulumi waits this long for readiness (default 10 minutes, shorter than a large model's load).
            annotations={"pulumi.com/timeoutSeconds": str(timeout)})
        # Day-2 changes (docs/changing-a-stack.md). With an autoscaler the count is its to own, but leaving
        # spec.replicas out would not hand it over: server-side apply removes a field its last manager stops
        # setting, so switching a model from fixed replicas to an autoscaler would reset it to 1. With
        # ignore_changes pulumi-kubernetes (4.34.2, await.go, SSA ignoreChanges) drops the field when another
        # manager (the HPA) owns it and re-sends the live value while Pulumi still does: the count is never reset.
        # A per-replica cache's claim templates are immutable and only used for new ordinals (existing claims are
        # kept and re-bound by name), so a change there (size, class) would replace the StatefulSet, every
        # replica at once, for nothing: it is ignored; grow existing claims by expanding them (docs).
        ignore = (["spec.replicas"] if autoscaled else []) + (["spec.volumeClaimTemplates"] if per_replica else [])
        wait = ResourceOptions(parent=self, depends_on=deps, ignore_changes=ignore,
                               custom_timeouts=CustomTimeouts(create=f"{timeout // 60}m", update=f"{timeout // 60}m"))
        # The first `up` starts at the floor (at least one replica, so readiness can be awaited).
        spec: dict = {"selector": {"matchLabels": c.selector(m)}, "template": template,
                      "replicas": max(1, m.replicas.min)}
        if per_replica:
            spec.update({
                "serviceName": m.name, "podManagementPolicy": "Parallel",
                "updateStrategy": {"type": "RollingUpdate"},
                "volumeClaimTemplates": [{
                    # Only labels that never change: claim templates are immutable (no version, no engine).
                    "metadata": {"name": "model-cache", "labels": c.claim_labels(m)},
                    "spec": {"accessModes": ["ReadWriteOnce"],
                             **({"storageClassName": args["storage_class"]} if args["storage_class"] else {}),
                             "resources": {"requests": {"storage": f"{claim_gi}Gi"}}}}],
            })
            self.workload = k8s.apps.v1.StatefulSet(f"{name}-statefulset", metadata=metadata, spec=spec, opts=wait)
        else:
            spec["strategy"] = rollout(m, descriptors)
            self.workload = k8s.apps.v1.Deployment(f"{name}-deployment", metadata=metadata, spec=spec, opts=wait)

        k8s.apiextensions.CustomResource(
            f"{name}-servicemonitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=m.name, namespace=ns, labels=meta_labels),
            spec={"selector": {"matchLabels": c.selector(m)}, "namespaceSelector": {"matchNames": [ns]},
                  "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}]},
            opts=ResourceOptions(parent=self, depends_on=deps))

        scaling.pdb(self, f"{name}-pdb", m, ns)
        self.autoscaler = None
        a = m.autoscaling
        if a.kind == "hpa":
            self.autoscaler = scaling.hpa(self, f"{name}-hpa", m, ns, kind, m.name,
                                          [self.workload] + ([args["adapter"]] if args["adapter"] else []))
        elif a.kind in ("keda", "kedaRedis"):
            self.autoscaler = scaling.scaled_object(self, f"{name}-scaledobject", m, ns, kind, m.name,
                                                    args["prometheus_url"],
                                                    [self.workload] + ([args["keda"]] if args["keda"] else []))
        if a.vpa:
            scaling.vpa(self, f"{name}-vpa", m, ns, kind, m.name, "Off", [self.workload])
        self.register_outputs({"service": self.service.metadata.name})
