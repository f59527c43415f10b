"""Where the stack's credentials come from (`llmfleet:security.secrets`): the Hugging Face token's source.

- `pulumi` (default): `llmfleet:hfToken`, a Pulumi config secret, becomes a Kubernetes Secret (as before).
- `vault`: the cloud's secret store. The cluster's cloud components create the store entry from `llmfleet:hfToken`
  (AWS Secrets Manager, GCP Secret Manager, Azure Key Vault), the identity that may read it (IRSA role, Google
  service account, user-assigned identity, each bound to one Kubernetes ServiceAccount), and External Secrets
  Operator syncs it into the Secret the model pods read (components/security/secrets.py).
- `sealed`: a Sealed Secrets ciphertext given in config (made with `kubeseal` against the cluster's controller),
  for existing clusters that have no cloud store. The ciphertext is not a secret: only the controller decrypts it.
"""
import hashlib
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from spec.reader import Obj, Problems, describe

SOURCES = ("pulumi", "vault", "sealed")
# Kubernetes Secret the model pods read, per source: a change of source is a new name, so the old Secret is deleted
# only after the pods point at the new one (no window where Pulumi deletes a Secret the operator just wrote).
HF_SECRET_NAMES = {"pulumi": "hf-token", "vault": "hf-token-vault", "sealed": "hf-token-sealed"}
# kubeseal's defaults (--controller-namespace kube-system --controller-name sealed-secrets-controller): the
# controller is installed under these names, so a plain `kubeseal` finds it.
SEALED_CONTROLLER_NAMESPACE = "kube-system"
SEALED_CONTROLLER_NAME = "sealed-secrets-controller"
# Go duration as ESO parses refreshInterval (time.ParseDuration); 0 would mean "sync once".
DURATION = r"([0-9]+(h|m|s))+"
# Azure Key Vault names: 3-24 characters, letters, digits and '-', starting with a letter, ending with a letter or
# digit, no '--' (Key Vault naming rules); globally unique, as they form https://<name>.vault.azure.net.
KEY_VAULT_NAME = r"(?!.*--)[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]"
# kubeseal --raw prints the ciphertext in standard base64: an RSA-OAEP-wrapped session key (512 bytes for the
# controller's 4096-bit key) and the AES-GCM payload, so anything shorter than the wrapped key is not one.
SEALED_CIPHERTEXT = r"[A-Za-z0-9+/]+={0,2}"
SEALED_MIN_CHARS = 684


@dataclass(frozen=True)
class SecretsSpec:
    source: str = "pulumi"
    sealed_controller: bool = False       # install the Sealed Secrets controller (any source: bootstrap)
    sealed_hf_token: Optional[str] = None  # kubeseal ciphertext of the Hugging Face token
    vault_name: Optional[str] = None       # Azure Key Vault name (derived from the stack when unset)
    refresh_interval: str = "1h"          # how often ESO re-reads the store (a rotated token reaches pods then)

    @property
    def hf_secret_name(self) -> str:
        return HF_SECRET_NAMES[self.source]


def default_key_vault_name(stack: str, cluster: str) -> str:
    """`kv<cluster, letters and digits>-<6 hex of stack/cluster>`: at most 23 characters, stable per stack."""
    digest = hashlib.sha256(f"{stack}/{cluster}".encode()).hexdigest()[:6]
    return f"kv{re.sub('[^a-z0-9]', '', cluster.lower())[:14]}-{digest}"


def read_secrets(o: Obj, cloud: Optional[str]) -> SecretsSpec:
    source = o.str("source", "pulumi", choices=SOURCES)
    vault = o.obj("vault")
    sealed = o.obj("sealed")
    if vault.given and o.valid("source") and source != "vault":
        o.error("vault", f"only applies with source vault, got source {source}")
    if sealed.has("hfToken") and o.valid("source") and source != "sealed":
        sealed.error("hfToken", f"only applies with source sealed, got source {source}")
    if source == "vault" and cloud == "existing":
        o.reject("source", "vault reads the cloud's secret store through workload identity, which an existing "
                           "cluster does not have: use sealed (a Sealed Secrets ciphertext) or pulumi")
    name = vault.str("name", None, pattern=KEY_VAULT_NAME,
                     hint="an Azure Key Vault name: 3-24 letters, digits or '-', starting with a letter")
    if name is not None and cloud in ("aws", "gcp"):
        vault.error("name", f"names an Azure Key Vault; on {cloud} the store entry is named after the cluster")
    refresh = vault.str("refreshInterval", "1h", pattern=DURATION, hint="a duration such as 1h or 15m")
    vault.done()
    controller = sealed.bool("controller", source == "sealed")
    ciphertext = sealed.str("hfToken", None)
    if isinstance(ciphertext, str):
        text = re.sub(r"\s", "", ciphertext)
        if not re.fullmatch(SEALED_CIPHERTEXT, text) or len(text) < SEALED_MIN_CHARS:
            shown = describe(ciphertext[:20] + "..." if len(ciphertext) > 20 else ciphertext)
            sealed.reject("hfToken", f"must be the output of `kubeseal --raw` (base64, at least {SEALED_MIN_CHARS} "
                                     f"characters), got {shown}; never the token itself")
        ciphertext = text
    sealed.done()
    return SecretsSpec(source=source, sealed_controller=controller, sealed_hf_token=ciphertext,
                       vault_name=name, refresh_interval=refresh)


def check_secrets(problems: Problems, path: str, spec: SecretsSpec, models: Sequence, serving_namespace: str,
                  hf_token_set: bool, hf_token_key: str) -> None:
    """Rules that combine the source (at `path`, llmfleet:security.secrets) with the models and llmfleet:hfToken."""
    if problems.under(f"{path}.source"):
        return
    gated = [m.name for m in models if getattr(m, "gated", False)]
    if spec.source == "sealed":
        if hf_token_set:
            problems.add(hf_token_key, "is not used with llmfleet:security.secrets.source sealed (the token comes "
                                       "from the SealedSecret): remove it with `pulumi config rm llmfleet:hfToken`")
        if gated and spec.sealed_hf_token is None and not problems.under(f"{path}.sealed"):
            problems.add(f"{path}.sealed.hfToken",
                         f"is required: model {gated[0]!r} downloads gated weights. Seal the token with "
                         f"`printf %s \"$HF_TOKEN\" | kubeseal --raw --namespace {serving_namespace} --name "
                         f"{HF_SECRET_NAMES['sealed']} --from-file=/dev/stdin` (the controller must run first: "
                         f"docs/security.md, Sealed Secrets)")
