"""`python -m plan.diff <base out/> <head out/>`: what a second `pulumi up` would do, from two offline plans.

Per stack: resources added, removed and changed (by URN, with the changed input paths; secrets stay "[secret]"),
each marked create / update / replace / delete. A replacement comes from the sourced table in plan/forces_new.py,
from a provider replacement (every object bound to a replaced pulumi:providers:kubernetes is replaced), or from an
input that refers to a replaced resource's id (unknown at preview, so a forces-new input is treated as changed).
Flags: replacement of a fixed-name resource without delete-before-replace (create-before-delete collides), stateful
objects replaced, `spec.replicas` dropped (server-side apply resets it), chart bumps (Helm leaves CRDs alone).
Resource options come from out/<stack>/options.json when the plan wrote one; without it they are "unknown".

What the offline plan cannot see: secret values (a rotated kubeconfig looks identical; pass --secret-changed
kubeconfig to ask "what if it changed"), values a provider computes, and drift of the live state.
"""
import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Optional

import yaml

from catalog.crds import CRD_INSTALL
from plan import forces_new as fn
from plan.manifests import ints, is_k8s_object
from plan.routesdiff import markdown as routes_markdown, routes_diff

SECRET = "[secret]"
MISSING = object()


# --- loading ----------------------------------------------------------------------------------------------------
def load_plan(folder: Path) -> dict:
    steps = json.loads((folder / "preview.json").read_text())["steps"]
    states = {s["urn"]: s["newState"] for s in steps if s["newState"]["type"] != "pulumi:pulumi:Stack"}
    opts_file = folder / "options.json"
    options = json.loads(opts_file.read_text()) if opts_file.exists() else None
    cost_file = folder / "cost.json"
    cost = json.loads(cost_file.read_text()) if cost_file.exists() else None
    policy_file, checks_file = folder / "policy.json", folder / "checks.json"
    policy = json.loads(policy_file.read_text()) if policy_file.exists() else None
    checks = json.loads(checks_file.read_text()).get("summary") if checks_file.exists() else None
    routes_file = folder / "routes.json"
    routes = json.loads(routes_file.read_text()) if routes_file.exists() else None
    return {"states": states, "options": options, "cost": cost, "policy": policy, "checks": checks,
            "routes": routes}


def from_run(result, with_cost: bool = True) -> dict:
    """The same shape as load_plan, straight from a run (tests diff two runs without writing files)."""
    from plan import cost, preview
    steps = preview.digest(result, 0)["steps"]
    states = {s["urn"]: s["newState"] for s in steps if s["newState"]["type"] != "pulumi:pulumi:Stack"}
    report = cost.report(result.globals["STACK"]) if with_cost else None
    return {"states": json.loads(json.dumps(states)), "options": {r.urn: r.options for r in result.resources},
            "cost": report}


def stack_folders(root: Path) -> dict[str, Path]:
    """An out/ folder of stacks, or a single stack's folder."""
    if (root / "preview.json").exists():
        return {root.name: root}
    return {p.name: p for p in sorted(root.iterdir()) if (p / "preview.json").exists()} if root.exists() else {}


# --- input diff -------------------------------------------------------------------------------------------------
def changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new)):
            p = _join(prefix, str(k))
            if k not in old or k not in new:
                out.append(p)
            else:
                out += changed_paths(old[k], new[k], p)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new)):
            out += changed_paths(a, b, f"{prefix}[{i}]")
        return out
    return [] if old == new else [prefix]


def _as_sets(type_: str, inputs: dict) -> dict:
    """Set-typed inputs (fn.SET_INPUTS) sorted, so a reordering is no change, as the provider sees it."""
    paths = fn.SET_INPUTS.get(type_)
    if not paths:
        return inputs
    out = json.loads(json.dumps(inputs))
    for path in paths:
        *parents, leaf = path.split(".")
        node = out
        for key in parents:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(leaf), list):
            node[leaf] = sorted(node[leaf], key=lambda v: json.dumps(v, sort_keys=True))
    return out


