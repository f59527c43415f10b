"""Endpoint picking within a model (`llmfleet:routing.models[].picker: inferencePool`, components/gateway/picker.py):
the exact InferencePool, ReferenceGrant, route backendRef and picker release azure-prod renders for llama-8b, the
wiring between them (pool selector = the model's pod labels = the EPP's selector; targetPorts = the vLLM port = the
EPP's; endpointPickerRef = the chart's EPP Service and ext_proc port; route backendRef = the pool), the cluster
checks that fail when one link breaks, and the config lines that refuse what AI Gateway cannot route."""
import copy
import dataclasses
from types import SimpleNamespace

import pytest

from catalog.versions import INFERENCE_POOL_CRD_URL
from components.gateway import picker
from components.serving.common import PORT, selector
from plan import routes
from plan.checks import gateway, network
from plan.checks.context import Context
from tests.harness import run_stack
from tests.test_routing import CANARY_MODELS, _errors, _load

NS = "llm-serving"
LABELS = {"app.kubernetes.io/part-of": "llm-gateway", "app.kubernetes.io/managed-by": "llmfleet"}
POOL_ID = "InferencePool llm-serving/llama-8b"


@pytest.fixture(scope="module")
def azure():
    plan = run_stack("azure-prod")
    return plan, Context.from_run(plan.result, plan.manifests, plan.spec.cluster.kubernetes_version)


def _release(plan, name):
    return next(r for r in plan.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == name)


def test_names_follow_the_chart():
    # routerlib v0.10.0 `llm-d-router.name`: the release name lower-cased and cut to 40, then "-epp".
    assert picker.release_name("llama-8b") == "llama-8b-picker"
    assert picker.epp_service("llama-8b") == "llama-8b-picker-epp"
    assert picker.release_service("A" * 45) == "a" * 40 + "-epp"
    assert picker.epp_pod_labels("llama-8b") == {"llm-d-router-standalone": "llama-8b-picker-epp",
                                                 "llm-d.ai/igw-mode": "llm-d-router-standalone"}
    assert picker.release_pod_labels("x", creates_pool=True) == {"llm-d-router-gateway": "x-epp",
                                                                 "llm-d.ai/igw-mode": "llm-d-router-gateway"}


def test_azure_prod_pool_grant_and_route(azure):
    plan, _ = azure
    sel = selector(next(m for m in plan.spec.models if m.name == "llama-8b"))
    assert plan.manifest("InferencePool", "llama-8b", NS) == {
        "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
        "metadata": {"name": "llama-8b", "namespace": NS, "labels": LABELS},
        "spec": {"selector": {"matchLabels": sel}, "targetPorts": [{"number": PORT}], "appProtocol": "http",
                 "endpointPickerRef": {"kind": "Service", "name": "llama-8b-picker-epp", "port": {"number": 9002},
                                       "failureMode": "FailOpen"}}}
    assert plan.manifest("ReferenceGrant", "llm-gateway-inference-pools", NS) == {
        "apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
        "metadata": {"name": "llm-gateway-inference-pools", "namespace": NS, "labels": LABELS},
        "spec": {"from": [{"group": "aigateway.envoyproxy.io", "kind": "AIGatewayRoute", "namespace": "llm-gateway"},
                          {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "llm-gateway"}],
                 "to": [{"group": "inference.networking.k8s.io", "kind": "InferencePool"}]}}
    route = plan.manifest("AIGatewayRoute", "llm-openai", "llm-gateway")
    rule = next(r for r in route["spec"]["rules"] if r["name"] == "llama-8b")
    assert rule["backendRefs"] == [{"group": "inference.networking.k8s.io", "kind": "InferencePool",
                                    "name": "llama-8b", "namespace": NS}]
    # Reached only through its pool: no Backend, AIServiceBackend or headless Service of its own.
    assert not [m for m in plan.manifests if m["kind"] in ("Backend", "AIServiceBackend")
                or m["metadata"]["name"] == "llama-8b-pods"]
    # The pool selects the vLLM pods, and the vLLM port is a container port of theirs.
    deployment = plan.manifest("Deployment", "llama-8b", NS)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert sel.items() <= pod_labels.items()
    ports = [p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"] for p in c["ports"]]
    assert PORT in ports


def test_azure_prod_picker_release_and_its_wiring(azure):
    plan, _ = azure
    release = _release(plan, "llama-8b-picker")
    sel = selector(next(m for m in plan.spec.models if m.name == "llama-8b"))
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["namespace"]) == (
        "oci://ghcr.io/llm-d/charts/llm-d-router-gateway", "v0.10.0", NS)
    assert release.inputs["values"] == {"router": {
        "inferencePool": {"create": False},
        "modelServers": {"type": "vllm", "protocol": "http", "matchLabels": sel, "targetPorts": [{"number": PORT}]},
        "epp": {"replicas": 1, "extProcPort": 9002,
                "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
                "image": {"registry": "ghcr.io/llm-d", "repository": "llm-d-router-endpoint-picker",
                          "tag": "v0.10.0", "pullPolicy": "IfNotPresent"}}}}
    pool = plan.manifest("InferencePool", "llama-8b", NS)
    servers = release.inputs["values"]["router"]["modelServers"]
    assert servers["matchLabels"] == pool["spec"]["selector"]["matchLabels"]
    assert servers["targetPorts"] == pool["spec"]["targetPorts"]
    assert picker.release_service(release.inputs["name"]) == pool["spec"]["endpointPickerRef"]["name"]
    assert release.inputs["values"]["router"]["epp"]["extProcPort"] == pool["spec"]["endpointPickerRef"]["port"]["number"]
    # The picker scrapes the model servers: it installs after them.
    vllm = next(r for r in plan.of_type("kubernetes:apps/v1:Deployment")
                if (r.inputs.get("metadata") or {}).get("name") == "llama-8b")
    assert plan.waits_for(release, vllm)


