"""Pod Security `restricted` for model servers (opt-in, `llmfleet:security.restrictedPods`; docs/security.md).

Why opt-in: the pinned vLLM image (vllm/vllm-openai) runs as root by default; its Dockerfile defines a `vllm` user
(UID 2000, GID 0) and an opt-in non-root target in recent upstream versions, which was not re-read for v0.33.0.
Running it as another UID needs a writable HOME and USER/LOGNAME (torch resolves the user name at import), all of
which are set here. KServe's runtimes are restricted already (their ClusterServingRuntime and storage initializer
securityContexts, chart-values kserve-*-v0.20.0); Ray's images run as `ray` (UID 1000, GID 100).
"""
import copy

VLLM_UID = 2000
RAY_UID, RAY_GID = 1000, 100
VLLM_HOME = "/home/vllm"


def restricted_container() -> dict:
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"}}


def restricted_pod(uid: int, gid: int) -> dict:
    # fsGroup makes block volumes (the per-replica cache) and emptyDirs writable for the non-root user.
    return {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True, "runAsUser": uid,
            "runAsGroup": gid, "fsGroup": gid, "fsGroupChangePolicy": "OnRootMismatch"}


def restrict_vllm(spec: dict) -> dict:
    """A vLLM pod spec as non-root with a read-only root filesystem; writable: /tmp, HOME (torch, Triton and
    FlashInfer caches), /dev/shm and the model cache (HF_HOME) only."""
    spec = copy.deepcopy(spec)
    spec["securityContext"] = {**(spec.get("securityContext") or {}), **restricted_pod(VLLM_UID, VLLM_UID)}
    spec["volumes"] = list(spec.get("volumes") or []) + [
        {"name": "tmp", "emptyDir": {"sizeLimit": "4Gi"}}, {"name": "home", "emptyDir": {"sizeLimit": "8Gi"}}]
    for c in spec["containers"]:
        c["securityContext"] = {**restricted_container(), "readOnlyRootFilesystem": True}
        c["volumeMounts"] = list(c.get("volumeMounts") or []) + [
            {"name": "tmp", "mountPath": "/tmp"}, {"name": "home", "mountPath": VLLM_HOME}]
        c["env"] = list(c.get("env") or []) + [
            {"name": "HOME", "value": VLLM_HOME}, {"name": "USER", "value": "vllm"}, {"name": "LOGNAME", "value": "vllm"}]
    return spec


def restrict_ray(spec: dict) -> dict:
    """A Ray head or worker pod spec as the image's own non-root user. The root filesystem stays writable: Ray
    writes its session directory and runtime environments in places not enumerated here."""
    spec = copy.deepcopy(spec)
    spec["securityContext"] = {**(spec.get("securityContext") or {}), **restricted_pod(RAY_UID, RAY_GID)}
    for c in spec["containers"]:
        c["securityContext"] = restricted_container()
    return spec
