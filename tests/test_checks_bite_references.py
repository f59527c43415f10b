"""The reference rules' decisions one by one (plan/checks/references.py, plan/checks/secrets.py): what counts as
existing, what a pod, Service, monitor, scaler, PDB, InferenceService names, and where each must fail or pass."""
from plan.checks import references, secrets
from tests.checks_kit import container, ctx, deployment, eks_group, rec

NS = "llm-serving"


def helm(chart, ns, values=None, name=None, deps=()):
    return rec("kubernetes:helm.sh/v3:Release", name or chart,
               {"chart": f"oci://x/{chart}", "version": "1.0", "namespace": ns, "name": name or chart,
                "values": values or {}}, deps=deps)


def obj(kind, name, ns=NS, **body):
    meta = {"name": name} if ns is None else {"name": name, "namespace": ns}
    return dict({"apiVersion": "v1", "kind": kind, "metadata": meta}, **body)


def only(checks, name, object_=None):
    found = [(c.verdict, c.message) for c in checks if c.name == name and (object_ is None or c.object == object_)]
    assert len(found) == 1, found
    return found[0]


def pod_verdict(objs, resources=(), who="Deployment llm-serving/m"):
    return only(references.check(ctx(objs, resources=resources)), "references.pod", who)


# --- what exists ------------------------------------------------------------------------------------------------

def test_builtin_objects_exist_everywhere():
    c = ctx([])
    assert references._exists(c, "ServiceAccount", "any", "default")
    assert references._exists(c, "ConfigMap", "any", "kube-root-ca.crt")
    assert references._exists(c, "PriorityClass", None, "system-node-critical")
    assert references._exists(c, "PriorityClass", None, "system-cluster-critical")
    assert not references._exists(c, "ServiceAccount", "any", "kube-root-ca.crt")
    assert not references._exists(c, "PriorityClass", None, "high")


def test_priority_classes_are_cluster_scoped_and_other_kinds_need_the_namespace():
    pc = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"}, "value": 1}
    assert references._exists(ctx([pc]), "PriorityClass", NS, "high")
    sa = obj("ServiceAccount", "sa", ns="other")
    assert not references._exists(ctx([sa]), "ServiceAccount", NS, "sa")
    assert references._exists(ctx([sa]), "ServiceAccount", "other", "sa")


def test_a_secret_an_external_or_sealed_secret_writes_exists_in_its_namespace():
    es = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "es", "namespace": NS},
          "spec": {"target": {"name": "tok"}, "data": [{"secretKey": "HF_TOKEN"}]}}
    assert references._exists(ctx([es]), "Secret", NS, "tok")
    assert not references._exists(ctx([es]), "Secret", NS, "es")
    assert not references._exists(ctx([es]), "Secret", "other", "tok")
    assert not references._exists(ctx([es]), "ConfigMap", NS, "tok")
    es_default = dict(es, spec={"data": []})
    assert references._exists(ctx([es_default]), "Secret", NS, "es")        # target name defaults to its own


def test_chart_created_objects_exist_under_the_release_or_fullname_override_in_the_release_namespace():
    kps = helm("kube-prometheus-stack", "monitoring", name="kps")
    c = ctx([], resources=[kps])
    assert references._exists(c, "Service", "monitoring", "kps-prometheus")
    assert not references._exists(c, "Service", NS, "kps-prometheus")
    assert not references._exists(c, "Deployment", "monitoring", "kps-prometheus")
    over = helm("kube-prometheus-stack", "monitoring", {"fullnameOverride": "prom"}, name="kps")
    c = ctx([], resources=[over])
    assert references._exists(c, "ServiceAccount", "monitoring", "prom-prometheus")
    assert not references._exists(c, "ServiceAccount", "monitoring", "kps-prometheus")
    c = ctx([], resources=[helm("prometheus-adapter", "llm-system", name="pa")])
    assert references._exists(c, "Deployment", "llm-system", "pa")


# --- pods -------------------------------------------------------------------------------------------------------

