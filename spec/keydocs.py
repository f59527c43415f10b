"""The one-line meaning of every stack config key: the only hand-written part of docs/config.md and
schema/stack.schema.json, which `make docs` (plan/configdocs/) generates from the readers in spec/.

Type, default, bounds, allowed values and pattern come from the reader call itself (spec/reader.py `Obj.str(...)`
etc.); this file adds what code cannot say. A key is its path without `llmfleet:`, list items as `[]`
(`gpuPools[].sharing.mode`). A new key needs one line here, then `make docs`; tests/test_docs_generated.py fails,
naming the key, until it has one. `Doc(...)` instead of a plain string when the reader cannot tell the rest:
- `default`: the text shown when the default is derived (from the stack name, other keys, the environment);
- `clouds`: the clouds a key applies to, when the reader reads it everywhere and rejects it on the others
  (keys under `cluster.aws`/`cluster.gcp`/`cluster.azure` apply to their cloud without saying so);
- `allowed`: values the reader checks by hand (no `choices=`); `items`: the type of a hand-checked list's items;
- `secret`: the value is set with `pulumi config set --secret` (the schema then accepts `{secure: ...}`);
- `type`: for a key no accessor reads (`str`, the secrets read by name in spec/stack.py).
A reader call that neither a shipped stack nor `synthetic()` below reaches fails the generator, naming its line: add
a fragment that reaches it (it need not be valid), so its keys are recorded.
Markdown links are relative to docs/.
"""
from dataclasses import dataclass
from typing import Optional

from spec.costguards import POLICY_NAMES


@dataclass(frozen=True)
class Doc:
    meaning: str
    default: Optional[str] = None
    clouds: tuple = ()
    allowed: tuple = ()
    items: str = ""
    secret: bool = False
    type: str = ""


D = Doc
MANAGED = ("aws", "gcp", "azure")
EXISTING = ("existing",)
AWS_IMAGES = ("al2023-nvidia", "bottlerocket-nvidia")

# Blocks whose keys the user names (a zone, an instance type): one placeholder stands for every key.
MAPS = {"prices": "<cloud>/<instanceType>", "cluster.aws.subnetCidrs": "<zone>", "federation.tiers": "<tier>"}
# Blocks that get a section of their own in docs/config.md (besides each top-level key).
SECTIONS = ("cluster.aws", "cluster.gcp", "cluster.azure")

