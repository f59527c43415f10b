"""GPU cost per pool and placement per model, from the composed stack (descriptors carry price and bounds)."""
from typing import Any

from catalog.prices import HOURS_PER_MONTH, price_key


def report(stack) -> dict[str, Any]:
    spec = stack.spec
    pools = []
    for d in stack.cluster.pools:
        price = spec.prices.get(price_key(d.cloud, d.instance_type)) if d.instance_type else None
        hour = d.price_hour
        pools.append({
            "pool": d.name, "nodeGroup": d.node_group, "cloud": d.cloud, "instanceType": d.instance_type,
            "gpu": d.gpu.key, "gpusPerNode": d.gpus_per_node, "capacity": d.capacity,
            "minNodes": d.min_nodes, "maxNodes": d.max_nodes, "pricePerHour": round(hour, 4),
            "priceSource": price.source if price else ("llmfleet:gpuPools pricePerHour" if hour else "none"),
            "priceAsOf": price.as_of if price else "",
            "monthlyAtMin": round(hour * d.min_nodes * HOURS_PER_MONTH, 2),
            "monthlyAtMax": round(hour * d.max_nodes * HOURS_PER_MONTH, 2),
        })
    models = []
    for m in spec.models:
        p = m.placement
        models.append({
            "model": m.name, "arch": m.arch.key, "dtype": m.dtype, "kvCacheDtype": m.kv_cache_dtype,
            "pool": p.pool, "gpu": p.gpu.key, "tensorParallel": p.tensor_parallel,
            "maxContext": m.max_context, "concurrency": m.concurrency, "kvTokens": p.kv_tokens,
            "sequencesAtContext": p.sequences_at_context, "weightsGiB": round(p.weight_gib, 1),
            "neededGiB": round(p.needed_gib, 1), "usableGiB": round(p.usable_gib, 1),
            "replicaPerHour": round(p.price_hour, 2),
            "replicasMin": m.replicas.min, "replicasMax": m.replicas.max,
            # What the model keeps running even when idle (replicas.min), and what it may grow to. Replicas
            # bin-pack: a replica pays its GPUs' share of a node.
            "monthlyAtMinReplicas": round(p.price_hour * m.replicas.min * HOURS_PER_MONTH, 2),
            "monthlyAtMaxReplicas": round(p.price_hour * m.replicas.max * HOURS_PER_MONTH, 2),
        })
    return {
        "stack": spec.stack, "cloud": spec.cloud, "hoursPerMonth": HOURS_PER_MONTH, "pools": pools, "models": models,
        "total": {"monthlyAtMin": round(sum(p["monthlyAtMin"] for p in pools), 2),
                  "monthlyAtMax": round(sum(p["monthlyAtMax"] for p in pools), 2),
                  # Pools without a minimum (Karpenter, scale-from-zero groups) still pay for the models' minimum
                  # replicas: the floor is the larger of the two.
                  "modelsMonthlyAtMinReplicas": round(sum(m["monthlyAtMinReplicas"] for m in models), 2)},
    }


def markdown(r: dict[str, Any]) -> str:
    lines = [f"# GPU cost: stack `{r['stack']}` ({r['cloud']})", "",
             f"Monthly = hourly x {r['hoursPerMonth']} h. Prices are list prices with the date shown; "
             "override them with `llmfleet:prices`.", "",
             "| pool | node group | instance | GPUs | capacity | min-max nodes | $/h per node | $/month at min | "
             "$/month at max | price as of |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for p in r["pools"]:
        lines.append(f"| {p['pool']} | {p['nodeGroup']} | {p['instanceType'] or '-'} | {p['gpusPerNode']}x {p['gpu']} "
                     f"| {p['capacity']} | {p['minNodes']}-{p['maxNodes']} | {p['pricePerHour']:.3f} | "
                     f"{p['monthlyAtMin']:,.0f} | {p['monthlyAtMax']:,.0f} | {p['priceAsOf'] or '-'} |")
    lines += ["", f"**Total GPU $/month:** {r['total']['monthlyAtMin']:,.0f} at min, "
                  f"{r['total']['monthlyAtMax']:,.0f} at max (every group at its max). The models' minimum replicas "
                  f"alone cost {r['total']['modelsMonthlyAtMinReplicas']:,.0f} (their GPUs' share of nodes).", "",
              "## Models", "",
              "| model | arch | dtype / KV | pool | TP | context x concurrency | KV cache tokens | sequences at context "
              "| weights GiB | needed / usable GiB | $/h per replica | replicas | $/month at min-max replicas |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in r["models"]:
        lines.append(f"| {m['model']} | {m['arch']} | {m['dtype']} / {m['kvCacheDtype']} | {m['pool']} | "
                     f"{m['tensorParallel']} | {m['maxContext']} x {m['concurrency']} | {m['kvTokens']:,} | "
                     f"{m['sequencesAtContext']} | {m['weightsGiB']} | {m['neededGiB']} / {m['usableGiB']} | "
                     f"{m['replicaPerHour']:.2f} | {m['replicasMin']}-{m['replicasMax']} | "
                     f"{m['monthlyAtMinReplicas']:,.0f}-{m['monthlyAtMaxReplicas']:,.0f} |")
    return "\n".join(lines) + "\n"
