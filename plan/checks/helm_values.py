"""Helm values (issue 8 rule 7): every key a release sets exists in that chart version's default values
(../shared/chart-values/<chart>-<version>.yaml). Free-form maps and subcharts whose values file is not there are
declared once below; a chart without a values file is reported unchecked."""
import functools
import hashlib
import os
import pickle
from pathlib import Path

import yaml

from plan.checks import Check
from plan.validate import ROOT, _atomic_write, cache_dir

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Maps whose keys are the user's own (labels, env, args, config documents): any key below them is accepted.
FREE_FORM = {
    "cluster-autoscaler": ("extraArgs", "nodeSelector", "podLabels", "podAnnotations", "autoDiscovery.tags"),
    "karpenter": ("nodeSelector", "podLabels", "podAnnotations", "settings"),
    "kube-prometheus-stack": ("prometheus.prometheusSpec.storageSpec", "prometheus.prometheusSpec.resources",
                              "prometheus.prometheusSpec.nodeSelector", "prometheus.prometheusSpec.retentionSize",
                              "prometheus.prometheusSpec.additionalScrapeConfigs",
                              "prometheus.prometheusSpec.podMonitorSelector",
                              "prometheus.prometheusSpec.serviceMonitorSelector",
                              "prometheus.prometheusSpec.ruleSelector",
                              "prometheus.prometheusSpec.podMonitorNamespaceSelector",
                              "prometheus.prometheusSpec.serviceMonitorNamespaceSelector",
                              "prometheus.prometheusSpec.ruleNamespaceSelector", "prometheus.prometheusSpec.affinity",
                              "prometheusOperator.nodeSelector", "prometheusOperator.resources",
                              "alertmanager.alertmanagerSpec.nodeSelector"),
    "gpu-operator": ("daemonsets.labels", "daemonsets.annotations", "node-feature-discovery", "devicePlugin.env",
                     "toolkit.env", "driver.env", "dcgmExporter.env"),
    "prometheus-adapter": ("rules", "resources", "nodeSelector"),
    "keda": ("resources", "nodeSelector"),
    # EnvoyGateway's rateLimit block (API type RateLimit): from AI Gateway's token_ratelimit addon
    # (examples/token_ratelimit/envoy-gateway-values-addon.yaml at v1.1.0), which shared/ does not hold.
    "gateway-helm": ("config.envoyGateway.rateLimit",),
    # The pods the endpoint picker serves, by label: "REQUIRED" and only commented in the chart's values
    # (llm-d-router-gateway v0.10.0 values.yaml; read by routerlib templates/_deployment.yaml, _inferencepool.yaml).
    "llm-d-router-gateway": ("router.modelServers.matchLabels",),
}
# Library charts a chart depends on under an alias: their default values sit below that key (llm-d-router-gateway's
# Chart.yaml: dependency `router` = routerlib, "to make use of the common values.yaml").
LIBRARIES = {"llm-d-router-gateway": {"router": "llm-d-router-routerlib-{version}.yaml"}}
# Charts published from a values template (no values.yaml in git): the file and the placeholders the release
# workflow substitutes (envoyproxy/gateway .github/workflows/release.yaml, tools/make/helm.mk at v1.9.0).
TEMPLATED = {"gateway-helm": lambda version: {"GatewayImage": f"docker.io/envoyproxy/gateway:{version}",
                                              "GatewayImagePullPolicy": "IfNotPresent"}}
# Values files a chart is documented to take on top of its defaults (AI Gateway's overlays for Envoy Gateway,
# shared/chart-values/SOURCES.md): their keys count as known.
OVERLAYS = {"gateway-helm": ("ai-gateway-v1.1.0-envoy-gateway-values.yaml",
                             "ai-gateway-v1.1.0-envoy-gateway-values-addon-inference-pool.yaml")}
# Subcharts whose own default values are not in shared/chart-values: keys below them are listed as unchecked.
SUBCHARTS = {"kube-prometheus-stack": ("grafana", "kube-state-metrics", "prometheus-node-exporter",
                                       "prometheus-windows-exporter", "crds"),
             "gpu-operator": ("node-feature-discovery",)}


def values_dir() -> Path:
    return Path(os.environ.get("LLMFLEET_CHART_VALUES", ROOT.parent / "shared" / "chart-values"))