def test_a_pod_fails_for_each_missing_reference_and_names_where_it_is():
    c = container(env=[{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k"}}},
                       {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "c1", "key": "k"}}}],
                  envFrom=[{"secretRef": {"name": "s2"}}, {"configMapRef": {"name": "c2"}}])
    dep = deployment("m", [c], serviceAccountName="sa", priorityClassName="high",
                     imagePullSecrets=[{"name": "pull"}],
                     volumes=[{"name": "v1", "secret": {"secretName": "s3"}},
                              {"name": "v2", "configMap": {"name": "c3"}},
                              {"name": "v3", "persistentVolumeClaim": {"claimName": "pvc"}}])
    verdict, msg = pod_verdict([dep])
    assert verdict == "fail"
    assert msg.split("; ") == [
        "serviceAccountName names ServiceAccount 'sa', which neither the plan nor a listed chart creates",
        "priorityClassName names PriorityClass 'high', which neither the plan nor a listed chart creates",
        "imagePullSecrets names Secret 'pull', which neither the plan nor a listed chart creates",
        "volume v1 names Secret 's3', which neither the plan nor a listed chart creates",
        "volume v2 names ConfigMap 'c3', which neither the plan nor a listed chart creates",
        "volume v3 names PersistentVolumeClaim 'pvc', which neither the plan nor a listed chart creates",
        "container app env T names Secret 's1', which neither the plan nor a listed chart creates",
        "container app env C names ConfigMap 'c1', which neither the plan nor a listed chart creates",
        "container app envFrom names Secret 's2', which neither the plan nor a listed chart creates",
        "container app envFrom names ConfigMap 'c2', which neither the plan nor a listed chart creates"]
    present = [obj("ServiceAccount", "sa"), obj("Secret", "pull"), obj("Secret", "s1"), obj("Secret", "s2"),
               obj("Secret", "s3"), obj("ConfigMap", "c1"), obj("ConfigMap", "c2"), obj("ConfigMap", "c3"),
               obj("PersistentVolumeClaim", "pvc"), obj("PriorityClass", "high", ns=None)]
    assert pod_verdict([dep] + present) == (
        "pass", "every Secret, ConfigMap, ServiceAccount, PVC and PriorityClass it names exists")


