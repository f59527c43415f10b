"""Admission (FACTS-cluster 4): LimitRanger defaults and limits, ResourceQuota, Pod Security `enforce`.

Order as on create: API defaulting (limit without request -> request = limit), LimitRanger's mutation (missing
limit <- default, missing request <- defaultRequest), validation (request <= limit; extended resources need a
limit equal to the request), then LimitRanger's min/max/ratio, ResourceQuota and PodSecurity."""
from fractions import Fraction

from plan.checks import Check
from plan.checks.quantity import fmt, parse

NATIVE = ("cpu", "memory", "ephemeral-storage")


def _is_extended(name: str) -> bool:
    return name not in NATIVE and not name.startswith("hugepages-") and "/" in name \
        and not name.startswith("kubernetes.io/")


def _limitrange_items(lr: dict) -> list[dict]:
    """Container items with the object defaulting of SetDefaults_LimitRangeItem applied."""
    out = []
    for item in (lr.get("spec") or {}).get("limits") or []:
        if item.get("type") != "Container":
            continue
        it = {k: dict(item.get(k) or {}) for k in ("default", "defaultRequest", "min", "max", "maxLimitRequestRatio")}
        for k, v in it["max"].items():
            it["default"].setdefault(k, v)
        for k, v in it["default"].items():
            it["defaultRequest"].setdefault(k, v)
        for k, v in it["min"].items():
            it["defaultRequest"].setdefault(k, v)
        out.append(it)
    return out


def effective_resources(pod, ctx) -> list[tuple[str, dict, dict, list]]:
    """(container, requests, limits, what LimitRanger set) for every container and init container, as admitted."""
    items = [it for lr in ctx.kind("LimitRange") if (lr["metadata"].get("namespace") == pod.namespace)
             for it in _limitrange_items(lr)]
    out = []
    for c in pod.containers():
        res = c.get("resources") or {}
        limits = {k: parse(v) for k, v in (res.get("limits") or {}).items()}
        requests = {k: parse(v) for k, v in (res.get("requests") or {}).items()}
        for k, v in limits.items():
            requests.setdefault(k, v)      # API defaulting, before admission
        added = []
        for it in items:
            for k, v in it["default"].items():
                if k not in limits:
                    limits[k] = parse(v)
                    added.append(f"{k} limit {v}")
            for k, v in it["defaultRequest"].items():
                if k not in requests:
                    requests[k] = parse(v)
                    added.append(f"{k} request {v}")
        out.append((c.get("name", "?"), requests, limits, added))
    return out


def _limitrange(pod, ctx) -> list[str]:
    items = [it for lr in ctx.kind("LimitRange") if lr["metadata"].get("namespace") == pod.namespace
             for it in _limitrange_items(lr)]
    problems = []
    for name, req, lim, added in effective_resources(pod, ctx):
        why = f" (LimitRanger set {', '.join(added)})" if added else ""
        for k, r in req.items():
            if k in lim and r > lim[k] and not _is_extended(k):
                problems.append(f"container {name}: requests.{k} {fmt(r)} must be less than or equal to {k} "
                                f"limit of {fmt(lim[k])}{why}")
        for it in items:
            for k, v in it["min"].items():
                if k not in req or req[k] < parse(v):
                    problems.append(f"container {name}: minimum {k} usage per Container is {v}, but request is "
                                    f"{fmt(req[k]) if k in req else 'not set'}")
            for k, v in it["max"].items():
                if k not in lim or lim[k] > parse(v):
                    problems.append(f"container {name}: maximum {k} usage per Container is {v}, but limit is "
                                    f"{fmt(lim[k]) if k in lim else 'not set'}")
            for k, v in it["maxLimitRequestRatio"].items():
                if k in req and k in lim and req[k] and lim[k] / req[k] > parse(v):
                    problems.append(f"container {name}: {k} max limit to request ratio per Container is {v}, but "
                                    f"provided ratio is {float(lim[k] / req[k]):f}")
    return problems


