"""The Hugging Face token's way into the cluster when it does not come from Pulumi config (spec/secrets.py):

- `VaultSync`: External Secrets Operator (pinned chart), one ServiceAccount the cloud's workload identity trusts
  (its annotation names the cloud identity), a namespaced SecretStore that authenticates as that ServiceAccount,
  and an ExternalSecret that writes the Secret the model pods read. The cloud side (store entry, identity, IAM
  binding) is the cloud's component: components/aws/vault.py, components/gcp/vault.py, components/azure/vault.py.
- `SealedSecretsController` and `SealedToken`: the Sealed Secrets controller (pinned chart) and a SealedSecret from
  the ciphertext in config; the controller decrypts it into the Secret.

Why a namespaced SecretStore with its own ServiceAccount rather than credentials on ESO's controller: the cloud
identity is bound to this one ServiceAccount (IRSA subject, GKE Workload Identity member, federated credential
subject), so only stores in the serving namespace can use it; EKS Pod Identity cannot do that (it hands credentials
to the pod's own ServiceAccount only), which is why AWS uses IRSA here whatever `cluster.aws.identity` says.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.helm import chart_release
from components.platform import MANAGED_BY
from spec.platform import SYSTEM_NAMESPACE
from spec.secrets import SEALED_CONTROLLER_NAME, SEALED_CONTROLLER_NAMESPACE

ESO_RELEASE = "external-secrets"
ESO_NAMESPACE = SYSTEM_NAMESPACE
STORE_NAME = "llmfleet-vault"
# The ServiceAccount the SecretStore authenticates as: the subject of the cloud identity's trust.
READER_SERVICE_ACCOUNT = "llmfleet-secrets"
ESO_API = "external-secrets.io/v1"
# `pulumi up` waits for ESO's first sync (condition Ready, reason SecretSynced) instead of starting model pods that
# cannot read their Secret; the budget covers IAM propagation (minutes), which ESO's retries ride out.
SYNC_TIMEOUT_SECONDS = 900
SEALED_API = "bitnami.com/v1alpha1"


def eso_values() -> dict:
    """External Secrets Operator 2.9.0 values (shared/chart-values/external-secrets-2.9.0.yaml). Only namespaced
    SecretStores and ExternalSecrets are used: the cluster-scoped and push kinds are not processed, so no store
    of this program can be reached from another namespace and nothing writes back to a vault."""
    small = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}
    return {
        "installCRDs": True,
        "processClusterStore": False,
        "processClusterExternalSecret": False,
        "processPushSecret": False,
        "processClusterPushSecret": False,
        "resources": small,
        "webhook": {"resources": small},
        "certController": {"resources": small},
    }


def secret_store(namespace: str, provider: dict) -> dict:
    return {"apiVersion": ESO_API, "kind": "SecretStore",
            "metadata": {"name": STORE_NAME, "namespace": namespace, "labels": MANAGED_BY},
            "spec": {"provider": provider}}


def external_secret(namespace: str, target: str, secret_key: str, remote_key: str, refresh: str) -> dict:
    """The store entry `remote_key` (a plain string value) becomes key `secret_key` of Secret `target`, owned by
    the ExternalSecret (deleted with it)."""
    return {"apiVersion": ESO_API, "kind": "ExternalSecret",
            "metadata": {"name": target, "namespace": namespace, "labels": MANAGED_BY,
                         "annotations": {"pulumi.com/waitFor": "condition=Ready",
                                         "pulumi.com/timeoutSeconds": str(SYNC_TIMEOUT_SECONDS)}},
            "spec": {"refreshInterval": refresh,
                     "secretStoreRef": {"name": STORE_NAME, "kind": "SecretStore"},
                     "target": {"name": target, "creationPolicy": "Owner",
                                "template": {"type": "Opaque", "metadata": {"labels": MANAGED_BY}}},
                     "data": [{"secretKey": secret_key, "remoteRef": {"key": remote_key}}]}}


def sealed_secret(namespace: str, name: str, key: str, ciphertext: str) -> dict:
    """Sealed Secrets' default (strict) scope binds the ciphertext to this name and namespace."""
    return {"apiVersion": SEALED_API, "kind": "SealedSecret",
            "metadata": {"name": name, "namespace": namespace, "labels": MANAGED_BY},
            "spec": {"encryptedData": {key: ciphertext},
                     "template": {"type": "Opaque", "metadata": {"name": name, "namespace": namespace,
                                                                 "labels": MANAGED_BY}}}}


