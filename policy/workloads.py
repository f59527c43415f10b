"""GPU pod templates in the Kubernetes resources this program renders, whatever the engine: Deployments and
StatefulSets (vLLM), InferenceService predictors (KServe), RayService worker groups (Ray Serve)."""
import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import yaml

GPU = "nvidia.com/gpu"
WORKLOAD_KINDS = {
    "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet",
    "kubernetes:serving.kserve.io/v1beta1:InferenceService", "kubernetes:ray.io/v1:RayService",
}
_TP_FLAG = re.compile(r"^--tensor-parallel-size(?:=(\d+))?$")


@dataclass
class GpuPods:
    kind: str
    name: str
    namespace: str
    labels: dict            # labels the pods carry (what a PDB selects)
    pod: dict               # pod spec (for KServe: the predictor, a pod spec with a `model` container)
    containers: list        # containers asking for GPUs
    tensor_parallel: Optional[int]   # what the engine is told to use


def _gpu_containers(containers: list) -> list:
    return [c for c in containers or [] if GPU in ((c.get("resources") or {}).get("limits") or {})
            or GPU in ((c.get("resources") or {}).get("requests") or {})]


def _tp_from_args(args: list) -> Optional[int]:
    args = [str(a) for a in args or []]
    for i, a in enumerate(args):
        m = _TP_FLAG.match(a)
        if m:
            value = m.group(1) or (args[i + 1] if i + 1 < len(args) else "")
            return int(value) if value.isdigit() else None
    return None


def gpu_pods(resource_type: str, props: dict) -> Iterator[GpuPods]:
    if resource_type not in WORKLOAD_KINDS:
        return
    meta = props.get("metadata") or {}
    name, ns = meta.get("name", ""), meta.get("namespace", "default")
    spec = props.get("spec") or {}
    kind = resource_type.rsplit(":", 1)[1]
    if kind in ("Deployment", "StatefulSet"):
        template = spec.get("template") or {}
        pod = template.get("spec") or {}
        gpus = _gpu_containers(pod.get("containers"))
        if gpus:
            yield GpuPods(kind, name, ns, (template.get("metadata") or {}).get("labels") or {}, pod, gpus,
                          _tp_from_args(gpus[0].get("args")))
    elif kind == "InferenceService":
        pred = spec.get("predictor") or {}
        containers = [pred["model"]] if pred.get("model") else list(pred.get("containers") or [])
        gpus = _gpu_containers(containers)
        if gpus:
            # KServe labels the predictor pods with the InferenceService's name and copies its labels.
            labels = {**(meta.get("labels") or {}), "serving.kserve.io/inferenceservice": name}
            yield GpuPods(kind, name, ns, labels, pred, gpus, _tp_from_args(gpus[0].get("args")))
    elif kind == "RayService":
        tp = None
        try:
            for app in (yaml.safe_load(spec.get("serveConfigV2") or "") or {}).get("applications", []):
                for llm in (app.get("args") or {}).get("llm_configs", []):
                    tp = (llm.get("engine_kwargs") or {}).get("tensor_parallel_size", tp)
        except yaml.YAMLError:
            tp = None
        for group in (spec.get("rayClusterConfig") or {}).get("workerGroupSpecs", []):
            template = group.get("template") or {}
            pod = template.get("spec") or {}
            gpus = _gpu_containers(pod.get("containers"))
            if gpus:
                yield GpuPods(kind, name, ns, (template.get("metadata") or {}).get("labels") or {}, pod, gpus,
                              tp if isinstance(tp, int) else None)


def gpu_count(container: dict) -> tuple[Optional[int], Optional[int]]:
    res = container.get("resources") or {}
    def num(v):
        try:
            return int(str(v))
        except (TypeError, ValueError):
            return None
    return num((res.get("requests") or {}).get(GPU)), num((res.get("limits") or {}).get(GPU))
