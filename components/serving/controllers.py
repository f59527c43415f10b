"""Operators the serving layer needs, each installed (pinned, in the system namespace) only when a model uses it:
KEDA, prometheus-adapter, KServe (cert-manager, CRDs, controller, runtimes) and the KubeRay operator.

Values were checked key by key against the charts' default values in shared/chart-values/ (same versions).
"""
from typing import Optional, Sequence, TypedDict
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.helm import chart_release
from components.serving.autoscaling import ADAPTER_QUEUE_METRIC, QUEUE_METRIC, cpu_service_vpa
from components.serving.common import shm_size_gi
from spec.models import ModelSpec

RELEASE_TIMEOUT = 600          # seconds Helm waits for a controller to become ready
# Controller Deployments by chart, named by the values below (fullnameOverride) or the chart default
# (keda 2.20.2 `operator.name: keda-operator`).
CONTROLLER_DEPLOYMENTS = {"prometheus-adapter": "prometheus-adapter", "keda": "keda-operator",
                          "kuberay-operator": "kuberay-operator"}


def adapter_values(prometheus_url: str) -> dict:
    """prometheus-adapter 5.3.0: `prometheus.url` (templated, no port) + `prometheus.port`; `rules.default`
    off (its generic rules expose every container metric), one custom rule for the vLLM queue. No `external`
    or `resource` rules: KEDA owns external.metrics.k8s.io and metrics-server owns metrics.k8s.io."""
    u = urlparse(prometheus_url)
    port = u.port or (443 if u.scheme == "https" else 80)
    return {
        "fullnameOverride": "prometheus-adapter",
        "prometheus": {"url": f"{u.scheme}://{u.hostname}", "port": port, "path": u.path.rstrip("/")},
        "rules": {"default": False, "custom": [{
            "seriesQuery": f'{QUEUE_METRIC}{{namespace!="",pod!=""}}',
            "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
            "name": {"matches": f"^{QUEUE_METRIC}$", "as": ADAPTER_QUEUE_METRIC},
            "metricsQuery": "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
        }]},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
    }


def keda_values() -> dict:
    # keda 2.20.2: CRDs from the chart (crds.install, default true, made explicit: ScaledObjects need them).
    return {"crds": {"install": True}}


def kserve_values() -> dict:
    # kserve-resources v0.20.0 defaults kserve.controller.deploymentMode to Knative; Standard is KServe's own
    # default mode (pkg/constants DefaultDeployment at v0.20.0) and needs no Knative. Serverless services say so
    # per InferenceService with the serving.kserve.io/deploymentMode annotation.
    # The controller's webhook certificate comes from cert-manager (kserve.certManager, on unless disabled):
    # stated here because the cert-manager release below exists for it.
    return {"kserve": {"controller": {"deploymentMode": "Standard"}, "certManager": {"enabled": True}}}


def cert_manager_values(gateway_api: bool = False) -> dict:
    # cert-manager v1.21.1: its CRDs come with the release (crds.enabled, default false; crds.keep stays true so
    # an uninstall never deletes every Certificate in the cluster). With the stack's Gateway, the Gateway API
    # integration its ACME solver needs (components/gateway/values.py).
    if not gateway_api:
        return {"crds": {"enabled": True}}
    from components.gateway.values import cert_manager_config
    return {"crds": {"enabled": True}, "config": cert_manager_config()}


def kserve_runtime_values(tp_max: int) -> dict:
    # kserve-runtime-configs v0.20.0 ships the ClusterServingRuntimes disabled (servingruntime.enabled false);
    # the Hugging Face runtime's /dev/shm is off by default, and tensor parallelism needs it.
    return {"kserve": {"servingruntime": {"enabled": True, "huggingfaceserver": {
        "devShm": {"enabled": True, "sizeLimit": f"{shm_size_gi(tp_max)}Gi"}}}}}


def vpa_values(metrics_server: bool) -> dict:
    # vpa 5.0.0 (Fairwinds): recommender, updater and admission controller on by default. The recommender reads
    # live usage from metrics.k8s.io; where the cluster does not serve it (spec.cluster.METRICS_API_BUILTIN),
    # the chart's metrics-server subchart (default off) is turned on.
    return {"metrics-server": {"enabled": metrics_server}}


def kuberay_values() -> dict:
    # kuberay-operator 1.7.0: the default fullnameOverride, stated so the Deployment name is fixed here.
    return {"fullnameOverride": "kuberay-operator"}


