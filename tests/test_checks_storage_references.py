"""Storage classes on a new cluster, and references between objects."""
from plan.checks import references, storage
from tests.checks_kit import container, ctx, deployment, failed, gpu_pod, namespace, rec, verdicts


def _pvc(cls=None, modes=("ReadWriteOnce",)):
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": "10Gi"}}}
    if cls is not None:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c", "namespace": "ns"},
            "spec": spec}


def _sc(name, provisioner, default=False):
    meta = {"name": name}
    if default:
        meta["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta, "provisioner": provisioner}


def test_a_claim_without_class_stays_pending_on_new_eks_but_binds_on_gke():
    assert "no default StorageClass on a new aws cluster" in failed(storage.check(ctx([_pvc()])), "storage.claims")[0]
    assert not failed(storage.check(ctx([_pvc()], cloud="gcp")), "storage.claims")


def test_ebs_classes_need_the_csi_add_on_and_rwx_needs_an_rwx_class():
    objs = [_pvc(), _sc("gp3", "ebs.csi.aws.com", default=True)]
    assert "without the EKS add-on aws-ebs-csi-driver" in failed(storage.check(ctx(objs)), "storage.claims")[0]
    addon = rec("aws:eks/addon:Addon", "ebs", {"addonName": "aws-ebs-csi-driver"})
    assert not failed(storage.check(ctx(objs, resources=[addon])), "storage.claims")
    rwx = [_pvc("gp3", modes=("ReadWriteMany",)), _sc("gp3", "ebs.csi.aws.com")]
    assert "cannot serve RWX" in failed(storage.check(ctx(rwx, resources=[addon])), "storage.claims")[0]
    assert "neither created by the plan" in failed(storage.check(ctx([_pvc("fast")])), "storage.claims")[0]


def test_chart_values_that_create_claims_are_checked():
    kps = rec("kubernetes:helm.sh/v3:Release", "kps", {"chart": "kube-prometheus-stack", "namespace": "monitoring",
              "values": {"prometheus": {"prometheusSpec": {"storageSpec": {"volumeClaimTemplate": {"spec": {
                  "resources": {"requests": {"storage": "50Gi"}}}}}}}}})
    assert failed(storage.check(ctx([], resources=[kps])), "storage.claims", "helm release")


def test_service_selector_and_named_target_port():
    pod = deployment(containers=[container("a", ports=[{"name": "http", "containerPort": 8000}])])
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "llm-serving"},
           "spec": {"selector": {"app": "m"}, "ports": [{"port": 80, "targetPort": "metrics"}]}}
    assert "targetPort 'metrics' is not a named container port" in failed(
        references.check(ctx([pod, svc])), "references.service")[0]
    svc["spec"]["selector"] = {"app": "other"}
    assert "matches no pod template" in failed(references.check(ctx([pod, svc])), "references.service")[0]


def test_monitors_select_services_and_ports():
    pod = deployment(containers=[container("a", ports=[{"name": "http", "containerPort": 8000}])])
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "llm-serving",
                                                             "labels": {"app": "m"}},
           "spec": {"selector": {"app": "m"}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}
    sm = {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
          "metadata": {"name": "sm", "namespace": "llm-serving"},
          "spec": {"selector": {"matchLabels": {"app": "m"}}, "endpoints": [{"port": "metrics"}]}}
    assert "endpoint port 'metrics' is not a port name" in failed(references.check(ctx([pod, svc, sm])),
                                                                  "references.monitor")[0]
    sm["spec"]["endpoints"] = [{"port": "http"}]
    assert not failed(references.check(ctx([pod, svc, sm])), "references.monitor")
    pm = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
          "metadata": {"name": "pm", "namespace": "llm-serving"},
          "spec": {"selector": {"matchLabels": {"app": "x"}}, "podMetricsEndpoints": [{"port": "http"}]}}
    assert "matches no pod template" in failed(references.check(ctx([pod, pm])), "references.monitor", "PodMonitor")[0]


def test_named_secrets_priority_classes_and_service_accounts_must_exist():
    pod = deployment(containers=[container("a", env=[{"name": "T", "valueFrom": {"secretKeyRef": {
        "name": "hf-token", "key": "token"}}}])], priorityClassName="llm-critical", serviceAccountName="runner")
    (msg,) = failed(references.check(ctx([pod])), "references.pod")
    assert "Secret 'hf-token'" in msg and "PriorityClass 'llm-critical'" in msg and "ServiceAccount 'runner'" in msg
    objs = [pod, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hf-token", "namespace": "llm-serving"}},
            {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "llm-critical"}},
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "runner", "namespace": "llm-serving"}}]
    assert not failed(references.check(ctx(objs)), "references.pod")


