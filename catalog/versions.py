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
    Chart("kserve-runtime-configs", "v0.20.0", ""),
    Chart("cert-manager", "v1.21.1", ""),
    # Vertical Pod Autoscaler (recommender, updater, admission controller) from Fairwinds' chart: kubernetes/
    # autoscaler publishes no chart for VPA. 5.0.0 packages VPA 1.7.1, the version of shared/crds/vertical-pod-
    # autoscaler (FairwindsOps/charts stable/vpa at 21a94b6, 2026-08-21; values read there, not in shared/).
    Chart("vpa", "5.0.0", "https://charts.fairwinds.com/stable"),
    # OpenCost 1.120.1 (chart 2026-04-28, opencost/opencost-helm-chart 725bb939; shared/chart-values).
    Chart("opencost", "2.5.17", "https://opencost.github.io/opencost-helm-chart"),
    # Qdrant v1.19.0 (chart 2026-08-13, qdrant/qdrant-helm a7aeeb71; shared/chart-values): the RAG vector store.
    Chart("qdrant", "1.19.0", "https://qdrant.github.io/qdrant-helm"),
    # Open WebUI 0.11.0 (chart 2026-07-30, open-webui/helm-charts a6305e70; shared/chart-values): the RAG front end.
    Chart("open-webui", "16.0.0", "https://helm.openwebui.com/"),
    # External Secrets Operator v2.9.0 (chart 2.9.0, external-secrets/external-secrets cc5bfbc2; shared/chart-values):
    # syncs the cloud vault's entry into a Secret (llmfleet:security.secrets.source vault). API external-secrets.io/v1.
    Chart("external-secrets", "2.9.0", "https://charts.external-secrets.io"),
    # Sealed Secrets controller 0.36.6 (chart 2.18.5, bitnami-labs/sealed-secrets e12ae821; shared/chart-values):
    # decrypts SealedSecrets (llmfleet:security.secrets.source sealed).
    Chart("sealed-secrets", "2.18.5", "https://bitnami-labs.github.io/sealed-secrets"),
    # The per-cluster Gateway (components/gateway, docs/gateway.md). Envoy Gateway v1.9.0 (2026-08-15, envoyproxy/
    # gateway 39763b1c; values.tmpl.yaml in shared/chart-values) with Envoy AI Gateway v1.1.0 (2026-08-21, c217da8a).
    # Pairing: AI Gateway 1.1 documents "Envoy Gateway v1.8.1+" (site/versioned_docs/version-1.1/compatibility.md,
    # a lower bound; its go.mod builds against EG v1.8.1). EG 1.9.0 is pinned rather than 1.8.x because the EG CRDs
    # the plan validates against (shared/crds/envoy-gateway) and the chart values are 1.9.0's, and EG 1.9 bundles
    # the Gateway API v1.6 CRDs the shared standard-channel schemas are. Not in AI Gateway's tested matrix: the
    # extension-manager hooks (xdsTranslator post Translation/Cluster/Route) are what could differ; docs/gateway.md
    # says how to check after `pulumi up` (AIGatewayRoute status, extproc sidecar injected) and the fallback pin
    # (v1.8.1 here and the EG CRD schemas of that tag).
    Chart("gateway-helm", "v1.9.0", ""),
    Chart("ai-gateway-crds-helm", "v1.1.0", ""),
    Chart("ai-gateway-helm", "v1.1.0", ""),
    # Endpoint picker (EPP) for an InferencePool (llmfleet:routing.models[].picker, docs/gateway.md). The Gateway API
    # Inference Extension removed its `inferencepool` chart and the EPP before v1.6.0 (commit a70292c1, 2026-06-17);
    # both moved to llm-d/llm-d-router, whose v0.10.0 (2026-08-17, 71f4f099, Apache-2.0) publishes this chart
    # (hack/push-chart.sh, version = tag) on the `routerlib` library chart. InferencePool API: GAIE v1.6.0 (GA v1).
    Chart("llm-d-router-gateway", "v0.10.0", ""),
)}

# OCI references for charts with no Helm repository.
OCI_CHARTS = {
    "karpenter": "oci://public.ecr.aws/karpenter/karpenter",
    "kserve-crd": "oci://ghcr.io/kserve/charts/kserve-crd",
    "kserve-resources": "oci://ghcr.io/kserve/charts/kserve-resources",
    # ClusterServingRuntimes (the Hugging Face runtime among them) moved out of kserve-resources into this chart.
    "kserve-runtime-configs": "oci://ghcr.io/kserve/charts/kserve-runtime-configs",
    # cert-manager's chart README installs from this OCI registry (charts.jetstack.io also carries every release).
    "cert-manager": "oci://quay.io/jetstack/charts/cert-manager",
    # Envoy Gateway's chart README and AI Gateway's installation guide install from Docker Hub's OCI registry.
    "gateway-helm": "oci://docker.io/envoyproxy/gateway-helm",
    "ai-gateway-crds-helm": "oci://docker.io/envoyproxy/ai-gateway-crds-helm",
    "ai-gateway-helm": "oci://docker.io/envoyproxy/ai-gateway-helm",
    # llm-d-router's hack/push-chart.sh at v0.10.0 pushes to ghcr.io/llm-d/charts.
    "llm-d-router-gateway": "oci://ghcr.io/llm-d/charts/llm-d-router-gateway",
}

