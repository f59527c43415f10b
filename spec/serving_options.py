"""How one model is served (the serving keys of an `llmfleet:models` entry): engine, replicas, autoscaling,
KServe mode, model cache and extra vLLM flags. Sizing (spec/models.py) does not depend on any of these.

Every rule that ties these keys together lives here, so a bad combination is a config error before anything is
built: an HPA and a KEDA ScaledObject on one target, a canary without KServe Serverless, an extra flag that would
override one the program sizes.
"""
import math
import re
from dataclasses import dataclass
from typing import Any, Optional

from catalog.models import ModelArch
from spec import limits as L
from spec.reader import Obj, describe

ENGINES = ("vllm", "kserve", "rayserve")
KSERVE_MODES = ("Standard", "Serverless")
CACHE_MODES = ("none", "shared", "per-replica")
AUTOSCALERS = ("hpa", "keda", "kedaRedis")

# Hugging Face organisations whose repositories are gated (the user must accept the licence and download with a
# token). Source: the model cards of meta-llama/* and mistralai/* on huggingface.co (read 2026-11); Qwen is not
# gated. A model entry overrides this with `gated: true|false`.
GATED_HF_ORGS = ("meta-llama", "mistralai")

# Flags the program sets from the spec and sizing; `extraArgs` may not repeat them (the second value would win in
# argparse and silently break the memory math). Aliases are vLLM 0.33.0's own (`-tp`, `-q` in arg_utils.py).
MANAGED_FLAGS = {
    "--tensor-parallel-size": "tensorParallel / sizing", "-tp": "tensorParallel / sizing",
    "--max-model-len": "maxContext", "--gpu-memory-utilization": "gpuMemoryUtilization",
    "--dtype": "dtype", "--kv-cache-dtype": "kvCacheDtype", "--quantization": "quantization",
    "-q": "quantization", "--port": "the server port (8000)", "--served-model-name": "name",
    "--model": "model (served as the positional model tag)", "--download-dir": "cache",
    "--revision": "revision", "--host": "the server address",
    "--max-num-seqs": "concurrency", "--kv-cache-memory-bytes": "sizing (the planned KV cache)",
}
# Flags vLLM 0.33.0's parser no longer has: the server would exit at start (FACTS.md; absent from arg_utils.py).
REMOVED_FLAGS = {"--swap-space": "removed from vLLM (the parser rejects it)",
                 "--disable-log-requests": "removed from vLLM; request logging is off unless --enable-log-requests"}

# Model load estimate: weights come from Hugging Face (or the cache volume) and are copied onto the GPUs, then
# vLLM captures CUDA graphs. 6 s per GiB of weights (~170 MB/s end to end, a cold download) plus 3 minutes of
# fixed start-up is deliberately pessimistic: a startup budget that is too short kills a healthy pod in a loop,
# one that is too long only delays noticing a broken one. Not measured on real hardware (unverified).
LOAD_FIXED_SECONDS = 180
LOAD_SECONDS_PER_GIB = 6
# The API server's cap on an HPA's behavior.*.stabilizationWindowSeconds (FACTS-cluster.md section 5; kubernetes
# pkg/apis/autoscaling/validation). A scale-down window is one, whether we render the HPA or KEDA/KServe does.
MAX_STABILIZATION_SECONDS = 3600


def load_seconds(weight_gib: float) -> int:
    """Estimated seconds from container start to a ready server, rounded up to a minute."""
    raw = LOAD_FIXED_SECONDS + LOAD_SECONDS_PER_GIB * weight_gib
    return int(math.ceil(raw / 60.0) * 60)


@dataclass(frozen=True)
class Replicas:
    min: int = 1
    max: int = 1


WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")     # cron day-of-week numbers 0..6


