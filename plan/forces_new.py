"""Which input changes make Pulumi replace a resource, for the resource types this program creates.

Each rule names its source. "verified" rows were read in the provider source during the day-2 review (Dec 2026);
the stored source versions are given, and where they are not exactly the pinned provider's version the row says so.
Rows marked "schema" carry the provider schema's `forceNew` as documented for the pinned package but were not
re-read line by line: `pulumi preview` on a real stack is the final word (docs/changing-a-stack.md).

Paths are Pulumi input paths (camelCase, `[*]` any list index); a changed path matches a rule when it equals it or
lies beneath it. Bridged providers (pulumi-aws, pulumi-gcp) take `forceNew` from the Terraform schema; azure-native
takes it from the Azure REST spec (create-only properties); pulumi-kubernetes from its own table (provider/pkg/
provider/diff.go), where metadata.name/namespace replace every kind.
"""
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    paths: tuple
    source: str


TF_AWS = "terraform-provider-aws internal/service/"
TF_GOOGLE_NODE = ("terraform-provider-google google/services/container/node_config.go (stored commit 00b984c6; "
                  "node_config is ForceNew except fields with an update path; verified)")
K8S_DIFF = "pulumi-kubernetes provider/pkg/provider/diff.go (mirror 9497796, >= 4.32.0; the pinned 4.34.2 SDK)"

