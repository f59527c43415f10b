"""Issue 16 item 8, the cloud side, over the shipped stacks' exact inputs: every disk and file system the program
creates is encrypted, nodes get no public IP, IMDSv2 on every AWS node (system group included), the API server's
audit log is kept in production; and the production rules' error lines."""
import pytest

from plan.runtime import ROOT
from plan.stackfile import load_stack_config
from spec.reader import ConfigError
from spec.stack import load, project_config
from tests.harness import changed, run_stack

AWS_STACKS = ("dev", "prod", "prod-karpenter")


def _ec2_node_class_specs(p) -> list[dict]:
    return [m["spec"] for m in p.manifests if m["kind"] == "EC2NodeClass"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_aws_every_node_volume_encrypted_and_imdsv2_only(stack):
    p = run_stack(stack)
    templates = p.of_type("aws:ec2/launchTemplate:LaunchTemplate")
    assert templates, "no launch template: the rule looked at nothing"
    for lt in templates:
        i = lt.inputs
        assert i["metadataOptions"]["httpTokens"] == "required", lt.name
        assert i["metadataOptions"]["httpEndpoint"] == "enabled", lt.name
        # The system group's pods (add-on controllers) may read instance metadata; GPU nodes' pods may not.
        hops = 2 if lt.name.endswith("-system-lt") else 1
        assert i["metadataOptions"]["httpPutResponseHopLimit"] == hops, lt.name
        assert i["blockDeviceMappings"] and all(m["ebs"]["encrypted"] == "true" for m in i["blockDeviceMappings"])
    assert any(lt.name.endswith("-system-lt") for lt in templates)
    for spec in _ec2_node_class_specs(p):
        assert spec["metadataOptions"]["httpTokens"] == "required"
        assert all(d["ebs"]["encrypted"] is True for d in spec["blockDeviceMappings"])


def test_aws_storage_encrypted_at_rest():
    prod = run_stack("prod")
    [fs] = prod.of_type("aws:efs/fileSystem:FileSystem")
    assert fs.inputs["encrypted"] is True
    classes = [m for m in prod.manifests if m["kind"] == "StorageClass" and m["provisioner"] == "ebs.csi.aws.com"]
    assert classes and all(c["parameters"]["encrypted"] == "true" for c in classes)
    cluster = prod.one("aws:eks/cluster:Cluster")
    assert cluster.inputs["encryptionConfig"]["resources"] == ["secrets"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_aws_nodes_only_in_private_subnets_and_no_subnet_hands_out_public_ips(stack):
    p = run_stack(stack)
    subnets = {s.name: s for s in p.of_type("aws:ec2/subnet:Subnet")}
    assert all(s.inputs.get("mapPublicIpOnLaunch") in (None, False) for s in subnets.values())
    private_ids = {f"{name}-id" for name in subnets if "-private-" in name}
    for ng in p.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert set(ng.inputs["subnetIds"]) <= private_ids, ng.name
    # Karpenter finds its subnets by the discovery tag, which only the private subnets carry.
    tagged = {n for n, s in subnets.items() if "karpenter.sh/discovery" in (s.inputs.get("tags") or {})}
    assert tagged == {n for n in subnets if "-private-" in n}


@pytest.mark.parametrize("stack", ["prod", "prod-karpenter"])
def test_eks_prod_keeps_the_audit_log(stack):
    types = run_stack(stack).one("aws:eks/cluster:Cluster").inputs["enabledClusterLogTypes"]
    assert "audit" in types


def test_gke_private_nodes_and_metadata_server():
    p = run_stack("gcp-prod")
    assert p.one("gcp:container/cluster:Cluster").inputs["privateClusterConfig"]["enablePrivateNodes"] is True
    pools = p.of_type("gcp:container/nodePool:NodePool")
    assert pools
    for pool in pools:
        # GKE's metadata server: pods see their Workload Identity, never the node's credentials.
        assert pool.inputs["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}, pool.name


def test_aks_nodes_without_public_ips_and_the_audit_log_in_prod():
    p = run_stack("azure-prod")
    cluster = p.one("azure-native:containerservice:ManagedCluster")
    profiles = cluster.inputs["agentPoolProfiles"] + [a.inputs for a in
                                                      p.of_type("azure-native:containerservice:AgentPool")]
    assert len(profiles) > 1 and not any(x.get("enableNodePublicIP") for x in profiles)
    ws = p.one("azure-native:operationalinsights:Workspace").inputs
    assert (ws["workspaceName"], ws["sku"], ws["retentionInDays"]) == ("llm-azure-prod-audit", {"name": "PerGB2018"}, 30)
    setting = p.one("azure-native:monitor:DiagnosticSetting")
    assert setting.inputs == {"name": "llmfleet-audit", "resourceUri": "llm-azure-prod-aks-id",
                              "workspaceId": "llm-azure-prod-audit-workspace-id",
                              "logAnalyticsDestinationType": "Dedicated",
                              "logs": [{"category": "kube-audit-admin", "enabled": True}]}
    assert p.waits_for(setting, cluster)


def _raw(stack: str) -> dict:
    _, config, _ = load_stack_config(ROOT, stack)
    return project_config(config)


def _secrets(stack: str) -> set:
    _, _, secret_keys = load_stack_config(ROOT, stack)
    return {k.partition(":")[2] for k in secret_keys}


def _problems(stack: str, raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(raw, _secrets(stack), stack)
    return e.value.lines


def test_aks_audit_log_off_outside_prod_on_request_and_never_off_in_prod():
    raw = _raw("azure-prod")
    dev = changed(raw, environment="dev")
    assert load(dev, _secrets("azure-prod"), "azure-prod").cluster.settings.audit_logs is None
    assert load(changed(raw, cluster__azure__auditLogs=True, environment="dev"), _secrets("azure-prod"),
                "azure-prod").cluster.settings.audit_logs is True
    assert _problems("azure-prod", changed(raw, cluster__azure__auditLogs=False)) == [
        "llmfleet:cluster.azure.auditLogs: must stay true in a prod stack: AKS keeps no API server audit log unless "
        "a diagnostic setting collects it"]


def test_eks_prod_rejects_dropping_audit_logs_or_secrets_encryption():
    raw = _raw("prod")
    bad = changed(raw, cluster__aws__controlPlaneLogs=["api", "authenticator"], cluster__aws__secretsEncryption=False)
    assert _problems("prod", bad) == [
        "llmfleet:cluster.aws.controlPlaneLogs: must include audit in the 'prod' environment (production): the API "
        "server's audit log is the record of who changed what, got [api, authenticator]",
        "llmfleet:cluster.aws.secretsEncryption: must stay true in the 'prod' environment (production): Secrets are "
        "envelope-encrypted with the cluster's KMS key"]
    # Outside production both are the stack's choice.
    load(changed(bad, environment="staging"), _secrets("prod"), "prod")


def test_gke_prod_rejects_public_nodes():
    raw = _raw("gcp-prod")
    assert _problems("gcp-prod", changed(raw, cluster__gcp__privateNodes=False)) == [
        "llmfleet:cluster.gcp.privateNodes: must stay true in a prod stack: nodes without it get external IP "
        "addresses"]
