"""NodeIdentity: a dedicated, least-privilege service account for GKE nodes.

Without one, nodes run as the Compute Engine default service account (Editor on the project in many orgs).
Nodes only need to write logs and metrics and pull images; workloads that call Google APIs use Workload Identity.
"""
import re
from typing import Optional, TypedDict

import pulumi
import pulumi_gcp as gcp
from pulumi import ResourceOptions

# roles/container.defaultNodeServiceAccount is GKE's least-privilege node role (logging, monitoring, autoscaling
# metrics); Artifact Registry read lets nodes pull private images (e.g. a mirrored vLLM image).
NODE_ROLES = ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader")


def account_id(cluster_name: str) -> str:
    """Service account ids are 6-30 characters, [a-z][-a-z0-9]*[a-z0-9]; cluster names may be up to 40."""
    base = re.sub(r"-+$", "", cluster_name[:24])
    return f"{base}-nodes"


class NodeIdentityArgs(TypedDict):
    project: str
    """Project that owns the account and where its roles are granted."""
    cluster_name: str
    """The cluster's name; the account id derives from it."""


class NodeIdentity(pulumi.ComponentResource):
    account: gcp.serviceaccount.Account
    """The node service account; its `email` goes into every node pool's node_config."""
    grants: list
    """One project IAMMember per role in NODE_ROLES."""

    def __init__(self, name: str, args: NodeIdentityArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:gcp:NodeIdentity", name, None, opts)
        project = args["project"]
        self.account = gcp.serviceaccount.Account(
            f"{name}-sa", account_id=account_id(args["cluster_name"]), project=project,
            display_name=f"GKE nodes of {args['cluster_name']}", opts=ResourceOptions(parent=self))
        self.grants = [
            gcp.projects.IAMMember(f"{name}-{role.split('/')[1].replace('.', '-').lower()}", project=project,
                                   role=role, member=self.account.member, opts=ResourceOptions(parent=self))
            for role in NODE_ROLES]
        self.register_outputs({"email": self.account.email})
