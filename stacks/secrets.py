"""Which components carry the Hugging Face token into the cluster for the stack's `llmfleet:security.secrets`
(spec/secrets.py). Called by stacks/compose.py before the serving layer, which reads the Secret named here.

pulumi: nothing here (the serving layer makes the Secret from the config secret, as before).
vault:  the cloud's vault component (entry, identity, IAM binding) + VaultSync (ESO, ServiceAccount, SecretStore,
        ExternalSecret).
sealed: the Sealed Secrets controller (unless the cluster runs its own) + the SealedSecret.
"""
from dataclasses import dataclass, field
from typing import Any, Optional

from pulumi import ResourceOptions

from components.serving.common import HF_SECRET_KEY
from spec.environment import is_production
from spec.secrets import default_key_vault_name
from spec.stack import StackSpec


@dataclass
class TokenDelivery:
    secret_name: Optional[str]                 # the Secret the model pods read; None: no token
    resources: list = field(default_factory=list)   # what the serving layer waits for (ExternalSecret, SealedSecret)
    charts: dict = field(default_factory=dict)      # chart -> namespace, for the network policies' webhook rows
    vault: Any = None                          # the cloud's vault component
    sync: Any = None                           # VaultSync / SealedToken
    controller: Any = None                     # SealedSecretsController, when installed


def deliver_token(spec: StackSpec, cluster, platform) -> TokenDelivery:
    s = spec.security.secrets
    on_cluster = ResourceOptions(providers={"kubernetes": cluster.provider})
    out = TokenDelivery(secret_name=None)
    if s.sealed_controller:
        from components.security.secrets import SealedSecretsController
        out.controller = SealedSecretsController(f"{spec.cluster.name}-sealed-secrets", depends_on=[platform],
                                                 opts=on_cluster)
    if s.source == "pulumi":
        out.secret_name = s.hf_secret_name if spec.serving.hf_token is not None else None
        return out
    ns = spec.serving.namespace
    if s.source == "sealed":
        if s.sealed_hf_token is None:
            return out
        from components.security.secrets import SealedToken
        deps = [platform] + ([out.controller.release] if s.sealed_controller else [])
        out.sync = SealedToken(f"{spec.cluster.name}-hf-token-sealed", ns, s.hf_secret_name, HF_SECRET_KEY,
                               s.sealed_hf_token, depends_on=deps, opts=on_cluster)
        out.secret_name, out.resources = s.hf_secret_name, [out.sync]
        return out
    # vault: the entry's value is llmfleet:hfToken; without it there is nothing to sync.
    if spec.serving.hf_token is None:
        return out
    from components.security.secrets import ESO_NAMESPACE, READER_SERVICE_ACCOUNT, VaultSync
    out.vault = cloud_vault(spec, cluster, ns, READER_SERVICE_ACCOUNT)
    out.sync = VaultSync(f"{spec.cluster.name}-vault-sync", {
        "namespace": ns, "target": s.hf_secret_name, "secret_key": HF_SECRET_KEY,
        "remote_key": out.vault.remote_key, "provider": out.vault.provider, "annotations": out.vault.annotations,
        "refresh_interval": s.refresh_interval, "depends_on": [platform, out.vault]}, opts=on_cluster)
    out.secret_name, out.resources = s.hf_secret_name, [out.sync]
    out.charts["external-secrets"] = ESO_NAMESPACE
    return out


def cloud_vault(spec: StackSpec, cluster, namespace: str, service_account: str):
    token = spec.serving.hf_token.output()
    c, name = spec.cluster, f"{spec.cluster.name}-vault"
    if spec.cloud == "aws":
        from components.aws.vault import AwsVault
        tags = {**c.settings.tags, **c.tags, "llmfleet.io/cluster": c.name, "llmfleet.io/environment": c.environment}
        return AwsVault(name, {
            "cluster_name": c.name, "region": c.region, "oidc_provider_arn": cluster.oidc_provider_arn,
            "oidc_issuer": cluster.oidc_issuer, "namespace": namespace, "service_account": service_account,
            "token": token, "recovery_days": 30 if is_production(spec.environment) else 7, "tags": tags},
            opts=ResourceOptions(providers={"aws": cluster.aws_provider}))
    if spec.cloud == "gcp":
        from components.gcp.vault import GcpVault
        s = c.settings
        return GcpVault(name, {
            "project": s.project, "cluster_name": c.name, "location": c.region if s.regional else s.zone,
            "workload_pool": s.workload_pool, "namespace": namespace, "service_account": service_account,
            "token": token, "labels": {**c.tags, "llmfleet-cluster": c.name, "llmfleet-environment": c.environment}})
    if spec.cloud == "azure":
        from components.azure.vault import AzureVault
        s = c.settings
        tags = {"managed-by": "llmfleet", "llmfleet-cluster": c.name, "llmfleet-environment": c.environment,
                **s.tags, **c.tags}
        return AzureVault(name, {
            "cluster_name": c.name, "vault_name": spec.security.secrets.vault_name or default_key_vault_name(
                spec.stack, c.name),
            "resource_group_name": cluster.resource_group_name, "region": c.region,
            "oidc_issuer_url": cluster.oidc_issuer_url, "namespace": namespace, "service_account": service_account,
            "token": token, "purge_protection": is_production(spec.environment), "tags": tags})
    raise AssertionError(f"unreachable: spec/secrets.py rejects vault on cloud {spec.cloud!r}")
