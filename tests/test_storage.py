"""Shared (ReadWriteMany) model cache per cloud: EFS + EFS CSI add-on + `efs-sc` on EKS, the Filestore CSI add-on
on GKE, the Azure Files CSI driver on AKS; the claim's class, access mode and size; nothing when unused."""
import json

import pytest

from tests.harness import config_error, run_config, run_stack

FS = "aws:efs/fileSystem:FileSystem"
MT = "aws:efs/mountTarget:MountTarget"
SG = "aws:ec2/securityGroup:SecurityGroup"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
PIA = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SC = "kubernetes:storage.k8s.io/v1:StorageClass"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
GKE = "gcp:container/cluster:Cluster"
API = "gcp:projects/service:Service"
AKS = "azure-native:containerservice:ManagedCluster"
EFS_TYPES = (FS, MT, SG, PIA, SC, "llmfleet:aws:EfsModelCache")

# Qwen2.5-7B (not gated: no HF token needed): 7.6B params in bf16 = 14.2 GiB, cache = ceil(14.2 x 1.2 + 10) Gi.
# Four 8k sequences: on one L4 (20.0 GiB budget) weights 14.4 + overhead 3.0 GiB leave room for 47,936 tokens,
# not the default eight (65,536).
Q7 = {"name": "m", "model": "qwen2.5-7b", "concurrency": 4}
SHARED = {**Q7, "cache": {"mode": "shared"}}
QWEN_CACHE_GI = 27
# The environment is also a cost-allocation tag (spec.costguards.read_cost_tags); no costTags are set here.
TAGS = {"llmfleet.io/cluster": "t1", "llmfleet.io/environment": "test", "environment": "test"}


def aws(models, **aws_settings):
    return {"cloud": "aws",
            "cluster": {"name": "t1", "region": "us-east-1", "zones": ["us-east-1a", "us-east-1b"],
                        "aws": {"vpcCidr": "10.20.0.0/16", **aws_settings}},
            "gpuPools": [{"name": "l4", "instanceType": "g6.xlarge", "capacity": ["on-demand"], "maxNodes": 2}],
            "models": models}


def gcp(models, version="1.34"):
    return {"cloud": "gcp",
            "cluster": {"name": "g1", "region": "us-central1", "kubernetesVersion": version,
                        "gcp": {"project": "example-proj-1"}},
            "gpuPools": [{"name": "l4", "instanceType": "g2-standard-8", "maxNodes": 2}],
            "models": models}


def azure(models):
    return {"cloud": "azure", "cluster": {"name": "az1", "region": "eastus"},
            "gpuPools": [{"name": "a100", "instanceType": "Standard_NC24ads_A100_v4", "maxNodes": 2}],
            "models": models}


def claim(plan, name="m-cache"):
    return plan.manifest("PersistentVolumeClaim", name, "llm-serving")


# --- EKS: EFS file system, mount targets, security group, CSI add-on, StorageClass ------------------------------
@pytest.fixture(scope="module")
def eks():
    return run_config(aws([SHARED]))


def test_efs_file_system_is_encrypted_general_purpose_and_elastic(eks):
    fs = eks.one(FS, "t1-model-cache-fs")
    assert fs.inputs == {"creationToken": "t1-model-cache", "encrypted": True, "performanceMode": "generalPurpose",
                         "throughputMode": "elastic", "tags": {**TAGS, "Name": "t1-model-cache"}}
    assert fs.parent == eks.one("llmfleet:aws:EfsModelCache", "t1-model-cache").urn


def test_one_mount_target_per_private_subnet_behind_the_nfs_group(eks):
    targets = sorted(eks.of_type(MT), key=lambda r: r.name)
    assert [(t.name, t.inputs) for t in targets] == [
        (f"t1-model-cache-mt-{z}", {"fileSystemId": "t1-model-cache-fs-id", "securityGroups": ["t1-model-cache-sg-id"],
                                    "subnetId": f"t1-network-private-{z}-id"})
        for z in ("us-east-1a", "us-east-1b")]


def test_security_group_admits_only_nfs_from_the_node_subnets(eks):
    sg = eks.one(SG, "t1-model-cache-sg")
    # 10.20.0.0/16 with two zones: private /18s for the zones (components/aws/network.py carve()).
    assert sg.inputs == {
        "name": "t1-efs", "vpcId": "t1-network-vpc-id",
        "description": "NFS from the nodes of EKS cluster t1 to its model cache file system",
        "ingress": [{"protocol": "tcp", "fromPort": 2049.0, "toPort": 2049.0,
                     "cidrBlocks": ["10.20.0.0/18", "10.20.64.0/18"], "description": "NFS from the node subnets"}],
        "egress": [], "tags": {**TAGS, "Name": "t1-efs"}}