def test_scale_targets_and_pdb_selectors():
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": "h", "namespace": "llm-serving"},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "gone"},
                    "maxReplicas": 2}}
    pdb = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p", "namespace":
           "llm-serving"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "gone"}}}}
    checks = references.check(ctx([deployment(), hpa, pdb]))
    assert "target Deployment llm-serving/gone is not in the plan" in failed(checks, "references.scale-target")[0]
    assert failed(checks, "references.pdb")


def test_kserve_gated_weights_need_the_token_on_the_service_account():
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "m", "namespace": "llm-serving"},
            "spec": {"predictor": {"model": {"modelFormat": {"name": "huggingface"}, "storageUri": "hf://a/b",
                                             "env": [{"name": "HF_TOKEN", "value": "x"}]}}}}
    assert "has no Secret with key HF_TOKEN" in failed(references.check(ctx([isvc])),
                                                       "references.kserve-hf-credentials")[0]
    isvc["spec"]["predictor"]["serviceAccountName"] = "hf"
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "hf", "namespace": "llm-serving"},
          "secrets": [{"name": "hf-secret"}]}
    sec = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hf-secret", "namespace": "llm-serving"},
           "stringData": {"HF_TOKEN": "[secret]"}}
    assert not failed(references.check(ctx([isvc, sa, sec])), "references.kserve-hf-credentials")


def test_kserve_must_install_after_keda_and_models_must_be_scraped():
    keda = rec("kubernetes:helm.sh/v3:Release", "keda", {"chart": "keda", "name": "keda"})
    kserve = rec("kubernetes:helm.sh/v3:Release", "kserve", {"chart": "oci://x/kserve-resources", "name": "kserve"})
    assert "installs in parallel with keda" in failed(references.check(ctx([], resources=[keda, kserve])),
                                                      "references.install-order")[0]
    kserve.dependencies.append(keda.urn)
    assert not failed(references.check(ctx([], resources=[keda, kserve])), "references.install-order")
    assert "no ServiceMonitor or PodMonitor" in failed(references.check(ctx([namespace(), gpu_pod()])),
                                                       "references.model-metrics")[0]
    assert verdicts(references.check(ctx([gpu_pod()])), "references.pod")


def test_dcgm_dashboards_need_an_exporter_on_every_gpu_group():
    from tests.checks_kit import eks_group
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": "gpu", "namespace": "monitoring"},
            "spec": {"groups": [{"name": "g", "rules": [{"alert": "x", "expr": "DCGM_FI_DEV_XID_ERRORS > 0"}]}]}}
    off = eks_group("h100", labels={"llmfleet.io/pool": "h100", "nvidia.com/gpu.deploy.dcgm-exporter": "false"})
    op = rec("kubernetes:helm.sh/v3:Release", "gpu-operator", {"chart": "gpu-operator", "values": {}})
    assert "no exporter runs on aws node group h100" in failed(
        references.check(ctx([rule], resources=[off, op])), "references.gpu-metrics")[0]
    on = eks_group("h100")
    assert not failed(references.check(ctx([rule], resources=[on, op])), "references.gpu-metrics")
    # A pool that opts out of every operand (Bottlerocket) is reported as unwatched, not as passing.
    bottlerocket = eks_group("h200", labels={"llmfleet.io/pool": "h200", "nvidia.com/gpu.deploy.operands": "false"})
    checks = [c for c in references.check(ctx([rule], resources=[on, bottlerocket, op]))
              if c.name == "references.gpu-metrics"]
    assert [c.verdict for c in checks] == ["pass", "unchecked"]
    assert "aws node group h200" in checks[1].message and "do not see these GPUs" in checks[1].message


def test_kserve_readiness_must_wait_for_the_model():
    isvc = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
            "metadata": {"name": "m", "namespace": "llm-serving", "labels": {}},
            "spec": {"predictor": {"labels": {"llmfleet.io/model": "m"}, "model": {
                "modelFormat": {"name": "huggingface"}, "readinessProbe": {"httpGet": {"path": "/", "port": 8080}}}}}}
    assert "answers before the model is loaded" in failed(references.check(ctx([isvc])),
                                                          "references.model-readiness")[0]
    isvc["spec"]["predictor"]["model"]["readinessProbe"]["httpGet"]["path"] = "/v1/models/m"
    assert not failed(references.check(ctx([isvc])), "references.model-readiness")