def _extended(pod, ctx) -> list[str]:
    problems = []
    for c in pod.containers():
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        for k in set(req) | set(lim):
            if not _is_extended(k):
                continue
            if k not in lim:
                problems.append(f"container {c.get('name')}: {k}: Limit must be set for non overcommitable resources")
            elif k in req and parse(req[k]) != parse(lim[k]):
                problems.append(f"container {c.get('name')}: {k} request {req[k]} must be equal to {k} limit of "
                                f"{lim[k]}")
    return problems


# Quota resources that force every container (and init container) to set the matching field (FACTS-cluster 4).
_FORCING = {"cpu": ("requests", "cpu"), "requests.cpu": ("requests", "cpu"), "memory": ("requests", "memory"),
            "requests.memory": ("requests", "memory"), "limits.cpu": ("limits", "cpu"),
            "limits.memory": ("limits", "memory")}


def _quota(ctx) -> list[Check]:
    out = []
    for q in ctx.kind("ResourceQuota"):
        ns, qname = q["metadata"].get("namespace"), q["metadata"]["name"]
        hard = (q.get("spec") or {}).get("hard") or {}
        if (q.get("spec") or {}).get("scopes") or (q.get("spec") or {}).get("scopeSelector"):
            out.append(Check("admission.quota", f"ResourceQuota {ns}/{qname}", "unchecked",
                             "scoped quotas are not simulated"))
            continue
        pods = [p for p in ctx.pods if p.namespace == ns]
        used, missing, problems = {}, {}, []
        for p in pods:
            eff = effective_resources(p, ctx)
            n_app = len(p.containers(init=False))
            for name, req, lim, _ in eff:
                for key, (field, res) in _FORCING.items():
                    if key in hard and res not in (req if field == "requests" else lim):
                        missing.setdefault(f"{field}.{res}", []).append(f"{p.owner} container {name}")
            for key in hard:
                if key == "pods":
                    used[key] = used.get(key, 0) + p.max_replicas
                    continue
                field, _, res = key.partition(".")
                if field not in ("requests", "limits"):
                    field, res = "requests", key
                pick = (lambda r, l: r) if field == "requests" else (lambda r, l: l)
                # Init containers run before the app containers: a pod counts max(largest init, sum of app).
                app = sum((pick(r, l).get(res, Fraction(0)) for _, r, l, _ in eff[:n_app]), Fraction(0))
                init = max([pick(r, l).get(res, Fraction(0)) for _, r, l, _ in eff[n_app:]] or [Fraction(0)])
                used[key] = used.get(key, Fraction(0)) + max(app, init) * p.max_replicas
        for key, limit in hard.items():
            if key in used and used[key] > parse(limit):
                problems.append(f"{key}: the namespace's pods at their maximum replicas use {fmt(used[key])}, "
                                f"over the quota's {limit}")
        for field, who in sorted(missing.items()):
            problems.append(f"must specify {field} for: {', '.join(sorted(set(who)))}")
        out.append(Check("admission.quota", f"ResourceQuota {ns}/{qname}", "fail" if problems else "pass",
                         "; ".join(problems) or f"{len(pods)} pod templates at max replicas fit {dict(hard)}"))
    return out


# Pod Security Standards (FACTS-cluster 4 table; kubernetes/pod-security-admission v0.34.9 policy/check_*.go).
_BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                  "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
            "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
            "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
            "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
_RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim",
                       "projected", "secret"}
_SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t"}


