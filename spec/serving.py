"""The serving layer's stack-wide settings (`llmfleet:serving`) and the checks that span models and secrets."""
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from catalog.versions import VLLM_IMAGE
from spec.platform import DEFAULT_NAMESPACES, PROMETHEUS_URL, SERVING_NAMESPACE, PlatformSpec
from spec.reader import Obj

# ReadWriteMany storage classes for a model cache shared by every replica, one per cloud, in this one place.
# - gcp: `standard-rwx` (Filestore basic HDD) is created by GKE when the Filestore CSI driver add-on is enabled
#   (GKE docs, "Filestore CSI driver", read 2026-11); the GKE cluster component enables it when a model needs it.
# - azure: `azurefile-csi-premium` (SSD file shares) is one of AKS's built-in classes (AKS docs, "Azure Files
#   CSI", read 2026-11); the AKS cluster component keeps the Azure Files CSI driver on explicitly.
# - aws: EKS has no built-in RWX class; `efs-sc` is the name the EFS CSI driver docs use for a class backed by
#   an EFS file system. The EKS cluster component creates the file system, the driver add-on and the class
#   (components/aws/storage.py) when a model needs it.
# - existing: no default; a stack that wants a shared cache names its class.
RWX_STORAGE_CLASSES = {"aws": "efs-sc", "gcp": "standard-rwx", "azure": "azurefile-csi-premium"}

# ReadWriteMany classes whose backing service the cluster component turns on when a model's shared cache uses
# one (stacks/compose.py): EKS creates `efs-sc` with an EFS file system (components/aws/storage.py); GKE enables the
# Filestore CSI add-on, which brings its classes; AKS runs the Azure Files CSI driver on every cluster.
# GKE names other than standard-rwx, premium-rwx and enterprise-rwx were not checked against a live cluster.
MANAGED_RWX_CLASSES = {
    "aws": ("efs-sc",),
    "gcp": ("standard-rwx", "premium-rwx", "enterprise-rwx", "enterprise-multishare-rwx", "zonal-rwx"),
    "azure": ("azurefile-csi", "azurefile-csi-premium"),
}

# The smallest volume each class provisions, in GiB. Both CSI drivers round a smaller request up without an
# error, so a smaller claim would only hide the real size (and bill). Sources: kubernetes-sigs/
# gcp-filestore-csi-driver pkg/csi_driver/controller.go (2026-06: basic HDD 100 GiB, basic SSD 2.5 TiB,
# enterprise 1 TiB, zonal 1 TiB; multishare shares 100 GiB, pkg/util/multishare_defs.go) and GKE's Filestore
# tiers page (basic HDD below 1 TiB only on GKE 1.33 and later); kubernetes-sigs/azurefile-csi-driver
# pkg/azurefile/azurefile.go (2026-08: premium shares 100 GiB). EFS has no size: the request is informational.
RWX_MIN_SIZE_GI = {
    ("gcp", "standard-rwx"): 100,
    ("gcp", "premium-rwx"): 2560,
    ("gcp", "enterprise-rwx"): 1024,
    ("gcp", "enterprise-multishare-rwx"): 100,
    ("gcp", "zonal-rwx"): 1024,
    ("azure", "azurefile-csi-premium"): 100,
}
# Before GKE 1.33 the Filestore CSI driver's basic HDD instances start at 1 TiB.
GKE_SMALL_BASIC_HDD_SINCE = (1, 33)
GKE_OLD_BASIC_HDD_MIN_GI = 1024
RWX_MIN_REASONS = {
    ("gcp", "standard-rwx"): "basic HDD Filestore instance",
    ("gcp", "premium-rwx"): "basic SSD Filestore instance",
    ("gcp", "enterprise-rwx"): "enterprise Filestore instance",
    ("gcp", "enterprise-multishare-rwx"): "Filestore multishare share",
    ("gcp", "zonal-rwx"): "zonal Filestore instance",
    ("azure", "azurefile-csi-premium"): "premium Azure file share",
}


def rwx_min_size_gi(cloud: str, storage_class: Optional[str], kubernetes_version: Optional[str]) -> int:
    """The smallest claim `storage_class` provisions on `cloud` (0: no minimum known)."""
    version = re.fullmatch(r"(\d+)\.(\d+)", kubernetes_version or "")
    if (cloud, storage_class) == ("gcp", "standard-rwx") and version:
        if (int(version[1]), int(version[2])) < GKE_SMALL_BASIC_HDD_SINCE:
            return GKE_OLD_BASIC_HDD_MIN_GI
    return RWX_MIN_SIZE_GI.get((cloud, storage_class), 0)


# The observability layer's Prometheus (its release and fullname are fixed in spec/platform.py); a stack with its
# own Prometheus sets llmfleet:serving.prometheusUrl.
DEFAULT_PROMETHEUS_URL = PROMETHEUS_URL

PINNED_IMAGE = r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]{1,128}|@sha256:[a-f0-9]{64})"


