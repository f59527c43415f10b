"""Composes a federation stack: StackReferences to the cloud stacks -> routing table -> the global layer on each hub
cluster -> Route53 entry (docs/federation.md). The federation stack has no cluster of its own.

The number of resources depends only on the config (stacks, hubs, models, tiers, clients), never on what the
referenced stacks export: their outputs only fill in values, so `pulumi preview` shows every resource. A config that
does not fit the outputs (a stack without an endpoint, an unknown model) stops the program with one line per
problem when the outputs resolve.
"""
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi import ResourceOptions

from components.federation.dns import Dns01User, FederationRecords
from components.federation.hub import FederationHub
from components.federation.routing import Routing, resolve
from spec.federation import FederationSpec
from stacks.exports import KEY_LENGTH, KEY_OUTPUT, OUTPUT

CONFIG_ERROR_HEADER = "invalid stack config:"


@dataclass
class FederationStack:
    spec: FederationSpec
    routing: Any                      # Output[Routing]
    hubs: dict = field(default_factory=dict)
    dns: Any = None
    federation = True                 # what the offline plan branches on


def present(ref: pulumi.StackReference, name: str) -> pulumi.Output:
    """Whether the referenced stack exports `name`: not a secret, even when the value is."""
    return pulumi.Output.unsecret(ref.get_output(name).apply(lambda v: v is not None))


def checked(routing: Routing) -> Routing:
    if routing.problems:
        # RunError: Pulumi prints the message without a stack trace, as for the config problems in __main__.py.
        raise pulumi.RunError(CONFIG_ERROR_HEADER + "\n" + "\n".join(routing.problems))
    return routing


def compose_federation(spec: FederationSpec) -> FederationStack:
    refs = {s.short: pulumi.StackReference(f"ref-{s.short}", stack_name=s.name) for s in spec.stacks}
    shorts = list(refs)
    docs = pulumi.Output.all(*[refs[s].get_output(OUTPUT) for s in shorts])
    keys = pulumi.Output.all(*[present(refs[s], KEY_OUTPUT) for s in shorts])
    kubes = pulumi.Output.all(*[present(refs[h], "kubeconfig") for h in spec.hubs])
    routing = pulumi.Output.all(docs, keys, kubes).apply(lambda a: checked(resolve(
        spec, dict(zip(shorts, a[0])), dict(zip(shorts, a[1])), dict(zip(spec.hubs, a[2])))))

    # The tenants' keys: one per client, the same at every hub (a failover must not change a client's key).
    client_keys = {c: pulumi.Output.secret(
        random.RandomPassword(f"client-{c}", length=KEY_LENGTH, special=False).result) for c in spec.clients}
    api_keys = {s: pulumi.Output.secret(refs[s].get_output(KEY_OUTPUT)) for s in shorts}
    stack = FederationStack(spec, routing)
    # DNS-01 credentials first (every hub's Issuer uses them), the records last (they need the hubs' addresses).
    dns01 = Dns01User("federation-dns01", {"spec": spec})
    for hub in spec.hubs:
        # The hub stack's own cluster identifier: pulumi-kubernetes replaces a provider whose kubeconfig names
        # another server or CA, and every object bound to it (the Gateway, its certificate, the keys) with it.
        provider = k8s.Provider(f"hub-{hub}", kubeconfig=refs[hub].get_output("kubeconfig"),
                                cluster_identifier=refs[hub].get_output("clusterIdentifier"))
        stack.hubs[hub] = FederationHub(f"hub-{hub}", {
            "spec": spec, "hub": hub, "routing": routing, "api_keys": api_keys, "client_keys": client_keys,
            "dns01": dns01.credentials}, opts=ResourceOptions(providers={"kubernetes": provider}))
    stack.dns = FederationRecords("federation-dns", {"spec": spec, "provider": dns01.provider,
                                                     "addresses": {h: stack.hubs[h].address for h in spec.hubs}})

    pulumi.export("endpoint", f"https://{spec.hostname}/v1")
    pulumi.export("hubs", {h: f"https://{spec.direct_hostname(h)}" for h in spec.hubs})
    pulumi.export("routes", routing.apply(lambda r: r.to_json()))
    pulumi.export("clientApiKeys", pulumi.Output.secret(pulumi.Output.all(**client_keys)))
    return stack
