"""Serving objectives (`models[].slo`) and where alerts go (`llmfleet:observability.alertmanager`).

A latency objective is "95% of requests within N seconds": the SLI counts the histogram bucket `le=N`, so N must be
one of vLLM's bucket bounds (catalog/serving_metrics.py); a value between two bounds is a config error, not a
silent round-up. Availability is the fraction of requests the engine does not finish with an error.
"""
from dataclasses import dataclass
from typing import Optional

from catalog.serving_metrics import E2E_LATENCY_BUCKETS, TTFT_BUCKETS
from spec.reader import Obj


@dataclass(frozen=True)
class Slo:
    p95_latency_seconds: Optional[float] = None   # end-to-end; None = no latency objective
    ttft_seconds: Optional[float] = None          # time to first token at P95
    availability: Optional[float] = None          # e.g. 0.995; None = no availability objective


def _bucket(o: Obj, key: str, buckets: tuple) -> Optional[float]:
    value = o.float(key, None, min=min(buckets), max=max(buckets))
    if isinstance(value, (int, float)) and min(buckets) <= value <= max(buckets) and float(value) not in buckets:
        o.error(key, f"must be a bucket bound of the engine's histogram ({', '.join(f'{b:g}' for b in buckets)}), "
                     f"got {value:g}")
        return None
    return float(value) if isinstance(value, (int, float)) else None


def read_slo(o: Obj) -> Optional[Slo]:
    if not o.ok:
        return None
    latency = _bucket(o, "p95LatencySeconds", E2E_LATENCY_BUCKETS)
    ttft = _bucket(o, "ttftSeconds", TTFT_BUCKETS)
    availability = o.float("availability", None, min=0.9, max=0.9999)
    o.done()
    if not any(o.has(k) for k in ("p95LatencySeconds", "ttftSeconds", "availability")):
        o.problems.add(o.path, "sets no objective: give p95LatencySeconds, ttftSeconds or availability")
    return Slo(latency, ttft, availability)


@dataclass(frozen=True)
class AlertmanagerSpec:
    """Receivers of the serving alerts. URLs are secrets: they reach Alertmanager through a Kubernetes Secret
    mounted into its pod (alertmanagerSpec.secrets) and `*_file` fields, never through Helm values."""
    webhook: bool = False                 # webhookUrl given (a secret)
    slack: bool = False                   # slackUrl given (a secret)
    slack_channel: str = ""
    email: str = ""
    smtp_smarthost: str = ""              # host:port, needed with email
    smtp_from: str = ""

    @property
    def any(self) -> bool:
        return self.webhook or self.slack or bool(self.email)


SECRET_FIELDS = {"webhookUrl": "webhook-url", "slackUrl": "slack-url"}   # config key -> key in the Secret
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


def read_alertmanager(o: Obj, secret: bool, root_key: str) -> AlertmanagerSpec:
    """`secret`: the `llmfleet:observability` value is a Pulumi secret (set with --secret --path)."""
    if not o.ok:
        return AlertmanagerSpec()
    found = {}
    for key in SECRET_FIELDS:
        # No URL pattern: the value is a secret, and the offline plan only sees a placeholder for it.
        url = o.str(key, None)
        found[key] = url is not None
        if url is not None and not secret:
            o.error(key, f"holds a credential: set it with `pulumi config set --secret --path "
                         f"'{root_key}.alertmanager.{key}' <url>`")
    email = o.str("email", "", pattern=EMAIL, hint="an e-mail address")
    smarthost = o.str("smtpSmarthost", "", pattern=r"[A-Za-z0-9.-]+:[0-9]{1,5}", hint="host:port of the SMTP relay")
    sender = o.str("smtpFrom", "", pattern=EMAIL, hint="an e-mail address")
    channel = o.str("slackChannel", "", pattern=r"#?[a-z0-9_-]{1,80}", hint="a Slack channel such as #alerts")
    o.done()
    if email and not (smarthost and sender):
        o.error("email", "needs smtpSmarthost and smtpFrom (Alertmanager refuses an e-mail receiver without an "
                         "SMTP relay and sender)")
    if not (found["webhookUrl"] or found["slackUrl"] or email):
        o.problems.add(o.path, "configures no receiver: give webhookUrl, slackUrl or email")
    return AlertmanagerSpec(found["webhookUrl"], found["slackUrl"], channel, email, smarthost, sender)