class ServingControllersArgs(TypedDict):
    models: Sequence[ModelSpec]
    """Placed models; which operators are installed follows from their engines and autoscalers."""
    namespace: str
    """System namespace for the controllers (spec/platform.py SYSTEM_NAMESPACE)."""
    prometheus_url: str
    """Prometheus that scrapes vLLM (for prometheus-adapter)."""
    depends_on: Sequence[pulumi.Resource]
    """The namespace and whatever the controllers need first."""
    cpu_vpa: bool
    """A model asked for VPA: install the VPA controller and add a VPA (Recreate) to the CPU-only controllers."""
    metrics_server: bool
    """Whether the VPA chart must bring metrics-server (the cluster serves no metrics.k8s.io of its own)."""
    gateway: Optional[pulumi.Resource]
    """The stack's Gateway controllers (components/gateway), if any: cert-manager is then installed (also without
    KServe) with its Gateway API integration, after them (it needs their Gateway API CRDs to start). Optional."""


class ServingControllers(pulumi.ComponentResource):
    keda: Optional[k8s.helm.v3.Release]
    """KEDA, when a model scales with keda or kedaRedis."""
    adapter: Optional[k8s.helm.v3.Release]
    """prometheus-adapter, when a model scales with hpa."""
    kserve: Optional[k8s.helm.v3.Release]
    """KServe runtimes release (after cert-manager, CRDs and controller), when a model uses engine kserve."""
    kuberay: Optional[k8s.helm.v3.Release]
    """KubeRay operator, when a model uses engine rayserve."""
    vpa: Optional[k8s.helm.v3.Release]
    """The Vertical Pod Autoscaler (its CRDs and controllers), when a model asks for VPA."""
    cert_manager: Optional[k8s.helm.v3.Release]
    """cert-manager, for KServe's webhook certificates and the Gateway's TLS."""
    values: dict
    """Chart name -> the values passed (for tests and the plan)."""

    def __init__(self, name: str, args: ServingControllersArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:serving:ServingControllers", name, None, opts)
        models, ns, deps = args["models"], args["namespace"], list(args["depends_on"])
        kinds = {m.autoscaling.kind for m in models}
        engines = {m.engine for m in models}
        self.values = {}
        self.keda = self.adapter = self.kserve = self.kuberay = self.vpa = self.cert_manager = None
        gateway = args.get("gateway")
        if "kserve" in engines or gateway is not None:
            self.cert_manager = self._release(name, "cert-manager", ns, cert_manager_values(gateway is not None),
                                              deps + ([gateway] if gateway is not None else []))
        if kinds & {"keda", "kedaRedis"}:      # KServe's keda class also needs the KEDA operator
            self.keda = self._release(name, "keda", ns, keda_values(), deps)
        if "hpa" in kinds:
            self.adapter = self._release(name, "prometheus-adapter", ns, adapter_values(args["prometheus_url"]), deps)
        if "kserve" in engines:
            tp_max = max(m.placement.tensor_parallel for m in models if m.engine == "kserve")
            certs = self.cert_manager
            crd = self._release(name, "kserve-crd", ns, {}, deps)
            # KServe's controller only watches ScaledObjects if KEDA's CRD exists when it starts: after KEDA.
            controller = self._release(name, "kserve-resources", ns, kserve_values(),
                                       [crd, certs] + ([self.keda] if self.keda is not None else []))
            self.kserve = self._release(name, "kserve-runtime-configs", ns, kserve_runtime_values(tp_max),
                                        [controller])
        if "rayserve" in engines:
            self.kuberay = self._release(name, "kuberay-operator", ns, kuberay_values(), deps)
        if args["cpu_vpa"]:
            self.vpa = self._release(name, "vpa", ns, vpa_values(args["metrics_server"]), deps)
            installed = {"prometheus-adapter": self.adapter, "keda": self.keda, "kuberay-operator": self.kuberay}
            for key, release in installed.items():
                if release is not None:
                    cpu_service_vpa(self, f"{name}-{key}-vpa", CONTROLLER_DEPLOYMENTS[key], ns, [release, self.vpa])
        self.register_outputs({"charts": sorted(self.values)})

    def _release(self, name: str, key: str, ns: str, values: dict, deps: list) -> k8s.helm.v3.Release:
        self.values[key] = values
        return chart_release(f"{name}-{key}", key, ns, values, parent=self, depends_on=deps, timeout=RELEASE_TIMEOUT)
