"""What each platform adds by itself, as data. One row per fact, each citing its source (shared/FACTS-cluster.md
section, and the upstream file it was read from). Marks: C confirmed in source, D documented, U unverified."""

# Labels and taints a node of a group carries that the plan does not set itself. `{x}` is filled from the group.
# (cloud, when) -> what is added. `when` is a condition evaluated by nodes.py on the group's recorded inputs.
NODE_ADDITIONS = (
    # cloud, when, labels, taints, mark + source
    ("aws", "always", {"eks.amazonaws.com/capacityType": "{capacity_type}", "eks.amazonaws.com/nodegroup": "{group}"},
     (), "D FACTS-cluster 1.1; awsdocs/amazon-eks-user-guide nodes/managed-node-groups.adoc"),
    ("aws", "always", {"node.kubernetes.io/instance-type": "{instance_type}", "kubernetes.io/os": "linux"},
     (), "C well-known labels set by the kubelet"),
    ("karpenter", "always", {"karpenter.sh/nodepool": "{group}", "karpenter.k8s.aws/ec2nodeclass": "{node_class}",
                             "karpenter.sh/capacity-type": "{capacity}"},
     (), "C FACTS-cluster 1.2; kubernetes-sigs/karpenter v1.14.1 pkg/apis/v1/labels.go"),
    ("gcp", "always", {"cloud.google.com/gke-nodepool": "{group}"}, (), "D FACTS-cluster 1.3"),
    ("gcp", "spot", {"cloud.google.com/gke-spot": "true", "cloud.google.com/gke-provisioning": "spot"}, (),
     "D FACTS-cluster 1.3; cloud.google.com/kubernetes-engine/docs/how-to/spot-vms"),
    ("gcp", "gpu", {"cloud.google.com/gke-accelerator": "{accelerator}"}, (),
     "D FACTS-cluster 1.3; cloud.google.com/kubernetes-engine/docs/how-to/gpus"),
    # GKE taints GPU pools only when a non-GPU pool already exists (simulated: the plan has one).
    ("gcp", "gpu_and_cpu_pool", {}, ({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},),
     "D FACTS-cluster 1.3 (GPU taint when a non-GPU pool exists)"),
    ("gcp", "time_sharing", {"cloud.google.com/gke-gpu-sharing-strategy": "time-sharing",
                             "cloud.google.com/gke-max-shared-clients-per-gpu": "{max_shared}"}, (),
     "D FACTS-cluster 1.3 (secondary)"),
    ("azure", "always", {"kubernetes.azure.com/agentpool": "{group}", "agentpool": "{group}",
                         "kubernetes.azure.com/mode": "{mode}"}, (), "D FACTS-cluster 1.4; azure-aks-docs use-labels.md"),
    ("azure", "spot", {"kubernetes.azure.com/scalesetpriority": "spot"},
     ({"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"},),
     "D FACTS-cluster 1.4; azure-aks-docs spot-node-pool.md"),
    ("azure", "gpu", {"kubernetes.azure.com/accelerator": "nvidia"}, (), "D FACTS-cluster 1.4; use-labels.md"),
)

# Admission plugins that change pods on a platform: GKE runs ExtendedResourceToleration, so a pod requesting
# nvidia.com/gpu tolerates the nvidia.com/gpu taint (D FACTS-cluster 1.3). AKS: unverified (Azure/AKS#1449), so no.
EXTENDED_RESOURCE_TOLERATION = {"gcp": True, "aws": False, "azure": False, "existing": False, "karpenter": False}

# MIG: instances of a profile per GPU (NVIDIA A100/H100 MIG user guide; 7 compute slices per GPU).
MIG_PER_GPU = {1: 7, 2: 3, 3: 2, 4: 1, 7: 1}

