"""NetworkPolicies: default deny (ingress and egress) in every namespace the program owns, then one egress rule at
the source and one ingress rule at the destination for each row of the path table (components/security/paths.py).

Which CNI enforces them is the cluster component's job (docs/security.md): EKS VPC CNI network policy mode, GKE
Dataplane V2, AKS Azure/Cilium network policy, k3s's embedded policy controller.
"""
from typing import Optional, Sequence, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from components.platform import MANAGED_BY
from components.security.paths import Path, Peer, program_paths, NetworkInputs

NAMESPACE_LABEL = "kubernetes.io/metadata.name"     # set by the API server on every namespace (since 1.21)


def peer(p: Peer) -> Optional[dict]:
    """NetworkPolicyPeer; None for 'any address' (the rule then carries ports only)."""
    if p.namespace is None:
        return None
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: p.namespace}},
            "podSelector": {"matchLabels": p.labels}}


def rule(path: Path, side: str) -> dict:
    other = path.dest if side == "egress" else path.source
    out: dict = {}
    if path.ports:
        out["ports"] = [{"protocol": x.protocol, "port": x.port} for x in path.ports]
    p = peer(other)
    if p is not None:
        out["to" if side == "egress" else "from"] = [p]
    return out


def policies(inputs: NetworkInputs) -> list[dict]:
    """Plain NetworkPolicy manifests: one default deny per owned namespace, one policy per path and side."""
    owned = inputs.owned
    out = [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}} for ns in owned]
    for path in program_paths(inputs):
        for side, end in (("egress", path.source), ("ingress", path.dest)):
            if end.namespace not in owned:
                continue
            out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                        "metadata": {"name": f"allow-{path.name}-{side}", "namespace": end.namespace,
                                     "annotations": {"llmfleet.io/why": path.why}},
                        "spec": {"podSelector": {"matchLabels": end.labels},
                                 "policyTypes": ["Egress" if side == "egress" else "Ingress"],
                                 side: [rule(path, side)]}})
    return out


class NetworkPoliciesArgs(TypedDict):
    inputs: NetworkInputs
    """What the table needs: namespaces, model endpoints, installed charts, the Prometheus URL."""
    depends_on: Sequence[pulumi.Resource]
    """The namespaces."""


class NetworkPolicies(pulumi.ComponentResource):
    names: list
    """"namespace/name" of every policy."""

    def __init__(self, name: str, args: NetworkPoliciesArgs, opts: Optional[ResourceOptions] = None):
        super().__init__("llmfleet:security:NetworkPolicies", name, None, opts)
        self.names = []
        child = ResourceOptions(parent=self, depends_on=list(args["depends_on"]))
        for p in policies(args["inputs"]):
            m = p["metadata"]
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{m['namespace']}-{m['name']}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=m["name"], namespace=m["namespace"], labels=MANAGED_BY,
                                                    annotations=m.get("annotations")),
                spec=p["spec"], opts=child)
            self.names.append(f"{m['namespace']}/{m['name']}")
        self.register_outputs({"policies": self.names})
