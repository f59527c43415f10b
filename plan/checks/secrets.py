"""Secrets that controllers write (issue 16 item 3): an ExternalSecret's target and a SealedSecret's Secret exist
once ESO or the Sealed Secrets controller runs, so references to them count as made; and a SecretStore's way to
the vault is checked: the ServiceAccount it authenticates as exists and carries the annotation that binds it to
the cloud identity (without it ESO gets no cloud credentials and the target Secret never appears).
"""
from plan.checks import Check

# SecretStore provider -> (path to its ServiceAccount reference, the annotation that binds the account).
STORE_AUTH = {
    "aws": (("auth", "jwt", "serviceAccountRef"), "eks.amazonaws.com/role-arn"),
    "gcpsm": (("auth", "workloadIdentity", "serviceAccountRef"), "iam.gke.io/gcp-service-account"),
    "azurekv": (("serviceAccountRef",), "azure.workload.identity/client-id"),
}
# Chart that runs the controller writing each kind's Secret.
WRITERS = {"ExternalSecret": "external-secrets", "SealedSecret": "sealed-secrets"}


def written_secrets(ctx) -> dict:
    """(namespace, name) -> (the object that writes it, its keys)."""
    out = {}
    for es in ctx.kind("ExternalSecret"):
        m, spec = es["metadata"], es.get("spec") or {}
        target = (spec.get("target") or {}).get("name") or m["name"]
        keys = {d.get("secretKey") for d in spec.get("data") or []}
        out[(m.get("namespace"), target)] = (f"ExternalSecret {m.get('namespace')}/{m['name']}", keys)
    for ss in ctx.kind("SealedSecret"):
        m, spec = ss["metadata"], ss.get("spec") or {}
        # The controller names the Secret after the SealedSecret (strict scope also binds the ciphertext to it).
        out[(m.get("namespace"), m["name"])] = (f"SealedSecret {m.get('namespace')}/{m['name']}",
                                                set(spec.get("encryptedData") or {}))
    return out


def secret_keys(ctx, namespace: str, name: str) -> set:
    sec = ctx.get("Secret", namespace, name)
    if sec is not None:
        return set(sec.get("stringData") or {}) | set(sec.get("data") or {})
    return written_secrets(ctx).get((namespace, name), ("", set()))[1]


def _dig(d: dict, path: tuple):
    for k in path:
        d = (d or {}).get(k)
    return d


def check(ctx) -> list[Check]:
    out = []
    for store in ctx.kind("SecretStore"):
        m, provider = store["metadata"], (store.get("spec") or {}).get("provider") or {}
        oid = f"SecretStore {m.get('namespace')}/{m['name']}"
        for kind, (path, annotation) in STORE_AUTH.items():
            if kind not in provider:
                continue
            ref = _dig(provider[kind], path) or {}
            if not ref.get("name"):
                out.append(Check("secrets.store-identity", oid, "unchecked",
                                 f"{kind} store without a ServiceAccount reference: ESO uses its own pod's "
                                 f"credentials, which the plan cannot see"))
                continue
            sa = ctx.get("ServiceAccount", ref.get("namespace") or m.get("namespace"), ref["name"])
            problems = []
            if sa is None:
                problems.append(f"ServiceAccount {ref['name']!r} is not in the plan")
            elif not ((sa.get("metadata") or {}).get("annotations") or {}).get(annotation):
                problems.append(f"ServiceAccount {ref['name']!r} lacks annotation {annotation}, which names the cloud "
                                f"identity ESO exchanges its token for")
            out.append(Check("secrets.store-identity", oid, "fail" if problems else "pass",
                             "; ".join(problems) or f"authenticates as ServiceAccount {ref['name']} ({annotation})"))
    stores = {(s["metadata"].get("namespace"), s["metadata"]["name"]) for s in ctx.kind("SecretStore")}
    for es in ctx.kind("ExternalSecret"):
        m, ref = es["metadata"], (es.get("spec") or {}).get("secretStoreRef") or {}
        oid = f"ExternalSecret {m.get('namespace')}/{m['name']}"
        if ref.get("kind", "SecretStore") != "SecretStore":
            out.append(Check("secrets.store-ref", oid, "unchecked", f"uses a {ref.get('kind')}, not in the plan"))
            continue
        ok = (m.get("namespace"), ref.get("name")) in stores
        out.append(Check("secrets.store-ref", oid, "pass" if ok else "fail",
                         f"reads SecretStore {ref.get('name')}" if ok else
                         f"SecretStore {m.get('namespace')}/{ref.get('name')} is not in the plan"))
    charts = {r.chart for r in ctx.releases}
    for (ns, name), (writer, _) in sorted(written_secrets(ctx).items()):
        chart = WRITERS[writer.split()[0]]
        installed = chart in charts
        out.append(Check("secrets.writer", writer, "pass" if installed else "unchecked",
                         f"Secret {ns}/{name} is written by the {chart} controller of this plan" if installed else
                         f"Secret {ns}/{name} needs a {chart} controller the plan does not install (the cluster's "
                         f"own, llmfleet:security.secrets.sealed.controller false)"))
    return out
