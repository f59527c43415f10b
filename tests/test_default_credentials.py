"""Issue 16 item 5: no chart runs with a built-in password or key; each is generated (pulumi_random), reaches the
chart from our own Secret, and leaves the program only as a secret output. And no secret value appears in plain
text in anything the plan writes (manifests, preview, outputs)."""
import json

import pytest

from plan import manifests
from plan.preview import digest
from tests.harness import run_config, run_stack
from tests.test_security_secrets import CIPHERTEXT, GATED
from tests.test_serving import SECRETS

# Chart defaults that are public knowledge: kube-prometheus-stack's historical Grafana password, Open WebUI's
# OpenAI key (shared/chart-values/open-webui-16.0.0.yaml openaiApiKey), Grafana's own admin/admin.
KNOWN_DEFAULTS = ("prom-operator", "0p3n-w3bu!", "strongpassword")
# What the mock runtime answers for every generated password (plan/fakes.py) and the test's Hugging Face token.
SECRET_VALUES = ("offline-plan-fake-password", "offline-plan-fake-hash", SECRETS["hfToken"], "offline-plan-secret")


def everything(p) -> str:
    """Manifests, preview and outputs as the plan writes them."""
    return json.dumps([manifests.objects(p.resources), digest(p.result, 0), p.outputs])


@pytest.mark.parametrize("stack", ["dev", "prod", "gcp-prod", "azure-prod", "edge"])
def test_no_chart_default_credential_and_no_plain_secret_in_the_plan(stack):
    text = everything(run_stack(stack))
    for value in KNOWN_DEFAULTS + SECRET_VALUES:
        assert value not in text, f"{value!r} in the plan of {stack}"


@pytest.mark.parametrize("source", ["pulumi", "sealed"])
def test_the_token_never_appears_in_plain_text(source):
    secrets = dict(SECRETS)
    cfg = dict(GATED)
    if source == "sealed":
        del secrets["hfToken"]
        cfg["security"] = {"secrets": {"source": "sealed", "sealed": {"hfToken": CIPHERTEXT}}}
    p = run_config(cfg, secrets=secrets)
    assert SECRETS["hfToken"] not in everything(p)
    # The token does reach a pod (the check above is not vacuous because nothing carries it).
    assert '"HF_TOKEN_PATH"' in json.dumps(manifests.objects(p.resources))


def test_vault_token_goes_into_the_vault_as_a_secret():
    p = run_stack("prod")
    assert p.one("aws:secretsmanager/secretVersion:SecretVersion").inputs["secretString"] == "[secret]"
    assert "offline-plan-secret" not in everything(p)


def test_grafana_admin_from_our_secret_and_exported_as_secret():
    p = run_stack("prod")
    values = p.stack.observability.values["grafana"]
    assert values["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user",
                               "passwordKey": "admin-password"}
    assert "adminPassword" not in values
    rel = p.one("kubernetes:helm.sh/v3:Release", "llm-prod-observability-kube-prometheus-stack")
    secret = p.one("kubernetes:core/v1:Secret", "llm-prod-observability-grafana-admin-secret")
    assert secret.inputs["metadata"]["namespace"] == rel.inputs["namespace"] == "monitoring"
    assert set(secret.inputs["stringData"]) == {"admin-user", "admin-password"}
    assert p.waits_for(rel, secret)
    password = p.one("random:index/randomPassword:RandomPassword", "llm-prod-observability-grafana-admin-password")
    assert password.inputs["length"] >= 32
    assert p.outputs["grafanaAdmin"] == "[secret]"


def test_grafana_off_means_no_admin_secret():
    p = run_config({**GATED, "observability": {"grafana": False}}, secrets=SECRETS)
    assert not [r for r in p.of_type("kubernetes:core/v1:Secret") if "grafana" in r.name]
    assert "grafanaAdmin" not in p.outputs


def test_open_webui_admin_is_generated_and_exported_as_secret():
    p = run_stack("gcp-prod")
    secret = p.one("kubernetes:core/v1:Secret", "llm-gcp-prod-rag-frontend-secret")
    assert set(secret.inputs["stringData"]) == {"webui-secret-key", "admin-password"}
    rel = p.one("kubernetes:helm.sh/v3:Release", "llm-gcp-prod-rag-frontend-open-webui")
    env = {e["name"]: e for e in rel.inputs["values"]["extraEnvVars"]}
    assert env["WEBUI_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "open-webui-secret-key",
                                                                        "key": "admin-password"}
    assert "value" not in env["WEBUI_ADMIN_PASSWORD"]
    assert p.outputs["openWebuiAdmin"] == "[secret]"


def test_opencost_admin_token_from_our_secret():
    p = run_stack("dev")
    rel = p.one("kubernetes:helm.sh/v3:Release", "llm-dev-cost-opencost")
    assert rel.inputs["values"]["opencost"]["exporter"]["adminToken"] == {
        "enabled": True, "existingSecret": "opencost-admin-token", "secretKey": "ADMIN_TOKEN"}
    secret = p.one("kubernetes:core/v1:Secret", "llm-dev-cost-opencost-admin-token")
    assert set(secret.inputs["stringData"]) == {"ADMIN_TOKEN"} and p.waits_for(rel, secret)
    assert p.outputs["opencostAdminToken"] == "[secret]"


def test_every_generated_password_is_exported_only_as_secret():
    """Every RandomPassword's value reaches the outputs only inside a secret."""
    p = run_stack("gcp-prod")
    assert {r.name for r in p.of_type("random:index/randomPassword:RandomPassword")} == {
        "llm-gcp-prod-observability-grafana-admin-password", "llm-gcp-prod-cost-opencost-admin-token",
        "llm-gcp-prod-rag-vectorstore-api-key", "llm-gcp-prod-rag-frontend-secret-key",
        "llm-gcp-prod-rag-frontend-admin-password",
        # The Gateway's tenant key (one tenant, `default`) and the federation hub's key to call this endpoint.
        "llm-gcp-prod-gateway-key-default", "llm-gcp-prod-federation-key"}
    assert "offline-plan-fake-password" not in json.dumps(p.outputs)
