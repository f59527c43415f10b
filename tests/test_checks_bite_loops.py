"""Every rule looks at every object: an object a rule skips (or passes over) must not stop it from judging the ones
that follow, and a rule with several problems names them all. One test per rule loop, the skipped object first."""
from plan.checks import admission, api_rules, hygiene, network, nodes, references, scheduling, secrets
from tests.checks_kit import asg_tag, container, ctx, deployment, eks_group, gpu_pod, limitrange, namespace, rec

NS = "llm-serving"


def names(checks, name):
    return [(c.object, c.verdict) for c in checks if c.name == name]


def obj(kind, name, ns=NS, **body):
    return dict({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns}}, **body)


# --- references -------------------------------------------------------------------------------------------------

def test_references_services_and_monitors_after_skipped_ones():
    pod = deployment("m", [container(ports=[{"name": "http", "containerPort": 80}])])
    no_sel = obj("Service", "a", spec={"ports": [{"port": 80}]})
    two_bad = obj("Service", "b", spec={"selector": {"app": "m"}, "ports": [{"port": 80, "targetPort": "x"},
                                                                            {"port": 81, "targetPort": "y"}]})
    found = references.check(ctx([pod, no_sel, two_bad]))
    assert names(found, "references.service") == [("Service llm-serving/a", "unchecked"),
                                                 ("Service llm-serving/b", "fail")]
    [msg] = [c.message for c in found if c.object == "Service llm-serving/b"]
    assert msg == ("targetPort 'x' is not a named container port of Deployment llm-serving/m; targetPort 'y' is not a "
                   "named container port of Deployment llm-serving/m")
    platform = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
                "metadata": {"name": "p", "namespace": "envoy-gateway-system"},
                "spec": {"namespaceSelector": {"matchNames": ["envoy-gateway-system", "gke-managed-system"]},
                         "selector": {}}}
    mine = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": {"name": "q", "namespace": NS},
            "spec": {"selector": {"matchLabels": {"app": "m"}},
                     "podMetricsEndpoints": [{"port": "a"}, {"port": "b"}]}}
    found = references.check(ctx([pod, platform, mine]))
    mons = {c.object: c for c in found if c.name == "references.monitor"}
    from plan.checks.references import PLATFORM_NAMESPACES
    assert mons["PodMonitor envoy-gateway-system/p"].message == "selects pods the platform runs: " + "; ".join(
        PLATFORM_NAMESPACES[n] for n in ("envoy-gateway-system", "gke-managed-system"))
    assert (mons["PodMonitor llm-serving/q"].verdict, mons["PodMonitor llm-serving/q"].message) == (
        "fail", "podMetricsEndpoints port 'a' is not a container port name; podMetricsEndpoints port 'b' is not a "
                "container port name")


def test_kserve_credentials_after_services_that_need_none():
    def isvc(name, uri, token=True):
        env = [{"name": "HF_TOKEN", "value": "x"}] if token else []
        return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
                "metadata": {"name": name, "namespace": NS},
                "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}, "storageUri": uri,
                                                 "env": env}}}}
    found = references.check(ctx([isvc("a", "s3://x"), isvc("b", "hf://x", token=False), isvc("c", "hf://x")]))
    assert names(found, "references.kserve-hf-credentials") == [("InferenceService llm-serving/c", "fail")]


def test_model_metrics_after_services_of_other_pods_and_readiness_after_other_containers():
    dep = deployment("m", [container("sidecar"), container("kserve-container",
                                                           readinessProbe={"httpGet": {"path": "/"}})],
                     labels={"app": "m", "llmfleet.io/model": "m"})
    other = obj("Service", "o", spec={"selector": {"app": "other"}})
    mine = dict(obj("Service", "s", spec={"selector": {"app": "m"}}),
                metadata={"name": "s", "namespace": NS, "labels": {"svc": "s"}})
    sm = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "sm", "namespace": NS},
          "spec": {"selector": {"matchLabels": {"svc": "s"}}}}
    found = references.check(ctx([dep, other, mine, sm]))
    assert names(found, "references.model-metrics") == [("Deployment llm-serving/m", "pass")]
    assert names(found, "references.model-readiness") == [("Deployment llm-serving/m container kserve-container",
                                                          "fail")]


def test_a_pod_reference_after_an_optional_one_is_still_required():
    dep = deployment("m", [container(envFrom=[{"secretRef": {"name": "opt", "optional": True}},
                                              {"secretRef": {"name": "needed"}}])])
    [(_, verdict)] = names(references.check(ctx([dep])), "references.pod")
    assert verdict == "fail"


