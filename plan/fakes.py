"""What the mock runtime answers where a real provider would compute something.

`OUTPUTS[type]` gives a resource's computed outputs (merged over its inputs) for types whose outputs the program
reads (an EKS cluster's endpoint, a GKE cluster's CA...). `CALLS[token]` answers provider functions (invokes).
Values are obviously fake (example.invalid hosts, zeroed account ids) so they can never be mistaken for real ones.
"""
import base64
from typing import Any, Callable

import grpc

FAKE_CA = base64.b64encode(b"offline-plan-fake-ca").decode()
ACCOUNT = "000000000000"


def _aws_arn(service: str, kind: str):
    return lambda name, inputs: {"arn": f"arn:aws:{service}::{ACCOUNT}:{kind}/{inputs.get('name') or name}"}


OUTPUTS: dict[str, Callable[[str, dict], dict]] = {}
CALLS: dict[str, Callable[[dict], dict]] = {}


# --- GCP (components/gcp): the GKE endpoint + CA feed the kubeconfig; the node account's email and member feed
# the node pools and IAM grants.
def _gke_cluster(name: str, inputs: dict) -> dict:
    return {"endpoint": f"{inputs.get('name') or name}.gke.example.invalid",
            "masterAuth": {"clusterCaCertificate": FAKE_CA},
            "selfLink": f"https://container.googleapis.com/v1/projects/{inputs.get('project')}/locations/"
                        f"{inputs.get('location')}/clusters/{inputs.get('name') or name}"}


def _gcp_service_account(name: str, inputs: dict) -> dict:
    email = f"{inputs.get('accountId') or name}@{inputs.get('project')}.iam.gserviceaccount.com"
    return {"email": email, "member": f"serviceAccount:{email}", "uniqueId": "0" * 21,
            "name": f"projects/{inputs.get('project')}/serviceAccounts/{email}"}


OUTPUTS["gcp:container/cluster:Cluster"] = _gke_cluster
OUTPUTS["gcp:serviceaccount/account:Account"] = _gcp_service_account
# The vault's secret (components/gcp/vault.py): Secret Manager answers its full name as `name`.
OUTPUTS["gcp:secretmanager/secret:Secret"] = lambda name, inputs: {
    "name": f"projects/{inputs.get('project')}/secrets/{inputs.get('secretId') or name}"}


