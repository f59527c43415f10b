"""What a cloud stack exports for federation (docs/federation.md): one output `federation` in one documented shape,
and the secret `federationApiKey` the federation hub presents to this stack's endpoint.

The federation stack reads both through `pulumi.StackReference` (stacks/federation.py) and routes across clouds by
the numbers here, so they are the plan's own estimates (sizing/token_cost.py), not measurements.
"""
from typing import Optional

import pulumi
import pulumi_random as random

from sizing.token_cost import token_cost
from components.gateway.objects import GATEWAY_CLASS
from spec.federation import KEY_OUTPUT, OUTPUT, SCHEMA_VERSION  # noqa: F401 (the export's contract)
from spec.gateway import GATEWAY_NAME, GATEWAY_NAMESPACE

# Engines the stack's Gateway routes by model name on `/v1` (the gateway contract: every vLLM model is routable by
# its ModelSpec.name). A model served by another engine is not offered to federation.
ROUTABLE_ENGINES = ("vllm",)
# The API key: long enough to be unguessable, letters and digits only so it travels in a header unquoted.
KEY_LENGTH = 48


def federation_doc(spec) -> dict:
    """The `federation` output as plain data (no Outputs): everything here is known from the spec."""
    doc = {
        "schemaVersion": SCHEMA_VERSION,
        "stack": spec.stack,
        "cloud": spec.cloud,
        "region": spec.cluster.region,
        "kubernetesVersion": spec.cluster.kubernetes_version,
        "models": [model_entry(m) for m in spec.models
                   if m.placement is not None and m.engine in ROUTABLE_ENGINES],
    }
    if spec.gateway is not None:
        doc["endpoint"] = spec.gateway.url + "/v1"
        doc["gateway"] = {"name": GATEWAY_NAME, "namespace": GATEWAY_NAMESPACE, "hostname": spec.gateway.hostname,
                          "tlsIssuer": spec.gateway.tls.issuer, "className": GATEWAY_CLASS}
    return doc


def model_entry(m) -> dict:
    cost = token_cost(m)
    return {"name": m.name, "modelId": m.hf_repo, "engine": m.engine, "gpu": m.placement.gpu.key,
            "replicasMin": m.replicas.min, "replicasMax": m.replicas.max,
            "tokensPerSecond": cost.tokens_per_second, "usdPerHour": cost.usd_per_hour,
            "usdPer1MTokens": cost.usd_per_million_tokens}


def export_federation(spec) -> Optional[pulumi.Output]:
    """Exports `federation`, and with a public endpoint the secret `federationApiKey`; returns the key (for the
    Gateway's client keys) or None when the stack has no endpoint to call."""
    pulumi.export(OUTPUT, federation_doc(spec))
    if spec.gateway is None:
        return None
    key = random.RandomPassword(f"{spec.cluster.name}-federation-key", length=KEY_LENGTH, special=False)
    # The provider marks `result` secret; said again here so the export stays secret whatever the engine does.
    secret = pulumi.Output.secret(key.result)
    pulumi.export(KEY_OUTPUT, secret)
    return secret
