"""Every cloud resource the shipped stacks render (AWS, GCP, Azure, random) passes only inputs its provider knows.

The cloud components hand most nested inputs to the provider SDKs as plain dicts with snake_case keys
(`{"os_type": "Linux", ...}`). The SDK translates the keys it knows to the provider's camelCase names and passes
any other key through unchanged, and the provider then ignores or rejects it at `pulumi up`, never in the offline
plan: a misspelt key is a silently unset field (an autoscaler profile without its expander, a node pool without
its taints). Kubernetes objects and Helm values have their own strict checks (tests/test_stacks_rendered.py,
plan/checks/helm_values.py); nothing checked these. The schema comes from the pinned SDK's input types
(`@pulumi.input_type` classes: each property's Pulumi name and its type annotation), so it is the provider version
requirements.txt pins.

Where the SDK types a string as one of its enums (azure-native's `Union[str, OSType]`), the value must be one of
the enum's values: ARM accepts other strings for "expandable" enums and fails or ignores them at deployment.
"""
import enum
import functools
import importlib
import re
import sys

import pytest

from plan import federation
from plan.runtime import ROOT
from tests.harness import keys_in, run_stack

STACKS = federation.cloud_stacks(ROOT)
# Importing a provider SDK's module warns about its deprecated resources; nothing here uses them.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native", "random": "pulumi_random"}
REF = re.compile(r"ForwardRef\('(\w+)'\)")


@functools.lru_cache(maxsize=None)
def plan_of(stack):
    return run_stack(stack)


def module_and_args(token: str):
    """`aws:eks/cluster:Cluster` -> (pulumi_aws.eks, ClusterArgs); `azure-native:containerservice:X` ->
    (pulumi_azure_native.containerservice, XArgs); `random:index/randomPassword:RandomPassword` -> (pulumi_random, ..).
    The SDK names the class `XInitArgs` where a nested input type is called `XArgs` too (azure-native's
    network.VirtualNetwork and Subnet)."""
    provider, mod, cls = token.split(":")
    mod = mod.split("/")[0]
    package = importlib.import_module(PACKAGES[provider] if mod == "index" else f"{PACKAGES[provider]}.{mod}")
    resource = getattr(package, cls)
    own = sys.modules[resource.__module__]
    return package, getattr(own, f"{cls}InitArgs", None) or getattr(own, f"{cls}Args")


@functools.lru_cache(maxsize=None)
def properties(cls: type) -> dict:
    """Pulumi name -> type annotation (as text) of an input type's properties."""
    out = {}
    for klass in cls.__mro__:
        for attr, value in vars(klass).items():
            if isinstance(value, property) and hasattr(value.fget, "_pulumi_name"):
                out.setdefault(value.fget._pulumi_name, str(value.fget.__annotations__.get("return", "")))
    return out


def problems(value, annotation: str, module, where: str):
    """Unknown keys and out-of-enum strings in `value`, typed by `annotation` (text of a property's type)."""
    refs = [module.__dict__.get(r) for r in REF.findall(annotation) if r != "Output[T]"]
    nested = next((r for r in refs if isinstance(r, type) and not issubclass(r, enum.Enum)), None)
    enums = [r for r in refs if isinstance(r, type) and issubclass(r, enum.Enum)]
    is_map = annotation.lstrip("typing.Union[").startswith(("typing.Mapping[str", "Mapping[str"))
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from problems(item, annotation, module, f"{where}[{i}]")
    elif isinstance(value, dict) and is_map:
        for k, v in value.items():
            if nested is not None:
                yield from walk(v, nested, module, f"{where}[{k!r}]")
    elif isinstance(value, dict) and nested is not None:
        yield from walk(value, nested, module, where)
    elif isinstance(value, str) and enums and value != "[secret]":
        allowed = {e.value for en in enums for e in en}
        if value not in allowed:
            yield f"{where}: {value!r} is not one of {sorted(allowed)}"


def walk(value: dict, cls: type, module, where: str):
    props = properties(cls)
    for key, v in value.items():
        if key not in props:
            yield f"{where}.{key}: not an input of {cls.__name__}"
        else:
            yield from problems(v, props[key], module, f"{where}.{key}")


def cloud_resources(plan):
    return [r for r in plan.resources if r.custom and r.type.split(":")[0] in PACKAGES]


@pytest.mark.parametrize("stack", STACKS)
def test_every_cloud_resource_input_is_known_to_its_provider(stack):
    seen, bad = 0, []
    for r in cloud_resources(plan_of(stack)):
        module, args = module_and_args(r.type)
        seen += 1
        bad += list(walk(r.inputs, args, module, f"{r.type} {r.name}"))
    assert bad == []
    # edge runs on an existing cluster (no cloud resource but the random ones); the cloud stacks make dozens.
    assert seen >= (1 if stack == "edge" else 10)