def test_inference_pool_crd_and_envoy_gateway_addon_only_with_a_picker(azure):
    plan, _ = azure
    crd = plan.one("kubernetes:yaml/v2:ConfigFile")
    assert crd.inputs["file"] == INFERENCE_POOL_CRD_URL
    assert "/v1.6.0/" in INFERENCE_POOL_CRD_URL
    eg, ai = _release(plan, "eg"), _release(plan, "aieg")
    assert plan.waits_for(eg, crd) and plan.waits_for(ai, crd)
    assert eg.inputs["values"]["config"]["envoyGateway"]["extensionManager"]["backendResources"] == [
        {"group": "inference.networking.k8s.io", "kind": "InferencePool", "version": "v1"}]
    prod = run_stack("prod")     # no picker: no CRD, no addon, no pool
    assert prod.of_type("kubernetes:yaml/v2:ConfigFile") == []
    assert "backendResources" not in _release(prod, "eg").inputs["values"]["config"]["envoyGateway"][
        "extensionManager"]
    assert not [m for m in prod.manifests if m["kind"] in ("InferencePool", "ReferenceGrant")]


def test_checks_pass_on_azure_prod(azure):
    _, ctx = azure
    checks = gateway.check(ctx) + network.check(ctx)
    mine = [c for c in checks if c.object == POOL_ID or "picker" in c.object]
    assert [c for c in mine if c.verdict == "fail"] == []
    by = {(c.name, c.verdict) for c in mine}
    assert ("gateway.inferencepool", "pass") in by and ("gateway.endpoint-picker", "unchecked") in by
    msgs = [c.message for c in mine if c.name == "network.reachable"]
    assert "Envoy asks the endpoint picker (ext_proc): TCP 9002 open" in msgs
    assert "the endpoint picker scrapes Deployment llm-serving/llama-8b's metrics: TCP 8000 open" in msgs
    assert "the chart's controllers call the API server: TCP 443 open" in msgs


def _with(base: Context, objects) -> Context:
    return dataclasses.replace(base, objects=objects)


def _fails(ctx, name, obj):
    return [c.message for c in gateway.check(ctx) + network.check(ctx)
            if c.name == name and c.object == obj and c.verdict == "fail"]


