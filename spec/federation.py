"""A federation stack's config (`llmfleet:federation`): the global layer over cloud stacks, read and validated.

A federation stack has no cluster of its own: it reads the cloud stacks' `federation` outputs through StackReferences
(stacks/federation.py), runs the global routing on a hub cluster's Envoy Gateway and puts a health-checked DNS name
in front (docs/federation.md). Example:

    llmfleet:federation:
      stacks:                              # the cloud stacks, by Pulumi stack name (<org>/llmfleet/<stack> or <stack>)
        - name: acme/llmfleet/prod
        - name: acme/llmfleet/gcp-prod
      hubs: [prod, gcp-prod]               # clusters that run the global gateway: primary, then an optional standby
      hostname: llm.example.com            # the global name clients call
      tls: {email: platform@example.com}   # ACME (DNS-01 through the DNS zone below) for the global names
      dns:
        route53: {zoneId: Z0123456789ABCDEFGHIJ}
      models: [llama-70b, llama-8b]        # the models offered, by the names the stacks serve them under
      tiers: {cheap: [llama-8b]}           # virtual models: the cheapest backend among these models first
      clients: [web, batch]                # tenants of the global endpoint: one generated API key each

What depends on the referenced stacks' outputs (does a stack export an endpoint, does a model exist) is checked when
they resolve (components/federation/routing.py), one line per problem naming the key.
"""
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from spec.gateway import EMAIL, HOSTNAME, HOSTNAME_HINT, LETSENCRYPT, PRIVATE_SUFFIXES
from spec.reader import DNS_LABEL, DNS_LABEL_HINT, ConfigError, Obj, Problems, describe, unique
from spec.stack import PROJECT, _Root, _check_namespaces, _read_environment, project_config

KEY = "federation"
# The output contract between cloud stacks (stacks/exports.py writes it) and a federation stack (reads it).
# SCHEMA_VERSION: a federation stack refuses a shape it does not know, so a change that renames or drops a field
# bumps it (adding a field does not).
OUTPUT = "federation"
KEY_OUTPUT = "federationApiKey"
SCHEMA_VERSION = 1
FEDERATION_NAMESPACE = "llm-federation"   # the hub's namespace for the global layer (its own Gateway, routes, keys)
FEDERATION_GATEWAY = "llm-federation"
MAX_HUBS = 2                              # primary + standby: a DNS failover pair
# Pulumi stack names: `<stack>` (this organization and project) or `<org>/<project>/<stack>`.
STACK_PART = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"
ROUTE53_ZONE = r"Z[A-Z0-9]{1,31}"
AWS_REGION = r"[a-z]{2}(-[a-z]+)+-[0-9]"


@dataclass(frozen=True)
class StackRef:
    name: str      # as given: the name StackReference resolves
    short: str     # the stack part: what hubs name, what routes and objects are called after
    path: str      # its config key, for lines about this stack


@dataclass(frozen=True)
class Route53:
    zone_id: str
    region: str = "us-east-1"      # the AWS provider's region (Route53 and IAM are global services)


@dataclass(frozen=True)
class FederationSpec:
    project: str
    stack: str
    environment: str
    stacks: tuple[StackRef, ...]
    hubs: tuple[str, ...]              # short names, primary first
    hostname: str
    email: str
    acme_server: str
    route53: Route53
    models: tuple[str, ...]            # the federated models (each a route)
    tiers: dict = field(default_factory=dict)     # virtual name -> tuple of model names
    clients: tuple[str, ...] = ()

    def ref(self, short: str) -> StackRef:
        return next(s for s in self.stacks if s.short == short)

    def direct_hostname(self, hub: str) -> str:
        """The name that reaches one hub only, bypassing failover: what its health check calls."""
        return f"{hub}.{self.hostname}"


def is_federation(raw: dict) -> bool:
    """Whether a stack's project config (keys without the prefix) makes it a federation stack."""
    return KEY in raw


def _read_stack(o: Obj) -> StackRef:
    name = o.str("name")
    parts = name.split("/") if name else []
    if name and not (len(parts) in (1, 3) and all(re.fullmatch(STACK_PART, p) for p in parts)):
        o.reject("name", f"must be a Pulumi stack name, <stack> or <org>/{PROJECT}/<stack>, got {describe(name)}")
    elif len(parts) == 3 and parts[1] != PROJECT:
        o.reject("name", f"must be a stack of this project ({PROJECT}), whose outputs have the federation shape; "
                         f"got project {parts[1]!r}")
    return StackRef(name=name, short=parts[-1] if parts else "", path=o.path)


