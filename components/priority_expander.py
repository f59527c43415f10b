"""The cluster-autoscaler priority expander's ConfigMap document, for every cloud whose autoscaler reads it (EKS
with the cluster-autoscaler chart, AKS's managed autoscaler).

ConfigMap `cluster-autoscaler-priority-expander` in `kube-system`, key `priorities`: a YAML map from priority
(higher = preferred) to regexes over node group names. The numbers come from `descriptors.capacity_priorities`;
each cloud supplies the regex that matches its node group names as the autoscaler sees them. Without the
ConfigMap, `--expander=priority` silently falls back to random.
"""
from typing import Iterable

CONFIGMAP_NAME = "cluster-autoscaler-priority-expander"
NAMESPACE = "kube-system"


def document(regexes: Iterable[tuple[int, str]]) -> str:
    """(priority, regex) pairs -> the `priorities` document, highest priority first, regexes sorted within one.
    Regexes are single-quoted YAML scalars, so `^`, `$` and brackets stay literal."""
    by_priority: dict[int, list[str]] = {}
    for priority, regex in regexes:
        by_priority.setdefault(priority, []).append(regex)
    lines = []
    for priority in sorted(by_priority, reverse=True):
        lines.append(f"{priority}:")
        lines.extend(f"  - '{regex}'" for regex in sorted(by_priority[priority]))
    return "\n".join(lines) + "\n"