def _baseline(spec: dict, containers: list) -> list[str]:
    v = []
    psc = spec.get("securityContext") or {}
    for f in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(f):
            v.append(f"hostNamespaces: {f}=true")
    for vol in spec.get("volumes") or []:
        if "hostPath" in vol:
            v.append(f"hostPathVolumes: volume {vol.get('name')}")
    for s in psc.get("sysctls") or []:
        if s.get("name") not in _SYSCTLS:
            v.append(f"sysctls: {s.get('name')}")
    scs = [("pod", psc)] + [(c.get("name"), c.get("securityContext") or {}) for c in containers]
    for who, sc in scs:
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            v.append(f"windowsHostProcess: {who}")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            v.append(f"seccompProfile: {who} Unconfined")
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            v.append(f"appArmorProfile: {who} Unconfined")
        se = sc.get("seLinuxOptions") or {}
        if se.get("type", "") not in _SELINUX_TYPES or se.get("user") or se.get("role"):
            v.append(f"seLinuxOptions: {who}")
    for c in containers:
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            v.append(f"privileged: container {c.get('name')}")
        extra = set((sc.get("capabilities") or {}).get("add") or []) - _BASELINE_CAPS
        if extra:
            v.append(f"capabilities: container {c.get('name')} adds {sorted(extra)}")
        if sc.get("procMount", "Default") != "Default":
            v.append(f"procMount: container {c.get('name')}")
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                v.append(f"hostPorts: container {c.get('name')} hostPort {p['hostPort']}")
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            pr = c.get(probe) or {}
            if (pr.get("httpGet") or {}).get("host") or (pr.get("tcpSocket") or {}).get("host"):
                v.append(f"hostProbesAndHostLifecycle: container {c.get('name')} {probe}")
        for hook in ("postStart", "preStop"):
            h = (c.get("lifecycle") or {}).get(hook) or {}
            if (h.get("httpGet") or {}).get("host") or (h.get("tcpSocket") or {}).get("host"):
                v.append(f"hostProbesAndHostLifecycle: container {c.get('name')} {hook}")
    return v


def _restricted(spec: dict, containers: list) -> list[str]:
    v = []
    psc = spec.get("securityContext") or {}
    for vol in spec.get("volumes") or []:
        kinds = set(vol) - {"name"}
        if kinds - _RESTRICTED_VOLUMES:
            v.append(f"restrictedVolumes: volume {vol.get('name')} ({', '.join(sorted(kinds))})")
    if psc.get("runAsUser") == 0:
        v.append("runAsUser: pod runAsUser=0")
    for c in containers:
        sc, n = c.get("securityContext") or {}, c.get("name")
        if sc.get("allowPrivilegeEscalation") is not False:
            v.append(f"allowPrivilegeEscalation != false (container {n})")
        if not (sc.get("runAsNonRoot") is True or (psc.get("runAsNonRoot") is True and sc.get("runAsNonRoot") is not False)):
            v.append(f"runAsNonRoot != true (container {n})")
        if sc.get("runAsUser") == 0:
            v.append(f"runAsUser=0 (container {n})")
        seccomp = (sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            v.append(f"seccompProfile (container {n} must set RuntimeDefault or Localhost)")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            v.append(f"unrestricted capabilities (container {n} must drop ALL)")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            v.append(f"unrestricted capabilities (container {n} adds {caps.get('add')})")
    return v


def pod_security_violations(level: str, spec: dict) -> list[str]:
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or []) \
        + list(spec.get("ephemeralContainers") or [])
    if level == "privileged":
        return []
    v = _baseline(spec, containers)
    return v + _restricted(spec, containers) if level == "restricted" else v


def check(ctx) -> list[Check]:
    out = []
    for pod in ctx.pods:
        lr = _limitrange(pod, ctx)
        out.append(Check("admission.limitrange", pod.owner, "fail" if lr else "pass",
                         "; ".join(lr) or "requests and limits after LimitRange defaulting are admitted"))
        ext = _extended(pod, ctx)
        out.append(Check("admission.extended-resources", pod.owner, "fail" if ext else "pass",
                         "; ".join(ext) or "extended resources: limit set and equal to the request"))
        labels = ctx.namespaces.get(pod.namespace, {})
        level = labels.get("pod-security.kubernetes.io/enforce", "privileged")
        v = pod_security_violations(level, pod.spec)
        out.append(Check("admission.pod-security", pod.owner, "fail" if v else "pass",
                         (f"violates PodSecurity \"{level}\": " + "; ".join(v)) if v
                         else f"meets the namespace's enforce level {level!r}"))
    out.extend(_quota(ctx))
    for r in ctx.releases:
        out.append(Check("admission.chart-pods", r.id, "unchecked",
                         "the chart's pods are not rendered offline (Helm releases are not expanded); LimitRange, "
                         "quota and Pod Security of its pods are not checked"))
    return out
