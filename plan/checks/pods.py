"""Pod templates wherever the plan puts them: workloads, and custom resources as their controllers render them."""
import copy
from dataclasses import dataclass, field
from typing import Optional

# What the KServe controller adds to the predictor it renders (kserve/kserve v0.20.0): the ClusterServingRuntime's
# container resources, strategic-merged under the model's (charts/kserve-runtime-configs clusterservingruntimes;
# issue 9 item 5), and the storage initializer init container for storageUri (chart-values
# kserve-resources-v0.20.0.yaml `kserve.storage.resources`).
KSERVE_RUNTIMES = {"huggingface": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}}
KSERVE_STORAGE_INITIALIZER = {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
# Their securityContexts (chart-values kserve-runtime-configs-v0.20.0.yaml huggingfaceserver.securityContext,
# kserve-resources-v0.20.0.yaml kserve.storage.containerSecurityContext): the same for both.
KSERVE_CONTAINER_SECURITY = {"allowPrivilegeEscalation": False, "privileged": False, "runAsNonRoot": True,
                             "capabilities": {"drop": ["ALL"]}}
# KubeRay's CRD default of a worker group's maxReplicas (ray.io_rayclusters.yaml: int32 max, i.e. unbounded).
RAY_MAX_REPLICAS = 2147483647
# InferenceService predictor fields that are PodSpec fields (the rest is KServe's own).
_POD_FIELDS = ("tolerations", "affinity", "nodeSelector", "securityContext", "priorityClassName",
               "serviceAccountName", "volumes", "topologySpreadConstraints", "terminationGracePeriodSeconds",
               "imagePullSecrets", "runtimeClassName", "hostNetwork", "hostPID", "hostIPC", "initContainers",
               "schedulerName", "dnsPolicy", "automountServiceAccountToken", "enableServiceLinks")


@dataclass
class PodTemplate:
    owner: str                  # "Deployment llm-serving/llama-8b" or "RayService llm-serving/x worker gpu"
    kind: str                   # kind of the object that holds the template
    namespace: str
    name: str                   # the holding object's name
    labels: dict
    spec: dict                  # PodSpec
    replicas: int = 1           # at rest
    max_replicas: int = 1       # the most the autoscalers can make
    note: str = ""              # how the template was derived when a controller renders it
    obj: dict = field(default_factory=dict, repr=False)

    @property
    def model(self) -> Optional[str]:
        return self.labels.get("llmfleet.io/model")

    def containers(self, init: bool = True) -> list[dict]:
        out = list(self.spec.get("containers") or [])
        return out + list(self.spec.get("initContainers") or []) if init else out


def _meta(obj):
    m = obj.get("metadata") or {}
    return m.get("namespace", ""), m.get("name", "")


def _scalers(objs):
    """(namespace, kind, name) -> maxReplicas of the HPA / ScaledObject that scales it."""
    out = {}
    for o in objs:
        ns, _ = _meta(o)
        spec = o.get("spec") or {}
        if o["kind"] == "HorizontalPodAutoscaler":
            ref = spec.get("scaleTargetRef") or {}
            out[(ns, ref.get("kind"), ref.get("name"))] = int(spec.get("maxReplicas", 1))
        elif o["kind"] == "ScaledObject":
            ref = spec.get("scaleTargetRef") or {}
            out[(ns, ref.get("kind") or "Deployment", ref.get("name"))] = int(spec.get("maxReplicaCount", 100))
    return out


def _merge_resources(runtime: dict, model: dict) -> dict:
    return {k: {**(runtime.get(k) or {}), **(model.get(k) or {})} for k in ("requests", "limits")
            if (runtime.get(k) or model.get(k))}


def _kserve(o, ns, name) -> list[PodTemplate]:
    pred = (o.get("spec") or {}).get("predictor") or {}
    spec = {k: copy.deepcopy(pred[k]) for k in _POD_FIELDS if k in pred}
    containers = [copy.deepcopy(c) for c in pred.get("containers") or []]
    note = "as KServe renders the predictor Deployment"
    model = pred.get("model")
    if model:
        c = {k: copy.deepcopy(v) for k, v in model.items() if k not in ("modelFormat", "runtime", "storageUri",
                                                                          "protocolVersion", "storage")}
        c["name"] = "kserve-container"
        fmt = (model.get("modelFormat") or {}).get("name", "")
        runtime = KSERVE_RUNTIMES.get(fmt)
        if runtime is None:
            note += f"; runtime for model format {fmt!r} unknown, its defaults not applied"
        c["resources"] = _merge_resources(runtime or {}, model.get("resources") or {})
        if runtime is not None and "securityContext" not in c:
            c["securityContext"] = copy.deepcopy(KSERVE_CONTAINER_SECURITY)
        containers.insert(0, c)
        if model.get("storageUri"):
            spec.setdefault("initContainers", []).append(
                {"name": "storage-initializer", "resources": copy.deepcopy(KSERVE_STORAGE_INITIALIZER),
                 "securityContext": copy.deepcopy(KSERVE_CONTAINER_SECURITY)})
    spec["containers"] = containers
    labels = dict(pred.get("labels") or {}, **{"serving.kserve.io/inferenceservice": name, "component": "predictor"})
    mx = int(pred.get("maxReplicas") or pred.get("minReplicas") or 1)
    return [PodTemplate(f"InferenceService {ns}/{name} predictor", "InferenceService", ns, name, labels, spec,
                        int(pred.get("minReplicas", 1) or 1), mx, note, o)]


def _ray(o, ns, name) -> list[PodTemplate]:
    spec = o.get("spec") or {}
    cluster = spec.get("rayClusterConfig") or spec   # RayService wraps a RayCluster spec
    out = []
    head = (cluster.get("headGroupSpec") or {}).get("template")
    if head:
        out.append(PodTemplate(f"{o['kind']} {ns}/{name} head", o["kind"], ns, name,
                               (head.get("metadata") or {}).get("labels") or {}, head.get("spec") or {}, 1, 1,
                               "KubeRay head pod", o))
    for g in cluster.get("workerGroupSpecs") or []:
        t = g.get("template") or {}
        desired, most = _ray_workers(g, bool(cluster.get("enableInTreeAutoscaling")))
        out.append(PodTemplate(f"{o['kind']} {ns}/{name} worker {g.get('groupName', '?')}", o["kind"], ns, name,
                               (t.get("metadata") or {}).get("labels") or {}, t.get("spec") or {}, desired, most,
                               "KubeRay worker pods", o))
    return out


def _ray_workers(group: dict, autoscaling: bool) -> tuple[int, int]:
    """Worker pods of a group at rest and at most, as KubeRay 1.7 counts them (ray-operator utils
    GetWorkerGroupDesiredReplicas): `replicas` raised to `minReplicas`, else capped at `maxReplicas` (CRD defaults
    0 and 2147483647), times `numOfHosts`; a suspended group runs none. Only the in-tree Ray autoscaler moves a group
    above that, up to `maxReplicas`: without it the group stays at the desired count."""
    if group.get("suspend"):
        return 0, 0
    low, high = int(group.get("minReplicas") or 0), int(group.get("maxReplicas", RAY_MAX_REPLICAS))
    hosts, want = int(group.get("numOfHosts") or 1), group.get("replicas")
    desired = low if want is None or int(want) < low else min(int(want), high)
    return desired * hosts, max(desired, high if autoscaling else desired) * hosts


def pod_templates(objs: list[dict]) -> list[PodTemplate]:
    scalers = _scalers(objs)
    out = []
    for o in objs:
        kind = o.get("kind")
        ns, name = _meta(o)
        spec = o.get("spec") or {}
        if kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"):
            t = spec.get("template") or {}
            n = int(spec.get("replicas", 1)) if kind != "DaemonSet" else 1
            mx = max(n, scalers.get((ns, kind, name), n))
            out.append(PodTemplate(f"{kind} {ns}/{name}", kind, ns, name, (t.get("metadata") or {}).get("labels") or {},
                                   t.get("spec") or {}, n, mx, "one pod per matching node" if kind == "DaemonSet" else "",
                                   o))
        elif kind in ("Job", "CronJob"):
            job = (spec.get("jobTemplate") or {}).get("spec") or {} if kind == "CronJob" else spec
            t = job.get("template") or {}
            n = int(job.get("parallelism", 1))
            out.append(PodTemplate(f"{kind} {ns}/{name}", kind, ns, name, (t.get("metadata") or {}).get("labels") or {},
                                   t.get("spec") or {}, n, n, "", o))
        elif kind == "InferenceService":
            out.extend(_kserve(o, ns, name))
        elif kind in ("RayService", "RayCluster"):
            out.extend(_ray(o, ns, name))
    return out
