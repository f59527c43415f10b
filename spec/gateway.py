"""The stack's public endpoint (`llmfleet:gateway`): one HTTPS hostname per cluster, served by one Gateway API
Gateway, that the RAG front end, the OpenAI-compatible `/v1` routes and federation all share.

Example stack config:
    llmfleet:gateway:
      hostname: llm.example.com          # the name clients call; a DNS record for it points at the Gateway
      tls:
        issuer: acme                     # acme (a public name, e.g. Let's Encrypt) | selfSigned (dev, edge)
        email: platform@example.com      # required with acme: the ACME account's contact
        server: https://acme-v02.api.letsencrypt.org/directory   # optional: the ACME directory

Optional: absent = no public endpoint (models are reachable in-cluster only, and a federation stack cannot use
this stack). The default issuer is acme in a production environment and selfSigned elsewhere.
"""
import re
from dataclasses import dataclass
from typing import Optional

from spec.environment import is_production
from spec.reader import Obj

GATEWAY_NAMESPACE = "llm-gateway"
GATEWAY_NAME = "llm-gateway"          # the one Gateway per cluster: RAG, /v1 routes and federation attach to it
ISSUERS = ("acme", "selfSigned")
LETSENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
# RFC 1123 subdomain, at least two labels: a Gateway listener's hostname (Gateway API: no wildcard here, since the
# certificate is issued for exactly this name with an HTTP-01 challenge).
HOSTNAME = r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+"
HOSTNAME_HINT = "a lowercase DNS name with at least two labels, e.g. llm.example.com (no wildcard, no port)"
# Names no public ACME CA can validate (RFC 2606 / RFC 6761 / RFC 8375 special-use domains).
PRIVATE_SUFFIXES = (".local", ".internal", ".localhost", ".test", ".invalid", ".example", ".home.arpa", ".lan")
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


@dataclass(frozen=True)
class TlsSpec:
    issuer: str                       # acme | selfSigned
    email: Optional[str] = None       # ACME account contact (acme only)
    server: str = LETSENCRYPT         # ACME directory URL (acme only)


@dataclass(frozen=True)
class GatewaySpec:
    hostname: str
    tls: TlsSpec
    namespace: str = GATEWAY_NAMESPACE

    @property
    def url(self) -> str:
        """The public base URL: what clients, the front end's links and federation call."""
        return f"https://{self.hostname}"


def read_gateway(o: Obj, environment: str) -> Optional[GatewaySpec]:
    if not o.ok:
        return None
    hostname = o.str("hostname", pattern=HOSTNAME, hint=HOSTNAME_HINT)
    t = o.obj("tls")
    issuer = t.str("issuer", "acme" if is_production(environment) else "selfSigned", choices=ISSUERS)
    email = t.str("email", None)
    server = t.str("server", LETSENCRYPT)
    if issuer == "acme":
        if email is None and t.valid("email"):
            t.error("email", "is required with issuer acme: the ACME account's contact address")
        elif isinstance(email, str) and not re.fullmatch(EMAIL, email):
            t.error("email", f"must be an email address, got {email!r}")
        if isinstance(server, str) and not server.startswith("https://"):
            t.error("server", f"must be an https:// ACME directory URL, got {server!r}")
        if hostname and o.valid("hostname") and hostname.endswith(PRIVATE_SUFFIXES):
            o.error("hostname", f"{hostname!r} is a private name that no public ACME CA can validate: use a public "
                                f"name, or tls.issuer selfSigned")
    else:
        for key in ("email", "server"):
            if t.has(key):
                t.error(key, "only applies with issuer acme")
    t.done()
    return GatewaySpec(hostname=hostname or "", tls=TlsSpec(issuer=issuer or "selfSigned", email=email,
                                                          server=server or LETSENCRYPT))
