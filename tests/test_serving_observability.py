"""models[].slo and observability.alertmanager config, the per-model dashboards and the serving rules' shape."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from catalog.serving_metrics import le_matcher
from components.observability.alertmanager import alertmanager_values
from spec.reader import ConfigError
from spec.slo import AlertmanagerSpec
from spec.stack import load
from tests.harness import run_stack

ROOT = Path(__file__).resolve().parent.parent


def edge(model_extra=None, **kw):
    cfg = {"cloud": "existing", "kubeconfig": "k",
           "gpuPools": [{"name": "e", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"gpu": "l4"}}],
           "models": [{"name": "qwen", "model": "qwen2.5-7b", "maxContext": 4096, **(model_extra or {})}]}
    cfg.update(kw)
    return cfg


def errors(cfg, secrets=("kubeconfig",)):
    with pytest.raises(ConfigError) as e:
        load(cfg, set(secrets), "t")
    return e.value.lines


@pytest.mark.parametrize("slo, expected", [
    ({"p95LatencySeconds": 7}, "llmfleet:models[0].slo.p95LatencySeconds: must be a bucket bound of the engine's "
                               "histogram (0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, "
                               "480, 960, 1920, 7680), got 7"),
    ({"ttftSeconds": 0.3}, "llmfleet:models[0].slo.ttftSeconds: must be a bucket bound of the engine's histogram "
                           "(0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, "
                           "20, 40, 80, 160, 640, 2560), got 0.3"),
    ({"availability": 1}, "llmfleet:models[0].slo.availability: must be <= 0.9999, got 1"),
    ({}, "llmfleet:models[0].slo: sets no objective: give p95LatencySeconds, ttftSeconds or availability"),
    ({"p95Latency": 5}, "llmfleet:models[0].slo.p95Latency: unknown key"),
])
def test_slo_errors_are_one_line_naming_the_key(slo, expected):
    lines = errors(edge({"slo": slo}))
    assert any(line.startswith(expected) for line in lines), lines


def test_a_valid_slo_reaches_the_model_spec():
    spec = load(edge({"slo": {"p95LatencySeconds": 10, "ttftSeconds": 0.5, "availability": 0.999}}), {"kubeconfig"}, "t")
    slo = spec.models[0].slo
    assert (slo.p95_latency_seconds, slo.ttft_seconds, slo.availability) == (10.0, 0.5, 0.999)


def test_alertmanager_urls_must_be_secret_and_email_needs_a_relay():
    am = {"webhookUrl": "https://hooks.example.com/x", "slackUrl": "https://hooks.slack.com/y", "email": "a@b.io"}
    lines = errors(edge(observability={"alertmanager": am}))
    assert ("llmfleet:observability.alertmanager.webhookUrl: holds a credential: set it with `pulumi config set "
            "--secret --path 'llmfleet:observability.alertmanager.webhookUrl' <url>`") in lines
    assert any(line.startswith("llmfleet:observability.alertmanager.slackUrl: holds a credential") for line in lines)
    assert any(line.startswith("llmfleet:observability.alertmanager.email: needs smtpSmarthost and smtpFrom")
               for line in lines)
    # Marked secret, the same URLs are accepted.
    spec = load(edge(observability={"alertmanager": {**am, "smtpSmarthost": "smtp.b.io:587", "smtpFrom": "am@b.io"}}),
                {"kubeconfig", "observability"}, "t")
    assert spec.observability.alertmanager.webhook and spec.observability.alertmanager.slack


def test_le_matcher_accepts_both_stored_forms():
    assert le_matcher(30.0) == 'le=~"30|30\\\\.0"'
    assert le_matcher(2.5) == 'le="2.5"'


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


@pytest.fixture(scope="module")
def prod_with_webhook():
    """prod with a webhook receiver: the URL is a credential, so `observability` is a secret key (set with
    `pulumi config set --secret --path`, which marks the whole top-level key secret)."""
    import json as _json
    from plan.runtime import ROOT
    from plan.stackfile import load_stack_config
    from tests.harness import run_config
    _, config, secret_keys = load_stack_config(ROOT, "prod")
    cfg = {k.split(":", 1)[1]: (_json.loads(v) if v[:1] in "[{" else v) for k, v in config.items()
           if k.startswith("llmfleet:")}
    secrets = {k: cfg.pop(k) for k in [k.split(":", 1)[1] for k in secret_keys]}
    secrets["observability"] = cfg.pop("observability")
    secrets["observability"]["alertmanager"]["webhookUrl"] = "https://hooks.example.com/T0/B0"
    return run_config(cfg, stack="prod", secrets=secrets)


def test_alert_urls_never_reach_helm_values_and_the_secret_is_mounted(prod_with_webhook):
    prod = prod_with_webhook
    values = prod.one("kubernetes:helm.sh/v3:Release", "llm-prod-observability-kube-prometheus-stack").inputs["values"]
    am = values["alertmanager"]
    assert am["alertmanagerSpec"]["secrets"] == ["llmfleet-alertmanager-receivers"]
    receiver = next(r for r in am["config"]["receivers"] if r["name"] == am["config"]["route"]["receiver"])
    assert receiver["webhook_configs"][0]["url_file"].startswith("/etc/alertmanager/secrets/llmfleet-alertmanager-"
                                                                 "receivers/")
    assert receiver["email_configs"][0]["to"] == "platform-oncall@example.com"
    assert "offline-plan-secret" not in json.dumps(values) and "hooks.example.com" not in json.dumps(values)
    # Critical inhibits warning only within one model (the chart's default compares namespace and alertname).
    assert all("model" in r["equal"] for r in am["config"]["inhibit_rules"][:2])
    secret = prod.manifest("Secret", "llmfleet-alertmanager-receivers", "monitoring")
    assert secret["stringData"] == {"webhook-url": "[secret]"}      # a Pulumi secret, shown masked
    release = prod.one("kubernetes:helm.sh/v3:Release", "llm-prod-observability-kube-prometheus-stack")
    assert prod.waits_for(release, prod.one("kubernetes:core/v1:Secret", "llm-prod-observability-alertmanager-receivers"))


def test_every_model_has_a_dashboard_with_the_issue_panels(prod):
    for m in prod.spec.models:
        cm = prod.manifest("ConfigMap", f"llmfleet-dashboard-model-{m.name}", "monitoring")
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        d = json.loads(next(iter(cm["data"].values())))
        titles = " | ".join(p["title"] for p in d["panels"])
        for needle in ("End-to-end latency", "Time to first token", "Inter-token latency", "running and waiting",
                       "KV cache", "Tokens per second", "per GPU", "per dollar", "ready vs desired", "load time"):
            assert needle in titles, (m.name, needle)
        exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
        assert sum("histogram_quantile(0.99" in e for e in exprs) == 3
        # Per dollar divides by the placement's $/h per replica, per GPU by its tensor-parallel size.
        assert any(f"{m.placement.price_hour:.4f}" in e for e in exprs)
        assert any(f"* {m.placement.tensor_parallel})" in e for e in exprs)


def test_every_alert_routes_and_has_a_runbook_section(prod):
    groups = prod.manifest("PrometheusRule", "llmfleet-serving", "monitoring")["spec"]["groups"]
    alerts = [r for g in groups for r in g["rules"] if "alert" in r]
    names = {r["alert"] for r in alerts}
    assert names == {"ModelLatencySLOBurn", "ModelTTFTSLOBurn", "ModelErrorBudgetBurn", "ModelQueueGrowingAtMaxReplicas",
                     "ModelKVCacheNearFull", "ModelGPUPodsPending", "ModelPodRestarting", "ModelPodOOMKilled",
                     "ModelLoadAboveStartupBudget"}
    doc = (ROOT / "docs" / "observability.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", doc, re.M)}
    for r in alerts:
        assert {"severity", "model", "stack"} <= set(r["labels"]) and r["labels"]["stack"] == "prod"
        assert r["annotations"]["summary"]
        assert r["annotations"]["runbook"].split("#")[1] in anchors, r["alert"]
    # SLO alerts only for the model with objectives; saturation alerts for both.
    slo_models = {r["labels"]["model"] for r in alerts if r["alert"].endswith("Burn")}
    assert slo_models == {"llama-70b"}
    assert {r["labels"]["model"] for r in alerts if r["alert"] == "ModelKVCacheNearFull"} == {"llama-70b", "llama-8b"}


def test_burn_rate_windows_follow_the_workbook(prod):
    groups = prod.manifest("PrometheusRule", "llmfleet-serving", "monitoring")["spec"]["groups"]
    burns = [r for g in groups for r in g["rules"] if r.get("alert") == "ModelErrorBudgetBurn"]
    by_severity = {r["labels"]["severity"]: r["expr"] for r in burns}
    # availability 0.995 -> budget 0.005: 14.4x = 0.072 over 1h and 5m, 6x = 0.03 over 6h and 30m.
    assert "ratio_rate1h" in by_severity["critical"] and "ratio_rate5m" in by_severity["critical"]
    assert "> 0.072" in by_severity["critical"]
    assert "ratio_rate6h" in by_severity["warning"] and "> 0.03\n" in by_severity["warning"]


AMTOOL = shutil.which("amtool")


@pytest.mark.skipif(AMTOOL is None, reason="amtool missing: `make test` installs it (Debian prometheus-alertmanager)")
def test_alertmanager_config_passes_amtool(tmp_path):
    """Debian's amtool is 0.25, older than the chart's Alertmanager 0.34: it does not know webhook `url_file`
    (added later; documented in alertmanager docs/configuration.md on main), so that one field is swapped for `url`
    here. Everything else (route, inhibit rules, Slack `api_url_file`, e-mail) is checked as rendered."""
    full = AlertmanagerSpec(True, True, "#alerts", "a@b.io", "smtp.b.io:587", "am@b.io")

    def check(spec) -> subprocess.CompletedProcess:
        cfg = {"global": {"resolve_timeout": "5m"}, **alertmanager_values(spec)["config"]}
        for r in cfg["receivers"]:
            for w in r.get("webhook_configs", []):
                w["url"] = "https://webhook.invalid/" + w.pop("url_file").rsplit("/", 1)[1]
        path = tmp_path / "am.yaml"
        path.write_text(yaml.safe_dump(cfg))
        return subprocess.run([AMTOOL, "check-config", str(path)], capture_output=True, text=True)

    ok = check(full)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "2 receivers" in ok.stdout
    # What spec/slo.py refuses, Alertmanager refuses too: an e-mail receiver without an SMTP relay.
    bad = check(AlertmanagerSpec(email="a@b.io"))
    assert bad.returncode != 0 and "smarthost" in (bad.stdout + bad.stderr).lower()