def test_the_walk_finds_a_misspelt_key_and_an_unknown_enum_value():
    """The check bites: a nested key the SDK does not know and a string outside its enum are both reported."""
    plan = plan_of("azure-prod")
    aks = plan.one("azure-native:containerservice:ManagedCluster")
    module, args = module_and_args(aks.type)
    inputs = {**aks.inputs, "autoScalerProfile": {**aks.inputs["autoScalerProfile"], "scan_intervall": "10s"},
              "agentPoolProfiles": [{**aks.inputs["agentPoolProfiles"][0], "osType": "Linuxx"}]}
    found = list(walk(inputs, args, module, "aks"))
    assert found == ["aks.autoScalerProfile.scan_intervall: not an input of ManagedClusterPropertiesAutoScalerProfileArgs",
                     "aks.agentPoolProfiles[0].osType: 'Linuxx' is not one of ['Linux', 'Windows']"], found


# Priority classes every cluster has (Kubernetes creates them); the rest must be rendered by the stack.
BUILTIN_PRIORITY_CLASSES = {"system-node-critical", "system-cluster-critical"}


def priority_class_names(value):
    return keys_in(value, lambda k, v, _: k == "priorityClassName" and isinstance(v, str))


@pytest.mark.parametrize("stack", STACKS)
def test_every_priority_class_a_chart_is_given_exists(stack):
    """A chart passes `priorityClassName` to its pods verbatim; the API server's Priority admission rejects a pod
    naming a class that does not exist, so the chart's pods would never be created (references.pod checks our own
    objects, not chart values)."""
    plan = plan_of(stack)
    known = BUILTIN_PRIORITY_CLASSES | {m["metadata"]["name"] for m in plan.manifests if m["kind"] == "PriorityClass"}
    named = [(f"{r.name}{where}", v) for r in plan.of_type("kubernetes:helm.sh/v3:Release")
             for where, v in priority_class_names(r.inputs.get("values") or {})]
    assert [(w, v) for w, v in named if v not in known] == []
    assert named, "no chart is given a priority class: the check saw nothing"


# Kubernetes v1 SecurityContext and PodSecurityContext fields (k8s.io/api core/v1 types.go, 1.34); charts copy a
# security context block into their pods verbatim, so a misspelt field is silently unset.
CONTAINER_CONTEXT = {"allowPrivilegeEscalation", "appArmorProfile", "capabilities", "privileged", "procMount",
                     "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot", "runAsUser", "seLinuxOptions",
                     "seccompProfile", "windowsOptions"}
POD_CONTEXT = {"appArmorProfile", "fsGroup", "fsGroupChangePolicy", "runAsGroup", "runAsNonRoot", "runAsUser",
               "seLinuxChangePolicy", "seLinuxOptions", "seccompProfile", "supplementalGroups",
               "supplementalGroupsPolicy", "sysctls", "windowsOptions"}
CONTEXT_KEYS = ("securityContext", "containerSecurityContext", "podSecurityContext")


def security_contexts(value):
    return keys_in(value, lambda k, v, _: k in CONTEXT_KEYS and isinstance(v, dict))


def context_problems(where: str, ctx: dict) -> list[str]:
    out = [f"{where}.{k}: not a SecurityContext field" for k in ctx if k not in CONTAINER_CONTEXT | POD_CONTEXT]
    if "capabilities" in ctx and set(ctx["capabilities"]) - {"add", "drop"}:
        out.append(f"{where}.capabilities: {ctx['capabilities']}")
    if ctx.get("capabilities", {}).get("drop") not in (None, ["ALL"]):
        out.append(f"{where}.capabilities.drop: {ctx['capabilities']['drop']}")
    if "seccompProfile" in ctx and ctx["seccompProfile"].get("type") not in ("RuntimeDefault", "Localhost"):
        out.append(f"{where}.seccompProfile: {ctx['seccompProfile']}")
    for k in ("runAsUser", "runAsGroup", "fsGroup"):
        # Numbers arrive as floats through the engine's protobuf Struct: a whole positive number.
        if k in ctx and not (isinstance(ctx[k], (int, float)) and ctx[k] == int(ctx[k]) and ctx[k] > 0):
            out.append(f"{where}.{k}: {ctx[k]!r}")
    if ctx.get("runAsNonRoot") is not None and ctx["runAsNonRoot"] is not True:
        out.append(f"{where}.runAsNonRoot: {ctx['runAsNonRoot']!r}")
    for k in ("allowPrivilegeEscalation", "privileged"):
        if ctx.get(k) is True:
            out.append(f"{where}.{k}: true")
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_every_security_context_a_chart_is_given_is_well_formed(stack):
    """Fields Kubernetes knows, all capabilities dropped, the runtime's seccomp profile, a non-root numeric user,
    no privilege escalation: the hardening this program asks of every chart it configures."""
    plan = plan_of(stack)
    found = [(f"{r.name}{where}", ctx) for r in plan.of_type("kubernetes:helm.sh/v3:Release")
             for where, ctx in security_contexts(r.inputs.get("values") or {})]
    assert [p for where, ctx in found for p in context_problems(where, ctx)] == []
    # The EKS stacks' cluster-autoscaler is given both contexts: the walk finds what it checks.
    assert found or stack not in ("dev", "prod"), "no chart is given a security context: the check saw nothing"


