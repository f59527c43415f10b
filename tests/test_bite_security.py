"""Security objects as rendered, beyond their wiring (tests/test_security*.py): the External Secrets Operator's
scope and size, the ExternalSecret's sync settings, the Sealed Secrets controller's name, and how a path of the
network table becomes NetworkPolicies (components/security/__init__.py)."""
import pytest

from components.security import policies
from components.security.secrets import SYNC_TIMEOUT_SECONDS
from tests.harness import run_config, run_stack
from tests.test_bite_paths import SERVING, V, inputs
from tests.test_security_secrets import CIPHERTEXT, GATED

SMALL = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")          # source: vault (AWS Secrets Manager through ESO)


def test_eso_processes_only_namespaced_stores_and_never_pushes(prod):
    values = prod.one("kubernetes:helm.sh/v3:Release", "llm-prod-vault-sync-eso").inputs["values"]
    # Only namespaced SecretStores/ExternalSecrets: no store reachable from another namespace, nothing written
    # back to a vault. Controllers that idle most of the time: 10m/64Mi requested, 256Mi memory limit.
    assert values == {"installCRDs": True, "processClusterStore": False, "processClusterExternalSecret": False,
                      "processPushSecret": False, "processClusterPushSecret": False, "resources": SMALL,
                      "webhook": {"resources": SMALL}, "certController": {"resources": SMALL}}


def test_external_secret_waits_for_its_first_sync_and_owns_an_opaque_secret(prod):
    es = prod.manifest("ExternalSecret", "hf-token-vault", SERVING)
    # 15 minutes for the first sync: IAM propagation takes minutes, which ESO's retries ride out.
    assert es["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready",
                                             "pulumi.com/timeoutSeconds": "900"} and SYNC_TIMEOUT_SECONDS == 900
    assert es["spec"]["refreshInterval"] == "1h"          # llmfleet:security.secrets.vault.refreshInterval default
    assert es["spec"]["target"]["template"] == {"type": "Opaque",
                                                "metadata": {"labels": {"app.kubernetes.io/managed-by": "llmfleet"}}}


def test_sealed_secrets_controller_has_kubeseals_default_name_and_the_secret_is_opaque():
    p = run_config({**GATED, "security": {"secrets": {"source": "sealed", "sealed": {"hfToken": CIPHERTEXT}}}},
                   secrets={"kubeconfig": "apiVersion: v1"})
    rel = next(r for r in p.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "sealed-secrets")
    # kubeseal looks for the controller as kube-system/sealed-secrets-controller unless told otherwise.
    assert rel.inputs["values"] == {"fullnameOverride": "sealed-secrets-controller", "resources": SMALL}
    sealed = p.manifest("SealedSecret", "hf-token-sealed", SERVING)
    assert sealed["spec"]["template"]["type"] == "Opaque"
    assert sealed["spec"]["template"]["metadata"]["namespace"] == SERVING


def test_each_path_becomes_an_egress_at_its_source_and_an_ingress_at_its_destination():
    rendered = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in policies(inputs())}
    owned = inputs().owned
    for ns in owned:
        assert rendered[(ns, "default-deny")]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    # Towards any address: ports only, no peer (an ipBlock does not match the API server under every CNI).
    weights = rendered[(SERVING, "allow-weights-v-egress")]
    assert weights["spec"] == {"podSelector": {"matchLabels": V}, "policyTypes": ["Egress"],
                               "egress": [{"ports": [{"protocol": "TCP", "port": 443}]}]}
    assert weights["metadata"]["annotations"] == {"llmfleet.io/why": "weights from Hugging Face over HTTPS"}
    # From a namespace the program does not own: only the ingress side is rendered, selecting that namespace.
    client = rendered[(SERVING, "allow-client-v-0-ingress")]
    assert client["spec"] == {"podSelector": {"matchLabels": V}, "policyTypes": ["Ingress"], "ingress": [{
        "ports": [{"protocol": "TCP", "port": 8000}],
        "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}},
                  "podSelector": {"matchLabels": {}}}]}]}
    assert ("apps", "allow-client-v-0-egress") not in rendered
    # Every port between a namespace's own pods: no `ports`, both sides.
    same = rendered[("monitoring", "allow-same-namespace-egress")]
    assert same["spec"]["egress"] == [{"to": [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "monitoring"}}, "podSelector": {"matchLabels": {}}}]}]
    assert ("monitoring", "allow-same-namespace-ingress") in rendered
    # One default deny per owned namespace, and one policy per owned end of every path.
    from components.security.paths import program_paths
    ends = sum((p.source.namespace in owned) + (p.dest.namespace in owned) for p in program_paths(inputs()))
    assert len(rendered) == len(owned) + ends


def test_generated_credentials_are_long_and_header_safe(prod):
    """Letters and digits only (no `special`: the values travel in HTTP headers, URLs and Helm-free Secrets
    unescaped); at least 32 characters, about 190 bits."""
    pw = {r.name: r.inputs for r in prod.of_type("random:index/randomPassword:RandomPassword")}
    assert pw["llm-prod-observability-grafana-admin-password"] == {"length": 32, "special": False}
    assert pw["llm-prod-cost-opencost-admin-token"] == {"length": 40, "special": False}
    assert pw["llm-prod-federation-key"] == {"length": 48, "special": False}
    assert all(i["special"] is False and i["length"] >= 32 for i in pw.values())