KEYS = {
    # --- top level -------------------------------------------------------------------------------------------
    "cloud": "Where the cluster lives: a new EKS, GKE or AKS cluster, or an existing cluster reached by a kubeconfig.",
    "environment": D("Environment name in names, labels and tags; `prod`, `production` and `prod-*` are production "
                     "(stricter defaults and rules).", default="the stack name"),
    "kubeconfig": D("Kubeconfig of the existing cluster (`pulumi config set --secret llmfleet:kubeconfig -- "
                    "\"$(cat k3s.yaml)\"`).", clouds=EXISTING, secret=True, type="str", default="required"),
    "hfToken": D("Hugging Face token for gated weights (a model with `gated: true` needs it).", secret=True,
                 type="str"),
    "cluster": "The cluster: name, Kubernetes version, region and zones, and the cloud's own block.",
    "gpuPools": "GPU node pools: what GPU, how many nodes, which capacity (on-demand, spot, reserved).",
    "models": "Models to size onto the pools and serve ([serving.md](serving.md), [sizing.md](sizing.md)).",
    "platform": "Namespaces with Pod Security level, quota and default limits, overriding or adding to the "
                "defaults ([platform.md](platform.md)).",
    "nvidia": "GPU Operator or the standalone device plugin, DCGM exporter, MIG strategy ([nvidia.md](nvidia.md)).",
    "observability": "Prometheus retention and storage, Grafana, GPU alert thresholds, alert receivers "
                     "([nvidia.md](nvidia.md), [observability.md](observability.md)).",
    "serving": "Serving namespace, vLLM image, Prometheus URL, shared-cache storage class ([serving.md](serving.md)).",
    "prices": "Price overrides of the GPU catalog, per instance type, for sizing and the cost report.",
    "costGuards": "Limits the cost policy pack enforces for this stack ([cost-guards.md](cost-guards.md)).",
    "costTags": "Cost-allocation tags, with `environment`, on every taggable cloud resource.",
    "budget": D("The cloud's monthly budget with alerts; required in a production environment "
                "([cost-guards.md](cost-guards.md)).", clouds=MANAGED),
    "rag": "Retrieval-augmented generation next to a served model: TEI embeddings, Qdrant, Open WebUI "
           "([rag.md](rag.md)).",
    "gateway": "The stack's public HTTPS endpoint: hostname and TLS certificate issuer.",
    "security": "Who may call the models, NetworkPolicies, restricted Pod Security for model servers "
                "([security.md](security.md)).",

    # --- cluster ---------------------------------------------------------------------------------------------
    "cluster.name": D("Cluster name (at most 40 characters), prefix of every cloud resource name.",
                      default="`llm-<stack>`"),
    "cluster.kubernetesVersion": "Kubernetes minor version (catalog/versions.py `KUBERNETES_VERSIONS`).",
    "cluster.region": D("Cloud region of the cluster.", clouds=MANAGED,
                        default="aws: `us-east-1`; gcp: `us-central1`; azure: `eastus`"),
    "cluster.zones": D("Zones of the region the cluster spans.", default="the region's default zones (AWS: some "
                       "regions only, [aws.md](aws.md))"),
    "cluster.context": D("Kubeconfig context to use.", clouds=EXISTING, default="the kubeconfig's current context"),
    "cluster.distribution": D("Kubernetes distribution: where the NVIDIA container toolkit finds containerd.",
                              clouds=EXISTING),
    "cluster.gpuOnly": D("The declared GPU pools are the cluster's only nodes, which then may carry no "
                         "NoSchedule/NoExecute taint ([serving-platform.md](serving-platform.md)).", clouds=EXISTING),
    "cluster.aws": "EKS settings ([aws.md](aws.md)).",
    "cluster.gcp": "GKE settings ([gcp.md](gcp.md)).",
    "cluster.azure": "AKS settings ([azure.md](azure.md)).",

    # --- cluster.aws -----------------------------------------------------------------------------------------
    "cluster.aws.vpcCidr": "Private IPv4 range of the VPC, /16 to /20.",
    "cluster.aws.singleNatGateway": "One NAT gateway for all zones (cheaper, not zone-redundant).",
    "cluster.aws.endpointAccess": "Where the API server endpoint is reachable (`private`: `pulumi up` must run "
                                  "inside the VPC).",
    "cluster.aws.publicAccessCidrs": D("CIDRs that may reach the public endpoint; required (and not `0.0.0.0/0`) "
                                       "in production unless the endpoint is private.", default="anywhere"),
    "cluster.aws.systemNodes": "The CPU node group for add-ons (x86_64, non-GPU types only).",
    "cluster.aws.systemNodes.instanceType": "EC2 instance type of the system nodes.",
    "cluster.aws.systemNodes.minNodes": "Minimum size of the system node group.",
    "cluster.aws.systemNodes.maxNodes": D("Maximum size of the system node group.", default="max(4, minNodes)"),
    "cluster.aws.systemNodes.diskSizeGb": "Root disk of a system node, GB.",
    "cluster.aws.systemNodes.zones": D("Zones of the system node group ([aws.md](aws.md), \"Adding a zone\").",
                                       default="every cluster zone"),
    "cluster.aws.identity": "How the cluster autoscaler gets AWS credentials: IRSA or EKS Pod Identity.",
    "cluster.aws.autoscaler": "Node autoscaler of the GPU pools: Cluster Autoscaler over managed node groups, "
                              "Karpenter NodePools, or none.",
    "cluster.aws.reservationType": "How pools with `reserved` capacity use their `reservation`: an On-Demand "
                                   "Capacity Reservation or a Capacity Block.",
    "cluster.aws.controlPlaneLogs": "Control-plane log types sent to CloudWatch.",
    "cluster.aws.logRetentionDays": "CloudWatch retention of the control-plane logs, days.",
    "cluster.aws.secretsEncryption": "KMS envelope encryption of Kubernetes Secrets.",
    "cluster.aws.adminRoleArns": D("IAM roles given cluster-admin access entries (e.g. the CI role that runs "
                                   "`pulumi up`).", items="string"),
    "cluster.aws.protect": D("`protect` and `retainOnDelete` on the EKS cluster, its KMS key and the EFS file "
                             "system.", default="on in production environments"),
    "cluster.aws.subnetCidrs": "Per zone `{private, public}` CIDRs overriding the zone-letter layout (zones past "
                               "`c`, or subnets an earlier layout made).",
    "cluster.aws.subnetCidrs.<zone>": "The zone's two subnets.",
    "cluster.aws.subnetCidrs.<zone>.private": "CIDR of the zone's private subnet, inside `vpcCidr`, /16 to /28.",
    "cluster.aws.subnetCidrs.<zone>.public": "CIDR of the zone's public subnet, inside `vpcCidr`, /16 to /28.",
    "cluster.aws.tags": "Tags on every AWS resource (keys starting `aws:` are reserved).",

    # --- cluster.gcp -----------------------------------------------------------------------------------------
    "cluster.gcp.project": "GCP project id that holds everything.",
    "cluster.gcp.releaseChannel": "GKE release channel.",
    "cluster.gcp.zone": D("Set for a zonal cluster in this zone.", default="unset: a regional cluster in "
                          "`cluster.region`"),
    "cluster.gcp.nodesCidr": "Subnet primary range (nodes).",
    "cluster.gcp.podsCidr": "Secondary range for pods.",
    "cluster.gcp.servicesCidr": "Secondary range for Services.",
    "cluster.gcp.privateNodes": "Nodes without external IPs; egress through Cloud NAT.",
    "cluster.gcp.authorizedNetworks": D("CIDRs allowed to reach the control plane (empty: any; a production stack "
                                        "must list some or set `privateEndpoint`).", items="string"),
    "cluster.gcp.privateEndpoint": "Control plane only on its private endpoint (needs `privateNodes`).",
    "cluster.gcp.maintenanceWindow": "When GKE may run maintenance ([gcp.md](gcp.md)).",
    "cluster.gcp.maintenanceWindow.start": "Start of the first window.",
    "cluster.gcp.maintenanceWindow.end": "End of the first window.",
    "cluster.gcp.maintenanceWindow.recurrence": "How the window repeats.",
    "cluster.gcp.pinMinorVersion": "A `NO_MINOR_UPGRADES` exclusion until end of support; must stay true in "
                                   "production.",
    "cluster.gcp.systemMachineType": "Machine type of the `system` (CPU) node pool.",
    "cluster.gcp.systemMinNodes": "Minimum total size of the `system` pool.",
    "cluster.gcp.systemMaxNodes": D("Maximum total size of the `system` pool.", default="max(6, systemMinNodes)"),
    "cluster.gcp.systemDiskSizeGb": "Disk of a system node, GB.",
    "cluster.gcp.computeClass": "Render each pool's capacity chain as a GKE ComputeClass.",
    "cluster.gcp.deletionProtection": "GKE refuses to delete the cluster until this is turned off.",

    # --- cluster.azure ---------------------------------------------------------------------------------------
    "cluster.azure.resourceGroup": D("Azure resource group name.", default="`<cluster name>-rg`"),
    "cluster.azure.vnetCidr": "Address space of the VNet.",
    "cluster.azure.auditLogs": D("Send the API server's audit log (`kube-audit-admin`) to a Log Analytics workspace "
                                 "the program creates.", default="on in production (and must stay on there)"),
    "cluster.azure.subnetCidr": "Node subnet inside the VNet.",
    "cluster.azure.podCidr": "Pod range (overlay); must not overlap the VNet or the service range.",
    "cluster.azure.serviceCidr": "Service range; must not overlap the VNet or the pod range.",
    "cluster.azure.dnsServiceIp": "Cluster DNS address, inside the service range and not its first address.",
    "cluster.azure.networkDataplane": "Network dataplane.",
    "cluster.azure.networkPolicy": D("NetworkPolicy engine (`cilium` only with the cilium dataplane; `none` "
                                     "conflicts with `llmfleet:security.networkPolicies`).",
                                     default="`cilium`; `azure` with the azure dataplane"),
    "cluster.azure.identity": "Managed identity of the cluster.",
    "cluster.azure.skuTier": "AKS pricing tier (Standard: the uptime SLA).",
    "cluster.azure.osSku": "Node OS of every pool.",
    "cluster.azure.systemPool": "The system (CPU) node pool.",
    "cluster.azure.systemPool.vmSize": "VM size of the system pool.",
    "cluster.azure.systemPool.minNodes": "Minimum size of the system pool.",
    "cluster.azure.systemPool.maxNodes": D("Maximum size of the system pool.", default="max(3, minNodes)"),
    "cluster.azure.generalPool": "The general (CPU) user pool for the platform's workloads.",
    "cluster.azure.generalPool.vmSize": "VM size of the general pool.",
    "cluster.azure.generalPool.minNodes": "Minimum size of the general pool.",
    "cluster.azure.generalPool.maxNodes": D("Maximum size of the general pool.", default="max(5, minNodes)"),
    "cluster.azure.autoscaler": "Cluster autoscaler profile (the expander is always `priority`: the capacity "
                                "chain is carried by its ConfigMap).",
    "cluster.azure.autoscaler.scanInterval": "How often the autoscaler looks at the cluster.",
    "cluster.azure.autoscaler.scaleDownUnneededTime": "How long a node must be unneeded before it is removed.",
    "cluster.azure.autoscaler.scaleDownDelayAfterAdd": "No scale-down for this long after a scale-up.",
    "cluster.azure.autoscaler.maxNodeProvisionTime": "How long a node may take to come up before the autoscaler "
                                                     "tries the next pool in the chain.",
    "cluster.azure.autoscaler.skipNodesWithLocalStorage": "Never remove nodes with pods using local storage.",
    "cluster.azure.autoscaler.skipNodesWithSystemPods": "Never remove nodes running kube-system pods.",
    "cluster.azure.autoscaler.maxGracefulTerminationSec": "Longest pod termination wait on scale-down, seconds.",
    "cluster.azure.spotMaxPrice": "Highest Spot price, USD per hour; `-1` pays up to the on-demand price.",
    "cluster.azure.upgradeChannel": "Automatic upgrade channel (`stable`/`rapid` would change the minor version "
                                    "the stack pins).",
    "cluster.azure.nodeOsUpgradeChannel": "How node OS images are updated.",
    "cluster.azure.apiServerAuthorizedIpRanges": D("CIDRs allowed to reach the API server (a production stack must "
                                                   "list some or set `privateCluster`).", items="string",
                                                   default="none: a public API server"),
    "cluster.azure.privateCluster": "API server only on a private endpoint in the VNet.",
    "cluster.azure.entraIdRbac": "Entra ID authentication with Azure RBAC, local accounts off (must stay true "
                                 "in production).",
    "cluster.azure.adminGroupObjectIds": D("Entra ID groups that administer the cluster.", items="string"),
    "cluster.azure.maintenanceWindow": "When AKS may upgrade (both upgrade channels).",
    "cluster.azure.maintenanceWindow.dayOfWeek": "Day of the weekly window.",
    "cluster.azure.maintenanceWindow.startTime": "Start of the window.",
    "cluster.azure.maintenanceWindow.durationHours": "Length of the window, hours.",
    "cluster.azure.maintenanceWindow.utcOffset": "Offset of `startTime` from UTC.",
    "cluster.azure.tags": "Tags on every Azure resource.",

    # --- gpuPools --------------------------------------------------------------------------------------------
    "gpuPools[].name": "Pool name, at most 20 characters (node group names derive from it).",
    "gpuPools[].gpu": D("Catalog GPU of the pool; with `gpusPerNode` it picks the instance type.",
                        default="from `instanceType`; required on an existing cluster"),
    "gpuPools[].gpusPerNode": D("GPUs per node; with `gpu` it picks the instance type.",
                                default="the largest the cloud offers; required on an existing cluster"),
    "gpuPools[].instanceType": D("The cloud's instance type, instead of `gpu`/`gpusPerNode` (must match them if "
                                 "given).", clouds=MANAGED, default="from `gpu` and `gpusPerNode`"),
    "gpuPools[].capacity": "Capacity fallback chain, most preferred first (`reserved` needs `reservation`).",
    "gpuPools[].reservation": "Reservation id or name, with `reserved` capacity.",
    "gpuPools[].minNodes": "Fewest nodes of the pool (0: scale to zero).",
    "gpuPools[].maxNodes": D("Most nodes of the pool.", default="max(1, minNodes)"),
    "gpuPools[].zones": D("Zones the pool's nodes go to.", default="the cluster's zones"),
    "gpuPools[].diskSizeGb": "Root/OS disk of a GPU node, GB (images and weights are large).",
    "gpuPools[].labels": D("Extra node labels; on an existing cluster, required: the labels its GPU nodes already "
                           "carry, to select them."),
    "gpuPools[].taints": "Extra node taints.",
    "gpuPools[].taints[].key": "Taint key.",
    "gpuPools[].taints[].value": "Taint value.",
    "gpuPools[].taints[].effect": "Taint effect.",
    "gpuPools[].sharing": "GPU sharing: none, time-slicing or MIG ([nvidia.md](nvidia.md)).",
    "gpuPools[].sharing.mode": "How pods share a GPU.",
    "gpuPools[].sharing.replicas": D("Pods per GPU with time-slicing (at least 2).",
                                     default="`4` with time-slicing, else `1`"),
    "gpuPools[].sharing.migProfile": D("MIG profile with mode `mig`, checked against the GPU's profiles.",
                                       default="required with mode `mig`"),
    "gpuPools[].image": D("EKS AMI family (AL2 is end-of-life and rejected).", clouds=("aws",), allowed=AWS_IMAGES),
    "gpuPools[].driver": "Who installs the NVIDIA driver: the cloud / node image, or the GPU Operator.",
    "gpuPools[].pricePerHour": D("What a node costs per hour, for the cost report.", clouds=EXISTING),

    # --- models ----------------------------------------------------------------------------------------------
    "models[].name": "Model name, at most 40 characters (object names derive from it).",
    "models[].model": D("Catalog model (catalog/models.py), or give `architecture`.",
                        default="required unless `architecture`"),
    "models[].architecture": "A model outside the catalog, described for sizing.",
    "models[].architecture.hfId": "Hugging Face repository of the weights (the quantized one with `quantization`).",
    "models[].architecture.paramsB": "Parameters, billions.",
    "models[].architecture.layers": "Transformer layers.",
    "models[].architecture.attentionHeads": "Attention heads.",
    "models[].architecture.kvHeads": "Key/value heads (GQA).",
    "models[].architecture.headDim": "Dimension of one head.",
    "models[].architecture.context": "Longest context the model supports, tokens.",
    "models[].architecture.dtype": "Width of the checkpoint's weights.",
    "models[].architecture.hiddenSize": D("Hidden size; when given, vLLM's tensor-parallel rules are checked.",
                                          default="unset"),
    "models[].architecture.intermediateSize": D("MLP intermediate size; when given, vLLM's tensor-parallel rules "
                                                "are checked.", default="unset"),
    "models[].architecture.vocabSize": D("Vocabulary size; with `hiddenSize`, quantized weights keep the "
                                         "embeddings at 16 bits.", default="unset"),
    "models[].architecture.tiedEmbeddings": "Input and output embeddings share weights.",
    "models[].architecture.weightGiB": "Measured resident weights of a custom (quantized) checkpoint, GiB.",
    "models[].dtype": D("Weight width served.", default="the model's"),
    "models[].kvCacheDtype": "KV cache width (`auto`: the model's 16-bit dtype).",
    "models[].maxContext": D("Context length served (`--max-model-len`).", default="min(8192, the model's context)"),
    "models[].concurrency": "Sequences served at once (`--max-num-seqs`); the KV cache must hold "
                            "maxContext × concurrency tokens.",
    "models[].pools": D("Pools the model may use, a fallback chain sharing one pod template.",
                        default="every pool without GPU sharing"),
    "models[].gpuMemoryUtilization": "Fraction of GPU memory vLLM may use.",
    "models[].tensorParallel": D("Forced tensor-parallel size, checked against vLLM's rules.",
                                 default="sizing picks the cheapest"),
    "models[].priority": "Priority tier: critical models never run on spot.",
    "models[].quantization": "vLLM `--quantization` method; a catalog model serves the catalog's checkpoint "
                             "quantized with it ([serving.md](serving.md)).",
    "models[].version": "`app.kubernetes.io/version` on every object of the model.",
    "models[].revision": D("Hugging Face revision (branch, tag, commit) of the weights (`--revision`; not with "
                           "kserve).", default="the default branch"),
    "models[].engine": "Serving engine: the vLLM OpenAI server, a KServe InferenceService or a Ray Serve RayService.",
    "models[].gated": D("The weights need `llmfleet:hfToken`.", default="true for `meta-llama/*`, `mistralai/*`"),
    "models[].replicas": "Replica bounds; a range needs an autoscaler.",
    "models[].replicas.min": "Fewest replicas (0, scale to zero, needs KEDA).",
    "models[].replicas.max": D("Most replicas.", default="`min`"),
    "models[].autoscaling": "What scales the replicas: one of `hpa`, `keda`, `kedaRedis`, and `vpa`.",
    "models[].autoscaling.vpa": "VPA recommendations (`updateMode: Off`) on the model's pods.",
    "models[].autoscaling.hpa": "HPA on vLLM's waiting-request queue per pod, via prometheus-adapter.",
    "models[].autoscaling.hpa.targetQueueDepth": "Waiting requests per pod the HPA aims at.",
    "models[].autoscaling.keda": "KEDA ScaledObject with a Prometheus trigger on the same queue.",
    "models[].autoscaling.keda.targetQueueDepth": "Waiting requests per pod KEDA aims at.",
    "models[].autoscaling.keda.cooldownSeconds": D("Scale-down stabilization, seconds (at most 3600, the HPA "
                                                   "limit).", default="from a load estimate"),
    "models[].autoscaling.keda.schedule": "When the model runs (vllm): outside these hours a cron trigger scales "
                                          "it to zero and its nodes drain.",
    "models[].autoscaling.keda.schedule.days": "Days of the window.",
    "models[].autoscaling.keda.schedule.from": "Start of the window.",
    "models[].autoscaling.keda.schedule.to": "End of the window, exclusive (same day, after `from`).",
    "models[].autoscaling.keda.schedule.timezone": "IANA time zone of the window.",
    "models[].autoscaling.kedaRedis": "KEDA Redis-list trigger for queue-fed workers.",
    "models[].autoscaling.kedaRedis.address": "host:port of the Redis server.",
    "models[].autoscaling.kedaRedis.listName": "Redis list holding the queue.",
    "models[].autoscaling.kedaRedis.listLength": "List entries per pod KEDA aims at.",
    "models[].autoscaling.kedaRedis.cooldownSeconds": D("Scale-down stabilization, seconds (at most 3600).",
                                                        default="from a load estimate"),
    "models[].autoscaling.kedaRedis.schedule": "When the model runs (vllm): outside these hours a cron trigger "
                                               "scales it to zero and its nodes drain.",
    "models[].autoscaling.kedaRedis.schedule.days": "Days of the window.",
    "models[].autoscaling.kedaRedis.schedule.from": "Start of the window.",
    "models[].autoscaling.kedaRedis.schedule.to": "End of the window, exclusive (same day, after `from`).",
    "models[].autoscaling.kedaRedis.schedule.timezone": "IANA time zone of the window.",
    "models[].kserve": "KServe options (engine kserve).",
    "models[].kserve.mode": "A Deployment (Standard) or Knative (Serverless).",
    "models[].kserve.canaryTrafficPercent": "Traffic share of a new revision (Serverless only).",
    "models[].cache": D("Where the weights are cached (vllm); without the block, an emptyDir on the node's disk.",
                        default="mode `none`"),
    "models[].cache.mode": "`none`: emptyDir; `shared`: one ReadWriteMany volume for all replicas; `per-replica`: "
                           "a StatefulSet with a claim per replica.",
    "models[].cache.sizeGi": D("Size of the cache volume, GiB.", default="weights × 1.2 + 10 (at least the "
                                                                         "class's minimum)"),
    "models[].cache.storageClass": D("StorageClass of the cache volume.", default="`serving.storageClass` "
                                     "(shared), the cluster default (per-replica)"),
    "models[].extraArgs": D("Additional vLLM flags (vllm, kserve); never a flag the program sets.", items="string"),
    "models[].slo": "Serving objectives: recording rules and burn-rate alerts "
                    "([observability.md](observability.md)).",
    "models[].slo.p95LatencySeconds": "End-to-end latency 95% of requests meet, seconds (a bucket bound of "
                                      "vLLM's histogram).",
    "models[].slo.ttftSeconds": "Time to first token 95% of requests meet, seconds (a bucket bound).",
    "models[].slo.availability": "Fraction of requests the engine finishes without an error.",

    # --- platform --------------------------------------------------------------------------------------------
    "platform.namespaces": "Namespaces to add, or defaults to override by name.",
    "platform.namespaces[].name": "Namespace name.",
    "platform.namespaces[].podSecurity": "Pod Security Standard the namespace enforces.",
    "platform.namespaces[].quota": "ResourceQuota of the namespace.",
    "platform.namespaces[].quota.gpus": D("GPUs the namespace may request.", default="no limit"),
    "platform.namespaces[].quota.cpu": D("CPU the namespace may request.", default="no limit"),
    "platform.namespaces[].quota.memory": D("Memory the namespace may request.", default="no limit"),
    "platform.namespaces[].quota.pods": D("Pods the namespace may run.", default="no limit"),
    "platform.namespaces[].limits": "LimitRange defaults for containers that set none.",
    "platform.namespaces[].limits.defaultCpu": D("Default CPU limit; only on namespaces of your own (this "
                                                 "program's pods request CPU without a limit).", default="none"),
    "platform.namespaces[].limits.defaultMemory": "Default memory limit.",
    "platform.namespaces[].limits.defaultRequestCpu": "Default CPU request.",
    "platform.namespaces[].limits.defaultRequestMemory": "Default memory request.",

    # --- nvidia ----------------------------------------------------------------------------------------------
    "nvidia.stack": "The NVIDIA GPU Operator, or the standalone device plugin with GPU Feature Discovery and DCGM.",
    "nvidia.dcgmExporter": "Run NVIDIA's DCGM exporter (GPU metrics).",
    "nvidia.migStrategy": "How MIG partitions are exposed (`single`: as `nvidia.com/gpu`).",
    "nvidia.gpuFeatureDiscovery": "Run GPU Feature Discovery (node labels of the GPU model).",
    "nvidia.driver": D("Force the operator's driver on or off.", default="from the pools' driver ownership"),
    "nvidia.toolkit": D("Force the operator's container toolkit on or off.",
                        default="from the pools' driver ownership"),
    "nvidia.devicePlugin": D("Force the operator's device plugin on or off.",
                             default="from the pools' driver ownership"),

    # --- observability ---------------------------------------------------------------------------------------
    "observability.retention": "How long Prometheus keeps samples.",
    "observability.retentionSize": "Most disk Prometheus uses before it drops old blocks.",
    "observability.storageSize": "Prometheus volume size.",
    "observability.storageClass": D("StorageClass of the Prometheus volume.", default="the cluster default"),
    "observability.resources": "Prometheus requests and limit.",
    "observability.resources.cpuRequest": "Prometheus CPU request.",
    "observability.resources.memoryRequest": "Prometheus memory request.",
    "observability.resources.memoryLimit": "Prometheus memory limit.",
    "observability.grafana": "Install Grafana with the GPU and model dashboards.",
    "observability.alerts": "GPU alert thresholds.",
    "observability.alerts.gpuMemoryFullPercent": "GPU memory use above which an alert fires, %.",
    "observability.alerts.gpuIdlePercent": "GPU utilisation under which a GPU counts as idle, %.",
    "observability.alerts.gpuIdleMinutes": "How long a GPU must be idle before the alert fires, minutes.",
    "observability.alerts.gpuTemperatureC": "GPU temperature above which an alert fires, °C.",
    "observability.alerts.missingGpuMinutes": "How long a node may expose fewer GPUs than its type has before the "
                                              "alert fires, minutes.",
    "observability.alertmanager": "Where alerts go; URLs are secrets (`pulumi config set --secret --path`).",
    "observability.alertmanager.webhookUrl": D("Webhook receiver URL.", secret=True),
    "observability.alertmanager.slackUrl": D("Slack incoming-webhook URL.", secret=True),
    "observability.alertmanager.slackChannel": "Slack channel of the Slack receiver.",
    "observability.alertmanager.email": "E-mail receiver (needs `smtpSmarthost` and `smtpFrom`).",
    "observability.alertmanager.smtpSmarthost": "SMTP relay, host:port.",
    "observability.alertmanager.smtpFrom": "Sender address of alert e-mails.",

    # --- serving ---------------------------------------------------------------------------------------------
    "serving.namespace": "Namespace of the model servers.",
    "serving.vllmImage": "vLLM image (a pinned tag).",
    "serving.prometheusUrl": "Prometheus the autoscalers query.",
    "serving.storageClass": "StorageClass of shared (ReadWriteMany) model caches; the cluster creates the cloud's "
                            "([serving.md](serving.md)).",

    # --- prices ----------------------------------------------------------------------------------------------
    "prices.<cloud>/<instanceType>": "The price of one instance type, e.g. `aws/p5.48xlarge`.",
    "prices.<cloud>/<instanceType>.onDemand": "On-demand price, USD per node-hour.",
    "prices.<cloud>/<instanceType>.spot": D("Spot price, USD per node-hour.", default="the catalog's"),
    "prices.<cloud>/<instanceType>.asOf": "When the price was taken (shown in the cost report).",

    # --- budget ----------------------------------------------------------------------------------------------
    "budget.monthly": "Monthly amount, in `currency`.",
    "budget.currency": "Currency of the amount.",
    "budget.alerts": D("Alerts, at most 5 (Azure's limit per budget).", default="actual at 80%, forecasted at 100%"),
    "budget.alerts[].percent": "Share of the monthly amount that triggers the alert, %.",
    "budget.alerts[].type": "Alert on actual spend or on the forecast.",
    "budget.contacts": "E-mail addresses the alerts go to.",
    "budget.gcpBillingAccount": D("Billing account the budget belongs to.", clouds=("gcp",),
                                  default="required on GCP"),
    "budget.azureStartDate": D("First day of the first budgeted month (fixed, so updates do not churn).",
                               clouds=("azure",), default="this month"),

    # --- costGuards ------------------------------------------------------------------------------------------
    "costGuards.monthlyWarning": D("GPU USD per month with every GPU group at its max, above which the pack "
                                   "warns.", default="no warning"),
    "costGuards.monthlyCeiling": D("The same figure, above which the pack refuses the update.",
                                   default="no ceiling"),
    "costGuards.maxGpusPerPool": "Most GPUs one GPU group may reach.",
    "costGuards.requiredTags": "Tags every taggable cloud resource must carry.",
    "costGuards.idleGpuPercent": "GPU utilisation under which a model's GPUs count as idle (ModelGPUsIdle), %.",
    "costGuards.idleGpuMinutes": "How long a model's GPUs must all be idle before ModelGPUsIdle fires, minutes.",
    "costGuards.enforcement": "Enforcement level per policy of the pack, overriding its default.",
    "costGuards.enforcement.gpu-budget-warning": D("GPU USD per month at max stays under `monthlyWarning`.",
                                                   default="`advisory`"),
    "costGuards.enforcement.gpu-budget-ceiling": D("The same figure stays under `monthlyCeiling`.",
                                                   default="`mandatory`"),
    "costGuards.enforcement.nonprod-premium-gpus-not-on-demand": D("Outside production, H100/H200-class groups "
                                                                   "are spot or reserved.", default="`mandatory`"),
    "costGuards.enforcement.nonprod-gpu-scale-to-zero": D("Outside production, GPU groups have `minNodes: 0`.",
                                                          default="`mandatory`"),
    "costGuards.enforcement.max-gpus-per-pool": D("No GPU group reaches more than `maxGpusPerPool` GPUs.",
                                                  default="`mandatory`"),
    "costGuards.enforcement.cost-tags": D("Taggable cloud resources carry the required tags.",
                                          default="`advisory`"),
    "costGuards.enforcement.gpu-workload-priority-class": D("Every GPU workload has a priority class.",
                                                            default="`mandatory`"),
    "costGuards.enforcement.gpu-requests-match-sizing": D("GPU request = limit = tensor-parallel size = what sizing "
                                                          "planned.", default="`mandatory`"),
    "costGuards.enforcement.gpu-workload-pdb": D("Every GPU workload has a PodDisruptionBudget.",
                                                 default="`mandatory`"),

    # --- costTags --------------------------------------------------------------------------------------------
    "costTags.costCenter": D("The `cost-center` tag.", default="none"),
    "costTags.owner": D("The `owner` tag.", default="none"),

    # --- rag -------------------------------------------------------------------------------------------------
    "rag.llm": "The model of `llmfleet:models` (engine vllm) the RAG system answers with.",
    "rag.embedding": "The embedding service (Hugging Face text-embeddings-inference).",
    "rag.embedding.model": "Embedding model (catalog/embeddings.py).",
    "rag.embedding.replicas": "Replica bounds; min < max scales on CPU with an HPA.",
    "rag.embedding.replicas.min": "Fewest replicas.",
    "rag.embedding.replicas.max": D("Most replicas.", default="`min`"),
    "rag.embedding.targetCpuPercent": "CPU utilisation the HPA aims at, %.",
    "rag.embedding.cpu": "CPU request per replica.",
    "rag.embedding.pool": D("GPU pool to run on (one GPU per replica, min = max).", default="CPU nodes"),
    "rag.embedding.image": D("TEI image; its tag must match where the pods run.",
                             default="the CPU image, or the pool's GPU architecture's"),
    "rag.vectorStore": "The Qdrant vector store.",
    "rag.vectorStore.replicas": D("Qdrant nodes: 1, or at least 3 (cluster mode).",
                                  default="3 in production, else 1"),
    "rag.vectorStore.vectors": "Expected vector count: sizes Qdrant's memory and disk.",
    "rag.vectorStore.collection": "Collection name.",
    "rag.vectorStore.storageClass": D("StorageClass of Qdrant's volumes.", default="the cluster default"),
    "rag.vectorStore.storageSize": D("Volume size per Qdrant node.", default="from vectors × dimensions "
                                                                             "(at least 10Gi)"),
    "rag.frontEnd": "The Open WebUI front end.",
    "rag.frontEnd.enabled": D("Install Open WebUI.", default="on outside production"),
    "rag.frontEnd.storageSize": "Open WebUI volume size.",
    "rag.frontEnd.storageClass": D("StorageClass of the Open WebUI volume.", default="the cluster default"),

    # --- gateway ---------------------------------------------------------------------------------------------
    "gateway.hostname": "Public DNS name of the endpoint.",
    "gateway.tls": "How the endpoint's certificate is issued.",
    "gateway.tls.issuer": D("`acme` for a public name (e.g. Let's Encrypt), `selfSigned` for dev and edge.",
                            default="`acme` in production, else `selfSigned`"),
    "gateway.tls.email": D("Contact of the ACME account (acme only).", default="required with acme"),
    "gateway.tls.server": "ACME directory URL, https:// (acme only).",

    # --- federation (a federation stack: no cluster of its own; docs/federation.md) --------------------------
    "federation": D("Makes this a federation stack: one global endpoint over the cloud stacks' Gateways "
                    "([federation.md](federation.md)); no other llmfleet block applies.",
                    default="absent: a cloud stack"),
    "federation.stacks": "The cloud stacks federated, read through StackReferences (their `federation` output).",
    "federation.stacks[].name": "Full stack name, `<org>/llmfleet/<stack>` (the offline plan maps it to "
                                "Pulumi.<stack>.yaml).",
    "federation.hubs": "The stacks whose clusters run the global routing: a primary and an optional standby "
                       "(the DNS failover pair).",
    "federation.hostname": "Global public DNS name clients call (in the Route53 zone below).",
    "federation.tls": "The hubs' certificate for the global name (ACME DNS-01 through Route53).",
    "federation.tls.email": "Contact of the ACME account.",
    "federation.tls.server": "ACME directory URL, https://.",
    "federation.dns": "Where the global name's failover records and health checks live.",
    "federation.dns.route53": "The Route53 hosted zone of the global name.",
    "federation.dns.route53.zoneId": "Hosted zone id.",
    "federation.dns.route53.region": "AWS region of the provider that manages the records (Route53 is global).",
    "federation.models": "Models the global endpoint offers, by the name the stacks serve them under.",
    "federation.tiers": "Virtual model names (`cheap`) resolving to the cheapest healthy backend among the listed "
                        "models.",
    "federation.tiers.<tier>": "The models a tier may answer with.",
    "federation.clients": "Client names; each gets a generated API key (a secret output).",

    # --- routing (docs/gateway.md) ----------------------------------------------------------------------------
    "routing": D("Model routing on the Gateway's OpenAI-compatible `/v1` ([gateway.md](gateway.md)); needs "
                 "llmfleet:gateway.", default="every vLLM model by its own name, one tenant `default`"),
    "routing.models": "Virtual model names clients send as `model`, each with versions and fallbacks.",
    "routing.models[].name": "The virtual name.",
    "routing.models[].versions": "Served models behind the name with traffic weights summing to 100 (canary and "
                                 "rollback are a weight change).",
    "routing.models[].versions[].model": "A vLLM model of llmfleet:models.",
    "routing.models[].versions[].weight": "Share of the traffic, percent.",
    "routing.models[].fallback": "Models tried in order when every version fails (another version, a smaller "
                                 "model).",
    "routing.models[].picker": D("How a pod of the model is chosen: `none` = Envoy's least-request over its pods; "
                                 "`inferencePool` = an InferencePool whose endpoint picker (llm-d-router) weighs "
                                 "each pod's queue and KV cache. Only with one version and no fallback.",
                                 default="none"),
    "routing.tiers": "Cost tiers: virtual names resolved at plan time from the $/1M-token estimate.",
    "routing.tiers[].name": "The tier's virtual name (`cheap`, `best`).",
    "routing.tiers[].pick": "`cheapest`: lowest $/1M tokens first; `best`: the largest model first; the rest "
                            "follow as fallbacks.",
    "routing.tiers[].models": D("Candidate models.", default="every routable model"),
    "routing.tenants": D("Clients of `/v1`, each with a generated API key (a secret output).",
                         default="one tenant, `default`"),
    "routing.tenants[].name": "Tenant name: the key's client id and the rate-limit key.",
    "routing.tenants[].tokensPerHour": D("Total tokens (input + output) per hour over all Envoy replicas "
                                         "(a Redis-backed global limit).", default="no limit"),

    # --- security --------------------------------------------------------------------------------------------
    "security.modelClients": D("Namespaces whose pods may call the model Services (add your gateway's or app's).",
                               default="the serving namespace"),
    "security.networkPolicies": "Render NetworkPolicies (`false`: none, and the cluster checks report them "
                                "unchecked).",
    "security.secrets": "Where the Hugging Face token comes from ([security.md](security.md#secrets)).",
    "security.secrets.source": "`pulumi`: llmfleet:hfToken becomes a Secret; `vault`: the cloud's secret store "
                               "through External Secrets; `sealed`: a Sealed Secrets ciphertext (existing clusters).",
    "security.secrets.vault": "The cloud store (source vault only).",
    "security.secrets.vault.name": D("Azure Key Vault name (globally unique; Azure only).",
                                     default="derived from the cluster name", clouds=("azure",)),
    "security.secrets.vault.refreshInterval": "How often External Secrets re-reads the store entry.",
    "security.secrets.sealed": "Sealed Secrets (source sealed only).",
    "security.secrets.sealed.controller": D("Install the Sealed Secrets controller under kubeseal's default name.",
                                            default="on with source sealed"),
    "security.secrets.sealed.hfToken": "`kubeseal --raw` ciphertext of the Hugging Face token (not a secret: only "
                                       "the controller decrypts it).",
    "images": "Per-image overrides, a tag or `repo@sha256:<digest>` from your registry mirror "
              "([security.md](security.md#images)).",
    "images.vllm": "vLLM model servers (same as serving.vllmImage: set one).",
    "images.ray-llm": "Ray Serve LLM head and workers.",
    "images.tei": D("The RAG embedding service (same as rag.embedding.image: set one).",
                    default="the TEI image for the pool's GPU, or the CPU image"),
    "images.rag-job": "The RAG collection Job.",
    "security.restrictedPods": "Model servers meet Pod Security `restricted` and the serving namespace enforces it.",
}