def load(raw: dict[str, Any], stack: str, other_keys: Iterable[str] = ()) -> FederationSpec:
    """Parses a federation stack's project config; ConfigError with every problem at once."""
    problems = Problems()
    o = _Root(raw, PROJECT, problems)
    _check_namespaces(other_keys, problems)
    environment = _read_environment(o, raw, stack)
    f = o.obj(KEY, required=True)
    items = f.items("stacks", _read_stack, min_items=2)
    refs = [r for _, r in items]
    unique(problems, f.key_path("stacks"), [r.short for r in refs], "stack", paths=[p for p, _ in items])
    shorts = [r.short for r in refs if r.short]
    full = {r.name: r.short for r in refs}

    hubs = []
    for path, item in f.list("hubs", min_items=1):
        name = full.get(item, item) if isinstance(item, str) else item
        if not isinstance(item, str):
            problems.add(path, f"must be a stack name, got {describe(item)}")
        elif name not in shorts:
            problems.add(path, f"{item!r} is not one of llmfleet:federation.stacks ({', '.join(shorts)}); a hub is "
                               f"a federated stack's cluster")
        elif name in hubs:
            problems.add(path, f"{item!r} is listed twice")
        else:
            hubs.append(name)
    if isinstance(f.raw.get("hubs"), list) and len(f.raw["hubs"]) > MAX_HUBS:
        f.error("hubs", f"lists at most {MAX_HUBS} stacks (a primary and a standby, one DNS failover pair), got "
                         f"{len(f.raw['hubs'])}")

    hostname = f.str("hostname", pattern=HOSTNAME, hint=HOSTNAME_HINT)
    if hostname and f.valid("hostname") and hostname.endswith(PRIVATE_SUFFIXES):
        f.reject("hostname", f"{hostname!r} is a private name: the global endpoint needs a public name in the DNS "
                             f"zone below")
    # A missing block is one line ("is required"), not one more per key inside it.
    t = f.obj("tls", required=True)
    email, server = "", LETSENCRYPT
    if t.given:
        email = t.str("email")
        if email and t.valid("email") and not re.fullmatch(EMAIL, email):
            t.reject("email", f"must be an email address, got {email!r}")
        server = t.str("server", LETSENCRYPT)
        if server and t.valid("server") and not server.startswith("https://"):
            t.reject("server", f"must be an https:// ACME directory URL, got {server!r}")
        t.done()

    d = f.obj("dns", required=True)
    zone, region = "", "us-east-1"
    if d.given:
        r = d.obj("route53", required=True)
        if r.given:
            zone = r.str("zoneId", pattern=ROUTE53_ZONE, hint="a Route53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ")
            region = r.str("region", "us-east-1", pattern=AWS_REGION, hint="an AWS region, e.g. us-east-1")
            r.done()
        d.done()

    if f.has("models"):
        models = tuple(f.str_list("models", min_items=1))
    else:
        f.seen.add("models")
        f.reject("models", "is required: the models the global endpoint offers, by the names the stacks serve them "
                           "under (the routes are made from this list, so a preview shows every one)")
        models = ()
    _unique_names(problems, f.key_path("models"), models)
    tiers = {}
    tiers_obj = f.obj("tiers")
    for name in list(tiers_obj):
        if not re.fullmatch(DNS_LABEL, str(name)):
            tiers_obj.error(str(name), f"a tier name must be {DNS_LABEL_HINT}")
            continue
        members = tuple(tiers_obj.str_list(str(name), min_items=1))
        _unique_names(problems, tiers_obj.key_path(str(name)), members)
        tiers[str(name)] = members
    tiers_obj.done()
    clients = tuple(f.str_list("clients"))
    for i, c in enumerate(clients):
        if not re.fullmatch(DNS_LABEL, c):
            problems.add(f"{f.key_path('clients')}[{i}]", f"must be {DNS_LABEL_HINT}, got {describe(c)}")
    _unique_names(problems, f.key_path("clients"), clients)
    f.done()

    for key in raw:
        if key not in (KEY, "environment"):
            o.seen.add(key)
            o.error(key, f"does not apply to a federation stack (it has no cluster of its own; {PROJECT}:{KEY} is "
                         f"set): remove it")
    o.done()
    problems.raise_if_any()
    return FederationSpec(project=PROJECT, stack=stack, environment=environment, stacks=tuple(refs),
                          hubs=tuple(hubs), hostname=hostname, email=email, acme_server=server,
                          route53=Route53(zone, region), models=models, tiers=tiers, clients=clients)


def _unique_names(problems: Problems, path: str, names: Iterable[str]) -> None:
    seen = set()
    for i, n in enumerate(names):
        if n in seen:
            problems.add(f"{path}[{i}]", f"{n!r} is listed twice")
        seen.add(n)


def _merged() -> dict:
    from pulumi.runtime import config as runtime_config
    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def raw_config() -> dict:
    """The running program's project config (what `is_federation` decides on)."""
    return project_config(_merged())


def from_pulumi() -> FederationSpec:
    import pulumi
    merged = _merged()
    return load(project_config(merged), pulumi.get_stack(),
                other_keys=[k for k in merged if k.partition(":")[0] != PROJECT])


__all__ = ["ConfigError", "FederationSpec", "StackRef", "Route53", "load", "is_federation", "from_pulumi",
           "FEDERATION_NAMESPACE", "FEDERATION_GATEWAY"]