# --- AWS (components/aws): the EKS endpoint, CA and OIDC issuer feed the kubeconfig and IRSA; role/provider ARNs
# feed trust policies; a node group's ASG name feeds the autoscaler's node-template tags. EKS names a managed node
# group's ASG `eks-<node group name>-<uuid>`.
def _eks_cluster(name: str, inputs: dict) -> dict:
    cname = inputs.get("name") or name
    return {"arn": f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{cname}",
            "endpoint": f"https://{cname}.eks.example.invalid",
            "certificateAuthority": {"data": FAKE_CA},
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.example.invalid/id/{cname.upper()}"}]}],
            # Changes only when the cluster is replaced; part of the Kubernetes provider's cluster_identifier.
            "createdAt": "2026-01-01T00:00:00Z",
            # EKS adds the cluster security group to the VPC config (Karpenter's discovery tag goes on it).
            "vpcConfig": {**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": "sg-0123456789abcdef0"}}


def _eks_node_group(name: str, inputs: dict) -> dict:
    ng = inputs.get("nodeGroupName") or name
    return {"arn": f"arn:aws:eks:us-east-1:{ACCOUNT}:nodegroup/{inputs.get('clusterName')}/{ng}/00000000",
            "resources": [{"autoscalingGroups": [{"name": f"eks-{ng}-00000000-0000-0000-0000-000000000000"}],
                           "remoteAccessSecurityGroupId": ""}]}


# EKS's default add-on version for a Kubernetes minor (components/aws/addons.py): a recognisable fake that
# changes with the minor, so a `kubernetesVersion` bump shows up as an add-on update in the plan.
CALLS["aws:eks/getAddonVersion:getAddonVersion"] = lambda args: {
    "id": args.get("addonName"), "addonName": args.get("addonName"), "kubernetesVersion": args.get("kubernetesVersion"),
    "version": f"offline-default-for-{args.get('kubernetesVersion')}"}
# Live node groups (components/aws/live.py): none exist in the offline plan, as on a first `up`. Tests of day-2
# scaling put (cluster, node group) -> desired size here.
LIVE_NODE_GROUPS: dict[tuple[str, str], int] = {}


class ProviderError(grpc.RpcError):
    """How the engine reports a provider function's failure to the program (a gRPC error the SDK turns into an
    exception at the call site), unlike a crash of the mock itself."""

    def __init__(self, details: str):
        super().__init__(details)
        self._details = details

    def code(self):
        return grpc.StatusCode.UNKNOWN

    def details(self):
        return self._details


def _eks_get_node_group(args: dict) -> dict:
    key = (args.get("clusterName"), args.get("nodeGroupName"))
    if key not in LIVE_NODE_GROUPS:
        raise ProviderError(f"reading EKS Node Group ({key[0]}:{key[1]}): couldn't find resource")
    return {"clusterName": key[0], "nodeGroupName": key[1], "scalingConfigs": [{"desiredSize": LIVE_NODE_GROUPS[key]}]}


CALLS["aws:eks/getNodeGroup:getNodeGroup"] = _eks_get_node_group
OUTPUTS["aws:eks/cluster:Cluster"] = _eks_cluster
OUTPUTS["aws:eks/nodeGroup:NodeGroup"] = _eks_node_group
OUTPUTS["aws:iam/role:Role"] = _aws_arn("iam", "role")
OUTPUTS["aws:iam/openIdConnectProvider:OpenIdConnectProvider"] = lambda name, inputs: {
    "arn": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{str(inputs.get('url', name)).removeprefix('https://')}"}
# The vault's entry (components/aws/vault.py): its ARN scopes the reader role's policy.
OUTPUTS["aws:secretsmanager/secret:Secret"] = lambda name, inputs: {
    "arn": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{inputs.get('name') or name}-AbCdEf"}
OUTPUTS["aws:kms/key:Key"] = lambda name, inputs: {"arn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{name}"}
OUTPUTS["aws:ec2/launchTemplate:LaunchTemplate"] = lambda name, inputs: {"latestVersion": 1, "defaultVersion": 1}
# Karpenter (components/aws/karpenter.py): the queue's ARN and URL feed the controller policy, the queue policy and
# the chart's settings; the rules' ARNs feed the queue policy.
OUTPUTS["aws:sqs/queue:Queue"] = lambda name, inputs: {
    "arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:{inputs.get('name') or name}",
    "url": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{inputs.get('name') or name}"}
OUTPUTS["aws:cloudwatch/eventRule:EventRule"] = lambda name, inputs: {
    "arn": f"arn:aws:events:us-east-1:{ACCOUNT}:rule/{inputs.get('name') or name}"}
# The model cache's EFS file system (components/aws/storage.py): its id feeds the `efs-sc` StorageClass (the mock
# runtime's id), its ARN the component outputs.
OUTPUTS["aws:efs/fileSystem:FileSystem"] = lambda name, inputs: {
    "arn": f"arn:aws:elasticfilesystem:us-east-1:{ACCOUNT}:file-system/{name}-id",
    "dnsName": f"{name}-id.efs.us-east-1.example.invalid"}


# pulumi_random (components/rag/vectorstore.py): the generated Qdrant API key. The provider marks `result` secret.
OUTPUTS["random:index/randomPassword:RandomPassword"] = lambda name, inputs: {
    "result": "offline-plan-fake-password", "bcryptHash": "offline-plan-fake-hash"}


def outputs_for(type_: str, name: str, inputs: dict) -> dict:
    fn = OUTPUTS.get(type_)
    extra = fn(name, inputs) if fn else {}
    return {**inputs, **extra}


def call(token: str, args: dict) -> dict:
    fn = CALLS.get(token)
    if fn is None:
        raise KeyError(f"the offline plan has no fake answer for provider function {token}; add one to plan/fakes.py")
    return fn(args)


# --- Azure (azure-native) -----------------------------------------------------------------------------------
AZURE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
AZURE_TENANT = "00000000-0000-0000-0000-000000000001"
AZURE_PRINCIPAL = "00000000-0000-0000-0000-0000000000aa"


def _azure_named(key: str):
    """ARM resources return their name as `name`; the program reads it (e.g. the AKS name for its agent pools)."""
    return lambda name, inputs: {"name": inputs.get(key) or name}


def _aks_cluster(name: str, inputs: dict) -> dict:
    cluster = inputs.get("resourceName") or name
    identity = dict(inputs.get("identity") or {})
    identity.update({"principalId": AZURE_PRINCIPAL, "tenantId": AZURE_TENANT})
    # ARM answers the user-assigned identities as a map keyed by resource id (the input is a list of ids).
    identity["userAssignedIdentities"] = {
        i: {"principalId": AZURE_PRINCIPAL, "clientId": AZURE_PRINCIPAL}
        for i in identity.get("userAssignedIdentities") or []}
    return {
        "name": cluster,
        "fqdn": f"{cluster}.hcp.example.invalid",
        "oidcIssuerProfile": {"enabled": True, "issuerURL": f"https://oidc.example.invalid/{cluster}/"},
        "identity": identity,
        "identityProfile": {"kubeletidentity": {"clientId": AZURE_PRINCIPAL, "objectId": AZURE_PRINCIPAL,
                                                "resourceId": f"/subscriptions/{AZURE_SUBSCRIPTION}/fake"}},
        "provisioningState": "Succeeded",
    }


def _aks_kubeconfig(args: dict) -> dict:
    cluster = args.get("resourceName") or "aks"
    kubeconfig = (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {cluster}\n  cluster:\n    server: https://{cluster}.hcp.example.invalid:443\n"
        f"    certificate-authority-data: {FAKE_CA}\n"
        f"contexts:\n- name: {cluster}\n  context:\n    cluster: {cluster}\n    user: clusterUser\n"
        f"current-context: {cluster}\n"
        "users:\n- name: clusterUser\n  user:\n    token: offline-plan-fake-token\n")
    return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(kubeconfig.encode()).decode()}]}


OUTPUTS.update({
    "azure-native:resources:ResourceGroup": _azure_named("resourceGroupName"),
    "azure-native:network:VirtualNetwork": _azure_named("virtualNetworkName"),
    "azure-native:network:Subnet": _azure_named("subnetName"),
    "azure-native:managedidentity:UserAssignedIdentity": lambda name, inputs: {
        "name": inputs.get("resourceName") or name, "principalId": AZURE_PRINCIPAL, "clientId": AZURE_PRINCIPAL,
        "tenantId": AZURE_TENANT},
    "azure-native:containerservice:ManagedCluster": _aks_cluster,
    "azure-native:containerservice:AgentPool": _azure_named("agentPoolName"),
    # The vault (components/azure/vault.py): ARM answers its data-plane URI under properties.
    "azure-native:keyvault:Vault": lambda name, inputs: {
        "name": inputs.get("vaultName") or name,
        "properties": {**(inputs.get("properties") or {}),
                       "vaultUri": f"https://{inputs.get('vaultName') or name}.vault.example.invalid/"}},
})
CALLS.update({
    "azure-native:authorization:getClientConfig": lambda args: {
        "clientId": AZURE_PRINCIPAL, "objectId": AZURE_PRINCIPAL, "subscriptionId": AZURE_SUBSCRIPTION,
        "tenantId": AZURE_TENANT},
    "azure-native:containerservice:listManagedClusterUserCredentials": _aks_kubeconfig,
})


__all__ = ["OUTPUTS", "CALLS", "outputs_for", "call", "FAKE_CA", "ACCOUNT", "_aws_arn", "Any"]


# --- StackReference (stacks/federation.py), pulumi 3.272.0 mocks (shared FACTS-wave2 section 8): the read arrives
# as new_resource with typ "pulumi:pulumi:StackReference" and the referenced stack's name; the state is
# {"outputs": {...}, "secretOutputNames": [...]}, which StackReference turns into outputs marked secret by name.
# The offline plan fills STACK_OUTPUTS from the referenced stacks' own plans (plan/federation.py).
STACK_OUTPUTS: dict[str, tuple[dict, list]] = {}


class MissingStack(KeyError):
    pass


def _stack_reference(name: str, inputs: dict) -> dict:
    stack = inputs.get("name") or name
    if stack not in STACK_OUTPUTS:
        raise MissingStack(f"no offline outputs for referenced stack {stack} (plan/federation.py loads them)")
    outputs, secret_names = STACK_OUTPUTS[stack]
    return {"name": stack, "outputs": outputs, "secretOutputNames": list(secret_names)}


OUTPUTS["pulumi:pulumi:StackReference"] = _stack_reference
# The federation hub's Gateway (components/federation/hub.py) reads the load balancer's address from its status;
# an AWS NLB answers with a hostname.
OUTPUTS["kubernetes:gateway.networking.k8s.io/v1:Gateway"] = lambda name, inputs: {"status": {"addresses": [
    {"type": "Hostname", "value": f"{(inputs.get('metadata') or {}).get('name', name)}.elb.example.invalid"}]}}
# IAM access key (components/federation/dns.py): the provider marks `secret` secret; the program wraps it again.
OUTPUTS["aws:iam/accessKey:AccessKey"] = lambda name, inputs: {"secret": "offline-plan-fake-secret-key"}