class VaultSyncArgs(TypedDict):
    namespace: str
    """Where the SecretStore, its ServiceAccount and the target Secret live (the serving namespace)."""
    target: str
    """Name of the Secret the pods read (spec.secrets.HF_SECRET_NAMES['vault'])."""
    secret_key: str
    """Key in that Secret (HF_TOKEN)."""
    remote_key: pulumi.Input[str]
    """The store entry's name (AWS secret name, GCP secret id, Key Vault secret name)."""
    provider: pulumi.Input[dict]
    """`spec.provider` of the SecretStore (aws / gcpsm / azurekv), from the cloud's vault component."""
    annotations: pulumi.Input[dict]
    """Annotations that bind the ServiceAccount to the cloud identity (role ARN, GSA email, client id)."""
    refresh_interval: str
    """How often ESO re-reads the entry (llmfleet:security.secrets.vault.refreshInterval)."""
    depends_on: Sequence[pulumi.Resource]
    """Namespaces, and the cloud side (entry, identity, IAM binding): ESO's first read must find them."""


class VaultSync(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    service_account: k8s.core.v1.ServiceAccount
    store: k8s.apiextensions.CustomResource
    external_secret: k8s.apiextensions.CustomResource
    """Writes the target Secret; the serving layer depends on it."""

    def __init__(self, name: str, args: VaultSyncArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:security:VaultSync", name, None, opts)
        ns, deps = args["namespace"], list(args["depends_on"])
        self.release = chart_release(f"{name}-eso", "external-secrets", ESO_NAMESPACE, eso_values(), parent=self,
                                     depends_on=deps, release_name=ESO_RELEASE)
        # No token in the pod: ESO requests one for this account (TokenRequest) when it reads the store.
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-reader-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=READER_SERVICE_ACCOUNT, namespace=ns, labels=MANAGED_BY,
                                                annotations=args["annotations"]),
            automount_service_account_token=False,
            opts=ResourceOptions(parent=self, depends_on=deps))
        store = secret_store(ns, {})
        self.store = k8s.apiextensions.CustomResource(
            f"{name}-store", api_version=ESO_API, kind="SecretStore",
            metadata=k8s.meta.v1.ObjectMetaArgs(**store["metadata"]),
            spec={"provider": args["provider"]},
            opts=ResourceOptions(parent=self, depends_on=[self.release, self.service_account]))
        es = external_secret(ns, args["target"], args["secret_key"], "", args["refresh_interval"])
        es["spec"]["data"][0]["remoteRef"]["key"] = args["remote_key"]
        self.external_secret = k8s.apiextensions.CustomResource(
            f"{name}-external-secret", api_version=ESO_API, kind="ExternalSecret",
            metadata=k8s.meta.v1.ObjectMetaArgs(**es["metadata"]), spec=es["spec"],
            opts=ResourceOptions(parent=self, depends_on=[self.store]))
        self.register_outputs({"store": STORE_NAME, "secret": args["target"]})


class SealedSecretsController(pulumi.ComponentResource):
    """The controller in kube-system under kubeseal's default name (sealed-secrets 2.18.5, controller 0.36.6)."""
    release: k8s.helm.v3.Release

    def __init__(self, name: str, depends_on: Sequence[pulumi.Resource] = (),
                 opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:security:SealedSecretsController", name, None, opts)
        values = {"fullnameOverride": SEALED_CONTROLLER_NAME,
                  "resources": {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}}
        self.release = chart_release(f"{name}-chart", "sealed-secrets", SEALED_CONTROLLER_NAMESPACE, values,
                                     parent=self, depends_on=depends_on, release_name=SEALED_CONTROLLER_NAME)
        self.register_outputs({"controller": f"{SEALED_CONTROLLER_NAMESPACE}/{SEALED_CONTROLLER_NAME}"})


class SealedToken(pulumi.ComponentResource):
    """The SealedSecret the controller decrypts into the Secret the pods read."""
    sealed: k8s.apiextensions.CustomResource

    def __init__(self, name: str, namespace: str, target: str, key: str, ciphertext: str,
                 depends_on: Sequence[pulumi.Resource] = (), opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:security:SealedToken", name, None, opts)
        obj = sealed_secret(namespace, target, key, ciphertext)
        self.sealed = k8s.apiextensions.CustomResource(
            f"{name}-sealed", api_version=SEALED_API, kind="SealedSecret",
            metadata=k8s.meta.v1.ObjectMetaArgs(**obj["metadata"]), spec=obj["spec"],
            opts=ResourceOptions(parent=self, depends_on=list(depends_on)))
        self.register_outputs({"secret": target})