def _load(path: Path) -> dict:
    """A values file, parsed once per content hash (kube-prometheus-stack's is 200 KB of YAML)."""
    data = path.read_bytes()
    cached = cache_dir() / f"values-{hashlib.sha256(data).hexdigest()[:24]}.pickle"
    try:
        return pickle.loads(cached.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        parsed = yaml.load(data, Loader=_LOADER) or {}
        _atomic_write(cached, pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL))
        return parsed


@functools.lru_cache(maxsize=None)
def defaults(chart: str, version: str):
    for name in (f"{chart}-{version}.yaml", f"{chart}-v{version.lstrip('v')}.yaml", f"{chart}-{version.lstrip('v')}.yaml"):
        p = values_dir() / name
        if p.exists():
            return _with_overlays(chart, _load(p), version), name
    name = f"{chart}-{version}.values.tmpl.yaml"
    if chart in TEMPLATED and (values_dir() / name).exists():
        text = (values_dir() / name).read_text()
        for var, value in TEMPLATED[chart](version).items():
            text = text.replace("${" + var + "}", value)
        return _with_overlays(chart, yaml.load(text, Loader=_LOADER) or {}), name
    return None, None


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def _with_overlays(chart: str, default: dict, version: str = "") -> dict:
    for key, pattern in LIBRARIES.get(chart, {}).items():
        lib = values_dir() / pattern.format(version=version)
        if lib.exists():
            own = default.get(key)
            # The parent's own keys under the alias win (an empty `modelServers:` there keeps the library's map).
            default = {**default, key: _merge(_load(lib), {k: v for k, v in (own or {}).items() if v is not None})}
    for name in OVERLAYS.get(chart, ()):
        if (values_dir() / name).exists():
            default = _merge(default, _load(values_dir() / name))
    return default


@functools.lru_cache(maxsize=None)
def commented_keys(fname: str) -> frozenset:
    """Keys a values file documents only in comments (`# config:`): charts read many optional keys that way."""
    out = set()
    for line in (values_dir() / fname).read_text().splitlines():
        s = line.strip()
        if s.startswith("#"):
            body = s.lstrip("#").strip()
            key, sep, _ = body.partition(":")
            if sep and key and all(ch.isalnum() or ch in "_-." for ch in key):
                out.add(key)
    return frozenset(out)


def unknown_keys(values: dict, default: dict, chart: str, prefix: str = "") -> tuple[list, list]:
    """(keys the chart does not read, keys under subcharts not checked)."""
    bad, skipped = [], []
    free = FREE_FORM.get(chart, ())
    subs = SUBCHARTS.get(chart, ())
    for k, v in values.items():
        path = f"{prefix}{k}"
        if path in free:
            continue
        if path in subs and not isinstance((default or {}).get(k), dict):
            skipped.append(path)
            continue
        if not isinstance(default, dict) or k not in default:
            if path.split(".")[0] in subs:
                skipped.append(path)
            else:
                bad.append(path)
            continue
        d = default[k]
        if isinstance(v, dict) and isinstance(d, dict) and d:
            b, s = unknown_keys(v, d, chart, path + ".")
            bad += b
            skipped += s
    return bad, skipped


def check(ctx) -> list[Check]:
    out = []
    for r in ctx.releases:
        default, fname = defaults(r.chart, r.version)
        if default is None:
            out.append(Check("helm.values", r.id, "unchecked",
                             f"no default values for {r.chart} {r.version} in {values_dir()}"))
            continue
        bad, skipped = unknown_keys(r.values, default, r.chart)
        documented = [k for k in bad if k.rsplit(".", 1)[-1] in commented_keys(fname)]
        bad = [k for k in bad if k not in documented]
        skipped += [f"{k} (declared only in a comment of {fname})" for k in documented]
        out.append(Check("helm.values", r.id, "fail" if bad else "pass",
                         f"keys the chart does not read (not in {fname}): {', '.join(bad)}" if bad
                         else f"every key is in {fname}"))
        if skipped:
            out.append(Check("helm.values", r.id, "unchecked",
                             f"keys not checked (subcharts without a values file here, or only documented in comments): {', '.join(skipped)}"))
    return out