def test_optional_references_are_not_required_and_an_empty_name_is_missing():
    c = container(env=[{"name": "T", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k", "optional": True}}}],
                  envFrom=[{"configMapRef": {"name": "c2", "optional": True}}])
    dep = deployment("m", [c], volumes=[{"name": "v1", "secret": {"secretName": "s3", "optional": True}},
                                        {"name": "v2", "configMap": {"name": "c3", "optional": True}}])
    assert pod_verdict([dep])[0] == "pass"
    opt_false = deployment("m", [container(envFrom=[{"secretRef": {"name": "s", "optional": False}}])])
    assert pod_verdict([opt_false])[0] == "fail"
    nameless = deployment("m", [container(envFrom=[{"secretRef": {}}])])
    assert pod_verdict([nameless]) == (
        "fail", "container app envFrom names Secret None, which neither the plan nor a listed chart creates")


def test_a_statefulset_claim_template_is_a_volume_and_no_pvc_to_find():
    sts = deployment("m", [container(volumeMounts=[{"name": "data", "mountPath": "/d"}])],
                     volumes=[{"name": "x", "persistentVolumeClaim": {"claimName": "data"}}])
    sts["kind"] = "StatefulSet"
    sts["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}}]
    assert pod_verdict([sts], who="StatefulSet llm-serving/m")[0] == "pass"
    del sts["spec"]["volumeClaimTemplates"]
    verdict, msg = pod_verdict([sts], who="StatefulSet llm-serving/m")
    assert verdict == "fail" and msg.split("; ") == [
        "volume x names PersistentVolumeClaim 'data', which neither the plan nor a listed chart creates",
        "container app mounts data, which is no volume"]


def test_an_init_container_mount_without_volume_fails():
    dep = deployment("m", [container()], volumes=[{"name": "a", "emptyDir": {}}],
                     initContainers=[container("init", volumeMounts=[{"name": "a", "mountPath": "/a"},
                                                                     {"name": "b", "mountPath": "/b"}])])
    assert pod_verdict([dep]) == ("fail", "container init mounts b, which is no volume")


# --- Services and monitors --------------------------------------------------------------------------------------

def service(selector, ports, labels=None, ns=NS, name="s"):
    return obj("Service", name, ns=ns, spec={"selector": selector, "ports": ports}) | (
        {"metadata": {"name": name, "namespace": ns, "labels": labels}} if labels else {})


def model_pod(ns=NS):
    return deployment("m", [container(ports=[{"name": "http", "containerPort": 8000}])], ns=ns)


def test_a_service_selects_pods_of_its_namespace_with_its_named_target_ports():
    sv = lambda objs: only(references.check(ctx(objs)), "references.service")
    assert sv([model_pod(), service({"app": "m"}, [{"port": 80, "targetPort": "http"}])]) == (
        "pass", "selects Deployment llm-serving/m")
    assert sv([model_pod(), service({"app": "m"}, [{"port": 80, "targetPort": "grpc"}])]) == (
        "fail", "targetPort 'grpc' is not a named container port of Deployment llm-serving/m")
    assert sv([model_pod(), service({"app": "m"}, [{"port": 80, "targetPort": 9999}])])[0] == "pass"
    assert sv([model_pod(), service({"app": "m"}, [{"port": 80}])])[0] == "pass"
    assert sv([model_pod("other"), service({"app": "m"}, [{"port": 80}])]) == (
        "fail", "selector {'app': 'm'} matches no pod template in llm-serving")
    assert sv([model_pod(), service({"app": "m", "x": "y"}, [{"port": 80}])])[0] == "fail"
    assert sv([model_pod(), service({}, [{"port": 80}])]) == ("unchecked", "no selector (endpoints managed elsewhere)")


def monitor(kind, ns=NS, selector=None, nss=None, endpoints=None):
    spec = {"selector": selector if selector is not None else {"matchLabels": {"app": "m"}}}
    if nss is not None:
        spec["namespaceSelector"] = nss
    key = "endpoints" if kind == "ServiceMonitor" else "podMetricsEndpoints"
    spec[key] = endpoints if endpoints is not None else [{"port": "http"}]
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": kind, "metadata": {"name": "mon", "namespace": ns},
            "spec": spec}


def mon_verdict(objs, kind="ServiceMonitor", ns=NS):
    return only(references.check(ctx(objs)), "references.monitor", f"{kind} {ns}/mon")


def test_a_service_monitor_selects_services_of_its_namespace_or_the_listed_ones_and_their_port_names():
    s = service({"app": "m"}, [{"name": "http", "port": 80}], labels={"app": "m"})
    assert mon_verdict([model_pod(), s, monitor("ServiceMonitor")]) == ("pass", "selects Service llm-serving/s")
    assert mon_verdict([model_pod(), s, monitor("ServiceMonitor", ns="monitoring")], ns="monitoring") == (
        "fail", "selector {'matchLabels': {'app': 'm'}} matches no Service in ['monitoring']")
    assert mon_verdict([model_pod(), s, monitor("ServiceMonitor", ns="monitoring", nss={"matchNames": [NS]})],
                       ns="monitoring")[0] == "pass"
    assert mon_verdict([model_pod(), s, monitor("ServiceMonitor", ns="monitoring", nss={"any": True})],
                       ns="monitoring")[0] == "pass"
    assert mon_verdict([model_pod(), monitor("ServiceMonitor", ns="monitoring", nss={"any": True})],
                       ns="monitoring") == (
        "fail", "selector {'matchLabels': {'app': 'm'}} matches no Service in any namespace")
    assert mon_verdict([model_pod(), s, monitor("ServiceMonitor", endpoints=[{"port": "web"}])]) == (
        "fail", "endpoint port 'web' is not a port name of the selected Services")
    assert mon_verdict([model_pod(), s, monitor("ServiceMonitor", endpoints=[{"targetPort": 80}])])[0] == "pass"


def test_a_pod_monitor_selects_pods_and_their_container_port_names():
    assert mon_verdict([model_pod(), monitor("PodMonitor")], "PodMonitor") == (
        "pass", "selects Deployment llm-serving/m")
    assert mon_verdict([model_pod(), monitor("PodMonitor", endpoints=[{"port": "metrics"}])], "PodMonitor") == (
        "fail", "podMetricsEndpoints port 'metrics' is not a container port name")
    assert mon_verdict([model_pod("x"), monitor("PodMonitor")], "PodMonitor") == (
        "fail", "selector {'matchLabels': {'app': 'm'}} matches no pod template in ['llm-serving']")
    assert mon_verdict([model_pod("x"), monitor("PodMonitor", nss={"any": True})], "PodMonitor")[0] == "pass"


def test_a_monitor_of_platform_namespaces_only_is_unchecked():
    pm = monitor("PodMonitor", ns="envoy-gateway-system")
    verdict, msg = mon_verdict([pm], "PodMonitor", "envoy-gateway-system")
    assert verdict == "unchecked" and msg.startswith("selects pods the platform runs: Envoy Gateway's proxy pods")
    mixed = monitor("PodMonitor", ns="envoy-gateway-system", nss={"matchNames": ["envoy-gateway-system", NS]})
    assert mon_verdict([mixed], "PodMonitor", "envoy-gateway-system")[0] == "fail"


# --- scale targets and PDBs -------------------------------------------------------------------------------------

def test_scalers_need_their_target_and_a_scaled_object_targets_a_deployment_by_default():
    tv = lambda objs, who, res=(): only(references.check(ctx(objs, resources=res)), "references.scale-target", who)
    so = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "so", "namespace": NS},
          "spec": {"scaleTargetRef": {"name": "m"}}}
    assert tv([model_pod(), so], "ScaledObject llm-serving/so") == ("pass", "targets Deployment m")
    assert tv([so], "ScaledObject llm-serving/so") == ("fail", "target Deployment llm-serving/m is not in the plan")
    vpa = {"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
           "metadata": {"name": "v", "namespace": "llm-system"},
           "spec": {"targetRef": {"kind": "Deployment", "name": "pa"}}}
    assert tv([vpa], "VerticalPodAutoscaler llm-system/v")[0] == "fail"
    assert tv([vpa], "VerticalPodAutoscaler llm-system/v", [helm("prometheus-adapter", "llm-system", name="pa")]) == (
        "pass", "targets Deployment pa")
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": NS},
           "spec": {"scaleTargetRef": {"name": "m"}}}
    assert tv([model_pod(), hpa], "HorizontalPodAutoscaler llm-serving/h")[0] == "fail"     # no kind, no default


