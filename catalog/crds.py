"""How each pinned chart that carries CRDs installs them, and whether a chart version bump upgrades them.

Helm installs a chart's `crds/` folder on first install only and never upgrades or deletes it (Helm docs, "Custom
Resource Definitions"; Karpenter's upgrade guide says the same and publishes a karpenter-crd chart for it).
`helm.v3.Release` runs Helm's install/upgrade, so it inherits this. CRDs rendered from `templates/` are ordinary
release objects and are upgraded with the chart. Layout read in each chart's source tree (paths below, in the
stored snapshot of the chart repository; check the pinned chart with `helm pull --untar` before relying on it).

Decision (docs/changing-a-stack.md, "CRDs"): the program keeps installing CRDs with the charts; a chart bump whose
CRDs are not upgraded is flagged by `python -m plan.diff` with the command that upgrades them, to run before
`pulumi up`. Installing CRDs as separate Pulumi resources would need the CRD files vendored per version.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class CrdInstall:
    where: str            # "crds/" (Helm: install once), "templates" (upgraded with the release), "hook"
    upgraded: bool        # does a chart version bump through helm.v3.Release upgrade the CRDs?
    upgrade: str          # what to run when it does not
    source: str


CRD_INSTALL: dict[str, CrdInstall] = {
    "karpenter": CrdInstall(
        "crds/", False,
        "helm upgrade --install karpenter-crd oci://public.ecr.aws/karpenter/karpenter-crd --version <new> "
        "-n kube-system (Karpenter upgrade guide), or kubectl apply --server-side -f <chart>/crds",
        "aws/karpenter-provider-aws charts/karpenter/crds/*.yaml; karpenter.sh docs, Upgrade Guide (CRD upgrades)"),
    "kube-prometheus-stack": CrdInstall(
        "crds/", False,
        "kubectl apply --server-side --force-conflicts -f <chart>/charts/crds/crds/ (the chart's crds.upgradeJob "
        "is a preview feature, off by default, with an unpinned busybox image; not enabled here)",
        "prometheus-community/helm-charts charts/kube-prometheus-stack/charts/crds/crds/; shared/chart-values/"
        "kube-prometheus-stack-88.5.3.yaml crds.upgradeJob"),
    "kuberay-operator": CrdInstall(
        "crds/", False, "kubectl apply --server-side -f <chart>/crds (KubeRay upgrade notes)",
        "ray-project/kuberay helm-chart/kuberay-operator/crds/ray.io_*.yaml"),
    "vpa": CrdInstall(
        "crds/", False, "kubectl apply --server-side -f <chart>/crds/vpa-v1-crd.yaml",
        "FairwindsOps/charts stable/vpa/crds/vpa-v1-crd.yaml"),
    "keda": CrdInstall(
        "templates", True, "", "kedacore/charts keda/templates/crds/*.yaml (crds.install, shared/chart-values/"
                               "keda-2.20.2.yaml)"),
    "cert-manager": CrdInstall(
        "templates", True, "", "cert-manager chart crds.enabled renders templates (shared/chart-values/"
                               "cert-manager-v1.21.1.yaml; crds.keep keeps them on uninstall)"),
    "kserve-crd": CrdInstall(
        "templates", True, "", "kserve/kserve charts/kserve-crd/templates/serving.kserve.io_*.yaml"),
    "external-secrets": CrdInstall(
        "templates", True, "", "external-secrets/external-secrets deploy/charts/external-secrets/templates/crds/ "
                               "(each wrapped in `installCRDs`, shared/chart-values/external-secrets-2.9.0.yaml)"),
    "sealed-secrets": CrdInstall(
        "crds/", False, "kubectl apply --server-side -f <chart>/crds/bitnami.com_sealedsecrets.yaml",
        "bitnami-labs/sealed-secrets helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml (shared/crds/SOURCES.md)"),
    # Envoy Gateway v1.9.0: `crds.enabled` (default true) installs EG's CRDs and the Gateway API v1.6.1
    # experimental-channel CRDs from the `crds` subchart's crds/ folder (charts/gateway-helm/charts/crds/crds/):
    # Helm's install-once semantics. EG publishes gateway-crds-helm (templates) for upgrades.
    "gateway-helm": CrdInstall(
        "crds/", False,
        "helm template eg-crds oci://docker.io/envoyproxy/gateway-crds-helm --version <new> --set "
        "crds.gatewayAPI.enabled=true --set crds.envoyGateway.enabled=true | kubectl apply --server-side -f - "
        "(Envoy Gateway upgrade notes)",
        "envoyproxy/gateway charts/gateway-helm/charts/crds/crds/ and charts/gateway-crds-helm/templates/generated "
        "at v1.9.0 (shared/crds/SOURCES.md)"),
    # AI Gateway ships its CRDs as a chart of their own whose files are templates: upgraded with that release.
    "ai-gateway-crds-helm": CrdInstall(
        "templates", True, "", "envoyproxy/ai-gateway manifests/charts/ai-gateway-crds-helm/templates/ at v1.1.0"),
    "gpu-operator": CrdInstall(
        "hook", True, "", "NVIDIA/gpu-operator deployments/gpu-operator/templates/upgrade_crd.yaml, "
                          "operator.upgradeCRD true (shared/chart-values/gpu-operator-v26.7.0.yaml)"),
}
