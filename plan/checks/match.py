"""Label selectors, node affinity and tolerations, as the API machinery and the scheduler evaluate them."""


def selector_matches(sel: dict, labels: dict) -> bool:
    """metav1.LabelSelector (matchLabels + matchExpressions); an empty selector matches everything."""
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    return all(_expr(e, labels) for e in sel.get("matchExpressions") or [])


def _expr(e: dict, labels: dict) -> bool:
    k, op, values = e.get("key"), e.get("operator"), [str(v) for v in e.get("values") or []]
    present = k in labels
    if op == "In":
        return present and labels[k] in values
    if op == "NotIn":
        return not present or labels[k] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        try:
            a, b = int(labels[k]), int(values[0])
        except (KeyError, ValueError, IndexError):
            return False
        return a > b if op == "Gt" else a < b
    return False


def node_selected(pod_spec: dict, labels: dict) -> bool:
    """nodeSelector and required node affinity (terms ORed, expressions ANDed)."""
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    req = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
           .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = req.get("nodeSelectorTerms")
    if not terms:
        return True
    return any(all(_expr(e, labels) for e in (t.get("matchExpressions") or [])) for t in terms)


def tolerates(tolerations: list, taint: dict) -> bool:
    for t in tolerations or []:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists":
            if not t.get("key") or t["key"] == taint["key"]:
                return True
        elif t.get("key") == taint["key"] and str(t.get("value", "")) == str(taint.get("value", "")):
            return True
    return False


def untolerated(tolerations: list, taints: list) -> list:
    return [t for t in taints if t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, t)]