def test_install_order_follows_a_dependency_cycle_to_the_chart_it_waits_for():
    # kserve -> l -> l2 -> l (a cycle, visited twice) and l2's child is keda.
    l_urn, l2_urn = "urn:pulumi:t::p::c::l", "urn:pulumi:t::p::c::l2"
    l_ = rec("llmfleet:x:C", "l", {}, deps=[l2_urn])
    l2 = rec("llmfleet:x:C", "l2", {}, deps=[l_urn])
    l_.urn, l2.urn = l_urn, l2_urn
    keda = rec("kubernetes:helm.sh/v3:Release", "keda", {"chart": "keda", "name": "keda"}, parent=l2_urn)
    kserve = rec("kubernetes:helm.sh/v3:Release", "kserve", {"chart": "kserve-resources", "name": "kserve"},
                 deps=[l_urn])
    found = references.check(ctx([], resources=[l_, l2, keda, kserve]))
    assert names(found, "references.install-order") == [("helm release kserve", "pass")]


# --- network ----------------------------------------------------------------------------------------------------

def test_an_unknown_port_skips_a_numbered_rule_port_and_takes_a_later_any_port_one():
    from plan.checks.network import Pod, Policies
    pol = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "e", "namespace": NS},
           "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                    "egress": [{"ports": [{"port": 80}, {"protocol": "TCP"}]}]}}
    src, dst = Pod(NS, {}, "src"), Pod("x", {}, "dst")
    assert Policies([pol], {}).allows(src, dst, None) == (True, "")


def test_network_paths_after_skipped_services_and_clusters():
    knative = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
               "metadata": {"name": "k", "namespace": NS,
                            "annotations": {"serving.kserve.io/deploymentMode": "Knative"}},
               "spec": {"predictor": {"containers": [container()]}}}
    raw = dict(knative, metadata={"name": "a", "namespace": NS})
    tmpl = {"spec": {"containers": [container()]}}
    headless = {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "a", "namespace": NS},
                "spec": {"rayClusterConfig": {"workerGroupSpecs": [{"groupName": "w", "template": tmpl}]}}}
    ray = {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "r", "namespace": NS},
           "spec": {"rayClusterConfig": {"headGroupSpec": {"template": tmpl},
                                         "workerGroupSpecs": [{"groupName": "w", "template": tmpl}]}}}
    got = {(o, what) for o, _, _, _, _, what in network.needed_paths(ctx([raw, knative, headless, ray]))}
    assert ("InferenceService llm-serving/k", "Knative calls the queue-proxy") in got
    assert ("RayService llm-serving/r", "Ray worker joins the head (GCS)") in got


def test_the_rule_judges_paths_after_unchecked_ones():
    so = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so", "namespace": NS},
          "spec": {"triggers": [{"type": "prometheus", "metadata": {"serverAddress": "http://prom:9090"}}]}}
    mon = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "sm", "namespace": NS},
           "spec": {"selector": {"matchLabels": {"x": "y"}}, "endpoints": [{"port": "web"}]}}
    deny = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "d", "namespace": NS},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}
    for first in (so, mon):
        found = network.check(ctx([namespace(NS), first, deployment("m"), deny]))
        dns = [c for c in found if c.name == "network.reachable" and c.message.startswith("DNS")]
        assert [c.verdict for c in dns] == ["fail"]


# --- admission --------------------------------------------------------------------------------------------------

def test_limitrange_container_items_after_other_types_and_every_problem_named():
    lr = limitrange(default={"cpu": "1"})
    lr["spec"]["limits"].insert(0, {"type": "Pod", "max": {"cpu": "8"}})
    [it] = admission._limitrange_items(lr)
    assert it["default"] == {"cpu": "1"}
    p = deployment(containers=[container("a", requests={"cpu": "2", "memory": "2Gi"}, limits={"memory": "1Gi"})])
    lv = [c for c in admission.check(ctx([namespace(), lr, p])) if c.name == "admission.limitrange"][0]
    assert lv.message == ("container a: requests.cpu 2 must be less than or equal to cpu limit of 1 (LimitRanger set "
                          "cpu limit 1); container a: requests.memory 2147483648 must be less than or equal to memory "
                          "limit of 1073741824 (LimitRanger set cpu limit 1)")