def test_csi_driver_role_trusts_both_driver_service_accounts_through_irsa(eks):
    role = eks.one(ROLE, "t1-model-cache-role")
    assert role.inputs["name"] == "t1-efs-csi-driver"
    host = "oidc.eks.example.invalid/id/T1"
    assert json.loads(role.inputs["assumeRolePolicy"]) == {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::000000000000:oidc-provider/{host}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{host}:sub": ["system:serviceaccount:kube-system:efs-csi-controller-sa",
                            "system:serviceaccount:kube-system:efs-csi-node-sa"],
            f"{host}:aud": "sts.amazonaws.com"}}}]}
    assert eks.one(ATTACH, "t1-model-cache-policy").inputs == {
        "role": "t1-efs-csi-driver", "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy"}
    assert eks.of_type(PIA) == []


def test_efs_csi_addon_uses_the_role_and_waits_for_nodes(eks):
    addon = eks.one(ADDON, "t1-model-cache-addon")
    assert addon.inputs == {"addonName": "aws-efs-csi-driver", "clusterName": "t1",
                            "addonVersion": "offline-default-for-1.34",
                            "serviceAccountRoleArn": "arn:aws:iam::000000000000:role/t1-efs-csi-driver",
                            "resolveConflictsOnCreate": "OVERWRITE", "resolveConflictsOnUpdate": "OVERWRITE",
                            "tags": TAGS}
    assert eks.waits_for(addon, eks.one(ATTACH, "t1-model-cache-policy"))
    assert eks.waits_for(addon, eks.one("aws:eks/nodeGroup:NodeGroup", "t1-system-ng"))


def test_efs_storage_class_provisions_access_points_owned_by_root(eks):
    sc = eks.one(SC, "t1-model-cache-storageclass")
    assert eks.manifest("StorageClass", "efs-sc") == {
        "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": "efs-sc", "labels": {"app.kubernetes.io/managed-by": "llmfleet"}},
        "provisioner": "efs.csi.aws.com",
        "parameters": {"provisioningMode": "efs-ap", "fileSystemId": "t1-model-cache-fs-id", "directoryPerms": "700",
                       "uid": "0", "gid": "0", "basePath": "/model-cache"},
        "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}
    assert sc.provider.startswith(eks.one("pulumi:providers:kubernetes", "t1-k8s").urn)
    assert eks.waits_for(sc, eks.one(ADDON, "t1-model-cache-addon"))
    for target in eks.of_type(MT):
        assert eks.waits_for(sc, target)


def test_eks_claim_is_rwx_on_efs_sc_sized_from_the_weights_and_waits_for_the_class(eks):
    assert claim(eks)["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "efs-sc",
                                  "resources": {"requests": {"storage": f"{QWEN_CACHE_GI}Gi"}}}
    pvc = eks.one(PVC, "t1-serving-m-cache")
    assert eks.waits_for(pvc, eks.one(SC, "t1-model-cache-storageclass"))