@dataclass(frozen=True)
class Schedule:
    """When a model runs: outside these hours KEDA scales it to zero and its nodes drain (a cron trigger)."""
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: str = "08:00"                  # HH:MM, inclusive
    end: str = "20:00"                    # HH:MM, exclusive, after start (no window across midnight)
    timezone: str = "UTC"                 # IANA zone name

    @property
    def hours_per_week(self) -> float:
        (h0, m0), (h1, m1) = (map(int, t.split(":")) for t in (self.start, self.end))
        return len(self.days) * ((h1 * 60 + m1) - (h0 * 60 + m0)) / 60

    def cron(self, at: str) -> str:
        hour, minute = (int(x) for x in at.split(":"))
        return f"{minute} {hour} * * {','.join(str(WEEKDAYS.index(d)) for d in self.days)}"


@dataclass(frozen=True)
class Autoscaling:
    kind: str = "none"                    # none | hpa | keda | kedaRedis
    target_queue_depth: int = 5           # waiting requests per replica (hpa, keda); list items per replica (kedaRedis)
    cooldown_seconds: Optional[int] = None  # None: the model's load estimate
    redis_address: str = ""               # kedaRedis: host:port of the queue
    list_name: str = "inference_queue"    # kedaRedis: the Redis list queue-fed workers pop
    vpa: bool = False                     # VPA in recommendation mode (updateMode Off) on the model's pods
    schedule: Optional[Schedule] = None   # keda/kedaRedis: run only in these hours (a cron trigger), else zero


@dataclass(frozen=True)
class KServeOptions:
    mode: str = "Standard"                # Standard (Deployment) | Serverless (Knative)
    canary_traffic_percent: Optional[int] = None


@dataclass(frozen=True)
class Cache:
    mode: str = "none"                    # none (emptyDir) | shared (RWX PVC) | per-replica (StatefulSet PVCs)
    size_gi: Optional[int] = None         # None: sized from the weights
    storage_class: Optional[str] = None   # None: the cloud's default (spec/serving.py)


def read_serving_options(o: Obj, arch: ModelArch, arch_known: bool = True) -> dict[str, Any]:
    """Reads the serving keys of one model entry; returns ModelSpec field values."""
    version = o.str("version", "1", pattern=r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?",
                    hint="a label value (letters, digits, '-', '_', '.', at most 63)")
    revision = o.str("revision", None, pattern=r"[\w./-]{1,100}", hint="a branch, tag or commit of the weights")
    engine = o.str("engine", "vllm", choices=ENGINES)
    gated = o.bool("gated", arch_known and arch.hf_id.split("/")[0] in GATED_HF_ORGS)
    replicas = _read_replicas(o.obj("replicas"))
    kserve = _read_kserve(o.obj("kserve"), engine, o.valid("engine"))
    autoscaling = _read_autoscaling(o, engine, kserve, replicas)
    cache = _read_cache(o.obj("cache"), engine, o.valid("engine"))
    extra = _read_extra_args(o)
    if o.has("extraArgs") and engine == "rayserve":
        o.error("extraArgs", "does not apply with engine rayserve (Ray Serve LLM takes engine keyword arguments, "
                             "not server flags)")
    if revision is not None and engine == "kserve":
        o.error("revision", "is not supported with engine kserve (its storage initializer downloads hf://<id>)")
    return dict(version=version, revision=revision, engine=engine, gated=gated, replicas=replicas,
                autoscaling=autoscaling, kserve=kserve, cache=cache, extra_args=extra)


def _read_replicas(o: Obj) -> Replicas:
    lo = o.int("min", 1, limit=L.REPLICAS_MIN)
    hi = o.int("max", lo if isinstance(lo, int) else 1, limit=L.REPLICAS_MAX)
    o.done()
    if o.valid("min", "max") and hi < lo:
        o.reject("max", f"must be >= min ({lo}), got {hi}")
    return Replicas(lo, hi)


def _read_kserve(o: Obj, engine: str, engine_ok: bool = True) -> KServeOptions:
    if not o.ok:
        return KServeOptions()
    if engine != "kserve" and engine_ok:
        o.problems.add(o.path, f"only applies with engine kserve, got engine {engine!r}")
    mode = o.str("mode", "Standard", choices=KSERVE_MODES)
    canary = o.int("canaryTrafficPercent", None, limit=L.CANARY_PERCENT)
    o.done()
    if canary is not None and mode != "Serverless" and o.valid("mode"):
        o.error("canaryTrafficPercent", "needs mode Serverless (Knative revisions split the traffic); "
                                        "Standard mode has no canary rollout")
    return KServeOptions(mode, canary)


