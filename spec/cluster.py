"""The cluster part of the spec (`llmfleet:cloud`, `llmfleet:cluster`): which cloud, where, which Kubernetes."""
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from catalog.versions import DEFAULT_KUBERNETES_VERSION, KUBERNETES_VERSIONS
from spec.clouds import READERS
from spec.reader import DNS_LABEL, DNS_LABEL_HINT, Obj

CLOUDS = ("aws", "gcp", "azure", "existing")
# Kubernetes distributions of existing clusters whose embedded containerd lives at non-default paths (the NVIDIA
# container toolkit must edit their config; components/nvidia/values.py toolkit_env).
DISTRIBUTIONS = ("generic", "k3s", "rke2")
# Whether the cluster serves metrics.k8s.io without us (the VPA recommender reads it): GKE and AKS run
# metrics-server as a managed add-on and k3s bundles it; EKS does not install it.
METRICS_API_BUILTIN = {"aws": False, "gcp": True, "azure": True, "existing": True}
DEFAULT_REGIONS = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus", "existing": ""}


@dataclass(frozen=True)
class ClusterSpec:
    cloud: str
    name: str
    kubernetes_version: str
    region: str
    zones: tuple[str, ...] = ()
    context: Optional[str] = None          # existing: kubeconfig context to use
    distribution: str = "generic"          # existing: generic | k3s | rke2
    environment: str = ""                  # llmfleet:environment, carried into cloud tags and labels
    gpu_only: bool = False                 # existing: the declared GPU pools are the cluster's only nodes
    # Cloud-specific settings, read by the cloud's own reader (spec/clouds/<cloud>.py); None for existing.
    settings: Any = None
    # Cost-allocation tags (environment, cost-center, owner) every taggable cloud resource carries: AWS and Azure
    # tags, GKE resource labels (spec/costguards.py read_cost_tags; the cost-tags policy checks them).
    tags: dict = field(default_factory=dict)


def read_cluster(o: Obj, cloud: Optional[str], stack: str, environment: str = "") -> ClusterSpec:
    """`cloud` is None when llmfleet:cloud itself was rejected: rules that depend on the cloud are skipped (the
    one problem is reported at llmfleet:cloud, not again at every block that is right for the cloud meant)."""
    name = o.str("name", f"llm-{stack}", pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    if not o.has("name") and not re.fullmatch(DNS_LABEL, name):
        o.reject("name", f"is not set, and its default from the stack name ({name!r}) is not {DNS_LABEL_HINT}: "
                         f"set it")
    elif len(name) > 40:
        o.reject("name", f"must be at most 40 characters (cloud resource names derive from it), got {len(name)}"
                         + ("" if o.has("name") else f" (its default, from the stack name {stack!r}): set it"))
    version = o.str("kubernetesVersion", DEFAULT_KUBERNETES_VERSION, choices=KUBERNETES_VERSIONS)
    region = o.str("region", DEFAULT_REGIONS.get(cloud or "", ""))
    if cloud == "existing" and o.has("region"):
        o.error("region", "is not used on an existing cluster")
    zones = tuple(o.str_list("zones"))
    context = o.str("context", None)
    if context is not None and cloud not in (None, "existing"):
        o.error("context", "only applies when cloud is existing (it picks the kubeconfig context)")
    distribution = o.str("distribution", "generic", choices=DISTRIBUTIONS)
    if cloud not in (None, "existing") and o.has("distribution"):
        o.error("distribution", "only applies when cloud is existing (managed clusters use standard paths)")
    # Existing clusters only: whether the declared GPU pools are all the nodes there are (a single edge box). The
    # program cannot list the nodes offline; spec/pools.py check_untainted_node holds the pools to it.
    gpu_only = o.bool("gpuOnly", False)
    if cloud != "existing" and o.has("gpuOnly"):
        o.error("gpuOnly", "only applies when cloud is existing (managed clusters get untainted CPU nodes of "
                           "their own)")
    settings: Any = None
    for other, reader in READERS.items():
        if cloud is None:
            o.seen.add(other)             # which block applies depends on the cloud
            continue
        sub = o.obj(other)
        if other == cloud and ((o.given and not o.ok) or (sub.given and not sub.ok)):
            continue                      # the block is not an object: reported once, its rules cannot run
        if other == cloud:
            settings = reader(sub)
            sub.done()
        elif sub.ok:
            o.error(other, f"only applies when cloud is {other}")
    return ClusterSpec(cloud=cloud or "", name=name, kubernetes_version=version, region=region, zones=zones,
                       context=context, distribution=distribution, environment=environment,
                       gpu_only=gpu_only is True, settings=settings)
