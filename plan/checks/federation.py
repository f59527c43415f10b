"""References of the federation hub's objects (components/federation/hub.py): what each names must be in the plan.

AIGatewayRoute -> Gateway and AIServiceBackends; AIServiceBackend -> Envoy Gateway Backend; BackendSecurityPolicy ->
AIServiceBackend and its API-key Secret (key `apiKey`, the CRD's documented key); BackendTrafficPolicy and
SecurityPolicy -> the HTTPRoute the AI Gateway generates for an AIGatewayRoute (same name, same namespace) or an
HTTPRoute in the plan; the client keys' Secret; HTTPRoute -> Gateway; Gateway listener certificates -> a Secret or
the Certificate that writes it; Certificate -> Issuer; Issuer's Route53 credentials -> Secret keys.
The GatewayClass comes from the hub's own stack (its gateway component): unchecked here.
"""
from plan.checks import Check
from plan.checks.context import obj_id

NAME = "references.federation"


def _keys(secret: dict) -> set:
    return set(secret.get("stringData") or {}) | set(secret.get("data") or {})


def check(ctx) -> list:
    out = []

    def ns_of(o):
        return (o.get("metadata") or {}).get("namespace")

    def need(o, kind, name, ns=None, what="", keys=()):
        ns = ns or ns_of(o)
        found = ctx.get(kind, ns, name)
        if found is None and kind == "HTTPRoute":
            found = ctx.get("AIGatewayRoute", ns, name)     # the AI Gateway writes an HTTPRoute of the same name
        if found is None and kind == "Secret":
            found = next((c for c in ctx.kind("Certificate") if ns_of(c) == ns
                          and (c.get("spec") or {}).get("secretName") == name), None)
            keys = ()                                        # cert-manager writes tls.crt/tls.key
        missing = [k for k in keys if found is not None and k not in _keys(found)]
        ok = found is not None and not missing
        msg = (f"{what} {kind} {ns}/{name}" + (" exists" if ok else " is not in the plan" if found is None
                                                 else f" lacks key(s) {', '.join(missing)}"))
        out.append(Check(NAME, obj_id(o), "pass" if ok else "fail", msg))

    for o in ctx.kind("AIGatewayRoute"):
        spec = o.get("spec") or {}
        for p in spec.get("parentRefs") or []:
            need(o, "Gateway", p["name"], p.get("namespace"), "parent")
        for rule in spec.get("rules") or []:
            for b in rule.get("backendRefs") or []:
                need(o, "InferencePool" if b.get("kind") == "InferencePool" else "AIServiceBackend", b["name"],
                     b.get("namespace"), "backend")
    for o in ctx.kind("AIServiceBackend"):
        ref = (o.get("spec") or {}).get("backendRef") or {}
        need(o, ref.get("kind", "Service"), ref.get("name"), ref.get("namespace"), "backendRef")
    for o in ctx.kind("BackendSecurityPolicy"):
        spec = o.get("spec") or {}
        for t in spec.get("targetRefs") or []:
            need(o, t["kind"], t["name"], None, "target")
        if spec.get("type") == "APIKey":
            ref = spec["apiKey"]["secretRef"]
            need(o, "Secret", ref["name"], ref.get("namespace"), "API key", keys=("apiKey",))
    for o in ctx.kind("BackendTrafficPolicy", "SecurityPolicy"):
        spec = o.get("spec") or {}
        for t in spec.get("targetRefs") or []:
            need(o, t["kind"], t["name"], None, "target")
        for ref in ((spec.get("apiKeyAuth") or {}).get("credentialRefs") or []):
            need(o, "Secret", ref["name"], ref.get("namespace"), "client keys")
    for o in ctx.kind("HTTPRoute"):
        for p in (o.get("spec") or {}).get("parentRefs") or []:
            need(o, "Gateway", p["name"], p.get("namespace"), "parent")
    for o in ctx.kind("Gateway"):
        spec = o.get("spec") or {}
        for listener in spec.get("listeners") or []:
            for ref in ((listener.get("tls") or {}).get("certificateRefs") or []):
                need(o, "Secret", ref["name"], ref.get("namespace"), f"listener {listener['name']} certificate")
        out.append(Check(NAME, obj_id(o), "unchecked", f"GatewayClass {spec.get('gatewayClassName')} comes from "
                                                        f"the hub stack's gateway component, not from this plan"))
    for o in ctx.kind("Certificate"):
        ref = (o.get("spec") or {}).get("issuerRef") or {}
        need(o, ref.get("kind", "Issuer"), ref.get("name"), None, "issuer")
    for o in ctx.kind("Issuer"):
        for solver in ((o.get("spec") or {}).get("acme") or {}).get("solvers") or []:
            r53 = (solver.get("dns01") or {}).get("route53") or {}
            for field in ("accessKeyIDSecretRef", "secretAccessKeySecretRef"):
                if field in r53:
                    need(o, "Secret", r53[field]["name"], None, f"route53 {field}", keys=(r53[field]["key"],))
    return out