# Blocks and branches no shipped stack writes (plan/configdocs/ loads them), each merged into a shipped stack of a
# cloud (dicts merged, lists extended). They need not be valid: the readers read every key of a wrong config too;
# a fragment only has to reach the reader calls.
def synthetic() -> list[tuple[str, dict]]:
    custom = {"name": "custom", "architecture": {"hfId": "org/model", "paramsB": 7, "layers": 32,
                                                 "attentionHeads": 32, "kvHeads": 8, "headDim": 128,
                                                 "context": 32768, "weightGiB": 14}}
    scaled = [{"name": f"scaled-{kind.lower()}", "model": "qwen2.5-7b", "replicas": {"min": 1, "max": 2},
               "autoscaling": {kind: {"schedule": {"days": ["Mon"]}}}} for kind in ("hpa", "keda", "kedaRedis")]
    common = {
        "costGuards": {"enforcement": {name: "advisory" for name in POLICY_NAMES}},
        "prices": {"aws/p5.48xlarge": {"onDemand": 55.0}},
        "platform": {"namespaces": [{"name": "team-a", "quota": {"gpus": 1}, "limits": {"defaultCpu": "1"}}]},
        "gpuPools": [{"name": "extra", "gpu": "l4-24gb", "taints": [{"key": "example.com/team"}],
                      "sharing": {"mode": "time-slicing"}}],
        "models": [custom, *scaled, {"name": "served", "model": "qwen2.5-7b", "engine": "kserve",
                                     "kserve": {"mode": "Serverless"}, "cache": {"mode": "per-replica"},
                                     "slo": {"availability": 0.99}, "extraArgs": ["--seed=1"]}],
        "observability": {"alertmanager": {"email": "a@example.com"}},
        "budget": {"monthly": 1000},
        "rag": {"llm": "served", "embedding": {}},
        "gateway": {"hostname": "llm.example.com", "tls": {}},
    }
    return [
        ("prod", {**common, "cluster": {"aws": {"subnetCidrs": {"us-east-1a": {"private": "10.0.0.0/18"}}}}}),
        ("gcp-prod", common),
        ("azure-prod", common),
        ("edge", common),
    ]
