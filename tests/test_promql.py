"""Every PromQL expression the program renders parses with a real PromQL parser (promql-parser, the Rust
`promql-parser` crate's Python binding): alerting and recording rules, dashboard targets, prometheus-adapter rules
and KEDA/KServe Prometheus triggers, in every stack file. Engine metric names must be in the checked list."""
import json
import re
from pathlib import Path

import promql_parser
import pytest

from catalog.serving_metrics import VLLM_METRICS, series
from plan.federation import cloud_stacks, federation_stacks
from tests.harness import run_stack

ROOT = Path(__file__).resolve().parent.parent
# Cloud stacks: a federation stack renders no rules, dashboards or scalers (test below).
STACKS = cloud_stacks(ROOT)
ENGINE_PREFIX = re.compile(r"^(vllm:|ray_vllm_)")
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "")
KNOWN_ENGINE_SERIES = {series(e, n, s) for e in ("vllm", "kserve", "rayserve") for n in VLLM_METRICS for s in SUFFIXES}


def adapter_query(template: str, series_name: str) -> str:
    """prometheus-adapter fills its Go template placeholders before it sends a query; do the same."""
    return (template.replace("<<.Series>>", series_name)
            .replace("<<.LabelMatchers>>", 'namespace="llm-serving",pod=~"a|b"').replace("<<.GroupBy>>", "pod"))


# Grafana replaces its global variables before the query reaches Prometheus (a 6h dashboard range here).
GRAFANA_GLOBALS = {"$__range": "6h", "$__rate_interval": "1m", "$__interval": "1m"}


def grafana_query(expr: str) -> str:
    for var, value in GRAFANA_GLOBALS.items():
        expr = expr.replace(var, value)
    return expr


def expressions(plan) -> list[tuple[str, str]]:
    """(where, expr) for every PromQL expression in the stack's objects and Helm values."""
    out: list[tuple[str, str]] = []

    def visit(node, where: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "expr" and isinstance(v, str):
                    out.append((where, v))
                elif k == "query" and isinstance(v, str) and (node.get("backend") == "prometheus"
                                                              or "serverAddress" in node):
                    out.append((where, v))
                elif k == "seriesQuery" and isinstance(v, str):
                    out.append((where, v))
                elif k == "metricsQuery" and isinstance(v, str):
                    out.append((where, adapter_query(v, node.get("seriesQuery", "x").split("{")[0])))
                else:
                    visit(v, where)
        elif isinstance(node, list):
            for v in node:
                visit(v, where)

    for m in plan.manifests:
        where = f"{m['kind']}/{m['metadata'].get('name')}"
        if m["kind"] == "ConfigMap" and m["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            for text in m["data"].values():
                start = len(out)
                visit(json.loads(text), where)
                out[start:] = [(w, grafana_query(e)) for w, e in out[start:]]
        else:
            visit(m, where)
    for r in plan.resources:
        if r.type == "kubernetes:helm.sh/v3:Release":
            visit(r.inputs.get("values"), f"Release/{r.name}")
    return out


def selectors(node) -> list[str]:
    """Metric names of every vector selector in a parsed expression."""
    names = []
    if isinstance(node, promql_parser.VectorSelector):
        return [node.name] if node.name else []
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if isinstance(child, promql_parser.Expr):
            names += selectors(child)
    for arg in getattr(node, "args", None) or []:
        names += selectors(arg)
    return names


@pytest.fixture(scope="module", params=STACKS)
def stack_exprs(request):
    return request.param, expressions(run_stack(request.param))


def test_every_expression_parses_and_names_only_checked_engine_metrics(stack_exprs):
    stack, exprs = stack_exprs
    kinds = {where.split("/")[0] for where, _ in exprs}
    assert {"PrometheusRule", "ConfigMap"} <= kinds, (stack, kinds)   # rules and dashboards were found
    unknown = []
    for where, expr in exprs:
        try:
            ast = promql_parser.parse(expr)
        except Exception as e:          # the parser raises its own error type with the position
            raise AssertionError(f"{stack} {where}: does not parse: {e}\n{expr}")
        unknown += [(where, n) for n in selectors(ast) if ENGINE_PREFIX.match(n) and n not in KNOWN_ENGINE_SERIES]
    assert not unknown, f"{stack}: engine metrics outside catalog/serving_metrics.py: {unknown}"


def test_the_stacks_render_every_engine_and_every_source_kind():
    """The parse test above is not vacuous: across the stacks, each engine's dashboard and SLO rules, the adapter
    rule and both KEDA trigger forms are among what it parsed."""
    seen_where, seen_names = set(), set()
    for stack in STACKS:
        for where, expr in expressions(run_stack(stack)):
            seen_where.add(where.split("/")[0])
            seen_names.update(selectors(promql_parser.parse(expr)))
    assert {"PrometheusRule", "ConfigMap", "Release", "ScaledObject", "InferenceService"} <= seen_where
    assert {"vllm:e2e_request_latency_seconds_bucket", "ray_vllm_e2e_request_latency_seconds_bucket",
            "vllm:request_success_total", "ray_vllm_generation_tokens_total"} <= seen_names


@pytest.mark.parametrize("bad", ["sum(rate(x[5m])", "rate(x)", 'x{le=~"5|5\\.0"} >', "sum by (le) rate(x[5m])"])
def test_the_parser_rejects_broken_promql(bad):
    with pytest.raises(Exception):
        promql_parser.parse(bad)


@pytest.mark.parametrize("stack", federation_stacks(ROOT))
def test_federation_stacks_render_no_promql(stack, tmp_path):
    from plan import __main__ as plan_cli
    assert plan_cli.plan(stack, tmp_path / stack, quiet=True, stack_root=ROOT) == 0
    kinds = {p.name.split("-")[0] for p in (tmp_path / stack / "manifests").rglob("*.yaml")}
    assert kinds and not kinds & {"PrometheusRule", "ConfigMap", "ScaledObject", "InferenceService"}, kinds
