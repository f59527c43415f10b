"""Grafana dashboard of GPU $ per namespace and per model, from OpenCost's metrics (`container_gpu_allocation`
per container, `node_gpu_hourly_cost` per node) joined to kube-state-metrics' `kube_pod_labels`."""
import json

from components.observability.dashboards import dashboard, panel

_GPU_COST = ("sum by ({by}) (avg by (namespace, pod, node) (container_gpu_allocation) "
             "* on (node) group_left () avg by (node) (node_gpu_hourly_cost){join})")
_MODEL_JOIN = (" * on (namespace, pod) group_left (label_llmfleet_io_model) "
               "max by (namespace, pod, label_llmfleet_io_model) (kube_pod_labels{label_llmfleet_io_model!=\"\"})")


def gpu_cost() -> dict:
    per_ns = _GPU_COST.format(by="namespace", join="")
    per_model = _GPU_COST.format(by="label_llmfleet_io_model", join=_MODEL_JOIN)
    return dashboard("llmfleet-gpu-cost", "llmfleet / GPU cost per namespace and model", [
        panel(1, "GPU $/h per namespace", [(per_ns, "{{namespace}}")], "currencyUSD", 0, 0),
        panel(2, "GPU $/h per model", [(per_model, "{{label_llmfleet_io_model}}")], "currencyUSD", 12, 0),
        panel(3, "GPU $ over the range per namespace", [(f"sum_over_time(({per_ns})[$__range:1h])", "{{namespace}}")],
              "currencyUSD", 0, 8, kind="stat"),
        panel(4, "GPU $/h of every node (allocated or not)", [("sum(node_gpu_hourly_cost)", "cluster")],
              "currencyUSD", 12, 8, kind="stat"),
    ], variables=[])


def gpu_cost_json() -> str:
    return json.dumps(gpu_cost(), indent=2, sort_keys=True)