# --- serving images -------------------------------------------------------------------------------------------
# vLLM OpenAI server. v0.33.0 is the newest release (FACTS.md, Nov 2026); `pip download vllm==0.33.0 --no-deps`
# succeeded on 2026-11-28 and every flag components/serving/vllm.py passes was read in that wheel's parser:
# vllm/engine/arg_utils.py (EngineArgs.add_cli_args: --tensor-parallel-size, --max-model-len,
# --gpu-memory-utilization, --dtype {auto,half,float16,bfloat16,float,float32}, --kv-cache-dtype {auto,...,fp8},
# --quantization (QuantizationMethods), --served-model-name, --download-dir, --revision) and
# vllm/entrypoints/common/cli_args.py (FrontendArgs: --port, default 8000; positional `model_tag` for `vllm serve`).
# Not in 0.33.0: --swap-space, --disable-log-requests (both rejected at start).
VLLM_VERSION = "0.33.0"
VLLM_IMAGE = f"vllm/vllm-openai:v{VLLM_VERSION}"

# KServe v0.20.0's Hugging Face runtime image pins its own vLLM: python/kserve/pyproject.toml at tag v0.20.0 has
# `vllm==0.24.0` (llm extra). The flags rendered for KServe are the same long-standing EngineArgs flags, which
# that release also has; its argparse was not downloaded and read here (unverified beyond the names).
KSERVE_VLLM_VERSION = "0.24.0"

# Ray Serve LLM image. The tag is the one KubeRay v1.7.0's own sample uses
# (ray-operator/config/samples/ray-service.llm-serve.yaml at tag v1.7.0); rayVersion must match the image.
RAY_VERSION = "2.52.0"
RAY_LLM_IMAGE = f"rayproject/ray-llm:{RAY_VERSION}-py311-cu128"

# cluster-autoscaler image tag per Kubernetes minor: CA is built against one Kubernetes minor and upstream asks for
# matching minors (the chart's default image, v1.35.0, is only right for 1.35). Tags as of 2026-08: 1.32.5 from the
# kubernetes/k8s.io image promotion (PR 8815); 1.33.5, 1.34.4 and 1.35.1 from the kubernetes/autoscaler releases
# page as cited by aws-ia/terraform-aws-eks-blueprints-addons PR 516 (2026-07); 1.31.2 from that project's
# earlier map. Newer patches may exist: check https://github.com/kubernetes/autoscaler/releases.
CLUSTER_AUTOSCALER_IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
CLUSTER_AUTOSCALER_TAGS = {"1.31": "v1.31.2", "1.32": "v1.32.5", "1.33": "v1.33.5", "1.34": "v1.34.4",
                           "1.35": "v1.35.1"}

# EKS add-on versions (vpc-cni, kube-proxy, coredns, the pod identity agent, the EBS and EFS CSI drivers) are not
# pinned here: components/aws/addons.py asks EKS for its default version for the cluster's Kubernetes minor, so a
# `kubernetesVersion` bump upgrades them; EKS build tags differ per minor and cannot be checked offline.

# Karpenter EC2NodeClass AMI aliases per pool image (`family@version`), pinned: `@latest` would drift every node to
# each new AMI release unannounced. Karpenter resolves an alias through the EKS SSM parameters for the cluster's
# Kubernetes minor and picks the NVIDIA variant for GPU instance types. UNVERIFIED OFFLINE: check both against the
# release notes before `pulumi up` (https://github.com/awslabs/amazon-eks-ami/releases and
# https://github.com/bottlerocket-os/bottlerocket/releases) and that the release was published for the cluster's
# Kubernetes version. v20260818 is an amazon-eks-ami release referenced upstream in Sept 2026; Bottlerocket 1.66.0
# was released Sept 2026 (bottlerocket PR 4946). A new pin makes Karpenter replace nodes (drift), one at a time.
KARPENTER_AMI_ALIASES = {
    "al2023-nvidia": "al2023@v20260818",
    "bottlerocket-nvidia": "bottlerocket@v1.66.0",
}

# RAG (components/rag): text-embeddings-inference images are chosen per GPU in catalog/embeddings.py (tag minor
# 1.9 = v1.9.3). The collection Job runs a short Python script with the standard library only; UNVERIFIED
# OFFLINE: that this Docker Hub tag exists (python 3.13.5 was released 2025-06).
RAG_JOB_IMAGE = "python:3.13.5-slim"

# Gateway (components/gateway): Redis for Envoy Gateway's global rate limit (per-tenant token limits count in it).
# The tag is the one AI Gateway v1.1.0's token rate-limit example deploys (examples/token_ratelimit/redis.yaml at
# c217da8a). UNVERIFIED OFFLINE: that the Docker Hub tag still exists.
# The endpoint picker's image: the chart's values say `tag: main` in git and hack/push-chart.sh rewrites them to the
# release tag on publish; stated explicitly so the pin does not depend on that rewrite (llm-d/llm-d-router v0.10.0).
EPP_IMAGE = {"registry": "ghcr.io/llm-d", "repository": "llm-d-router-endpoint-picker", "tag": "v0.10.0"}
# The InferencePool CRD (inference.networking.k8s.io/v1, GA) from the Gateway API Inference Extension v1.6.0
# (992e5c29; the schema in shared/crds/gateway-api-inference-extension): neither the AI Gateway CRD chart nor the
# llm-d-router chart installs it (llm-d-router config/charts/README.md: a prerequisite).
INFERENCE_POOL_CRD_URL = ("https://raw.githubusercontent.com/kubernetes-sigs/gateway-api-inference-extension/v1.6.0/"
                          "config/crd/bases/inference.networking.k8s.io_inferencepools.yaml")
GATEWAY_REDIS_IMAGE = "redis:8.2.4-alpine3.22"