def test_a_pdb_must_select_a_pod_of_its_namespace():
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p", "namespace": NS},
           "spec": {"selector": {"matchLabels": {"app": "m"}}}}
    pv = lambda objs: only(references.check(ctx(objs)), "references.pdb")
    assert pv([model_pod(), pdb]) == ("pass", "selects Deployment llm-serving/m")
    assert pv([model_pod("x"), pdb]) == ("fail", "selector {'matchLabels': {'app': 'm'}} matches no pod template")


# --- KServe -----------------------------------------------------------------------------------------------------

def isvc(uri="hf://a/b", env=(("HF_TOKEN", "x"),), sa=None):
    pred = {"model": {"modelFormat": {"name": "huggingface"}, "storageUri": uri,
                      "env": [{"name": k, "value": v} for k, v in env]}}
    if sa:
        pred["serviceAccountName"] = sa
    return {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "k", "namespace": NS}, "spec": {"predictor": pred}}


def hf_checks(objs):
    return [(c.verdict, c.message) for c in references.check(ctx(objs)) if c.name == "references.kserve-hf-credentials"]


def test_gated_hf_weights_need_the_token_on_the_default_or_named_service_account():
    default_sa = obj("ServiceAccount", "default", secrets=[{"name": "hf"}])
    token = obj("Secret", "hf", data={"HF_TOKEN": "eA=="})
    assert hf_checks([isvc(), default_sa, token]) == [
        ("pass", "ServiceAccount default carries a Secret with key HF_TOKEN")]
    assert hf_checks([isvc(), default_sa, obj("Secret", "hf", data={"TOKEN": "eA=="})])[0][0] == "fail"
    assert hf_checks([isvc(sa="other"), default_sa, token]) == [
        ("fail", "gated weights (hf://a/b) but ServiceAccount 'other' has no Secret with key HF_TOKEN: the storage "
                 "initializer cannot download them (the container's env does not reach it)")]
    two = obj("ServiceAccount", "default", secrets=[{"name": "hf"}, {"name": "none"}])
    assert hf_checks([isvc(), two, token])[0][0] == "pass"          # a later Secret without the key keeps the pass
    assert hf_checks([isvc(uri="s3://a/b"), default_sa]) == []
    assert hf_checks([isvc(env=(("OTHER", "x"),))]) == []


