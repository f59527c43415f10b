"""Federation (docs/federation.md): the config, the routing table's order, and the problems resolved against the
cloud stacks' outputs. Pure functions: no program run (tests/test_stack_reference.py runs the plan)."""
import pytest

from components.federation.hub import route_spec
from components.federation.routing import Backend, markdown, order, resolve
from spec.federation import load
from spec.reader import ConfigError
from stacks.exports import SCHEMA_VERSION, federation_doc
from spec.stack import load as load_stack, project_config
from plan.stackfile import load_stack_config
from plan.runtime import ROOT

BASE = {"stacks": [{"name": "acme/llmfleet/aws"}, {"name": "acme/llmfleet/gcp"}, {"name": "azure"}],
        "hubs": ["aws", "gcp"], "hostname": "llm.example.com", "tls": {"email": "ops@example.com"},
        "dns": {"route53": {"zoneId": "Z0123456789ABCDEFGHIJ"}}, "models": ["big", "small"],
        "tiers": {"cheap": ["small", "big"]}, "clients": ["web"]}


def fed(**over):
    return load({"federation": {**BASE, **over}}, "federation")


def model(name, usd, tps, lo=1, hi=2, model_id=None):
    return {"name": name, "modelId": model_id or f"org/{name}", "engine": "vllm", "gpu": "h100-80gb",
            "replicasMin": lo, "replicasMax": hi, "tokensPerSecond": tps, "usdPerHour": 1.0, "usdPer1MTokens": usd}


def doc(stack, cloud, *models, endpoint=True, issuer="acme"):
    d = {"schemaVersion": SCHEMA_VERSION, "stack": stack, "cloud": cloud, "region": "r", "kubernetesVersion": "1.34",
         "models": list(models)}
    if endpoint:
        d["endpoint"] = f"https://llm-{stack}.example.com/v1"
        d["gateway"] = {"name": "llm-gateway", "namespace": "llm-gateway", "hostname": f"llm-{stack}.example.com",
                        "tlsIssuer": issuer, "className": "llm-gateway"}
    return d


def exported(**over):
    docs = {"aws": doc("aws", "aws", model("big", 5.0, 1000, hi=3), model("small", 1.5, 1300)),
            "gcp": doc("gcp", "gcp", model("big", 7.0, 1500)),
            "azure": doc("azure", "azure", model("small", 0.5, 800, lo=0, hi=3))}
    docs.update(over)
    return docs


KEYS = {"aws": True, "gcp": True, "azure": True}


def table(routing):
    return {v.name: [(b.name, b.priority) for b in v.backends] for v in routing.models}


def b(stack, usd, tps, lo=1, hi=1):
    return Backend(stack, "aws", "m", "https://x/v1", "x", usd, tps, lo, hi)


# --- order -------------------------------------------------------------------------------------------------------

def test_cheaper_first_and_each_cost_its_own_priority():
    got = order([b("a", 3.0, 100), b("b", 1.0, 100), b("c", 2.0, 100)])
    assert [(x.stack, x.priority) for x in got] == [("b", 0), ("c", 1), ("a", 2)]


def test_equal_cost_shares_a_priority_and_splits_by_capacity():
    got = order([b("a", 1.0, 100, hi=1), b("b", 1.0, 100, hi=3)])
    assert [(x.stack, x.priority, x.weight) for x in got] == [("b", 0, 300), ("a", 0, 100)]


def test_a_backend_that_scales_to_zero_never_leads_while_a_warm_one_exists():
    got = order([b("cold", 0.1, 1000, lo=0, hi=4), b("warm", 9.0, 10)])
    assert [(x.stack, x.priority) for x in got] == [("warm", 0), ("cold", 1)]


# --- resolve -----------------------------------------------------------------------------------------------------

