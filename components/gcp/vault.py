"""GcpVault: the Hugging Face token in GCP Secret Manager and the Google service account External Secrets Operator
acts as through GKE Workload Identity (one Kubernetes ServiceAccount may impersonate it), for
components/security/secrets.py.

IAM: `roles/secretmanager.secretAccessor` on this one secret (not the project), and
`roles/iam.workloadIdentityUser` on the Google account for `serviceAccount:<project>.svc.id.goog[<ns>/<sa>]`, the
member GKE's workload pool (components/gcp/cluster.py `workload_identity_config`) presents for that ServiceAccount.
"""
import re
from typing import Optional, TypedDict

import pulumi
import pulumi_gcp as gcp
from pulumi import ResourceOptions

GSA_ANNOTATION = "iam.gke.io/gcp-service-account"
IAM_CREDENTIALS_API = "iamcredentials.googleapis.com"
SECRET_MANAGER_API = "secretmanager.googleapis.com"
ACCESSOR = "roles/secretmanager.secretAccessor"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


def account_id(cluster: str) -> str:
    """6-30 characters, [a-z][-a-z0-9]*[a-z0-9]."""
    return f"{re.sub(r'-+$', '', cluster[:22])}-secrets"


def workload_member(workload_pool: str, namespace: str, service_account: str) -> str:
    return f"serviceAccount:{workload_pool}[{namespace}/{service_account}]"


class GcpVaultArgs(TypedDict):
    project: str
    """Project of the cluster, the secret and the Google account."""
    cluster_name: str
    """GKE cluster name (ESO's workload identity needs it with the location)."""
    location: str
    """The cluster's region (regional) or zone (zonal)."""
    workload_pool: str
    """`<project>.svc.id.goog`."""
    namespace: str
    """Namespace of the ServiceAccount that may act as the Google account."""
    service_account: str
    """The ServiceAccount the SecretStore authenticates as."""
    token: pulumi.Input[str]
    """The Hugging Face token (secret output)."""
    labels: dict
    """Labels for the secret."""


class GcpVault(pulumi.ComponentResource):
    secret: gcp.secretmanager.Secret
    account: gcp.serviceaccount.Account
    provider: dict
    annotations: dict
    remote_key: str

    def __init__(self, name: str, args: GcpVaultArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:gcp:GcpVault", name, None, opts)
        project, cluster = args["project"], args["cluster_name"]
        api = gcp.projects.Service(f"{name}-secretmanager-api", project=project, service=SECRET_MANAGER_API,
                                   disable_on_destroy=False, opts=ResourceOptions(parent=self))
        # ESO's Workload Identity path exchanges the pod's token for the Google service account's through the IAM
        # Credentials API (generateAccessToken): a project without it enabled gets 403 at the first sync.
        credentials_api = gcp.projects.Service(f"{name}-iamcredentials-api", project=project,
                                               service=IAM_CREDENTIALS_API, disable_on_destroy=False,
                                               opts=ResourceOptions(parent=self))
        child = ResourceOptions(parent=self, depends_on=[api, credentials_api])
        self.remote_key = f"{cluster}-hf-token"
        self.secret = gcp.secretmanager.Secret(
            f"{name}-hf-token", secret_id=self.remote_key, project=project, replication={"auto": {}},
            labels=args["labels"], opts=child)
        version = gcp.secretmanager.SecretVersion(f"{name}-hf-token-value", secret=self.secret.id,
                                                  secret_data=args["token"], opts=ResourceOptions(parent=self))
        self.account = gcp.serviceaccount.Account(
            f"{name}-reader", account_id=account_id(cluster), project=project,
            display_name=f"External Secrets Operator of {cluster}", opts=child)
        accessor = gcp.secretmanager.SecretIamMember(
            f"{name}-reader-accessor", project=project, secret_id=self.secret.secret_id, role=ACCESSOR,
            member=self.account.member, opts=ResourceOptions(parent=self))
        binding = gcp.serviceaccount.IAMMember(
            f"{name}-reader-workload-identity", service_account_id=self.account.name, role=WORKLOAD_IDENTITY_USER,
            member=workload_member(args["workload_pool"], args["namespace"], args["service_account"]),
            opts=ResourceOptions(parent=self))
        # Location, name and project given: ESO would otherwise read them from the metadata server.
        self.provider = {"gcpsm": {"projectID": project, "auth": {"workloadIdentity": {
            "clusterLocation": args["location"], "clusterName": cluster, "clusterProjectID": project,
            "serviceAccountRef": {"name": args["service_account"]}}}}}
        self.annotations = {GSA_ANNOTATION: self.account.email}
        self.ready = [version, accessor, binding]
        self.register_outputs({"secret": self.secret.id, "email": self.account.email})
