"""Grafana dashboard of the RAG parts: the embedding service (text-embeddings-inference) and the vector store
(Qdrant). TEI metric names: router/src/http/server.rs and core/src/queue.rs at v1.9.3 (shared/FACTS-wave2.md
section 5): gauge `te_queue_size`, histograms `te_request_duration`, `te_request_queue_duration`,
`te_request_inference_duration`, counters `te_request_count`, `te_request_success`. Qdrant: `rest_responses_total`,
`rest_responses_fail_total`, histogram `rest_responses_duration_seconds` (v1.8+) and `collections_vector_total`
per Qdrant's monitoring docs; some releases prefix them `qdrant_`, so each query takes either name."""
import json

from components.observability.dashboards import dashboard, panel


def _either(metric: str, selector: str) -> str:
    return f"({metric}{selector} or qdrant_{metric}{selector})"


def _rate_either(metric: str, selector: str) -> str:
    """A range applies to a selector, not to an `or` of two: take the rate of each name, then either."""
    return f"(rate({metric}{selector}[5m]) or rate(qdrant_{metric}{selector}[5m]))"


def rag_dashboard(namespace: str) -> dict:
    tei = f'{{namespace="{namespace}"}}'
    q = f'{{namespace="{namespace}"}}'
    p95 = ("histogram_quantile(0.95, sum by (le) (rate({m}_bucket{s}[5m])))")
    return dashboard("llmfleet-rag", "llmfleet / RAG: embeddings and vector store", [
        panel(1, "Embedding requests waiting (TEI queue)", [(f"sum(te_queue_size{tei})", "queued")], "short", 0, 0),
        panel(2, "Embedding latency", [
            (p95.format(m="te_request_duration", s=tei), "p95 total"),
            (p95.format(m="te_request_queue_duration", s=tei), "p95 queue"),
            (p95.format(m="te_request_inference_duration", s=tei), "p95 inference")], "s", 12, 0),
        panel(3, "Embedding requests/s and failures", [
            (f"sum(rate(te_request_count{tei}[5m]))", "requests"),
            (f"sum(rate(te_request_count{tei}[5m])) - sum(rate(te_request_success{tei}[5m]))", "failed")],
              "reqps", 0, 8),
        panel(4, "Vector store REST latency p95", [(
            "histogram_quantile(0.95, sum by (le) (" + _rate_either("rest_responses_duration_seconds_bucket", q) + "))",
            "p95")], "s", 12, 8),
        panel(5, "Vector store responses/s and failures", [
            ("sum(" + _rate_either("rest_responses_total", q) + ")", "responses"),
            ("sum(" + _rate_either("rest_responses_fail_total", q) + ")", "failed")], "reqps", 0, 16),
        panel(6, "Vectors stored", [("sum(" + _either("collections_vector_total", q) + ")", "vectors")],
              "short", 12, 16, kind="stat"),
    ], variables=[])


def rag_dashboard_json(namespace: str) -> str:
    return json.dumps(rag_dashboard(namespace), indent=2, sort_keys=True)
