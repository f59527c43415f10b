"""Network security settings (`llmfleet:security`): who may call the model Services.

The paths themselves are one table, components/security/paths.py; this reads only what a user chooses.
"""
from dataclasses import dataclass, field, replace
from typing import Optional

from spec.reader import DNS_LABEL, Obj
from spec.secrets import SecretsSpec, read_secrets


@dataclass(frozen=True)
class SecuritySpec:
    # Namespaces whose pods may call the model Services (port of each engine); the serving namespace by default.
    model_clients: tuple[str, ...] = ()
    # Render the NetworkPolicies (default deny + the table's paths) in every namespace the program owns.
    network_policies: bool = True
    # Model servers as non-root (components/serving/hardening.py) and the serving namespace Pod Security
    # `restricted`. Off by default: the vLLM image's non-root operation was not verified for the pinned version.
    restricted_pods: bool = False
    # Where the Hugging Face token comes from (spec/secrets.py): Pulumi config, the cloud's vault, or Sealed Secrets.
    secrets: SecretsSpec = field(default_factory=SecretsSpec)


def read_security(o: Obj, serving_namespace: str, cloud: Optional[str] = None) -> SecuritySpec:
    import re
    clients = o.str_list("modelClients", default=[serving_namespace], min_items=1)
    for i, name in enumerate(clients):
        if not re.fullmatch(DNS_LABEL, name):
            o.problems.add(f"{o.key_path('modelClients')}[{i}]", f"must be a namespace name (a DNS label), got {name!r}")
    if len(set(clients)) != len(clients):
        o.error("modelClients", "lists a namespace twice")
    secrets_obj = o.obj("secrets")
    secrets = read_secrets(secrets_obj, cloud)
    secrets_obj.done()
    return SecuritySpec(model_clients=tuple(dict.fromkeys(clients)),
                        network_policies=o.bool("networkPolicies", True),
                        restricted_pods=o.bool("restrictedPods", False), secrets=secrets)


def restrict_serving_namespace(platform, namespace: str):
    """The serving namespace enforces `restricted` (from the default `baseline`); an explicit `privileged` stays."""
    return replace(platform, namespaces=tuple(
        replace(n, pod_security="restricted") if n.name == namespace and n.pod_security == "baseline" else n
        for n in platform.namespaces))
