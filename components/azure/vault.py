"""AzureVault: an Azure Key Vault (RBAC authorization) holding the Hugging Face token, and the user-assigned identity
External Secrets Operator acts as through AKS Workload Identity, for components/security/secrets.py.

Binding: a federated identity credential on the identity trusts tokens of the cluster's OIDC issuer for
`system:serviceaccount:<ns>:<sa>` with audience `api://AzureADTokenExchange` (Entra Workload ID), and the identity
holds "Key Vault Secrets User" (read secret values) on this vault only. The cluster already runs the OIDC issuer
and the workload identity webhook (components/azure/cluster.py). The secret's value is written through ARM from
`llmfleet:hfToken` (a Pulumi secret); ARM needs management-plane rights only, not a data-plane role.
"""
from typing import Optional, TypedDict

import pulumi
from pulumi import ResourceOptions
from pulumi_azure_native import authorization, keyvault, managedidentity

from components.azure.identity import role_definition_id

CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
TENANT_ID_ANNOTATION = "azure.workload.identity/tenant-id"
TOKEN_AUDIENCE = "api://AzureADTokenExchange"
# Built-in role "Key Vault Secrets User" (read secret contents; Azure built-in roles reference). Built-in role ids are
# the same GUID in every tenant.
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRET_NAME = "hf-token"


def subject(namespace: str, service_account: str) -> str:
    return f"system:serviceaccount:{namespace}:{service_account}"


class AzureVaultArgs(TypedDict):
    cluster_name: str
    """AKS cluster name (identity name)."""
    vault_name: str
    """Key Vault name (llmfleet:security.secrets.vault.name or derived; globally unique)."""
    resource_group_name: pulumi.Input[str]
    """The cluster's resource group."""
    region: str
    """Azure region."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (AksCluster.oidc_issuer_url)."""
    namespace: str
    """Namespace of the ServiceAccount the identity trusts."""
    service_account: str
    """The ServiceAccount the SecretStore authenticates as."""
    token: pulumi.Input[str]
    """The Hugging Face token (secret output)."""
    purge_protection: bool
    """Production: deleted secrets cannot be purged before the retention ends (cannot be turned off later)."""
    tags: dict
    """Tags for the vault and the identity."""


class AzureVault(pulumi.ComponentResource):
    vault: keyvault.Vault
    identity: managedidentity.UserAssignedIdentity
    provider: dict
    annotations: dict
    remote_key: str

    def __init__(self, name: str, args: AzureVaultArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:azure:AzureVault", name, None, opts)
        child = ResourceOptions(parent=self)
        rg, ns, sa = args["resource_group_name"], args["namespace"], args["service_account"]
        tenant = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self)).tenant_id
        self.vault = keyvault.Vault(
            f"{name}-vault", vault_name=args["vault_name"], resource_group_name=rg, location=args["region"],
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=tenant, sku=keyvault.SkuArgs(family="A", name="standard"),
                # Azure RBAC on the data plane, not access policies: the role assignment below is the only grant.
                enable_rbac_authorization=True, enable_soft_delete=True, soft_delete_retention_in_days=90,
                enable_purge_protection=True if args["purge_protection"] else None),
            tags=args["tags"], opts=child)
        self.remote_key = SECRET_NAME
        secret = keyvault.Secret(f"{name}-hf-token", resource_group_name=rg, vault_name=self.vault.name,
                                 secret_name=SECRET_NAME, tags=args["tags"],
                                 properties=keyvault.SecretPropertiesArgs(value=args["token"],
                                                                          content_type="text/plain"),
                                 opts=child)
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-reader", resource_group_name=rg, resource_name_=f"{args['cluster_name']}-secrets-reader",
            location=args["region"], tags=args["tags"], opts=child)
        credential = managedidentity.FederatedIdentityCredential(
            f"{name}-reader-federation", resource_group_name=rg, resource_name_=self.identity.name,
            federated_identity_credential_resource_name="external-secrets", issuer=args["oidc_issuer_url"],
            subject=subject(ns, sa), audiences=[TOKEN_AUDIENCE], opts=child)
        grant = authorization.RoleAssignment(
            f"{name}-reader-secrets-user", scope=self.vault.id, principal_id=self.identity.principal_id,
            # Named so ARM skips the directory lookup that fails for an identity created seconds earlier.
            principal_type="ServicePrincipal", role_definition_id=role_definition_id(KEY_VAULT_SECRETS_USER, self),
            opts=child)
        self.provider = {"azurekv": {"authType": "WorkloadIdentity", "tenantId": tenant,
                                     "vaultUrl": self.vault.properties.apply(lambda p: p.vault_uri),
                                     "serviceAccountRef": {"name": sa}}}
        self.annotations = {CLIENT_ID_ANNOTATION: self.identity.client_id, TENANT_ID_ANNOTATION: tenant}
        self.ready = [secret, credential, grant]
        self.register_outputs({"vaultUri": self.vault.properties.apply(lambda p: p.vault_uri),
                               "clientId": self.identity.client_id})