def test_pod_identity_associates_both_service_accounts_before_the_addon():
    plan = run_config(aws([SHARED], identity="pod-identity"))
    role = plan.one(ROLE, "t1-model-cache-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "pods.eks.amazonaws.com"}
    associations = sorted(plan.of_type(PIA), key=lambda r: r.name)
    mine = [a for a in associations if a.name.startswith("t1-model-cache-")]
    assert [(a.name, a.inputs) for a in mine] == [
        (f"t1-model-cache-pod-identity-{short}",
         {"clusterName": "t1", "namespace": "kube-system", "serviceAccount": f"efs-csi-{short}-sa",
          "roleArn": "arn:aws:iam::000000000000:role/t1-efs-csi-driver", "tags": TAGS})
        for short in ("controller", "node")]
    addon = plan.one(ADDON, "t1-model-cache-addon")
    assert "serviceAccountRoleArn" not in addon.inputs
    for a in mine:
        assert plan.waits_for(addon, a)
    assert plan.waits_for(addon, plan.one(ADDON, "t1-addon-eks-pod-identity-agent"))


def test_prod_stack_puts_llama_8b_on_efs():
    plan = run_stack("prod")
    assert plan.manifest("PersistentVolumeClaim", "llama-8b-cache", "llm-serving")["spec"]["storageClassName"] == \
        "efs-sc"
    assert len(plan.of_type(MT)) == 3
    assert plan.manifest("StorageClass", "efs-sc")["parameters"]["fileSystemId"] == "llm-prod-model-cache-fs-id"


@pytest.mark.parametrize("models", [
    [Q7],
    [{**Q7, "cache": {"mode": "per-replica"}}],
    [{**Q7, "cache": {"mode": "shared", "storageClass": "my-nfs"}}],
], ids=["no-cache", "per-replica", "own-class"])
def test_eks_creates_no_efs_unless_a_shared_cache_uses_efs_sc(models):
    plan = run_config(aws(models))
    # The EBS driver's class and identity (gp3, tests/test_aws_defects.py) are on every EKS cluster.
    assert [r.name for r in plan.resources if r.type in EFS_TYPES and not r.name.startswith("t1-ebs")] == []
    assert sorted(r.inputs["addonName"] for r in plan.of_type(ADDON)) == [
        "aws-ebs-csi-driver", "coredns", "kube-proxy", "vpc-cni"]
    assert [r.name for r in plan.of_type(ROLE) if "efs" in r.inputs["name"]] == []


# --- GKE: Filestore CSI add-on and API ---------------------------------------------------------------------------
def test_gke_enables_filestore_csi_and_its_api_for_a_shared_cache():
    plan = run_config(gcp([SHARED]))
    addons = plan.one(GKE, "g1-gke").inputs["addonsConfig"]
    assert addons == {"gcsFuseCsiDriverConfig": {"enabled": True},
                      "gcePersistentDiskCsiDriverConfig": {"enabled": True},
                      "gcpFilestoreCsiDriverConfig": {"enabled": True}}
    api = plan.one(API, "g1-file-api")
    assert api.inputs == {"project": "example-proj-1", "service": "file.googleapis.com", "disableOnDestroy": False}
    assert plan.waits_for(plan.one(GKE, "g1-gke"), api)
    # Basic HDD on GKE 1.33+: 100 GiB minimum, above the 27 GiB the weights need.
    assert claim(plan)["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "standard-rwx",
                                   "resources": {"requests": {"storage": "100Gi"}}}


def test_gke_without_shared_cache_keeps_filestore_off():
    plan = run_config(gcp([Q7]))
    assert plan.one(GKE, "g1-gke").inputs["addonsConfig"]["gcpFilestoreCsiDriverConfig"] == {"enabled": False}
    assert sorted(a.inputs["service"] for a in plan.of_type(API)) == ["compute.googleapis.com",
                                                                      "container.googleapis.com"]


def test_gke_before_1_33_claims_a_full_tib_of_basic_hdd():
    plan = run_config(gcp([SHARED], version="1.32"))
    assert claim(plan)["spec"]["resources"] == {"requests": {"storage": "1024Gi"}}


def test_gke_premium_class_enables_filestore_and_claims_its_minimum():
    plan = run_config(gcp([{**SHARED, "cache": {"mode": "shared", "storageClass": "premium-rwx"}}]))
    assert plan.one(GKE, "g1-gke").inputs["addonsConfig"]["gcpFilestoreCsiDriverConfig"] == {"enabled": True}
    assert claim(plan)["spec"]["resources"] == {"requests": {"storage": "2560Gi"}}
    assert claim(plan)["spec"]["storageClassName"] == "premium-rwx"


def test_gke_large_explicit_size_is_kept():
    plan = run_config(gcp([{**SHARED, "cache": {"mode": "shared", "sizeGi": 300}}]))
    assert claim(plan)["spec"]["resources"] == {"requests": {"storage": "300Gi"}}


# --- AKS: Azure Files CSI driver, premium share minimum -----------------------------------------------------------
def test_aks_keeps_the_file_and_disk_csi_drivers_on_explicitly():
    for models in ([SHARED], [Q7]):
        plan = run_config(azure(models))
        assert plan.one(AKS, "az1-aks").inputs["storageProfile"] == {
            "fileCSIDriver": {"enabled": True}, "diskCSIDriver": {"enabled": True}}


def test_aks_claim_is_rwx_on_premium_files_at_least_100_gib():
    plan = run_config(azure([SHARED]))
    assert claim(plan)["spec"] == {"accessModes": ["ReadWriteMany"], "storageClassName": "azurefile-csi-premium",
                                   "resources": {"requests": {"storage": "100Gi"}}}
    assert plan.of_type(SC) == []


def test_azure_prod_llama_8b_uses_a_premium_share():
    plan = run_stack("azure-prod")
    assert plan.manifest("PersistentVolumeClaim", "llama-8b-cache", "llm-serving")["spec"] == {
        "accessModes": ["ReadWriteMany"], "storageClassName": "azurefile-csi-premium",
        "resources": {"requests": {"storage": "100Gi"}}}


# --- config errors ------------------------------------------------------------------------------------------------
def test_explicit_size_below_the_class_minimum_is_an_error():
    assert config_error(azure([{**SHARED, "cache": {"mode": "shared", "sizeGi": 50}}])) == [
        "llmfleet:models[0].cache.sizeGi: must be >= 100 for storage class azurefile-csi-premium (the smallest "
        "premium Azure file share), got 50"]
    assert config_error(gcp([{**SHARED, "cache": {"mode": "shared", "sizeGi": 500}}], version="1.32")) == [
        "llmfleet:models[0].cache.sizeGi: must be >= 1024 for storage class standard-rwx (the smallest basic HDD "
        "Filestore instance), got 500"]
    assert config_error(gcp([{**SHARED, "cache": {"mode": "shared", "storageClass": "premium-rwx",
                                                  "sizeGi": 1024}}])) == [
        "llmfleet:models[0].cache.sizeGi: must be >= 2560 for storage class premium-rwx (the smallest basic SSD "
        "Filestore instance), got 1024"]


def test_existing_cluster_has_no_default_rwx_class():
    cfg = {"cloud": "existing", "gpuPools": [{"name": "h100", "gpu": "h100-80gb", "gpusPerNode": 8, "maxNodes": 1,
                         "labels": {"node.example/gpu": "h100"}}],
           "models": [SHARED]}
    assert config_error(cfg, secrets={"kubeconfig": "apiVersion: v1"}) == [
        "llmfleet:models[0].cache.storageClass: is required for a shared cache on cloud existing (no default "
        "ReadWriteMany class); or set llmfleet:serving.storageClass"]
