"""The cost-guard policies. Each validate function reads only its arguments (resource or stack, and its config),
so `pulumi preview --policy-pack` and the offline plan (plan/policy.py) run exactly the same code.

Config comes per stack from `out/<stack>/policy-config.json`, which the offline plan writes from the stack file;
every property has a default here, and a budget policy without a limit is not applicable.
"""
import re
from typing import Any, Mapping

from pulumi_policy import (EnforcementLevel, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy)

from policy.gpu_groups import EXTRACTORS, gpu_groups, monthly_at_max, prices
from policy.workloads import gpu_count, gpu_pods

MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY
PREMIUM_GPUS = ["h100-80gb", "h100-nvl-94gb", "h200-141gb"]
# The project's rule (spec/environment.py), repeated here as the default: the pack runs without the spec.
PROD_ENVIRONMENT = r"prod(uction)?(-[a-z0-9-]+)?"
REQUIRED_TAGS = ["environment", "cost-center", "owner"]

# Where each taggable cloud resource this program creates keeps its tags (AWS and Azure `tags`, GKE labels).
# tests/test_policy.py checks the table against the provider SDKs' signatures, both ways.
TAG_PATHS: dict[str, tuple[str, ...]] = {
    **{t: ("tags",) for t in (
        "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/logGroup:LogGroup", "aws:ec2/eip:Eip",
        "aws:ec2/internetGateway:InternetGateway", "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/subnet:Subnet", "aws:ec2/vpc:Vpc", "aws:efs/fileSystem:FileSystem", "aws:eks/accessEntry:AccessEntry",
        "aws:eks/addon:Addon", "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:iam/role:Role", "aws:kms/key:Key", "aws:sqs/queue:Queue", "aws:budgets/budget:Budget",
        "aws:secretsmanager/secret:Secret", "azure-native:keyvault:Secret", "azure-native:keyvault:Vault",
        "azure-native:containerservice:AgentPool", "azure-native:containerservice:ManagedCluster",
        "azure-native:managedidentity:UserAssignedIdentity", "azure-native:network:VirtualNetwork",
        "azure-native:operationalinsights:Workspace", "azure-native:resources:ResourceGroup")},
    "gcp:container/cluster:Cluster": ("resourceLabels",),
    # Its `tags` are Resource Manager tag bindings (tagKeys/..: tagValues/..), not cost labels: labels carry those.
    "gcp:secretmanager/secret:Secret": ("labels",),
    "gcp:container/nodePool:NodePool": ("nodeConfig", "resourceLabels"),
}


def config(args, schema: PolicyConfigSchema) -> dict:
    """The policy's config with the schema's defaults filled in, as the engine fills them for a pack."""
    given = dict(args.get_config() or {})
    for key, prop in schema.properties.items():
        if key not in given and "default" in prop:
            given[key] = prop["default"]
    return given


def _is_prod(cfg: Mapping[str, Any]) -> bool:
    return bool(re.fullmatch(cfg.get("prodEnvironmentPattern") or PROD_ENVIRONMENT, cfg.get("environment", "")))


# --- budget -----------------------------------------------------------------------------------------------------
_PRICES = {"type": "object", "description": "llmfleet:prices overrides: cloud/type -> {onDemand, spot}",
           "default": {}}
_EXISTING = {"type": "array", "description": "an existing cluster's pools: {name, maxNodes, pricePerHour}",
             "default": []}


def _budget(limit_key: str, what: str):
    schema = PolicyConfigSchema(properties={
        limit_key: {"type": "number", "minimum": 0, "description": f"{what}, USD per month"},
        "prices": _PRICES, "existingPools": _EXISTING})

    def validate(args, report):
        cfg = config(args, schema)
        if cfg.get(limit_key) is None:
            args.not_applicable(f"no {limit_key} configured")
        total = monthly_at_max(gpu_groups(args.resources), prices(cfg["prices"]), cfg["existingPools"])
        if total > float(cfg[limit_key]):
            report(f"GPU cost at every group's max is ${total:,.2f}/month, over the {what} of "
                   f"${float(cfg[limit_key]):,.2f} (lower maxNodes, prefer spot, or raise the limit)", None)
    return schema, validate


_warn_schema, _warn = _budget("monthlyWarning", "warning threshold")
_ceil_schema, _ceil = _budget("monthlyCeiling", "ceiling")

# --- environment rules --------------------------------------------------------------------------------------------
_ENV = {"environment": {"type": "string", "default": ""},
        "prodEnvironmentPattern": {"type": "string", "default": PROD_ENVIRONMENT,
                                   "description": "regular expression an environment name must match to be prod"}}
_premium_schema = PolicyConfigSchema(properties={
    **_ENV, "premiumGpus": {"type": "array", "items": {"type": "string"}, "default": PREMIUM_GPUS}})
_zero_schema = PolicyConfigSchema(properties=dict(_ENV))
_cap_schema = PolicyConfigSchema(properties={"maxGpusPerPool": {"type": "integer", "minimum": 1, "default": 64}})


def _groups(args):
    if args.resource_type not in EXTRACTORS:
        args.not_applicable("not a node group")
    return gpu_groups([args])


def _premium(args, report):
    cfg = config(args, _premium_schema)
    for g in _groups(args):
        if not _is_prod(cfg) and g.gpu in cfg["premiumGpus"] and g.capacity == "on-demand":
            report(f"{g.name}: on-demand {g.instance_type} ({g.gpu}) in environment {cfg['environment']!r}; "
                   "outside prod premium GPUs run on spot or reserved capacity", None)