def test_extended_and_pod_security_problems_are_all_named():
    p = deployment(containers=[container("a", requests={"nvidia.com/gpu": "1", "example.com/x": "1"},
                                         limits={"nvidia.com/gpu": "2"})], hostNetwork=True, hostPID=True)
    found = {c.name: c.message for c in admission.check(ctx([namespace(), p]))}
    assert sorted(found["admission.extended-resources"].split("; ")) == [
        "container a: example.com/x: Limit must be set for non overcommitable resources",
        "container a: nvidia.com/gpu request 1 must be equal to nvidia.com/gpu limit of 2"]
    assert found["admission.pod-security"] == ('violates PodSecurity "baseline": hostNamespaces: hostNetwork=true; '
                                               'hostNamespaces: hostPID=true')


def test_quota_after_a_scoped_quota_and_resources_after_pods():
    scoped = obj("ResourceQuota", "a", spec={"hard": {"pods": "1"}, "scopes": ["BestEffort"]})
    q = obj("ResourceQuota", "b", spec={"hard": {"pods": "10", "requests.cpu": "1"}})
    p = deployment(replicas=2, containers=[container(requests={"cpu": "1"})])
    found = {c.object: (c.verdict, c.message) for c in admission.check(ctx([scoped, q, p]))
             if c.name == "admission.quota"}
    assert found["ResourceQuota llm-serving/a"][0] == "unchecked"
    assert found["ResourceQuota llm-serving/b"] == (
        "fail", "requests.cpu: the namespace's pods at their maximum replicas use 2, over the quota's 1")


# --- nodes ------------------------------------------------------------------------------------------------------

def test_node_groups_after_other_resources_and_template_tags_after_other_tags():
    g = eks_group("g")
    tags = [asg_tag(g, "k8s.io/cluster-autoscaler/enabled", "true"),
            asg_tag(g, "k8s.io/cluster-autoscaler/node-template/label/x", "1")]
    [t] = nodes.node_templates(ctx([], resources=tags + [rec("aws:iam/role:Role", "r", {}), g]))
    assert t.group == "g" and t.from_zero.labels["x"] == "1"
    np = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "np"},
          "spec": {"template": {"spec": {"requirements": [{"key": "karpenter.sh/capacity-type", "operator": "In",
                                                           "values": ["spot"]}]}}}}
    ts = nodes.node_templates(ctx([deployment(), np], resources=[]))
    assert [t.group for t in ts] == ["np"]
    prefix = "k8s.io_cluster-autoscaler_node-template_"
    pool = rec("azure-native:containerservice:AgentPool", "a", {
        "agentPoolName": "a", "vmSize": "Standard_NC24ads_A100_v4",
        "tags": {"team": "ml", prefix + "label_x": "1"}})
    [t] = nodes.node_templates(ctx([], cloud="azure", resources=[rec("azure-native:x:Y", "o", {}), pool]))
    assert t.group == "a" and t.from_zero.labels["x"] == "1"


# --- scheduling -------------------------------------------------------------------------------------------------

def gke_pool(name, spot=False):
    nc = {"machineType": "a3-highgpu-8g", "spot": spot, "labels": {"llmfleet.io/pool": "h100"},
          "guestAccelerators": [{"type": "nvidia-h100-80gb", "count": 8}]}
    return rec("gcp:container/nodePool:NodePool", name, {"name": name, "nodeConfig": nc,
                                                         "autoscaling": {"totalMinNodeCount": 0,
                                                                         "totalMaxNodeCount": 2}})


def test_scheduling_checks_gpu_pods_after_cpu_pods_and_pods_fitting_one_pool():
    cpu = deployment("cpu")
    found = scheduling.check(ctx([cpu, gpu_pod("g")], resources=[eks_group("h100")]))
    assert names(found, "scheduling.gpu-fit") == [("Deployment llm-serving/g", "pass")]
    one_pool = gpu_pod("one", pool="other")
    found = scheduling.check(ctx([cpu, one_pool, gpu_pod("two")], cloud="gcp",
                                 resources=[gke_pool("od"), gke_pool("spot", spot=True)]))
    assert names(found, "scheduling.gke-fallback-order") == [("Deployment llm-serving/two", "fail")]