def test_a_pool_selecting_other_pods_than_the_picker_fails(azure):
    _, base = azure
    objs = copy.deepcopy(base.objects)
    pool = next(o for o in objs if o["kind"] == "InferencePool")
    pool["spec"]["selector"]["matchLabels"] = {"llmfleet.io/model": "nothing"}
    msgs = _fails(_with(base, objs), "gateway.inferencepool", POOL_ID)
    assert len(msgs) == 1 and "selector {'llmfleet.io/model': 'nothing'} matches no pod template" in msgs[0]
    # Selecting other pods (Ray Serve's llama-70b, which has no port 8000) fails on the port and on the picker.
    pool["spec"]["selector"]["matchLabels"] = {"llmfleet.io/model": "llama-70b"}
    msgs = _fails(_with(base, objs), "gateway.inferencepool", POOL_ID)
    assert len(msgs) == 1 and "targetPort 8000 is not a container port of RayService llm-serving/llama-70b" in msgs[0]
    assert "picks among pods {'llmfleet.io/model': 'llama-8b'}, the pool selects {'llmfleet.io/model': " \
           "'llama-70b'}" in msgs[0]


def test_a_wrong_endpoint_picker_ref_fails(azure):
    _, base = azure
    objs = copy.deepcopy(base.objects)
    pool = next(o for o in objs if o["kind"] == "InferencePool")
    pool["spec"]["endpointPickerRef"]["name"] = "llama-8b-epp"
    assert _fails(_with(base, objs), "gateway.inferencepool", POOL_ID) == [
        "endpointPickerRef Service llm-serving/llama-8b-epp is neither in the plan nor created by an "
        "llm-d-router-gateway release in llm-serving"]
    objs = copy.deepcopy(base.objects)
    next(o for o in objs if o["kind"] == "InferencePool")["spec"]["endpointPickerRef"]["port"]["number"] = 9003
    msgs = _fails(_with(base, objs), "gateway.inferencepool", POOL_ID)
    assert len(msgs) == 1 and msgs[0].startswith("endpointPickerRef port 9003 is not the EPP's ext_proc port 9002")


def test_the_route_needs_the_reference_grant(azure):
    _, base = azure
    objs = [o for o in copy.deepcopy(base.objects) if o["kind"] != "ReferenceGrant"]
    assert _fails(_with(base, objs), "gateway.route", "AIGatewayRoute llm-gateway/llm-openai") == [
        "rule llama-8b: no ReferenceGrant in llm-serving lets AIGatewayRoutes of llm-gateway name InferencePools "
        "(AI Gateway rejects the route)"]


def test_network_rows_open_the_picker_paths_and_fail_without_them(azure):
    _, base = azure
    objs = [o for o in copy.deepcopy(base.objects)
            if not (o["kind"] == "NetworkPolicy" and "picker" in o["metadata"]["name"])]
    ctx = _with(base, objs)
    ctx._network_paths = None
    failed = [c.message for c in network.check(ctx) if c.verdict == "fail"]
    assert any(m.startswith("Envoy asks the endpoint picker (ext_proc): TCP 9002 blocked") for m in failed)
    assert any(m.startswith("the chart's controllers call the API server: TCP 443 blocked") for m in failed)
    # azure-prod's modelClients is the serving namespace, whose pods may call the model anyway: the picker's own
    # scrape row is what keeps the scrape open once those client rows are gone, and it fails without both.
    def clients_cut(objects):
        return [o for o in objects
                if not (o["kind"] == "NetworkPolicy" and o["metadata"]["name"].startswith("allow-client-"))]
    scrape = "the endpoint picker scrapes Deployment llm-serving/llama-8b's metrics: TCP 8000 "
    for objects, verdict in ((clients_cut(copy.deepcopy(base.objects)), "open"), (clients_cut(objs), "blocked")):
        ctx = _with(base, objects)
        ctx._network_paths = None
        msgs = [c.message for c in network.check(ctx) if c.message.startswith(scrape)]
        assert msgs and all(m.startswith(scrape + verdict) for m in msgs)