# Cluster-autoscaler AWS scale-from-zero template (C FACTS-cluster 2.1; kubernetes/autoscaler
# cluster-autoscaler-1.34.5 cloudprovider/aws/aws_manager.go buildNodeFromTemplate, aws_wrapper.go): capacity =
# instance vCPU/memory/GPU count, plus ASG tags node-template/{label,taint,resources}/...; for EKS managed node
# groups also the group's labels, taints and eks.amazonaws.com/capacityType from DescribeNodegroup.
AWS_TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template/"
# Azure VMSS tags (C FACTS-cluster 2.2; cloudprovider/azure/azure_template.go): prefix + kind + "_" + key with
# "_" -> "/" and "~2" -> "_" (labels, taints); for resources "~2" -> "/".
AZURE_TEMPLATE_TAG = "k8s.io_cluster-autoscaler_node-template_"
# Whether the AKS autoscaler's template carries the agent pool's nodeLabels: the VMs-pool path does, the VMSS path
# takes labels from tags only; which path AKS's hosted autoscaler uses is U (FACTS-cluster 2.2). Assumed yes, so the
# check does not fail on what it cannot know; resources (MIG, time-slicing) still come from tags only.
AZURE_TEMPLATE_HAS_NODE_LABELS = True

# Runtime classes a GPU node defines. AKS GPU nodes with the AKS-installed driver define only
# `nvidia-container-runtime` (issue 9 item 3; NVIDIA/cloud-native-docs gpu-operator/microsoft-aks.rst).
# The GPU Operator's `operator.runtimeClass` default is `nvidia` (chart-values gpu-operator-v26.7.0.yaml).
NODE_RUNTIME_CLASSES = {("azure", "cloud"): ("nvidia-container-runtime",)}
GPU_OPERATOR_DEFAULT_RUNTIME_CLASS = "nvidia"

# StorageClasses a new cluster has (D FACTS-cluster 3). default: the class a claim without storageClassName gets.
# needs_addon: the EKS add-on without which the class provisions nothing.
CLOUD_STORAGE_CLASSES = {
    "aws": {"gp2": {"default": False, "rwx": False, "provisioner": "kubernetes.io/aws-ebs",
                    "needs_addon": "aws-ebs-csi-driver"}},           # EKS >= 1.30: gp2 not default
    "gcp": {"standard-rwo": {"default": True, "rwx": False, "provisioner": "pd.csi.storage.gke.io"},
            "premium-rwo": {"default": False, "rwx": False, "provisioner": "pd.csi.storage.gke.io"},
            "standard": {"default": False, "rwx": False, "provisioner": "kubernetes.io/gce-pd"}},
    "azure": {"default": {"default": True, "rwx": False, "provisioner": "disk.csi.azure.com"},
              "managed-csi": {"default": False, "rwx": False, "provisioner": "disk.csi.azure.com"},
              "managed-csi-premium": {"default": False, "rwx": False, "provisioner": "disk.csi.azure.com"},
              "azurefile-csi": {"default": False, "rwx": True, "provisioner": "file.csi.azure.com"},
              "azurefile-csi-premium": {"default": False, "rwx": True, "provisioner": "file.csi.azure.com"}},
    "existing": {"local-path": {"default": True, "rwx": False, "provisioner": "rancher.io/local-path"}},  # k3s
}
# Provisioners that serve ReadWriteMany, and the EKS add-on each CSI provisioner needs (D FACTS-cluster 3).
RWX_PROVISIONERS = {"efs.csi.aws.com", "file.csi.azure.com", "filestore.csi.storage.gke.io", "nfs.csi.k8s.io",
                    "blob.csi.azure.com"}
EKS_ADDON_FOR_PROVISIONER = {"ebs.csi.aws.com": "aws-ebs-csi-driver", "kubernetes.io/aws-ebs": "aws-ebs-csi-driver",
                             "efs.csi.aws.com": "aws-efs-csi-driver"}

# Node images the GPU Operator does not list as a supported host OS (issue 9 item 21; NVIDIA GPU Operator platform
# support page): Bottlerocket ships its own driver and device plugin.
OPERATOR_UNSUPPORTED_IMAGES = {"BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA"}
