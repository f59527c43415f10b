"""GPU cost per pool and placement per model, from the composed stack (descriptors carry price and bounds)."""
from typing import Any

from catalog.prices import HOURS_PER_MONTH, price_key
from components.serving.common import engine_flags
from plan import cost_gateway, cost_rag
from plan.packing import pack


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
    floors = pack(spec.models)
    for m in spec.models:
        p = m.placement
        flags = engine_flags(m)
        floor = floors[p.pool]
        models.append({
            "model": m.name, "arch": m.arch.key, "dtype": m.dtype, "kvCacheDtype": m.kv_cache_dtype,
            "pool": p.pool, "fallbackPools": [f.pool for f in p.fallbacks], "gpu": p.gpu.key,
            "tensorParallel": p.tensor_parallel,
            "maxContext": m.max_context, "concurrency": m.concurrency, "kvTokens": p.kv_tokens,
            # The flags that make the server allocate exactly the planned cache and admit exactly `concurrency`.
            "enforcedBy": {f: flags[flags.index(f) + 1] for f in ("--max-num-seqs", "--kv-cache-memory-bytes")},
            "overheadGiBPerGpu": round(p.overhead_gib, 2),
            "sequencesAtContext": p.sequences_at_context, "weightsGiB": round(p.weight_gib, 1),
            "neededGiB": round(p.needed_gib, 1), "usableGiB": round(p.usable_gib, 1),
            "replicaPerHour": round(p.price_hour, 2),
            "replicasMin": m.replicas.min, "replicasMax": m.replicas.max,
            # What the model keeps running even when idle (replicas.min), and what it may grow to. Replicas
            # bin-pack: a replica pays its GPUs' share of a node.
            "monthlyAtMinReplicas": round(p.price_hour * m.replicas.min * HOURS_PER_MONTH, 2),
            "monthlyAtMaxReplicas": round(p.price_hour * m.replicas.max * HOURS_PER_MONTH, 2),
            # What the autoscaler actually buys for the minimum replicas: whole nodes, split by GPUs used.
            "monthlyFloorWholeNodes": round(floor.model_hour(m.name) * HOURS_PER_MONTH, 2),
            **_schedule_saving(m, p.price_hour),
        })
    packing = [{"pool": f.pool, "gpusPerNode": f.gpus_per_node, "nodes": len(f.nodes), "idleGpus": f.idle_gpus,
                "perNode": [{"used": dict(n.used), "idle": n.free} for n in f.nodes],
                "monthly": round(len(f.nodes) * f.node_price_hour * HOURS_PER_MONTH, 2)}
               for f in floors.values()]
    return {
        "stack": spec.stack, "cloud": spec.cloud, "hoursPerMonth": HOURS_PER_MONTH, "pools": pools, "models": models,
        "minimumReplicaNodes": packing,
        "total": {"monthlyAtMin": round(sum(p["monthlyAtMin"] for p in pools), 2),
                  "monthlyAtMax": round(sum(p["monthlyAtMax"] for p in pools), 2),
                  # Pools without a minimum (Karpenter, scale-from-zero groups) still pay for the models' minimum
                  # replicas: the floor is the larger of the two.
                  "modelsMonthlyAtMinReplicas": round(sum(m["monthlyAtMinReplicas"] for m in models), 2),
                  "modelsMonthlyFloorWholeNodes": round(sum(p["monthly"] for p in packing), 2)},
        **({"rag": cost_rag.report(stack)} if spec.rag is not None else {}),
        **({"gateway": cost_gateway.report(stack)} if spec.gateway is not None else {}),
    }


def _schedule_saving(model, replica_hour: float) -> dict:
    """A schedule (autoscaling.keda.schedule) runs the minimum replicas only in its hours: the rest of the week's
    share of the minimum replicas' cost is saved (the whole-node floor falls the same way)."""
    sched = model.autoscaling.schedule
    if sched is None:
        return {}
    off_share = 1 - sched.hours_per_week / (7 * 24)
    minimum = max(1, model.replicas.min)
    return {"scheduledHoursPerWeek": sched.hours_per_week,
            "monthlySavedBySchedule": round(replica_hour * minimum * HOURS_PER_MONTH * off_share, 2)}


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
                  f"alone cost {r['total']['modelsMonthlyAtMinReplicas']:,.0f} (their GPUs' share of nodes), "
                  f"{r['total']['modelsMonthlyFloorWholeNodes']:,.0f} in the whole nodes they need.", "",
              "## Models", "",
              "KV cache tokens are what the server allocates: the flags in \"enforced by\" fix the per-GPU KV cache "
              "and the running sequences (docs/sizing.md).", "",
              "| model | arch | dtype / KV | pool | TP | context x concurrency | KV cache tokens | enforced by "
              "| sequences at context | weights GiB | needed / usable GiB | $/h per replica | replicas "
              "| $/month at min-max replicas | $/month floor (whole nodes) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for m in r["models"]:
        pool = m["pool"] + "".join(f", then {f}" for f in m["fallbackPools"])
        enforced = " ".join(f"`{k} {v}`" for k, v in m["enforcedBy"].items())
        lines.append(f"| {m['model']} | {m['arch']} | {m['dtype']} / {m['kvCacheDtype']} | {pool} | "
                     f"{m['tensorParallel']} | {m['maxContext']} x {m['concurrency']} | {m['kvTokens']:,} | "
                     f"{enforced} | "
                     f"{m['sequencesAtContext']} | {m['weightsGiB']} | {m['neededGiB']} / {m['usableGiB']} | "
                     f"{m['replicaPerHour']:.2f} | {m['replicasMin']}-{m['replicasMax']} | "
                     f"{m['monthlyAtMinReplicas']:,.0f}-{m['monthlyAtMaxReplicas']:,.0f} | "
                     f"{m['monthlyFloorWholeNodes']:,.0f} |")
    lines += ["", "## Minimum replicas on whole nodes", "",
              "Every model's minimum replicas packed onto its pool's nodes (a replica's GPUs sit on one node; the "
              "autoscaler buys whole nodes).", "",
              "| pool | GPUs per node | nodes | per node (model: GPUs) | idle GPUs | $/month |",
              "|---|---|---|---|---|---|"]
    for p in r["minimumReplicaNodes"]:
        per_node = "; ".join(", ".join(f"{k}: {v}" for k, v in n["used"].items()) + f" ({n['idle']} idle)"
                             for n in p["perNode"]) or "-"
        lines.append(f"| {p['pool']} | {p['gpusPerNode']} | {p['nodes']} | {per_node} | {p['idleGpus']} | "
                     f"{p['monthly']:,.0f} |")
    scheduled = [m for m in r["models"] if "scheduledHoursPerWeek" in m]
    if scheduled:
        lines += ["", "## Schedules", "", "Models that run only in their hours (KEDA cron trigger; zero replicas, and "
                  "so no nodes for them, outside).", "", "| model | hours per week | $/month saved on its minimum |",
                  "|---|---|---|"]
        lines += [f"| {m['model']} | {m['scheduledHoursPerWeek']:g} | {m['monthlySavedBySchedule']:,.0f} |"
                  for m in scheduled]
    lines += cost_rag.markdown(r.get("rag"))
    lines += cost_gateway.markdown(r.get("gateway"))
    return "\n".join(lines) + "\n"