FORCES_NEW: dict[str, Rule] = {
    # --- AWS (pulumi-aws 7.51.1, bridged from terraform-provider-aws) ---
    "aws:eks/nodeGroup:NodeGroup": Rule(
        ("amiType", "capacityType", "clusterName", "diskSize", "instanceTypes", "launchTemplate.id",
         "launchTemplate.name", "nodeGroupName", "nodeGroupNamePrefix", "nodeRoleArn", "remoteAccess", "subnetIds"),
        TF_AWS + "eks/node_group.go ForceNew (verified, stored commit 012e0a32); version, labels, taints, "
                 "scalingConfig, launchTemplate.version update in place"),
    "aws:eks/cluster:Cluster": Rule(
        ("name", "roleArn", "kubernetesNetworkConfig.serviceIpv4Cidr", "kubernetesNetworkConfig.ipFamily",
         "bootstrapSelfManagedAddons", "accessConfig.bootstrapClusterCreatorAdminPermissions",
         "outpostConfig.controlPlaneInstanceType", "remoteNetworkConfig"),
        TF_AWS + "eks/cluster.go ForceNew (verified, stored commit 00555dc5); version, vpcConfig, logging, "
                 "adding encryptionConfig update in place"),
    "aws:ec2/subnet:Subnet": Rule(
        ("vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"),
        TF_AWS + "ec2/vpc_subnet.go ForceNew (schema)"),
    "aws:ec2/vpc:Vpc": Rule(("cidrBlock", "ipv4IpamPoolId", "instanceTenancy"), TF_AWS + "ec2/vpc_.go (schema)"),
    "aws:ec2/launchTemplate:LaunchTemplate": Rule(
        ("name", "namePrefix"), TF_AWS + "ec2/ec2_launch_template.go: every other change writes a new version "
                                         "(schema)"),
    "aws:kms/key:Key": Rule(("customerMasterKeySpec", "keySpec", "keyUsage", "multiRegion", "xksKeyId",
                             "customKeyStoreId"), TF_AWS + "kms/key.go ForceNew (schema)"),
    "aws:efs/fileSystem:FileSystem": Rule(
        ("creationToken", "encrypted", "kmsKeyId", "performanceMode", "availabilityZoneName"),
        TF_AWS + "efs/file_system.go ForceNew (schema)"),
    "aws:efs/mountTarget:MountTarget": Rule(("fileSystemId", "subnetId", "ipAddress"),
                                            TF_AWS + "efs/mount_target.go ForceNew (schema)"),
    "aws:eks/addon:Addon": Rule(("addonName", "clusterName"), TF_AWS + "eks/addon.go ForceNew (schema)"),
    "aws:iam/role:Role": Rule(("name", "namePrefix", "path"), TF_AWS + "iam/role.go ForceNew (schema)"),
    "aws:autoscaling/tag:Tag": Rule(("autoscalingGroupName", "tag.key"), TF_AWS + "autoscaling/group_tag.go "
                                                                             "ForceNew (schema)"),
    "aws:sqs/queue:Queue": Rule(("name", "namePrefix", "fifoQueue"), TF_AWS + "sqs/queue.go ForceNew (schema)"),
    # --- GCP (pulumi-gcp 10.2.0, bridged from terraform-provider-google) ---
    "gcp:container/nodePool:NodePool": Rule(
        ("name", "namePrefix", "cluster", "location", "project", "initialNodeCount", "nodeConfig.guestAccelerators",
         "nodeConfig.spot", "nodeConfig.preemptible", "nodeConfig.serviceAccount", "nodeConfig.reservationAffinity",
         "nodeConfig.oauthScopes", "nodeConfig.localSsdCount", "nodeConfig.metadata", "nodeConfig.minCpuPlatform",
         "nodeConfig.shieldedInstanceConfig", "nodeConfig.gvnic", "nodeConfig.gcfsConfig",
         "nodeConfig.ephemeralStorageLocalSsdConfig", "nodeConfig.secondaryBootDisks", "placementPolicy",
         "networkConfig.podRange", "networkConfig.createPodRange"),
        TF_GOOGLE_NODE + "; node_pool.go: name/cluster/location/initial_node_count/placement_policy ForceNew "
                         "(schema); machineType, diskSizeGb, labels, taints, nodeLocations update in place"),
    "gcp:container/cluster:Cluster": Rule(
        ("name", "location", "project", "network", "subnetwork", "ipAllocationPolicy", "privateClusterConfig."
         "enablePrivateNodes", "enableAutopilot", "initialNodeCount", "nodeConfig", "datapathProvider"),
        "terraform-provider-google google/services/container/resource_container_cluster.go ForceNew (schema; "
        "datapath_provider ForceNew verified in the stored source)"),
    "gcp:serviceaccount/account:Account": Rule(("accountId", "project"),
                                               "terraform-provider-google resource_google_service_account.go "
                                               "(schema)"),
    # --- Azure (azure-native 3.29.0; create-only properties of the AKS REST spec) ---
    "azure-native:containerservice:AgentPool": Rule(
        ("agentPoolName", "resourceName", "resourceGroupName", "vmSize", "gpuInstanceProfile", "osType", "osSKU",
         "osDiskSizeGB", "osDiskType", "vnetSubnetID", "podSubnetID", "scaleSetPriority", "scaleSetEvictionPolicy",
         "spotMaxPrice", "availabilityZones", "kubeletDiskType", "enableEncryptionAtHost", "enableFIPS",
         "maxPods", "type"),
        "azure-native: agentPoolName/resourceName/resourceGroupName are the resource's path (a new resource); "
        "vmSize and gpuInstanceProfile are explicit forceNew overrides in azure-native's codegen (pulumi-azure-"
        "native#3655, verified in its forceNew override list); the other paths are create-only in the AKS REST "
        "spec (x-ms-mutability), which azure-native maps to forceNew (schema, not re-read)"),
    "azure-native:containerservice:ManagedCluster": Rule(
        ("resourceName", "resourceGroupName", "location", "dnsPrefix", "fqdnSubdomain",
         "networkProfile.networkPlugin", "networkProfile.podCidr", "networkProfile.serviceCidr",
         "networkProfile.dnsServiceIP", "apiServerAccessProfile.enablePrivateCluster"),
        "azure-native containerservice ManagedCluster: create-only properties (schema)"),
    "azure-native:network:VirtualNetwork": Rule(("virtualNetworkName", "resourceGroupName", "location"),
                                                "azure-native: name/group/location forceNew (schema)"),
    "azure-native:network:Subnet": Rule(("subnetName", "virtualNetworkName", "resourceGroupName"),
                                        "azure-native: name/parent forceNew (schema)"),
    "azure-native:resources:ResourceGroup": Rule(("resourceGroupName", "location"),
                                                 "azure-native: name/location forceNew (schema)"),
    # --- Kubernetes (pulumi-kubernetes 4.34.2) ---
    "kubernetes:apps/v1:Deployment": Rule(("spec.selector",), K8S_DIFF + " (Deployment: .spec.selector)"),
    "kubernetes:apps/v1:DaemonSet": Rule(("spec.selector",), K8S_DIFF + " (DaemonSet: .spec.selector)"),
    "kubernetes:apps/v1:StatefulSet": Rule(
        ("spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector", "spec.serviceName",
         "spec.volumeClaimTemplates"), K8S_DIFF + " (StatefulSet)"),
    "kubernetes:core/v1:Service": Rule(("spec.clusterIP",), K8S_DIFF + " (Service: .spec.clusterIP)"),
    "kubernetes:core/v1:PersistentVolumeClaim": Rule(
        ("spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"),
        K8S_DIFF + " (PVC; spec.resources is an in-place expansion)"),
    "kubernetes:core/v1:Secret": Rule(("type",), K8S_DIFF + " (Secret: .type)"),
    "kubernetes:core/v1:ResourceQuota": Rule(("spec.scopes",), K8S_DIFF + " (ResourceQuota: .spec.scopes)"),
    "kubernetes:storage.k8s.io/v1:StorageClass": Rule(("parameters", "provisioner"), K8S_DIFF + " (StorageClass)"),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": Rule(("roleRef",), K8S_DIFF + " (RoleBinding)"),
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": Rule(("roleRef",), K8S_DIFF),
}

# Replacement only when a block is removed (old set, new empty): (type, path, source).
# Inputs the provider stores as sets (Terraform TypeSet): reordering them is no change. Source: the same
# terraform-provider-aws files as above (node_group.go `subnet_ids`, cluster.go `vpc_config.subnet_ids`,
# `security_group_ids`, `public_access_cidrs`: schema.TypeSet).
SET_INPUTS: dict[str, tuple] = {
    "aws:eks/nodeGroup:NodeGroup": ("subnetIds",),
    "aws:eks/cluster:Cluster": ("vpcConfig.subnetIds", "vpcConfig.securityGroupIds", "vpcConfig.publicAccessCidrs"),
}