@dataclass(frozen=True)
class ServingSpec:
    namespace: str = SERVING_NAMESPACE
    vllm_image: str = VLLM_IMAGE
    prometheus_url: str = DEFAULT_PROMETHEUS_URL
    rwx_storage_class: Optional[str] = None     # for cache mode shared; None on clusters without a default
    hf_token: object = None                     # SecretRef of llmfleet:hfToken, when set
    cloud: str = "existing"
    kubernetes_version: Optional[str] = None

    def storage_class_for(self, model) -> Optional[str]:
        return model.cache.storage_class or (self.rwx_storage_class if model.cache.mode == "shared" else None)

    def cache_min_gi(self, model) -> int:
        """The smallest claim the model's cache class provisions (0: none known, e.g. EFS or a disk class)."""
        if model.cache.mode == "none":
            return 0
        return rwx_min_size_gi(self.cloud, self.storage_class_for(model), self.kubernetes_version)

    def needs_managed_rwx(self, models) -> bool:
        """Whether a model's shared cache uses a class the cluster component must provide (EFS on EKS, the
        Filestore add-on on GKE, Azure Files on AKS)."""
        managed = MANAGED_RWX_CLASSES.get(self.cloud, ())
        return any(m.cache.mode == "shared" and self.storage_class_for(m) in managed for m in models)


def read_serving(o: Obj, models: Sequence, secrets: dict, cloud: Optional[str], platform: PlatformSpec,
                 root: Obj, kubernetes_version: Optional[str] = None,
                 model_paths: Optional[Sequence[str]] = None, hf_token_required: bool = True) -> ServingSpec:
    """`cloud` is None when llmfleet:cloud was rejected (cloud-dependent rules are skipped); `model_paths` are the
    models' own paths (list items that are not objects are skipped, so positions may differ)."""
    paths = list(model_paths) if model_paths is not None else \
        [f"{root.key_path('models')}[{i}]" for i in range(len(models))]
    namespace = o.str("namespace", SERVING_NAMESPACE)
    if o.valid("namespace") and not root.problems.under(root.key_path("platform")) \
            and namespace not in [n.name for n in platform.namespaces]:
        o.error("namespace", f"must be a namespace of llmfleet:platform (it carries the GPU quota and Pod Security "
                             f"level), got {namespace!r}")
    elif models and namespace not in DEFAULT_NAMESPACES and platform.namespace(namespace).limits.default_cpu:
        # A namespace of the user's own made the serving namespace: the same CPU policy as the defaults.
        o.error("namespace", f"{namespace} sets limits.defaultCpu in llmfleet:platform, but model servers request "
                             f"CPU without a CPU limit: LimitRanger would make it their limit and the API server "
                             f"rejects every pod requesting more; remove that defaultCpu")
    image = o.str("vllmImage", VLLM_IMAGE, pattern=PINNED_IMAGE,
                  hint="a pinned image reference such as vllm/vllm-openai:v0.33.0")
    if isinstance(image, str) and re.search(r":latest$", image):
        o.error("vllmImage", f"must be pinned to a release, not latest, got {image!r}")
    prometheus = o.str("prometheusUrl", DEFAULT_PROMETHEUS_URL, pattern=r"https?://[^\s]+",
                       hint="an http(s) URL of the Prometheus that scrapes vLLM")
    storage_class = o.str("storageClass", RWX_STORAGE_CLASSES.get(cloud or ""),
                          pattern=r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", hint="a StorageClass name")

    hf_token = secrets.get("hfToken")
    # Not required when the token reaches the cluster another way (llmfleet:security.secrets.source sealed).
    if hf_token is None and hf_token_required:
        for m in models:
            if m.gated:
                root.problems.secret_missing(root.key_path("hfToken"), "hfToken",
                                             f"is required: model {m.name!r} downloads gated weights "
                                             f"({m.arch.hf_id}); set it with `pulumi config set --secret "
                                             f"llmfleet:hfToken`")
    for path, m in zip(paths, models):
        if cloud is None or not o.valid("storageClass") or root.problems.under(f"{path}.cache"):
            continue
        if m.cache.mode == "shared" and not (m.cache.storage_class or storage_class):
            root.problems.add(f"{path}.cache.storageClass",
                              f"is required for a shared cache on cloud {cloud} (no default ReadWriteMany class); "
                              f"or set llmfleet:serving.storageClass")
    out = ServingSpec(namespace=namespace, vllm_image=image, prometheus_url=prometheus,
                      rwx_storage_class=storage_class, hf_token=hf_token, cloud=cloud,
                      kubernetes_version=kubernetes_version)
    for path, m in zip(paths, models):
        if cloud is None or not o.valid("storageClass") or root.problems.under(f"{path}.cache"):
            continue
        klass = out.storage_class_for(m)
        least = out.cache_min_gi(m)
        if m.cache.size_gi is not None and m.cache.size_gi < least:
            root.problems.add(f"{path}.cache.sizeGi",
                              f"must be >= {least} for storage class {klass} (the smallest "
                              f"{RWX_MIN_REASONS[(cloud, klass)]}), got {m.cache.size_gi}")
    return out