def test_failover_order_per_model_and_the_cost_tier():
    r = resolve(fed(), exported(), KEYS)
    assert r.problems == []
    assert table(r) == {"big": [("aws/big", 0), ("gcp/big", 1)],
                        "small": [("aws/small", 0), ("azure/small", 1)],
                        # One backend per stack: aws offers its cheaper small, gcp its big, azure (cold) comes last.
                        "cheap": [("aws/small", 0), ("gcp/big", 1), ("azure/small", 2)]}


def test_tier_rule_rewrites_the_model_and_never_names_a_backend_twice():
    r = resolve(fed(), exported(), KEYS)
    cheap = next(v for v in r.models if v.name == "cheap")
    spec = route_spec(cheap, ["llm.example.com"])
    refs = spec["rules"][0]["backendRefs"]
    assert [(x["name"], x.get("modelNameOverride"), x["priority"]) for x in refs] == [
        ("fed-aws", "small", 0), ("fed-gcp", "big", 1), ("fed-azure", "small", 2)]
    assert spec["rules"][0]["matches"][0]["headers"][0]["value"] == "cheap"
    big = route_spec(next(v for v in r.models if v.name == "big"), ["llm.example.com"])
    assert all("modelNameOverride" not in x for x in big["rules"][0]["backendRefs"])


def test_a_stack_without_the_output_or_endpoint_is_one_line_at_its_key():
    r = resolve(fed(), exported(gcp=None, azure=doc("azure", "azure", endpoint=False)), KEYS)
    assert r.problems[:2] == [
        "llmfleet:federation.stacks[1].name: stack acme/llmfleet/gcp does not export federation: plan or `pulumi "
        "up` it with this version of the program (stacks/exports.py), which exports it from every cloud stack",
        "llmfleet:federation.stacks[2].name: stack azure does not export federation.endpoint: it has no public "
        "endpoint; set llmfleet:gateway on that stack"]


def test_missing_key_self_signed_endpoint_and_old_schema():
    old = {**doc("gcp", "gcp"), "schemaVersion": 0}
    r = resolve(fed(), exported(gcp=old, azure=doc("azure", "azure", issuer="selfSigned")),
                {"aws": False, "gcp": True, "azure": True})
    assert len(r.problems) >= 3
    assert r.problems[0].startswith("llmfleet:federation.stacks[0].name: stack acme/llmfleet/aws does not export "
                                    "federationApiKey")
    assert "exports federation schema 0, this program reads schema 1" in r.problems[1]
    assert r.problems[2].startswith("llmfleet:federation.stacks[2].name: stack azure's endpoint has a self-signed")


def test_unknown_model_tier_member_and_tier_named_like_a_model():
    r = resolve(fed(models=["big", "huge"], tiers={"cheap": ["tiny"], "small": ["big"]}), exported(), KEYS)
    assert r.problems == [
        "llmfleet:federation.models[1]: model 'huge' is served by none of the federated stacks' endpoints (served: "
        "big, small)",
        "llmfleet:federation.tiers.cheap[0]: model 'tiny' is served by none of the federated stacks' endpoints "
        "(served: big, small)",
        "llmfleet:federation.tiers.small: is also the name of a served model; a tier needs a name of its own"]


def test_one_name_with_two_weights_is_rejected():
    other = doc("gcp", "gcp", model("big", 7.0, 1500, model_id="org/other"))
    r = resolve(fed(), exported(gcp=other), KEYS)
    assert r.problems == ["llmfleet:federation.stacks[1].name: model big serves org/other in stack acme/llmfleet/gcp "
                          "but org/big in acme/llmfleet/aws: one name must mean the same weights to share a route"]


def test_a_hub_without_kubeconfig():
    r = resolve(fed(), exported(), KEYS, {"aws": True, "gcp": False})
    assert r.problems == ["llmfleet:federation.hubs[1]: stack acme/llmfleet/gcp does not export kubeconfig: the hub's "
                          "cluster is where the global gateway runs"]