def test_gke_nodes_use_balanced_disks_and_the_cloud_platform_scope_with_iam():
    """GKE's recommended node scope is cloud-platform, with access governed by the node service account's IAM
    roles (a narrower scope list silently blocks APIs the IAM roles allow); pd-balanced disks hold the images."""
    plan = plan_of("gcp-prod")
    scope = ["https://www.googleapis.com/auth/cloud-platform"]
    assert plan.one("gcp:container/cluster:Cluster").inputs["nodeConfig"]["oauthScopes"] == scope
    pools = plan.of_type("gcp:container/nodePool:NodePool")
    assert len(pools) >= 2
    for p in pools:
        assert (p.inputs["nodeConfig"]["oauthScopes"], p.inputs["nodeConfig"]["diskType"]) == (scope, "pd-balanced"), \
            p.name


@pytest.mark.parametrize("stack", STACKS)
def test_every_release_is_the_pinned_chart_in_a_namespace_the_program_owns_or_the_cluster_has(stack):
    """components/helm.py: the chart and version come from catalog/versions.py (OCI reference or repository), Helm
    never creates a namespace (PlatformBase owns their Pod Security labels, so a release into a namespace nobody
    renders fails instead of creating an unlabelled one), and Helm waits a bounded time for the workloads."""
    from catalog.versions import CHARTS, OCI_CHARTS
    plan = plan_of(stack)
    namespaces = {m["metadata"]["name"] for m in plan.manifests if m["kind"] == "Namespace"} | {"kube-system"}
    by_source = {(OCI_CHARTS.get(k) or c.name, c.version, None if k in OCI_CHARTS else c.repo)
                 for k, c in CHARTS.items()}
    releases = plan.of_type("kubernetes:helm.sh/v3:Release")
    assert len(releases) >= 4
    for r in releases:
        i = r.inputs
        assert i.get("createNamespace") is False, r.name
        assert i["namespace"] in namespaces, (r.name, i["namespace"])
        assert (i["chart"], i["version"], (i.get("repositoryOpts") or {}).get("repo")) in by_source, r.name
        assert i["timeout"] in (600, 900), r.name       # 10 minutes; kube-prometheus-stack 15


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_is_a_child_of_its_component(stack):
    """`opts=ResourceOptions(parent=self)` on every child (DEVELOPERS.md): the URN carries the parent, so a child
    that loses it is a different resource to the engine (deleted and created again on the next `up`). At the stack's
    root there are only the program's components, the federation key (stacks/exports.py) and an AWS stack's
    provider; every other resource's parent is an llmfleet component, and its provider-side kind matches it."""
    plan = plan_of(stack)
    by_urn = {r.urn: r for r in plan.resources}
    cluster = plan.spec.cluster.name
    root_extras = {("random:index/randomPassword:RandomPassword", f"{cluster}-federation-key")}
    if plan.spec.cloud == "aws":
        root_extras.add(("pulumi:providers:aws", f"{cluster}-aws"))
    at_root = {(r.type, r.name) for r in plan.resources if r.parent not in by_urn}
    # The federation key exists only where the stack has a Gateway to be federated through.
    assert {x for x in at_root if not x[0].startswith("llmfleet:")} <= root_extras
    assert len(at_root) >= 5
    for r in plan.resources:
        parent = by_urn.get(r.parent)
        if parent is not None:
            assert parent.type.startswith("llmfleet:"), (r.type, r.name, parent.type)


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_goes_to_the_stacks_cluster(stack):
    """A Kubernetes resource without the cluster's provider would use Pulumi's default provider, i.e. whatever
    cluster the operator's ambient kubeconfig points at."""
    plan = plan_of(stack)
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    objects = [r for r in plan.resources if r.type.startswith("kubernetes:")]
    assert len(objects) > 20
    assert {r.provider.rsplit("::", 1)[0] for r in objects} == {provider.urn}