def _join(prefix: str, key: str) -> str:
    """Pulumi property-path syntax: keys with dots or brackets (label keys) are written ["key"]."""
    if re.search(r'[.\[\]"]', key):
        return f'{prefix}["{key}"]'
    return f"{prefix}.{key}" if prefix else key


_PART = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.\[\]]+)')


def get_path(value: Any, path: str) -> Any:
    for m in _PART.finditer(path):
        quoted, index, plain = m.groups()
        if index is not None:
            i = int(index)
            value = value[i] if isinstance(value, list) and i < len(value) else MISSING
        else:
            key = quoted if quoted is not None else plain
            value = value.get(key, MISSING) if isinstance(value, dict) else MISSING
        if value is MISSING:
            return MISSING
    return value


def _ignored(path: str, ignore: list[str]) -> bool:
    return any(fn._matches(path, ig) for ig in ignore)


def _provider_urn(state: dict) -> str:
    """A provider reference is `<urn>::<id>`; the URN itself has four `::`-separated parts."""
    return "::".join((state.get("provider") or "").split("::")[:4])


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _mentions(value: Any, needle: str) -> list[str]:
    """Input paths whose value contains `needle` (a mock resource id: `<name>-id`)."""
    if isinstance(value, dict):
        return [_join("", k) + ("." + p if p and not p.startswith("[") else p) for k, v in value.items()
                for p in _mentions(v, needle)]
    if isinstance(value, list):
        return [f"[{i}]{'.' + p if p and not p.startswith('[') else p}" for i, v in enumerate(value)
                for p in _mentions(v, needle)]
    # The id as a whole word: `net-a-id` must not match inside `net-a-id2` or `x-net-a-id`.
    hit = isinstance(value, str) and re.search(rf"(?<![\w-]){re.escape(needle)}(?![\w-])", value)
    return [""] if hit else []