def test_operator_daemonsets_judged_on_groups_after_skipped_ones():
    op = rec("kubernetes:helm.sh/v3:Release", "gpu-operator", {"chart": "gpu-operator", "values": {}})
    br = eks_group("br")
    br.inputs["amiType"] = "BOTTLEROCKET_x86_64_NVIDIA"
    opted = eks_group("opted", labels={"nvidia.com/gpu.deploy.operands": "false"})
    found = scheduling.check(ctx([], resources=[br, opted, eks_group("ok"), op]))
    assert names(found, "scheduling.nvidia-daemonsets") == [
        ("aws node group br (on-demand)", "fail"), ("aws node group opted (on-demand)", "pass"),
        ("aws node group ok (on-demand)", "pass")]


def test_both_operator_problems_are_named():
    pool = rec("azure-native:containerservice:AgentPool", "s", {
        "agentPoolName": "s", "vmSize": "Standard_NC24ads_A100_v4", "scaleSetPriority": "Spot",
        "gpuProfile": {"driver": "Install"}, "nodeTaints": []})
    op = rec("kubernetes:helm.sh/v3:Release", "gpu-operator", {"chart": "gpu-operator", "values": {}})
    [c] = [c for c in scheduling.check(ctx([], cloud="azure", resources=[pool, op]))
           if c.name == "scheduling.nvidia-daemonsets"]
    assert c.message == ("GPU Operator DaemonSets do not tolerate kubernetes.azure.com/scalesetpriority=spot:NoSchedule; "
                         "operands use runtimeClassName 'nvidia', the node defines only ['nvidia-container-runtime']: "
                         "their pods never start")


# --- hygiene ----------------------------------------------------------------------------------------------------

def test_hygiene_after_jobs_and_every_ray_container():
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j", "namespace": NS},
           "spec": {"template": {"spec": {"containers": [container()]}}}}
    found = hygiene.check(ctx([job, deployment("m", replicas=2)]))
    assert names(found, "hygiene.probes") == [("Deployment llm-serving/m container app", "fail")]
    assert names(found, "hygiene.pdb") == [("Deployment llm-serving/m", "fail")]
    head = {"spec": {"containers": [container("a"), container("b")]}}
    ray = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "r", "namespace": NS},
           "spec": {"headGroupSpec": {"template": head}}}
    assert names(hygiene.check(ctx([ray])), "hygiene.probes") == [
        ("RayCluster llm-serving/r head container a", "pass"), ("RayCluster llm-serving/r head container b", "pass")]


def test_a_limitrange_of_the_namespace_counts_after_one_of_another():
    found = hygiene.check(ctx([limitrange(default={"memory": "1Gi"}, ns="other"), limitrange(default={"memory": "1Gi"}),
                               deployment(containers=[container(requests={"cpu": "1"})])]))
    assert [c.verdict for c in found if c.name == "hygiene.requests"] == ["pass"]


# --- secrets and API rules --------------------------------------------------------------------------------------

def test_a_store_with_two_providers_and_external_secrets_after_a_cluster_store_one():
    store = {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": "s", "namespace": NS},
             "spec": {"provider": {"aws": {"region": "x"},
                                   "gcpsm": {"auth": {"workloadIdentity": {"serviceAccountRef": {"name": "eso"}}}}}}}
    assert [c.verdict for c in secrets.check(ctx([store])) if c.name == "secrets.store-identity"] == [
        "unchecked", "fail"]
    es = lambda name, kind: {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                             "metadata": {"name": name, "namespace": NS},
                             "spec": {"secretStoreRef": {"name": "s", "kind": kind}}}
    found = secrets.check(ctx([store, es("a", "ClusterSecretStore"), es("b", "SecretStore")]))
    assert names(found, "secrets.store-ref") == [("ExternalSecret llm-serving/a", "unchecked"),
                                                ("ExternalSecret llm-serving/b", "pass")]


def test_api_rules_after_kinds_they_do_not_judge():
    hpa = obj("HorizontalPodAutoscaler", "h", spec={"maxReplicas": 2})
    assert [c.object for c in api_rules.check(ctx([obj("Service", "s"), hpa]))] == [
        "HorizontalPodAutoscaler llm-serving/h"]


def test_a_budget_is_judged_for_a_workload_after_one_without_any():
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b", "namespace": NS},
           "spec": {"selector": {"matchLabels": {"app": "second"}}, "maxUnavailable": 1}}
    found = hygiene.check(ctx([deployment("first", replicas=2), deployment("second", replicas=2), pdb]))
    assert names(found, "hygiene.pdb") == [("Deployment llm-serving/first", "fail"),
                                          ("Deployment llm-serving/second", "pass")]