# API group of a custom resource -> the chart (or CRD file) that installs its CRD. The API server rejects a custom
# resource whose CRD does not exist yet, so each must be created after its installer.
CRD_SOURCES = {
    "monitoring.coreos.com": "kube-prometheus-stack",
    "keda.sh": "keda",
    "cert-manager.io": "oci://quay.io/jetstack/charts/cert-manager",
    "gateway.networking.k8s.io": "oci://docker.io/envoyproxy/gateway-helm",
    "gateway.envoyproxy.io": "oci://docker.io/envoyproxy/gateway-helm",
    "aigateway.envoyproxy.io": "oci://docker.io/envoyproxy/ai-gateway-crds-helm",
    "ray.io": "kuberay-operator",
    "serving.kserve.io": "oci://ghcr.io/kserve/charts/kserve-crd",
    "external-secrets.io": "external-secrets",
    "autoscaling.k8s.io": "vpa",
    "karpenter.sh": "oci://public.ecr.aws/karpenter/karpenter",
    "karpenter.k8s.aws": "oci://public.ecr.aws/karpenter/karpenter",
    "inference.networking.k8s.io": "kubernetes:yaml/v2:ConfigFile",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_waits_for_the_release_that_installs_its_crd(stack):
    plan = plan_of(stack)
    installers = {}
    for r in plan.of_type("kubernetes:helm.sh/v3:Release"):
        installers.setdefault(r.inputs["chart"], []).append(r)
    installers["kubernetes:yaml/v2:ConfigFile"] = plan.of_type("kubernetes:yaml/v2:ConfigFile")
    checked, late = 0, []
    for r in plan.resources:
        group = r.type.split(":")[1].split("/")[0] if r.type.startswith("kubernetes:") else ""
        if group not in CRD_SOURCES:
            continue
        sources = installers.get(CRD_SOURCES[group], [])
        assert sources, f"{r.type} {r.name}: no {CRD_SOURCES[group]} in the stack"
        checked += 1
        if not any(plan.waits_for(r, s) for s in sources):
            late.append(f"{r.type} {r.name}")
    assert late == []
    assert checked >= 3


@pytest.mark.parametrize("stack", STACKS)
def test_every_namespaced_object_waits_for_its_namespace(stack):
    """The API server rejects an object (or Helm a release) in a namespace that does not exist yet; Pulumi creates
    resources in parallel unless one depends on the other."""
    plan = plan_of(stack)
    namespaces = {r.inputs["metadata"]["name"]: r for r in plan.of_type("kubernetes:core/v1:Namespace")}
    early = []
    checked = 0
    for r in plan.resources:
        if not r.type.startswith("kubernetes:") or r.type == "kubernetes:core/v1:Namespace":
            continue
        ns = r.inputs.get("namespace") if r.type == "kubernetes:helm.sh/v3:Release" else \
            (r.inputs.get("metadata") or {}).get("namespace")
        if ns in namespaces:
            checked += 1
            if not plan.waits_for(r, namespaces[ns], through_parents=True):
                early.append(f"{r.type} {r.name} ({ns})")
    assert early == []
    assert checked > 20


@pytest.mark.parametrize("stack", STACKS)
def test_the_cluster_provider_applies_server_side_under_a_stable_identifier(stack):
    """pulumi-kubernetes replaces a provider (and every object bound to it) when its kubeconfig points elsewhere,
    unless `clusterIdentifier` says it is the same cluster; the stack exports the same identifier (the federation
    hub's provider uses it). Server-side apply: Helm and operators editing the same objects do not fight Pulumi."""
    plan = plan_of(stack)
    (provider,) = plan.of_type("pulumi:providers:kubernetes")
    assert provider.inputs["enableServerSideApply"] == "true"
    ident = provider.inputs["clusterIdentifier"]
    assert ident == plan.outputs["clusterIdentifier"]
    name = plan.spec.cluster.name
    settings = plan.spec.cluster.settings
    expected = {"existing": f"existing/{name}",
                "azure": f"aks/{settings.resource_group_name(name) if plan.spec.cloud == 'azure' else ''}/{name}",
                "gcp": f"gke/{getattr(plan.spec.cluster.settings, 'project', '')}/{plan.spec.cluster.region}/{name}"}
    if plan.spec.cloud == "aws":
        assert ident.startswith(f"arn:aws:eks:{plan.spec.cluster.region}:") and f":cluster/{name}@" in ident
    else:
        assert ident == expected[plan.spec.cloud]