def _read_autoscaling(model: Obj, engine: str, kserve: KServeOptions, replicas: Replicas) -> Autoscaling:
    o = model.obj("autoscaling")
    chosen = [k for k in AUTOSCALERS if o.has(k)]
    vpa = o.bool("vpa", False)
    settings = {k: o.obj(k) for k in AUTOSCALERS}
    o.done()
    out = Autoscaling(vpa=vpa)
    for kind in chosen:
        s = settings[kind]
        if s.given and not s.ok:
            continue                      # not an object: reported at its key
        depth = s.int("listLength" if kind == "kedaRedis" else "targetQueueDepth", 5, limit=L.QUEUE_DEPTH)
        cooldown = s.int("cooldownSeconds", None, limit=L.COOLDOWN_SECONDS) if kind != "hpa" else None
        if isinstance(cooldown, int) and s.valid("cooldownSeconds") and cooldown > MAX_STABILIZATION_SECONDS:
            s.reject("cooldownSeconds", f"must be <= {MAX_STABILIZATION_SECONDS} (the scale-down stabilization "
                                        f"window of the HPA that KEDA drives; Kubernetes rejects more), got {cooldown}")
        address, list_name = "", "inference_queue"
        if kind == "kedaRedis":
            address = s.str("address", pattern=r"[A-Za-z0-9.-]+:[0-9]{1,5}", hint="host:port of the Redis server")
            list_name = s.str("listName", "inference_queue")
        schedule = _read_schedule(s.obj("schedule"), kind, engine) if kind != "hpa" else None
        s.done()
        if kind == chosen[0]:
            out = Autoscaling(kind, depth, cooldown, address, list_name, vpa, schedule)
    path = model.key_path("autoscaling")
    if "hpa" in chosen and len(chosen) > 1:
        model.problems.add(path, f"hpa and {chosen[1]} would both scale the same workload (KEDA drives its own "
                                 f"HPA, and two HPAs fight): keep one")
    elif len(chosen) > 1:
        model.problems.add(path, "keda and kedaRedis would be two ScaledObjects on one workload: keep one")
    kind = out.kind
    if not model.valid("engine", "replicas", "kserve") or model.problems.under(path):
        return out                        # the rules below combine these keys: each rejected one is reported once
    if engine == "rayserve" and kind != "none":
        model.problems.add(f"{path}.{kind}", "does not apply with engine rayserve: Ray Serve scales replicas "
                                            "itself between replicas.min and replicas.max")
    if engine == "rayserve" and vpa:
        model.error("autoscaling", "vpa does not apply with engine rayserve (KubeRay owns the worker pods)")
    if engine == "kserve" and kind in ("hpa", "kedaRedis"):
        model.problems.add(f"{path}.{kind}", "does not apply with engine kserve: KServe scales on the queue "
                                            "through keda (Standard mode) or Knative (Serverless)")
    if engine == "kserve" and kserve.mode == "Serverless":
        if kind == "keda":
            model.problems.add(f"{path}.keda", "needs kserve.mode Standard; Serverless scales with Knative")
        if vpa:
            model.problems.add(f"{path}.vpa", "needs kserve.mode Standard (Knative names its Deployments "
                                              "per revision)")
    if kind == "none" and replicas.max != replicas.min and engine == "vllm":
        model.problems.add(model.key_path("replicas"), f"max ({replicas.max}) differs from min ({replicas.min}) but "
                                                       f"no autoscaler is set: add autoscaling.hpa, keda or "
                                                       f"kedaRedis, or make max equal min")
    if kind == "none" and replicas.max != replicas.min and engine == "kserve" and kserve.mode == "Standard":
        model.problems.add(model.key_path("replicas"), f"max ({replicas.max}) differs from min ({replicas.min}) but "
                                                       f"KServe Standard mode only scales on the queue with "
                                                       f"autoscaling.keda: add it, or make max equal min")
    if kind in ("hpa", "none") and replicas.min == 0 and engine != "kserve":
        model.problems.add(f"{model.key_path('replicas')}.min", "0 (scale to zero) needs autoscaling.keda or "
                                                                "kedaRedis")
    if kind in ("hpa", "keda", "kedaRedis") and replicas.max == replicas.min:
        model.problems.add(model.key_path("replicas"), f"max must be > min ({replicas.min}) for {kind} to scale")
    return out