def test_routes_table_shows_the_picker():
    r = routes.report(SimpleNamespace(spec=_load("azure-prod")))
    assert [(x["model"], x["picker"]) for x in r["routes"]] == [("llama-8b", "inferencePool")]
    assert "| llama-8b | - | llama-8b (100%, $0.5142) | - | inferencePool | 0.5142 |" in routes.markdown(r)


def test_bad_picker_config_one_line_each():
    lines = _errors("dev", models=CANARY_MODELS + [
        {"name": "a-model-name-longer-than-thirty-three", "model": "llama-3.1-8b", "maxContext": 8192,
         "concurrency": 8}], routing={"models": [
            {"name": "llama-8b", "versions": [{"model": "llama-8b", "weight": 90},
                                              {"model": "llama-8b-fp8", "weight": 10}], "picker": "inferencePool"},
            {"name": "small", "versions": [{"model": "llama-8b", "weight": 100}], "fallback": ["llama-8b-fp8"],
             "picker": "inferencePool"},
            {"name": "fp8", "versions": [{"model": "llama-8b-fp8", "weight": 100}], "picker": "inferencepool"},
            {"name": "a-model-name-longer-than-thirty-three",
             "versions": [{"model": "a-model-name-longer-than-thirty-three", "weight": 100}],
             "picker": "inferencePool"},
            {"name": "fast", "versions": [{"model": "llama-8b-fp8", "weight": 100}], "picker": "inferencePool"}]})
    assert lines == [
        "llmfleet:routing.models[0].picker: inferencePool needs exactly one version and no fallback (AI Gateway "
        "allows one InferencePool per rule); 'llama-8b' has 2 version(s) and 0 fallback(s)",
        "llmfleet:routing.models[1].picker: inferencePool needs exactly one version and no fallback (AI Gateway "
        "allows one InferencePool per rule); 'small' has 1 version(s) and 1 fallback(s)",
        "llmfleet:routing.models[2].picker: must be one of inferencePool, none, got 'inferencepool' "
        "(did you mean 'inferencePool'?)",
        "llmfleet:routing.models[3].picker: inferencePool needs a model name of at most 33 characters (the "
        "picker's release and Service are named after it); 'a-model-name-longer-than-thirty-three' is longer",
        "llmfleet:routing.models[4].picker: inferencePool routes the request's model name unchanged (AI Gateway "
        "ignores modelNameOverride for an InferencePool): name the entry 'llama-8b-fp8', as its version, or drop "
        "the picker",
    ]


def test_a_picked_model_on_another_engine_is_refused():
    lines = _errors("gcp-prod", routing={"models": [
        {"name": "small", "versions": [{"model": "llama-8b", "weight": 100}], "picker": "inferencePool"}]})
    assert lines == ["llmfleet:routing.models[0].versions[0].model: model 'llama-8b' runs on kserve; only vLLM "
                     "models are routable on the gateway"]


def test_cost_report_counts_the_picker():
    from plan import cost_gateway
    g = cost_gateway.report(SimpleNamespace(spec=_load("azure-prod")))
    assert {"part": "endpoint-picker llama-8b", "replicas": 1, "cpuPerReplica": 0.5,
            "memoryGiBPerReplica": 1.0} in g["parts"]
    assert not [p for p in cost_gateway.report(SimpleNamespace(spec=_load("prod")))["parts"]
                if p["part"].startswith("endpoint-picker")]


def test_helm_values_check_reads_the_library_chart_under_router():
    from plan.checks import helm_values
    default, fname = helm_values.defaults("llm-d-router-gateway", "v0.10.0")
    assert fname == "llm-d-router-gateway-v0.10.0.yaml"
    _, values = picker.pool_and_values("m", NS, {"llmfleet.io/model": "m"}, PORT, {})
    assert helm_values.unknown_keys(values, default, "llm-d-router-gateway") == ([], [])
    # The library's defaults sit under `router`; keys the v0.10.0 rename retired are caught.
    assert default["router"]["epp"]["extProcPort"] == picker.EXT_PROC_PORT
    bad = {"router": {"epp": {"cpu": 1}}, "inferenceExtension": {"replicas": 1}}
    assert helm_values.unknown_keys(bad, default, "llm-d-router-gateway") == (
        ["router.epp.cpu", "inferenceExtension"], [])
