"""Every version-like default in one place: Kubernetes, charts (with their repositories) and images.

Chart versions match the upstream default values saved in shared/chart-values/ (SOURCES.md there gives the
repository each comes from); images are pinned tags, never `latest`.
"""
from dataclasses import dataclass

# Kubernetes minor versions this program plans for. The offline plan validates manifests against the strict
# schema of the stack's version (kubernetes-validate ships 1.25..1.37).
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34", "1.35")
DEFAULT_KUBERNETES_VERSION = "1.34"


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    repo: str                 # Helm repository URL, or "" for OCI charts (then `name` is the full oci:// ref)


CHARTS: dict[str, Chart] = {c.name: c for c in (
    Chart("gpu-operator", "v26.7.0", "https://helm.ngc.nvidia.com/nvidia"),
    Chart("nvidia-device-plugin", "0.20.0", "https://nvidia.github.io/k8s-device-plugin"),
    Chart("dcgm-exporter", "4.8.2", "https://nvidia.github.io/dcgm-exporter/helm-charts"),
    Chart("kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts"),
    Chart("prometheus-adapter", "5.3.0", "https://prometheus-community.github.io/helm-charts"),
    Chart("keda", "2.20.2", "https://kedacore.github.io/charts"),
    Chart("cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler"),
    Chart("karpenter", "1.14.1", ""),
    Chart("kuberay-operator", "1.7.0", "https://ray-project.github.io/kuberay-helm/"),
    Chart("kserve-crd", "v0.20.0", ""),
    Chart("kserve-resources", "v0.20.0", ""),
)}

# OCI references for charts with no Helm repository.
OCI_CHARTS = {
    "karpenter": "oci://public.ecr.aws/karpenter/karpenter",
    "kserve-crd": "oci://ghcr.io/kserve/charts/kserve-crd",
    "kserve-resources": "oci://ghcr.io/kserve/charts/kserve-resources",
}
