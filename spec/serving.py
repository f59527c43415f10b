"""The serving layer's stack-wide settings (`llmfleet:serving`) and the checks that span models and secrets."""
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from catalog.versions import VLLM_IMAGE
from spec.platform import PROMETHEUS_URL, SERVING_NAMESPACE, PlatformSpec
from spec.reader import Obj

# ReadWriteMany storage classes for a model cache shared by every replica, one per cloud, in this one place.
# - gcp: `standard-rwx` is created by GKE when the Filestore CSI driver add-on is enabled (GKE docs, "Filestore
#   CSI driver", read 2026-11). The add-on must be on; whether the cluster component enables it is not checked here.
# - azure: `azurefile-csi-premium` is one of AKS's built-in classes (AKS docs, "Azure Files CSI", read 2026-11).
# - aws: EKS has no built-in RWX class; `efs-sc` is the name the EFS CSI driver docs use for a class backed by
#   an EFS file system. The file system, driver add-on and class must exist (not created by this layer).
# - existing: no default; a stack that wants a shared cache names its class.
RWX_STORAGE_CLASSES = {"aws": "efs-sc", "gcp": "standard-rwx", "azure": "azurefile-csi-premium"}

# kube-prometheus-stack's Prometheus Service when the release is named `kube-prometheus-stack` in the monitoring
# namespace (`<fullname>-prometheus`). Unverified against the observability layer's release name: override with
# llmfleet:serving.prometheusUrl if it differs.
DEFAULT_PROMETHEUS_URL = PROMETHEUS_URL

PINNED_IMAGE = r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]{1,128}|@sha256:[a-f0-9]{64})"


@dataclass(frozen=True)
class ServingSpec:
    namespace: str = SERVING_NAMESPACE
    vllm_image: str = VLLM_IMAGE
    prometheus_url: str = DEFAULT_PROMETHEUS_URL
    rwx_storage_class: Optional[str] = None     # for cache mode shared; None on clusters without a default
    hf_token: object = None                     # SecretRef of llmfleet:hfToken, when set

    def storage_class_for(self, model) -> Optional[str]:
        return model.cache.storage_class or (self.rwx_storage_class if model.cache.mode == "shared" else None)


def read_serving(o: Obj, models: Sequence, secrets: dict, cloud: str, platform: PlatformSpec,
                 root: Obj) -> ServingSpec:
    namespace = o.str("namespace", SERVING_NAMESPACE)
    if namespace not in [n.name for n in platform.namespaces]:
        o.error("namespace", f"must be a namespace of llmfleet:platform (it carries the GPU quota and Pod Security "
                             f"level), got {namespace!r}")
    image = o.str("vllmImage", VLLM_IMAGE, pattern=PINNED_IMAGE,
                  hint="a pinned image reference such as vllm/vllm-openai:v0.33.0")
    if isinstance(image, str) and re.search(r":latest$", image):
        o.error("vllmImage", f"must be pinned to a release, not latest, got {image!r}")
    prometheus = o.str("prometheusUrl", DEFAULT_PROMETHEUS_URL, pattern=r"https?://[^\s]+",
                       hint="an http(s) URL of the Prometheus that scrapes vLLM")
    storage_class = o.str("storageClass", RWX_STORAGE_CLASSES.get(cloud),
                          pattern=r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", hint="a StorageClass name")

    hf_token = secrets.get("hfToken")
    if hf_token is None:
        for m in models:
            if m.gated:
                root.error("hfToken", f"is required: model {m.name!r} downloads gated weights ({m.arch.hf_id}); "
                                      f"set it with `pulumi config set --secret llmfleet:hfToken`")
    for i, m in enumerate(models):
        if m.cache.mode == "shared" and not (m.cache.storage_class or storage_class):
            root.problems.add(f"{root.key_path('models')}[{i}].cache.storageClass",
                              f"is required for a shared cache on cloud {cloud} (no default ReadWriteMany class); "
                              f"or set llmfleet:serving.storageClass")
    return ServingSpec(namespace=namespace, vllm_image=image, prometheus_url=prometheus,
                       rwx_storage_class=storage_class, hf_token=hf_token)
