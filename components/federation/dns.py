"""FederationDns: the public entry in Route53 (docs/federation.md).

Why Route53: the primary hub is the AWS stack in the shipped federation, so the zone, its health checkers and the
hub share one provider account; Route53 has failover record sets driven by its own health checks (Cloud DNS has
no health-checked failover for external endpoints, Azure needs Traffic Manager on top of Azure DNS).

  <hub>.<global name>   one record per hub -> its Gateway's load balancer (CNAME for a hostname, A for an IP)
  health check per hub: HTTPS GET https://<hub>.<global name>/healthz (SNI on), 3 failures at 30 s
  <global name>         failover pair: PRIMARY -> the first hub's direct name (its health check), SECONDARY -> the
                        second hub's (with one hub: a plain record; its health check still alarms)
  cert-manager's DNS-01 user: an IAM user allowed to change records in this zone only; its access key goes to every
                        hub as a Secret (the secret key is a secret output, never in plain text)
"""
import json
from typing import Optional, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi import ResourceOptions

from components.federation.hub import HEALTH_PATH
from spec.federation import FederationSpec

TTL = 60                 # seconds: how long resolvers keep a record, part of the failover time
FAILURE_THRESHOLD = 3    # failed checks before Route53 calls an endpoint unhealthy
REQUEST_INTERVAL = 30    # seconds between checks (10 costs more)


def record_type(address: str) -> str:
    """A for an IPv4 address (GKE and AKS load balancers), CNAME for a hostname (AWS NLB)."""
    parts = address.split(".")
    return "A" if len(parts) == 4 and all(p.isdigit() for p in parts) else "CNAME"


def dns01_policy(zone_id: str) -> str:
    """What cert-manager's Route53 solver needs (its documented policy), limited to this zone."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "route53:GetChange", "Resource": "arn:aws:route53:::change/*"},
        {"Effect": "Allow", "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
         "Resource": f"arn:aws:route53:::hostedzone/{zone_id}"},
        {"Effect": "Allow", "Action": "route53:ListHostedZonesByName", "Resource": "*"}]})


class Dns01UserArgs(TypedDict):
    spec: FederationSpec
    """The federation stack's spec."""


class Dns01User(pulumi.ComponentResource):
    """cert-manager's DNS-01 credentials and the AWS provider of the zone's account (the records use it too)."""
    provider: aws.Provider
    credentials: dict
    """{"access_key_id", "secret_access_key" (secret)}."""

    def __init__(self, name: str, args: Dns01UserArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:federation:Dns01User", name, None, opts)
        spec = args["spec"]
        self.provider = aws.Provider(f"{name}-aws", region=spec.route53.region, opts=ResourceOptions(parent=self))
        child = ResourceOptions(parent=self, provider=self.provider)
        user = aws.iam.User(f"{name}-user", name=f"llmfleet-{spec.stack}-dns01", tags=tags(spec), opts=child)
        aws.iam.UserPolicy(f"{name}-policy", user=user.name, policy=dns01_policy(spec.route53.zone_id), opts=child)
        key = aws.iam.AccessKey(f"{name}-key", user=user.name, opts=child)
        self.credentials = {"access_key_id": key.id, "secret_access_key": pulumi.Output.secret(key.secret)}
        self.register_outputs({"user": user.name})


def tags(spec) -> dict:
    return {"llmfleet:stack": spec.stack, "llmfleet:environment": spec.environment}


class FederationRecordsArgs(TypedDict):
    spec: FederationSpec
    """The federation stack's spec."""
    provider: aws.Provider
    """The zone account's provider (Dns01User.provider)."""
    addresses: dict
    """Hub short name -> Output[str]: its Gateway's load-balancer address (hostname or IP)."""


class FederationRecords(pulumi.ComponentResource):
    health_checks: dict

    def __init__(self, name: str, args: FederationRecordsArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:federation:Records", name, None, opts)
        spec = args["spec"]
        zone = spec.route53.zone_id
        child = ResourceOptions(parent=self, provider=args["provider"])
        self.health_checks = {}
        for hub in spec.hubs:
            direct = spec.direct_hostname(hub)
            address = args["addresses"][hub]
            aws.route53.Record(f"{name}-{hub}-direct", zone_id=zone, name=direct, type=address.apply(record_type),
                               ttl=TTL, records=[address], opts=child)
            self.health_checks[hub] = aws.route53.HealthCheck(
                f"{name}-{hub}-health", type="HTTPS", fqdn=direct, port=443, resource_path=HEALTH_PATH,
                enable_sni=True, failure_threshold=FAILURE_THRESHOLD, request_interval=REQUEST_INTERVAL,
                tags={**tags(spec), "Name": direct}, opts=child)
        failover = len(spec.hubs) > 1
        for hub, role in zip(spec.hubs, ("PRIMARY", "SECONDARY")):
            aws.route53.Record(
                f"{name}-global-{hub}", zone_id=zone, name=spec.hostname, type="CNAME", ttl=TTL,
                records=[spec.direct_hostname(hub)],
                health_check_id=self.health_checks[hub].id if failover else None,
                set_identifier=f"{hub}-{role.lower()}" if failover else None,
                failover_routing_policies=[{"type": role}] if failover else None, opts=child)
        self.register_outputs({"healthChecks": {h: c.id for h, c in self.health_checks.items()}})