def _scale_to_zero(args, report):
    cfg = config(args, _zero_schema)
    for g in _groups(args):
        if not _is_prod(cfg) and g.min_nodes > 0:
            report(f"{g.name}: GPU group keeps {g.min_nodes} node(s) in environment {cfg['environment']!r}; "
                   f"outside prod GPU groups scale to zero (minNodes: 0)", None)


def _cap(args, report):
    cfg = config(args, _cap_schema)
    for g in _groups(args):
        if g.max_nodes * g.gpus_per_node > cfg["maxGpusPerPool"]:
            report(f"{g.name}: up to {g.max_nodes * g.gpus_per_node} GPUs ({g.max_nodes} x {g.gpus_per_node}), "
                   f"over the cap of {cfg['maxGpusPerPool']} per pool", None)


# --- cost tags ----------------------------------------------------------------------------------------------------
_tags_schema = PolicyConfigSchema(properties={
    "requiredTags": {"type": "array", "items": {"type": "string"}, "default": REQUIRED_TAGS}})


def _tags(args, report):
    path = TAG_PATHS.get(args.resource_type)
    if path is None:
        args.not_applicable("not a taggable cloud resource")
    cfg = config(args, _tags_schema)
    tags: Any = args.props
    for key in path:
        tags = (tags or {}).get(key) if isinstance(tags, dict) else None
    missing = [t for t in cfg["requiredTags"] if not (tags or {}).get(t)]
    if missing:
        report(f"{args.resource_type.rsplit(':', 1)[1]} {args.name}: missing cost tag(s) {', '.join(missing)} "
               f"(at {'.'.join(path)})", None)


# --- serving guards -----------------------------------------------------------------------------------------------
_sizing_schema = PolicyConfigSchema(properties={
    "models": {"type": "object", "description": "model name -> GPUs per replica that sizing planned", "default": {}}})


def _workloads(args):
    found = list(gpu_pods(args.resource_type, dict(args.props)))
    if not found:
        args.not_applicable("no GPU pods")
    return found


def _priority(args, report):
    for w in _workloads(args):
        if not w.pod.get("priorityClassName"):
            report(f"{w.kind} {w.namespace}/{w.name}: GPU pods without a priorityClassName (llm-critical, "
                   f"llm-standard or llm-batch) are preempted in no defined order", None)


def _sizing(args, report):
    cfg = config(args, _sizing_schema)
    for w in _workloads(args):
        planned = cfg["models"].get(w.labels.get("llmfleet.io/model", w.name))
        for c in w.containers:
            request, limit = gpu_count(c)
            if request is not None and request != limit:
                report(f"{w.kind} {w.namespace}/{w.name}: container {c.get('name')} requests {request} GPUs "
                       f"but is limited to {limit}", None)
            if w.tensor_parallel is not None and limit != w.tensor_parallel:
                report(f"{w.kind} {w.namespace}/{w.name}: {limit} GPUs per replica but tensor parallel size "
                       f"{w.tensor_parallel}: the extra GPUs sit idle", None)
            if planned is not None and limit != planned:
                report(f"{w.kind} {w.namespace}/{w.name}: {limit} GPUs per replica, sizing planned {planned}", None)


def _pdb(args, report):
    pdbs = [r.props for r in args.resources if r.resource_type == "kubernetes:policy/v1:PodDisruptionBudget"]
    for r in args.resources:
        for w in gpu_pods(r.resource_type, dict(r.props)):
            covered = any((p.get("metadata") or {}).get("namespace", "default") == w.namespace
                          and (sel := ((p.get("spec") or {}).get("selector") or {}).get("matchLabels"))
                          and all(w.labels.get(k) == v for k, v in sel.items()) for p in pdbs)
            if not covered:
                report(f"{w.kind} {w.namespace}/{w.name}: no PodDisruptionBudget selects its GPU pods; a node "
                       f"drain may take every replica at once", r.urn)


POLICIES = [
    StackValidationPolicy("gpu-budget-warning", "GPU $/month at max nodes stays under the warning threshold",
                          _warn, ADVISORY, _warn_schema),
    StackValidationPolicy("gpu-budget-ceiling", "GPU $/month at max nodes stays under the stack's ceiling",
                          _ceil, MANDATORY, _ceil_schema),
    ResourceValidationPolicy("nonprod-premium-gpus-not-on-demand",
                             "Outside prod, H100/H200-class GPU groups use spot or reserved capacity",
                             _premium, MANDATORY, _premium_schema),
    ResourceValidationPolicy("nonprod-gpu-scale-to-zero", "Outside prod, GPU groups scale to zero",
                             _scale_to_zero, MANDATORY, _zero_schema),
    ResourceValidationPolicy("max-gpus-per-pool", "No GPU group grows past the configured GPU cap",
                             _cap, MANDATORY, _cap_schema),
    ResourceValidationPolicy("cost-tags", "Taggable cloud resources carry the cost-allocation tags",
                             _tags, ADVISORY, _tags_schema),
    ResourceValidationPolicy("gpu-workload-priority-class", "Every GPU workload has a priority class",
                             _priority, MANDATORY),
    ResourceValidationPolicy("gpu-requests-match-sizing",
                             "GPU requests equal limits, the tensor-parallel size and what sizing planned",
                             _sizing, MANDATORY, _sizing_schema),
    StackValidationPolicy("gpu-workload-pdb", "Every GPU workload has a PodDisruptionBudget", _pdb, MANDATORY),
]
