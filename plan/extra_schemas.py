"""Schemas for the few API kinds the program renders that neither Kubernetes nor shared/crds/ defines, written here
from the upstream API reference (facts, not copied files). shared/crds/ wins when it has the kind.

ReferenceGrant (gateway.networking.k8s.io v1beta1 storage, v1 served; Gateway API v1.6.1 standard channel, the
channel Envoy Gateway v1.9.0 installs): the grant that lets the gateway namespace's AIGatewayRoute name an
InferencePool in the serving namespace (components/gateway/picker.py). Field rules per the Gateway API reference:
`from` and `to` required, 1 to 16 items each; `from[]` needs group, kind, namespace; `to[]` needs group and kind,
`name` optional; groups are DNS subdomains or "" (core), kinds 1-63 characters starting with a letter, namespaces
DNS labels, names up to 253 characters.
"""
GROUP = {"type": "string", "maxLength": 253,
         "pattern": r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"}
KIND = {"type": "string", "minLength": 1, "maxLength": 63, "pattern": r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"}
NAMESPACE = {"type": "string", "minLength": 1, "maxLength": 63, "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}


def _list(item: dict) -> dict:
    return {"type": "array", "minItems": 1, "maxItems": 16, "items": item}


REFERENCE_GRANT = {
    "type": "object", "required": ["spec"],
    "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "required": ["from", "to"], "properties": {
            "from": _list({"type": "object", "required": ["group", "kind", "namespace"],
                           "properties": {"group": GROUP, "kind": KIND, "namespace": NAMESPACE}}),
            "to": _list({"type": "object", "required": ["group", "kind"],
                         "properties": {"group": GROUP, "kind": KIND,
                                        "name": {"type": "string", "minLength": 1, "maxLength": 253}}}),
        }},
    },
}

# (group, version, kind) -> openAPIV3Schema-like schema (validate.py makes it strict as it does a CRD's).
SCHEMAS = {
    ("gateway.networking.k8s.io", "v1beta1", "ReferenceGrant"): REFERENCE_GRANT,
    ("gateway.networking.k8s.io", "v1", "ReferenceGrant"): REFERENCE_GRANT,
}