def test_model_pods_must_be_scraped_by_a_monitor_of_their_own_namespace():
    dep = deployment("m", [container()], labels={"app": "m", "llmfleet.io/model": "m"})
    mv = lambda objs: only(references.check(ctx(objs)), "references.model-metrics")
    pm = monitor("PodMonitor", selector={"matchLabels": {"llmfleet.io/model": "m"}})
    assert mv([dep, pm]) == ("pass", "scraped via PodMonitor mon")
    assert mv([dep, monitor("PodMonitor", ns="x", selector={"matchLabels": {"llmfleet.io/model": "m"}})])[0] == "fail"
    s = service({"llmfleet.io/model": "m"}, [{"name": "http", "port": 80}], labels={"svc": "m"})
    sm = monitor("ServiceMonitor", selector={"matchLabels": {"svc": "m"}})
    assert mv([dep, s, sm]) == ("pass", "scraped via ServiceMonitor mon")
    assert mv([dep, service({"llmfleet.io/model": "m"}, [], labels={"svc": "m"}, ns="x"), sm])[0] == "fail"
    assert mv([dep, service({"llmfleet.io/model": "other"}, [], labels={"svc": "m"}), sm])[0] == "fail"
    assert mv([dep, service({}, [], labels={"svc": "m"}), sm])[0] == "fail"
    assert mv([dep, s, monitor("ServiceMonitor", selector={"matchLabels": {"svc": "x"}})]) == (
        "fail", "no ServiceMonitor or PodMonitor scrapes model m's pods: its autoscaling and alerts get no data")
    plain = deployment("p", [container()])
    assert [c for c in references.check(ctx([plain])) if c.name == "references.model-metrics"] == []
    # A Ray head serves no model traffic to scrape; its workers do.
    tmpl = {"metadata": {"labels": {"llmfleet.io/model": "m"}}, "spec": {"containers": [container()]}}
    ray = {"apiVersion": "ray.io/v1", "kind": "RayService", "metadata": {"name": "r", "namespace": NS},
           "spec": {"rayClusterConfig": {"headGroupSpec": {"template": tmpl},
                                         "workerGroupSpecs": [{"groupName": "gpu", "template": tmpl}]}}}
    assert [c.object for c in references.check(ctx([ray])) if c.name == "references.model-metrics"] == [
        "RayService llm-serving/r worker gpu"]


def test_kserve_readiness_is_checked_on_the_serving_container_of_model_pods_only():
    probe = lambda path: {"readinessProbe": {"httpGet": {"path": path}}} if path else {}
    def ready(path, name="kserve-container", model=True):
        labels = {"app": "m", "llmfleet.io/model": "m"} if model else {"app": "m"}
        return [(c.verdict, c.message) for c in references.check(ctx([deployment(
            "m", [container(name, **probe(path))], labels=labels)])) if c.name == "references.model-readiness"]
    assert ready("/v2/health/ready") == [("pass", "readiness waits for the model (/v2/health/ready)")]
    assert ready("/v2/models/m/ready")[0][0] == "pass"
    assert ready("/") == [("fail", "readiness probe path '/' answers before the model is loaded; use one of "
                                   "/v1/models/, /v2/models/, /v2/health/ready (per-model endpoints)")]
    assert ready(None)[0][0] == "fail"
    assert ready("/", name="vllm") == []
    assert ready("/", model=False) == []


# --- GPU metrics ------------------------------------------------------------------------------------------------

RULE = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "gpu", "namespace": "m"},
        "spec": {"groups": [{"name": "g", "rules": [{"alert": "x", "expr": "DCGM_FI_DEV_XID_ERRORS > 0"}]}]}}


def gpu_checks(objs, resources):
    return [(c.verdict, c.message) for c in references.check(ctx(objs, resources=resources))
            if c.name == "references.gpu-metrics"]