# --- classification ---------------------------------------------------------------------------------------------
def diff_stack(base: dict, head: dict, secret_changed: frozenset = frozenset()) -> dict:
    b, h = base["states"], head["states"]
    options_known = head["options"] is not None
    opts = head["options"] or {}
    rows: dict[str, dict] = {}
    for urn in sorted(set(b) | set(h)):
        old, new = b.get(urn), h.get(urn)
        st = new or old
        row = {"urn": urn, "type": st["type"], "name": _name(urn), "op": "same", "changed": [], "reasons": [],
               "flags": [], "stateful": st["type"] in fn.STATEFUL_TYPES,
               "k8s": st["custom"] and is_k8s_object(st["type"])}
        if old is None:
            row["op"] = "create"
        elif new is None:
            row["op"] = "delete"
        else:
            ignore = (opts.get(urn) or {}).get("ignoreChanges", [])
            before, after = _as_sets(st["type"], old.get("inputs", {})), _as_sets(st["type"], new.get("inputs", {}))
            paths = [p for p in changed_paths(before, after) if not _ignored(p, ignore)]
            row["ignored"] = [p for p in changed_paths(before, after) if _ignored(p, ignore)]
            for key in secret_changed:
                if old["inputs"].get(key) == SECRET and new["inputs"].get(key) == SECRET and key not in paths:
                    paths.append(key)
                    row["reasons"].append(f"{key}: secret assumed changed (--secret-changed)")
            row["changed"] = sorted(paths)
            if _provider_urn(old) != _provider_urn(new):
                row["reasons"].append(f"provider changed: {_provider_urn(old)} -> {_provider_urn(new)}")
                row["op"] = "replace"
            elif paths:
                row["op"] = "update"
        rows[urn] = row

    # Fixpoint: replacements cascade through ids referenced in inputs and through the Kubernetes provider.
    for _ in range(len(rows) + 1):
        moved = False
        gone = {u for u, r in rows.items() if r["op"] in ("replace", "create")}
        for urn, row in rows.items():
            if row["op"] in ("create", "delete", "replace"):
                continue
            old, new = b[urn], h[urn]
            unknown = []
            for dep in gone:
                unknown += [p for p in _mentions(new.get("inputs", {}), f"{_name(dep)}-id")
                            if dep in b]   # a new resource's id is new anyway
            if row["type"] == fn.K8S_PROVIDER:
                deps_new = [d for d in new.get("dependencies", []) if d in gone]
                verdict = _k8s_provider(old["inputs"], new["inputs"], row["changed"], deps_new)
                if verdict:
                    row["op"], moved = "replace", True
                    row["reasons"].append(verdict)
                continue
            if row["k8s"] and new.get("provider") and _provider_urn(new) in gone:
                row["op"], moved = "replace", True
                row["reasons"].append(f"its provider {_name(_provider_urn(new))} is replaced ({fn.K8S_PROVIDER_SOURCE})")
                continue
            forced = fn.forcing(row["type"], sorted(set(row["changed"]) | set(unknown)), row["k8s"],
                                old.get("inputs", {}), new.get("inputs", {}))
            if forced:
                row["op"], moved = "replace", True
                for p, src in forced:
                    why = "refers to a replaced resource's id" if p in unknown and p not in row["changed"] else "changed"
                    row["reasons"].append(f"{p} {why}; forces replacement ({src})")
            elif unknown and row["op"] == "same":
                row["op"] = "update"
                row["changed"] = sorted(set(unknown))
        if not moved:
            break

    _unique_collisions(rows, b, h)
    for urn, row in rows.items():
        o = opts.get(urn)
        new, old = h.get(urn), b.get(urn)
        if row["op"] == "replace":
            name_key = fn.FIXED_NAME.get(row["type"])
            dbr = (o or {}).get("deleteBeforeReplace")
            if row["k8s"]:
                row["deleteBeforeReplace"] = True
                row["reasons"].append(f"delete-before-replace chosen by the provider ({fn.K8S_SELF_DBR}): "
                                      "the object is absent between delete and create")
            elif name_key and get_path(new["inputs"], name_key) not in (MISSING, None) \
                    and get_path(new["inputs"], name_key) == get_path(old["inputs"], name_key):
                row["deleteBeforeReplace"] = dbr if o is not None else None
                if o is None:
                    row["flags"].append(f"fixed name {name_key}={get_path(new['inputs'], name_key)!r}: "
                                        "options unknown (no options.json), a create-before-delete would collide")
                elif not dbr:
                    row["flags"].append(f"name conflict: {name_key}={get_path(new['inputs'], name_key)!r} is fixed "
                                        f"and deleteBeforeReplace is not set ({fn.FIXED_NAME_SOURCE})")
            if row["stateful"]:
                row["flags"].append("stateful object replaced")
            if o and o.get("protect"):
                row["flags"].append("protected: `pulumi up` stops here until protect is lifted")
        if row["op"] == "delete" and row["stateful"]:
            row["flags"].append("stateful object deleted")
        if row["op"] == "delete" and (base["options"] or {}).get(urn, {}).get("protect"):
            row["flags"].append("protected: `pulumi up` refuses to delete it")
        if row["op"] in ("update", "replace") and row["type"] in ("kubernetes:apps/v1:Deployment",
                                                                  "kubernetes:apps/v1:StatefulSet"):
            if get_path(old["inputs"], "spec.replicas") is not MISSING and \
                    get_path(new["inputs"], "spec.replicas") is MISSING:
                row["flags"].append("spec.replicas dropped: server-side apply removes a field its manager stops "
                                    "setting, so replicas falls back to the default 1 until the autoscaler acts")
        if row["op"] in ("update", "replace") and row["type"] == "kubernetes:helm.sh/v3:Release" \
                and "version" in row["changed"]:
            chart = str(new["inputs"].get("chart", "")).rsplit("/", 1)[-1]
            crds = CRD_INSTALL.get(chart)
            if crds and not crds.upgraded:
                row["flags"].append(f"chart {chart} {old['inputs'].get('version')} -> {new['inputs'].get('version')}: "
                                    f"its CRDs are in {crds.where} and Helm does not upgrade them; before `pulumi "
                                    f"up`: {crds.upgrade}")
        if row.get("ignored"):
            row["flags"].append("changed but not applied (ignoreChanges): " + ", ".join(row["ignored"]))
        if row["k8s"] and row["op"] in ("update", "replace") and row["changed"]:
            row["yaml"] = _yaml_diff(old["inputs"], new["inputs"], row["changed"])
    ordered = sorted(rows.values(), key=lambda r: (_ORDER[r["op"]], r["type"], r["urn"]))
    # Unchanged rows are left out, except those whose changes ignoreChanges hides: the reviewer must see them.
    return {"optionsKnown": options_known, "resources": [r for r in ordered if r["op"] != "same" or r["flags"]],
            "summary": {op: sum(1 for r in rows.values() if r["op"] == op) for op in _ORDER if op != "same"},
            "cost": cost_diff(base["cost"], head["cost"]),
            "policy": policy_diff(base.get("policy"), head.get("policy")),
            "checks": head.get("checks"),
            "routes": routes_diff(base.get("routes"), head.get("routes"))}


