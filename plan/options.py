"""Resource options as the engine receives them, recorded per URN into out/<stack>/options.json.

`pulumi preview --json` does not show options (delete_before_replace, protect, ...), but the day-2 diff needs them:
a replaced resource with a fixed name and no delete-before-replace fails with "already exists". The fields are read
from the RegisterResource request (pulumi/pulumi proto/pulumi/resource.proto), so they are what the program set.
`protect` and `retainOnDelete` are optional booleans in the proto; unset is recorded as false (the engine default).
"""
from typing import Any


def _alias(a) -> Any:
    """An alias as the program gave it: a URN, or the spec's fields that were set (name, type, parent...)."""
    if a.WhichOneof("alias") == "urn":
        return a.urn
    spec = {k: getattr(a.spec, k) for k in ("name", "type", "stack", "project", "parentUrn") if getattr(a.spec, k)}
    if a.spec.noParent:
        spec["noParent"] = True
    return spec


def from_request(request) -> dict[str, Any]:
    aliases = [_alias(a) for a in request.aliases] + sorted(request.aliasURNs)
    timeouts = request.customTimeouts
    return {
        # The engine replaces a resource delete-first when the program asks for it; deleteBeforeReplaceDefined tells
        # "asked for false" from "not asked" (a provider such as pulumi-kubernetes may then choose it itself).
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "protect": bool(request.protect),
        "retainOnDelete": bool(request.retainOnDelete),
        "ignoreChanges": sorted(request.ignoreChanges),
        "aliases": aliases,
        "replaceOnChanges": sorted(request.replaceOnChanges),
        "customTimeouts": {k: v for k, v in (("create", timeouts.create), ("update", timeouts.update),
                                             ("delete", timeouts.delete)) if v},
    }
