"""The whole-node floor: every model's minimum replicas packed onto its pool's nodes, as the autoscaler buys them.

A replica needs `tensor_parallel` GPUs on one node; the cluster-autoscaler and Karpenter add whole nodes. So the
floor of a pool is the number of nodes the minimum replicas of all models placed on it need, and the GPUs those
nodes carry beyond the replicas sit idle. Packing is first-fit decreasing by GPU count (the scheduler is not
guaranteed to do better; with one GPU size per node group it is optimal up to the usual FFD bound). Each node's
price is split between the models on it by GPUs used, so the models' floors add up to the whole nodes.
CPU and memory never bind first: each replica requests a per-GPU share of the node (components/serving/common.py).
"""
from dataclasses import dataclass, field


@dataclass
class Node:
    gpus: int
    used: dict[str, int] = field(default_factory=dict)   # model -> GPUs

    @property
    def free(self) -> int:
        return self.gpus - sum(self.used.values())


@dataclass(frozen=True)
class PoolFloor:
    pool: str
    gpus_per_node: int
    node_price_hour: float
    nodes: tuple[Node, ...]

    @property
    def idle_gpus(self) -> int:
        return sum(n.free for n in self.nodes)

    def model_hour(self, model: str) -> float:
        """This model's part of the whole nodes: each node's price split by GPUs used."""
        return sum(self.node_price_hour * n.used[model] / (n.gpus - n.free) for n in self.nodes if model in n.used)


def pack(models) -> dict[str, PoolFloor]:
    """Pools (by placement pool) -> their packed minimum replicas. `models` are placed ModelSpecs."""
    by_pool: dict[str, list] = {}
    for m in models:
        by_pool.setdefault(m.placement.pool, []).append(m)
    out = {}
    for pool, ms in by_pool.items():
        p = ms[0].placement
        replicas = sorted(((m.name, m.placement.tensor_parallel) for m in ms for _ in range(m.replicas.min)),
                          key=lambda r: -r[1])
        nodes: list[Node] = []
        for name, tp in replicas:
            node = next((n for n in nodes if n.free >= tp), None)
            if node is None:
                node = Node(p.gpus_per_node)
                nodes.append(node)
            node.used[name] = node.used.get(name, 0) + tp
        out[pool] = PoolFloor(pool, p.gpus_per_node, p.node_price_hour, tuple(nodes))
    return out