def policy_diff(base: Optional[list], head: Optional[list]) -> Optional[dict]:
    """Violations of the cost-guard pack (plan/policy.py) per level, base and head, and the head's messages."""
    def count(rows, level):
        return sum(len(r["violations"]) for r in rows or () if r["level"] == level)
    if head is None:
        return None
    return {"mandatory": {"base": count(base, "mandatory"), "head": count(head, "mandatory")},
            "advisory": {"base": count(base, "advisory"), "head": count(head, "advisory")},
            "violations": [f"{r['policy']} ({r['level']}): {v['message']}" for r in head
                           for v in r["violations"] if r["level"] == "mandatory"]}


def _unique_collisions(rows: dict, b: dict, h: dict) -> None:
    """A created or replaced resource taking a unique value that another, older resource still holds."""
    for urn, row in rows.items():
        rule = fn.UNIQUE_IN_SCOPE.get(row["type"])
        if not rule or row["op"] not in ("create", "replace"):
            continue
        key, scope, source = rule
        new = h[urn]["inputs"]
        for other, st in sorted(b.items()):
            if st["type"] != row["type"] or (other == urn and row["op"] == "create"):
                continue
            if _collide(st["inputs"].get(key), new.get(key)) and all(st["inputs"].get(k) == new.get(k) for k in scope):
                row["flags"].append(f"unique conflict: {key}={new.get(key)!r} overlaps {st['inputs'].get(key)!r} "
                                    f"still held by {_name(other)} when this one is created ({source})")


def _collide(a: Any, b: Any) -> bool:
    import ipaddress
    try:
        return ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b))
    except (TypeError, ValueError):
        return a is not None and a == b


_ORDER = {"replace": 0, "delete": 1, "create": 2, "update": 3, "same": 4}


def _k8s_provider(old: dict, new: dict, changed: list, deps_replaced: list) -> Optional[str]:
    oid, nid = old.get("clusterIdentifier"), new.get("clusterIdentifier")
    if oid is not None and nid is not None and oid != nid:
        return f"clusterIdentifier changed ({fn.K8S_PROVIDER_SOURCE})"
    stable = oid is not None and oid == nid
    touched = [k for k in fn.K8S_PROVIDER_CLUSTER_KEYS if k in changed]
    if deps_replaced:
        touched.append(f"kubeconfig unknown at preview (depends on {', '.join(sorted(_name(d) for d in deps_replaced))}"
                       " being created or replaced)")
    if touched and not stable:
        return f"{'; '.join(touched)} and no stable clusterIdentifier ({fn.K8S_PROVIDER_SOURCE})"
    return None


def _yaml_diff(old: dict, new: dict, paths: list[str]) -> str:
    out = {}
    for p in paths:
        a, b = get_path(old, p), get_path(new, p)
        # Whole numbers as integers, the way the manifests print them (the engine hands numbers over as floats).
        out[p] = {"-": None if a is MISSING else ints(a), "+": None if b is MISSING else ints(b)}
    return yaml.safe_dump(out, sort_keys=True, default_flow_style=False, width=120)


def cost_diff(base: Optional[dict], head: Optional[dict]) -> Optional[dict]:
    if not base or not head:
        return None
    t0, t1 = base["total"], head["total"]
    return {k: {"base": t0[k], "head": t1[k], "delta": round(t1[k] - t0[k], 2)}
            for k in ("monthlyAtMin", "monthlyAtMax", "modelsMonthlyAtMinReplicas")}