def _read_schedule(o: Obj, kind: str, engine: str) -> Optional[Schedule]:
    if not o.ok:
        return None
    if engine != "vllm":
        o.problems.add(o.path, f"needs engine vllm: with engine {engine} the ScaledObject is KServe's or Ray scales "
                               f"itself, so no cron trigger can be added")
    hhmm, hint = r"([01][0-9]|2[0-3]):[0-5][0-9]", "HH:MM on a 24-hour clock"
    days = tuple(o.str_list("days", Schedule.days, choices=WEEKDAYS, min_items=1))
    start = o.str("from", Schedule.start, pattern=hhmm, hint=hint)
    end = o.str("to", Schedule.end, pattern=hhmm, hint=hint)
    zone = o.str("timezone", "UTC")
    o.done()
    if isinstance(zone, str):
        try:
            import zoneinfo
            zoneinfo.ZoneInfo(zone)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            o.error("timezone", f"must be an IANA time zone such as Europe/Berlin or UTC, got {zone!r}")
    ok = all(isinstance(t, str) and re.fullmatch(hhmm, t) for t in (start, end))
    if ok and end <= start:
        o.error("to", f"must be later than from ({start}): a window across midnight is two days' windows, "
                      f"not supported; got {end}")
    return Schedule(days, start, end, zone) if ok else None


def _read_cache(o: Obj, engine: str, engine_ok: bool = True) -> Cache:
    if not o.ok:
        return Cache()
    mode = o.str("mode", "shared", choices=CACHE_MODES)
    size = o.int("sizeGi", None, limit=L.CACHE_SIZE_GI)
    storage_class = o.str("storageClass", None, pattern=r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?",
                          hint="a StorageClass name")
    o.done()
    if engine != "vllm" and mode != "none" and engine_ok and o.valid("mode"):
        o.problems.add(o.path, f"only applies with engine vllm (KServe's storage initializer and Ray workers "
                               f"download the weights themselves), got engine {engine!r}")
    if mode == "none" and storage_class is not None and o.valid("mode"):
        o.error("storageClass", "only applies with mode shared or per-replica")
    return Cache(mode, size, storage_class)


def flag_name(arg: str) -> str:
    """`--max_model_len=4096` -> `--max-model-len` (vLLM's parser treats '_' and '-' alike)."""
    name = arg.split("=", 1)[0]
    if name.startswith("--"):
        return "--" + name[2:].replace("_", "-")
    return name


def _read_extra_args(o: Obj) -> tuple[str, ...]:
    out = []
    for path, item in o.list("extraArgs"):
        if not isinstance(item, str) or not item:
            o.problems.add(path, f"must be a non-empty string, got {describe(item)}")
            continue
        out.append(item)
        if not item.startswith("-"):
            continue                      # the value of the previous flag
        name = flag_name(item)
        if name in MANAGED_FLAGS:
            o.problems.add(path, f"{name} is set by the program from {MANAGED_FLAGS[name]}; "
                                 f"change that key instead")
        elif name in REMOVED_FLAGS:
            o.problems.add(path, f"{name} is {REMOVED_FLAGS[name]}")
        elif not re.fullmatch(r"--[a-z0-9][-a-z0-9]*|-[A-Za-z]{1,3}", name):
            o.problems.add(path, f"{item!r} is not a flag (--name or --name=value)")
    return tuple(out)