def test_routes_markdown_has_the_shared_columns():
    text = markdown(resolve(fed(), exported(), KEYS), "t")
    assert "| model | priority | backend | cloud | weight | usdPer1MTokens |" in text
    assert "| cheap (tier) | 2 | azure/small | azure |" in text


# --- the config ---------------------------------------------------------------------------------------------------

def problems(raw) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load(raw, "federation")
    return e.value.lines


def test_bad_federation_config_lines():
    lines = problems({"federation": {**BASE, "hubs": ["aws", "nope"], "stacks": [{"name": "acme/other/aws"},
                                                                                {"name": "gcp"}, {"name": "azure"}],
                                     "dns": {"route53": {"zoneId": "nope"}}, "modelz": []},
                      "cloud": "aws", "gpuPools": []})
    assert lines == [
        "llmfleet:federation.stacks[0].name: must be a stack of this project (llmfleet), whose outputs have the "
        "federation shape; got project 'other'",
        # `aws` names the rejected stack: reported once, at the stack.
        "llmfleet:federation.hubs[1]: 'nope' is not one of llmfleet:federation.stacks (aws, gcp, azure); a hub is a "
        "federated stack's cluster",
        "llmfleet:federation.dns.route53.zoneId: must be a Route53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ, got "
        "'nope'",
        "llmfleet:federation.modelz: unknown key (did you mean 'models'?); allowed: clients, dns, hostname, hubs, "
        "models, stacks, tiers, tls",
        "llmfleet:cloud: does not apply to a federation stack (it has no cluster of its own; llmfleet:federation is "
        "set): remove it",
        "llmfleet:gpuPools: does not apply to a federation stack (it has no cluster of its own; llmfleet:federation "
        "is set): remove it"]


def test_required_keys_and_limits():
    lines = problems({"federation": {"stacks": [{"name": "a"}], "hubs": ["a", "a", "a"]}})
    assert "llmfleet:federation.stacks: must have at least 2 item(s), got 1" in lines
    assert "llmfleet:federation.hubs[1]: 'a' is listed twice" in lines
    assert "llmfleet:federation.hubs: lists at most 2 stacks (a primary and a standby, one DNS failover pair), got 3" \
        in lines
    for key in ("hostname", "tls", "dns", "models"):
        assert any(line.startswith(f"llmfleet:federation.{key}: is required") for line in lines), key


def test_hubs_may_name_stacks_by_full_name():
    spec = fed(hubs=["acme/llmfleet/gcp"])
    assert spec.hubs == ("gcp",) and spec.direct_hostname("gcp") == "gcp.llm.example.com"


# --- the shipped stacks -------------------------------------------------------------------------------------------

def shipped(stack):
    """A shipped stack's config as the offline plan runs it (placeholders for the secrets it needs)."""
    _, config, secret_keys = load_stack_config(ROOT, stack)
    return project_config(config), {k.partition(":")[2] for k in secret_keys}


def test_shipped_federation_resolves_over_the_shipped_cloud_stacks():
    """Each cloud stack's export (stacks/exports.py, from its real spec) against Pulumi.federation.yaml: one model
    in two clouds each, the cheap tier led by the cheapest warm backend."""
    raw, _ = shipped("federation")
    spec = load(raw, "federation")
    docs = {}
    for s in spec.stacks:
        config, secrets = shipped(s.short)
        docs[s.short] = federation_doc(load_stack(config, secrets, s.short))
    r = resolve(spec, docs, {s: True for s in docs}, {h: True for h in spec.hubs})
    assert r.problems == []
    got = table(r)
    assert got["llama-70b"] == [("prod/llama-70b", 0), ("gcp-prod/llama-70b", 1)]
    assert got["llama-8b"] == [("prod/llama-8b", 0), ("azure-prod/llama-8b", 1)]
    assert got["cheap"][0] == ("prod/llama-8b", 0) and len(got["cheap"]) == 3