def diff_all(base_root: Path, head_root: Path, secret_changed: frozenset = frozenset()) -> dict:
    bs, hs = stack_folders(base_root), stack_folders(head_root)
    out = {}
    for stack in sorted(set(bs) | set(hs)):
        empty = {"states": {}, "options": {}, "cost": None, "policy": None, "checks": None}
        out[stack] = diff_stack(load_plan(bs[stack]) if stack in bs else empty,
                                load_plan(hs[stack]) if stack in hs else empty, secret_changed)
    return out


# --- output -----------------------------------------------------------------------------------------------------
def _money(c: Optional[dict], key: str) -> str:
    if not c:
        return "-"
    v = c[key]
    return f"{v['base']:,.0f} -> {v['head']:,.0f} ({v['delta']:+,.0f})"


def _policy(p: Optional[dict]) -> str:
    if not p:
        return "-"
    m, a = p["mandatory"], p["advisory"]
    return f"{m['head']} mandatory, {a['head']} advisory" + (" (was {}, {})".format(m["base"], a["base"])
                                                             if (m["base"], a["base"]) != (m["head"], a["head"]) else "")


def markdown(result: dict) -> str:
    lines = ["## Plan diff", "", "| stack | create | update | replace | delete | flags | GPU $/month at min | "
             "GPU $/month at max | cost-guard violations | cluster checks failed |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for stack, d in result.items():
        s = d["summary"]
        flags = sum(len(r["flags"]) for r in d["resources"])
        checks = d.get("checks")
        lines.append(f"| {stack} | {s['create']} | {s['update']} | {s['replace']} | {s['delete']} | {flags} | "
                     f"{_money(d['cost'], 'monthlyAtMin')} | {_money(d['cost'], 'monthlyAtMax')} | "
                     f"{_policy(d.get('policy'))} | {checks['fail'] if checks else '-'} |")
    lines += routes_markdown(result)
    for stack, d in result.items():
        blocked = (d.get("policy") or {}).get("violations") or []
        if blocked:
            lines += ["", f"**{stack}: mandatory cost-guard violations**", ""] + [f"- {v}" for v in blocked]
    for stack, d in result.items():
        if not d["resources"]:
            continue
        lines += ["", f"<details><summary><b>{stack}</b>: {len(d['resources'])} resource(s)</summary>", ""]
        if not d["optionsKnown"]:
            lines.append("_Resource options unknown (no options.json): delete-before-replace and protect not "
                         "checked._")
        lines += ["| op | type | name | changed inputs | why / flags |", "|---|---|---|---|---|"]
        for r in d["resources"]:
            why = "; ".join(r["reasons"] + [f"**{f}**" for f in r["flags"]])
            ch = ", ".join(f"`{p}`" for p in r["changed"][:8]) + (" ..." if len(r["changed"]) > 8 else "")
            lines.append(f"| {r['op']} | `{r['type']}` | {r['name']} | {ch} | {why.replace('|', '/')} |")
        objs = [r for r in d["resources"] if r.get("yaml")]
        for r in objs:
            lines += ["", f"`{r['type'].split(':')[-1]}/{r['name']}` ({r['op']}):", "```yaml", r["yaml"].rstrip(),
                      "```"]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="plan.diff", description=__doc__.split("\n")[0])
    ap.add_argument("base", type=Path)
    ap.add_argument("head", type=Path)
    ap.add_argument("--json", type=Path, default=None, help="also write the diff as json here")
    ap.add_argument("--md", type=Path, default=None, help="write the markdown here (default: stdout)")
    ap.add_argument("--secret-changed", action="append", default=[], metavar="INPUT",
                    help="treat this secret input (e.g. kubeconfig) as changed wherever it is [secret] on both sides")
    args = ap.parse_args(argv)
    for p in (args.base, args.head):
        if not stack_folders(p):
            print(f"plan.diff: no offline plan (preview.json) under {p}", file=sys.stderr)
            return 2
    result = diff_all(args.base, args.head, frozenset(args.secret_changed))
    md = markdown(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    if args.md:
        args.md.write_text(md)
    else:
        print(md, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
