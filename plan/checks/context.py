"""Everything a rule looks at, built once per plan: objects by kind, pod templates, node templates, releases."""
import functools
from dataclasses import dataclass, field
from typing import Optional

from plan.checks.pods import PodTemplate, pod_templates


def obj_id(o: dict) -> str:
    m = o.get("metadata") or {}
    return f"{o.get('kind')} {m.get('namespace', '_cluster')}/{m.get('name')}"


@dataclass
class Release:
    name: str
    chart: str          # chart name without repository (oci://.../cert-manager -> cert-manager)
    version: str
    namespace: str
    values: dict

    @property
    def id(self) -> str:
        return f"helm release {self.namespace}/{self.name} ({self.chart} {self.version})"


@dataclass
class Context:
    cloud: str                          # aws | gcp | azure | existing
    k8s_version: str
    objects: list                       # rendered Kubernetes objects
    resources: list = field(default_factory=list)     # plan.runtime.Recorded, every registration
    descriptors: list = field(default_factory=list)   # components.descriptors.PoolDescriptor
    models: list = field(default_factory=list)        # spec.models.ModelSpec
    pool_names: tuple = ()              # spec pools in stack order
    model_clients: tuple = ()           # llmfleet:security.modelClients (empty: each model's own namespace)
    # Objects the cluster already has from another stack (a federation hub's own cloud stack): references to them
    # resolve (`get`), but they are not checked again here.
    present: list = field(default_factory=list)

    @classmethod
    def from_run(cls, result, objs: list, k8s_version: str) -> "Context":
        stack = result.globals["STACK"]
        return cls(stack.spec.cloud, k8s_version, objs, list(result.resources), list(stack.cluster.pools),
                   list(stack.spec.models), tuple(p.name for p in stack.spec.pools),
                   stack.spec.security.model_clients)

    def kind(self, *kinds: str) -> list[dict]:
        return [o for o in self.objects if o.get("kind") in kinds]

    def get(self, kind: str, namespace: Optional[str], name: str) -> Optional[dict]:
        for o in [*self.objects, *self.present]:
            m = o.get("metadata") or {}
            if o.get("kind") == kind and m.get("name") == name and (namespace is None or m.get("namespace") == namespace):
                return o
        return None

    @functools.cached_property
    def pods(self) -> list[PodTemplate]:
        return pod_templates(self.objects)

    @functools.cached_property
    def releases(self) -> list[Release]:
        out = []
        for r in self.resources:
            if r.type.startswith("kubernetes:helm.sh/") and r.custom:
                i = r.inputs
                chart = str(i.get("chart", "")).rstrip("/").rsplit("/", 1)[-1]
                out.append(Release(i.get("name") or r.name, chart, str(i.get("version", "")),
                                   i.get("namespace") or "default", i.get("values") or {}))
        return out

    def release(self, chart: str) -> Optional[Release]:
        return next((r for r in self.releases if r.chart == chart), None)

    @functools.cached_property
    def mig_strategy(self) -> str:
        r = self.release("gpu-operator")
        return ((r.values.get("mig") or {}).get("strategy") if r else None) or "single"

    def descriptor(self, group: str):
        return next((d for d in self.descriptors if d.node_group == group), None)

    @functools.cached_property
    def nodes(self):
        from plan.checks.nodes import node_templates
        return node_templates(self)

    @functools.cached_property
    def namespaces(self) -> dict[str, dict]:
        return {o["metadata"]["name"]: (o["metadata"].get("labels") or {}) for o in self.kind("Namespace")}

    def model(self, name: Optional[str]):
        return next((m for m in self.models if m.name == name), None)