FORCES_NEW_IF_REMOVED: dict[str, tuple] = {
    "aws:eks/cluster:Cluster": (("encryptionConfig", TF_AWS + "eks/cluster.go CustomizeDiff ForceNewIfChange("
                                 "encryption_config): envelope encryption cannot be disabled (verified)"),),
}

# Every Kubernetes object: renaming or moving it replaces it (diff.go metadataForceNewProperties).
K8S_METADATA = Rule(("metadata.name", "metadata.namespace"), K8S_DIFF + " (every kind: metadata.name/namespace)")

# The property holding a resource's fixed (cloud-side) name. A replacement of such a resource without
# delete-before-replace makes Pulumi create the new one first, under the same name: "already exists"
# (Pulumi's default create-before-delete; hashicorp/terraform-provider-google#3778, pulumi-azure-native#3655).
FIXED_NAME: dict[str, str] = {
    "aws:eks/nodeGroup:NodeGroup": "nodeGroupName", "aws:eks/cluster:Cluster": "name",
    "aws:ec2/launchTemplate:LaunchTemplate": "name", "aws:iam/role:Role": "name", "aws:sqs/queue:Queue": "name",
    "aws:efs/fileSystem:FileSystem": "creationToken", "aws:eks/addon:Addon": "addonName",
    "gcp:container/nodePool:NodePool": "name", "gcp:container/cluster:Cluster": "name",
    "gcp:serviceaccount/account:Account": "accountId",
    "azure-native:containerservice:AgentPool": "agentPoolName",
    "azure-native:containerservice:ManagedCluster": "resourceName",
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName", "azure-native:network:Subnet": "subnetName",
}
FIXED_NAME_SOURCE = ("Pulumi engine: replacement is create-before-delete unless deleteBeforeReplace is set "
                     "(pulumi/pulumi pkg/resource/deploy/step_generator.go); a fixed name then collides")
# Values that must be unique within a scope (the other inputs named): a new resource taking a value an old one
# still holds fails, because Pulumi creates (and create-before-delete replaces) before it deletes. CIDRs collide
# when they overlap, including with the resource's own old CIDR while it is being replaced.
UNIQUE_IN_SCOPE: dict[str, tuple[str, tuple, str]] = {
    "aws:ec2/subnet:Subnet": ("cidrBlock", ("vpcId",),
                              "EC2 CreateSubnet: a CIDR may not overlap another subnet of the VPC "
                              "(InvalidSubnet.Conflict)"),
}

# pulumi-kubernetes chooses delete-before-replace itself for a named object kept under the same name/namespace.
K8S_SELF_DBR = "pulumi-kubernetes provider.go Diff: DeleteBeforeReplace when the object is named and keeps its name"

# pulumi:providers:kubernetes: DiffConfig (provider/pkg/provider/provider.go, mirror 9497796).
K8S_PROVIDER = "pulumi:providers:kubernetes"
K8S_PROVIDER_SOURCE = ("pulumi-kubernetes provider.go DiffConfig: kubeconfig/context/cluster unknown or pointing at "
                       "another server/CA -> replace; clusterIdentifier set and unchanged -> never replace; "
                       "clusterIdentifier changed -> replace; resources bound to a replaced provider are replaced "
                       "(pulumi-kubernetes#4019)")
K8S_PROVIDER_CLUSTER_KEYS = ("kubeconfig", "context", "cluster")

# What counts as stateful: replacing it loses data or the whole cluster.
STATEFUL_TYPES = frozenset({
    "aws:eks/cluster:Cluster", "aws:kms/key:Key", "aws:efs/fileSystem:FileSystem", "aws:ec2/vpc:Vpc",
    "gcp:container/cluster:Cluster", "azure-native:containerservice:ManagedCluster",
    "azure-native:resources:ResourceGroup", "kubernetes:core/v1:PersistentVolumeClaim",
    "kubernetes:core/v1:PersistentVolume", "kubernetes:core/v1:Namespace",
})


def _matches(path: str, rule_path: str) -> bool:
    pat = re.escape(rule_path).replace(r"\[\*\]", r"\[\d+\]")
    return re.match(rf"^{pat}(?:$|[.\[])", path) is not None


def forcing(type_: str, changed_paths, is_k8s: bool, old: dict = None, new: dict = None) -> list[tuple[str, str]]:
    """(changed path, source) for each changed path that forces a replacement of a resource of this type."""
    rules = [r for r in (FORCES_NEW.get(type_), K8S_METADATA if is_k8s else None) if r]
    out = []
    for p in changed_paths:
        for rule in rules:
            if any(_matches(p, rp) for rp in rule.paths):
                out.append((p, rule.source))
                break
        else:
            for top, source in FORCES_NEW_IF_REMOVED.get(type_, ()):
                if _matches(p, top) and (old or {}).get(top) and not (new or {}).get(top):
                    out.append((p, source))
    return out