def test_gpu_metrics_need_an_exporter_from_the_operator_a_chart_or_gke():
    group = eks_group("h100")
    op = helm("gpu-operator", "gpu-operator")
    assert gpu_checks([RULE], [group, op]) == [
        ("pass", "every GPU group that runs operator operands has a DCGM exporter for PrometheusRule gpu")]
    assert gpu_checks([RULE], [group]) == [
        ("fail", "PrometheusRule gpu read DCGM metrics, but no exporter runs on aws node group h100 (on-demand)")]
    no_dcgm = eks_group("h100", labels={"llmfleet.io/pool": "h100", "nvidia.com/gpu.deploy.dcgm-exporter": "false"})
    assert gpu_checks([RULE], [no_dcgm, op])[0][0] == "fail"
    off = helm("gpu-operator", "gpu-operator", {"dcgmExporter": {"enabled": False}})
    assert gpu_checks([RULE], [group, off])[0][0] == "fail"
    assert gpu_checks([RULE], [group, helm("dcgm-exporter", "monitoring")])[0][0] == "pass"
    gke = lambda comps, managed: rec("gcp:container/cluster:Cluster", "c", {"monitoringConfig": {
        "enableComponents": comps, "managedPrometheus": {"enabled": managed}}})
    assert gpu_checks([RULE], [group, gke(["DCGM"], True)])[0][0] == "pass"
    assert gpu_checks([RULE], [group, gke(["DCGM"], False)])[0][0] == "fail"
    assert gpu_checks([RULE], [group, gke(["SYSTEM_COMPONENTS"], True)])[0][0] == "fail"
    # Nothing reads DCGM metrics, or no GPU nodes: no check.
    assert gpu_checks([dict(RULE, spec={})], [group]) == []
    assert gpu_checks([RULE], [eks_group("cpu", itype="m7i.large", labels={}, taints=[])]) == []


# --- install order ----------------------------------------------------------------------------------------------

def test_kserve_waits_for_keda_directly_or_through_a_component_subtree():
    keda = helm("keda", "llm-system")
    comp = rec("llmfleet:layer:Autoscaling", "autoscaling", {})
    keda_child = rec("kubernetes:helm.sh/v3:Release", "keda", {"chart": "keda", "name": "keda"}, parent=comp.urn)
    iv = lambda res: only(references.check(ctx([], resources=res)), "references.install-order")
    assert iv([keda, helm("kserve-resources", "kserve", deps=[keda.urn])]) == (
        "pass", "installs after keda")
    assert iv([comp, keda_child, helm("kserve-resources", "kserve", deps=[comp.urn])])[0] == "pass"
    assert iv([keda, helm("kserve-resources", "kserve")]) == (
        "fail", "installs in parallel with keda; its controller must start after keda's CRDs exist")
    assert [c for c in references.check(ctx([], resources=[helm("kserve-resources", "kserve")]))
            if c.name == "references.install-order"] == []


# --- secrets.py -------------------------------------------------------------------------------------------------

def store(provider, ns=NS, name="st"):
    return {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": name, "namespace": ns},
            "spec": {"provider": provider}}


def sa(annotations=None, ns=NS, name="eso"):
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}}}


def store_checks(objs):
    return [(c.verdict, c.message) for c in secrets.check(ctx(objs)) if c.name == "secrets.store-identity"]


def test_each_store_provider_needs_its_service_account_with_its_identity_annotation():
    cases = [({"aws": {"auth": {"jwt": {"serviceAccountRef": {"name": "eso"}}}}}, "eks.amazonaws.com/role-arn"),
             ({"gcpsm": {"auth": {"workloadIdentity": {"serviceAccountRef": {"name": "eso"}}}}},
              "iam.gke.io/gcp-service-account"),
             ({"azurekv": {"serviceAccountRef": {"name": "eso"}}}, "azure.workload.identity/client-id")]
    for provider, annotation in cases:
        assert store_checks([store(provider), sa({annotation: "x"})]) == [
            ("pass", f"authenticates as ServiceAccount eso ({annotation})")]
        assert store_checks([store(provider), sa({"other": "x"})]) == [
            ("fail", f"ServiceAccount 'eso' lacks annotation {annotation}, which names the cloud identity ESO "
                     f"exchanges its token for")]
        assert store_checks([store(provider)]) == [("fail", "ServiceAccount 'eso' is not in the plan")]
        assert store_checks([store(provider), sa({annotation: "x"}, ns="x")])[0][0] == "fail"


