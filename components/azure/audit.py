"""The AKS API server's audit log, in production (issue 16 item 8): a diagnostic setting on the managed cluster
sends the `kube-audit-admin` category to a Log Analytics workspace of its own.

`kube-audit-admin` is every audit event except get and list (AKS "Monitor AKS" docs: the category to collect
when `kube-audit`, which adds the reads, is too costly); it records each change to the cluster and who made it.
AKS keeps no audit log unless a diagnostic setting collects it. The workspace keeps it AUDIT_RETENTION_DAYS days
(PerGB2018 includes 31 days of retention; ingestion is billed per GB). Resource-specific tables
(`Dedicated`: AKSAuditAdmin) rather than the legacy AzureDiagnostics table.
"""
import pulumi
from pulumi import ResourceOptions
from pulumi_azure_native import monitor, operationalinsights

AUDIT_CATEGORY = "kube-audit-admin"
AUDIT_RETENTION_DAYS = 30


def audit_logs(name: str, cluster_name: str, resource_group: pulumi.Input[str], location: str,
               cluster_id: pulumi.Input[str], tags: dict, parent: pulumi.Resource):
    """(workspace, diagnostic setting) for the cluster's audit log."""
    workspace = operationalinsights.Workspace(
        f"{name}-audit-workspace", resource_group_name=resource_group, workspace_name=f"{cluster_name}-audit",
        location=location, sku={"name": "PerGB2018"}, retention_in_days=AUDIT_RETENTION_DAYS, tags=tags,
        opts=ResourceOptions(parent=parent))
    setting = monitor.DiagnosticSetting(
        f"{name}-audit", name="llmfleet-audit", resource_uri=cluster_id, workspace_id=workspace.id,
        log_analytics_destination_type="Dedicated",
        logs=[{"category": AUDIT_CATEGORY, "enabled": True}],
        opts=ResourceOptions(parent=parent))
    return workspace, setting