def test_a_store_account_in_another_namespace_and_a_store_without_account():
    provider = {"aws": {"auth": {"jwt": {"serviceAccountRef": {"name": "eso", "namespace": "x"}}}}}
    assert store_checks([store(provider), sa({"eks.amazonaws.com/role-arn": "r"}, ns="x")])[0][0] == "pass"
    verdict, msg = store_checks([store({"aws": {"region": "us-east-1"}})])[0]
    assert verdict == "unchecked" and msg.startswith("aws store without a ServiceAccount reference")
    assert store_checks([store({"vault": {}})]) == []


def test_an_external_secret_reads_a_store_of_its_namespace_and_a_cluster_store_is_unchecked():
    es = lambda ref, ns=NS: {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
                             "metadata": {"name": "es", "namespace": ns}, "spec": {"secretStoreRef": ref}}
    rv = lambda objs: [(c.verdict, c.message) for c in secrets.check(ctx(objs)) if c.name == "secrets.store-ref"]
    st = store({"vault": {}})
    assert rv([st, es({"name": "st"})]) == [("pass", "reads SecretStore st")]
    assert rv([st, es({"name": "st", "kind": "SecretStore"})]) == [("pass", "reads SecretStore st")]
    assert rv([st, es({"name": "st"}, ns="x")]) == [("fail", "SecretStore x/st is not in the plan")]
    assert rv([st, es({"name": "st", "kind": "ClusterSecretStore"})]) == [
        ("unchecked", "uses a ClusterSecretStore, not in the plan")]


def test_written_secrets_pass_when_their_controller_is_installed():
    es = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "es", "namespace": NS},
          "spec": {"target": {"name": "tok"}}}
    ss = {"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "sealed", "namespace": NS},
          "spec": {"encryptedData": {"K": "x"}}}
    wv = lambda res: [(c.object, c.verdict, c.message) for c in secrets.check(ctx([es, ss], resources=res))
                      if c.name == "secrets.writer"]
    assert wv([helm("external-secrets", "eso"), helm("sealed-secrets", "kube-system")]) == [
        ("SealedSecret llm-serving/sealed", "pass",
         "Secret llm-serving/sealed is written by the sealed-secrets controller of this plan"),
        ("ExternalSecret llm-serving/es", "pass",
         "Secret llm-serving/tok is written by the external-secrets controller of this plan")]
    got = wv([helm("external-secrets", "eso")])
    assert [v for _, v, _ in got] == ["unchecked", "pass"]
    assert got[0][2].startswith("Secret llm-serving/sealed needs a sealed-secrets controller the plan does not install")
    assert secrets.secret_keys(ctx([ss]), NS, "sealed") == {"K"}
    assert secrets.secret_keys(ctx([obj("Secret", "s", data={"a": "x"}, stringData={"b": "y"})]), NS, "s") == {"a", "b"}
    assert secrets.secret_keys(ctx([]), NS, "none") == set()


def test_references_resolve_in_the_objects_own_namespace_and_selectors_must_match():
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h", "namespace": NS},
           "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "m"}}}
    assert only(references.check(ctx([deployment("m", ns="other"), hpa])), "references.scale-target")[0] == "fail"
    sa_elsewhere = obj("ServiceAccount", "default", ns="other", secrets=[{"name": "hf"}])
    token = obj("Secret", "hf", data={"HF_TOKEN": "eA=="})       # the token is here; the account is not
    assert hf_checks([isvc(), sa_elsewhere, token])[0][0] == "fail"
    dep = deployment("m", [container()], labels={"app": "m", "llmfleet.io/model": "m"})
    pm = monitor("PodMonitor", selector={"matchLabels": {"llmfleet.io/model": "other"}})
    assert only(references.check(ctx([dep, pm])), "references.model-metrics")[0] == "fail"
    two = [deployment("a", labels={"app": "m"}), deployment("b", labels={"app": "m"})]
    assert mon_verdict(two + [monitor("PodMonitor", endpoints=[])], "PodMonitor") == (
        "pass", "selects Deployment llm-serving/a, Deployment llm-serving/b")


def test_a_dashboard_configmap_reading_dcgm_metrics_needs_an_exporter_too():
    dash = obj("ConfigMap", "gpu-dashboard", ns="monitoring", data={"d.json": '{"expr": "DCGM_FI_DEV_GPU_UTIL"}'})
    assert gpu_checks([dash], [eks_group("h100")]) == [
        ("fail", "ConfigMap gpu-dashboard read DCGM metrics, but no exporter runs on aws node group h100 (on-demand)")]
