"""Model routing (`llmfleet:routing`, spec/routing.py): versions with weights (canary, rollback), fallback order,
cost tiers from the token-cost estimate, tenants; one config line per problem; the routing table the plan writes
(plan/routes.py) for a shipped stack, with its arithmetic."""
import copy
import json
from types import SimpleNamespace

import pytest

from components.gateway import objects as o
from plan import routes
from plan.runtime import ROOT
from plan.stackfile import load_stack_config
from spec.reader import ConfigError
from spec.stack import load


def _config(stack: str) -> tuple[dict, set]:
    _, config, secret_keys = load_stack_config(ROOT, stack)
    cfg = {k.split(":", 1)[1]: (json.loads(v) if v[:1] in "[{" else v)
           for k, v in config.items() if k.startswith("llmfleet:")}
    sealed = ((cfg.get("security") or {}).get("secrets") or {}).get("source") == "sealed"
    if not sealed:          # with Sealed Secrets (edge) the token comes from the SealedSecret, never from config
        cfg["hfToken"] = "placeholder"
    return cfg, {k.split(":", 1)[1] for k in secret_keys} | ({"hfToken"} if not sealed else set())


def _load(stack: str, **changes):
    cfg, secrets = _config(stack)
    cfg.update(copy.deepcopy(changes))
    return load(cfg, secrets, stack)


def _errors(stack: str, **changes) -> list[str]:
    cfg, secrets = _config(stack)
    cfg.update(copy.deepcopy(changes))
    with pytest.raises(ConfigError) as info:
        load(cfg, secrets, stack)
    return info.value.lines


CANARY_MODELS = [
    {"name": "llama-8b", "model": "llama-3.1-8b", "maxContext": 8192, "concurrency": 8, "engine": "vllm"},
    {"name": "llama-8b-fp8", "model": "llama-3.1-8b", "quantization": "fp8", "maxContext": 8192, "concurrency": 8},
]


def test_every_vllm_model_is_routable_by_its_name_without_config():
    cfg, secrets = _config("azure-prod")     # llama-70b on Ray Serve, llama-8b on vLLM
    del cfg["routing"]                        # no llmfleet:routing
    spec = load(cfg, secrets, "azure-prod")
    assert spec.routing.names == ("llama-8b",)
    v = spec.routing.models[0]
    assert (v.versions[0].model, v.versions[0].weight, v.fallback) == ("llama-8b", 100, ())
    assert [t.name for t in spec.routing.tenants] == ["default"]


def test_canary_weights_and_rollback_are_backend_weights():
    canary = {"models": [{"name": "llama-8b", "versions": [{"model": "llama-8b", "weight": 90},
                                                        {"model": "llama-8b-fp8", "weight": 10}]}]}
    spec = _load("dev", models=CANARY_MODELS, routing=canary)
    route = o.openai_route(spec.gateway, spec.routing, {})
    rule = next(r for r in route["spec"]["rules"] if r["name"] == "llama-8b")
    assert rule["matches"] == [{"headers": [{"type": "Exact", "name": "x-ai-eg-model", "value": "llama-8b"}]}]
    assert rule["backendRefs"] == [{"name": "llama-8b", "weight": 90, "priority": 0},
                                   {"name": "llama-8b-fp8", "weight": 10, "priority": 0,
                                    "modelNameOverride": "llama-8b-fp8"}]    # its server answers to its own name
    # The fp8 model is still routable by its own name.
    assert "llama-8b-fp8" in spec.routing.names
    # Rollback: weight 0 drops the canary from the rule (no traffic), the config stays valid.
    canary["models"][0]["versions"] = [{"model": "llama-8b", "weight": 100}, {"model": "llama-8b-fp8", "weight": 0}]
    spec = _load("dev", models=CANARY_MODELS, routing=canary)
    rule = next(r for r in o.openai_route(spec.gateway, spec.routing, {})["spec"]["rules"] if r["name"] == "llama-8b")
    assert rule["backendRefs"] == [{"name": "llama-8b", "weight": 100, "priority": 0}]


def test_fallback_order_becomes_priorities():
    spec = _load("prod")
    v = next(v for v in spec.routing.models if v.name == "llama-70b")
    assert o.backend_refs(v) == [{"name": "llama-70b", "weight": 100, "priority": 0},
                                 {"name": "llama-8b", "weight": 1, "priority": 1, "modelNameOverride": "llama-8b"}]


def test_tiers_order_by_token_cost_and_size():
    spec = _load("prod")
    by = {v.name: v for v in spec.routing.models}
    # llama-8b costs $1.4648/1M tokens, llama-70b $5.4716 (arithmetic in test_routes_json_for_prod).
    assert (by["cheap"].versions[0].model, by["cheap"].fallback, by["cheap"].tier) == ("llama-8b", ("llama-70b",),
                                                                                       "cheapest")
    assert (by["best"].versions[0].model, by["best"].fallback, by["best"].tier) == ("llama-70b", ("llama-8b",), "best")
    # Candidates restrict a tier.
    spec = _load("prod", routing={"tiers": [{"name": "cheap", "pick": "cheapest", "models": ["llama-70b"]}]})
    cheap = next(v for v in spec.routing.models if v.name == "cheap")
    assert (cheap.versions[0].model, cheap.fallback) == ("llama-70b", ())


def test_routes_json_for_prod():
    spec = _load("prod")
    r = routes.report(SimpleNamespace(spec=spec))
    by = {x["model"]: x for x in r["routes"]}
    assert r["endpoint"] == "https://llm-aws.example.com/v1"
    assert list(by) == ["llama-70b", "llama-8b", "cheap", "best"]
    # llama-8b on one H100 (3,350 GB/s x 0.6 = 2.01e12 B/s), concurrency 16, context 8192, 128 KiB KV per token:
    #   step = 16.06e9 + 16 x 4096 x 131072 = 24.65e9 B; tokens/s = 16 x 2.01e12 / 24.65e9 = 1304.7;
    #   $/1M = 6.88 $/h / (1304.7 x 3600) x 1e6 = 1.4648.
    # llama-70b on 4 H100 (8.04e12 B/s), concurrency 32, 320 KiB KV per token:
    #   step = 141.2e9 + 32 x 4096 x 327680 = 184.15e9 B; tokens/s = 32 x 8.04e12 / 184.15e9 = 1397.1;
    #   $/1M = 27.52 / (1397.1 x 3600) x 1e6 = 5.4716.
    assert by["llama-70b"] == {
        "model": "llama-70b", "tier": None, "usdPerMillionTokens": 5.4716, "picker": "none",
        "backends": [{"model": "llama-70b", "weight": 100, "priority": 0, "usdPerMillionTokens": 5.4716,
                      "tokensPerSecondPerReplica": 1397.1}],
        "fallback": [{"model": "llama-8b", "weight": 1, "priority": 1, "usdPerMillionTokens": 1.4648,
                      "tokensPerSecondPerReplica": 1304.7}]}
    assert by["cheap"]["usdPerMillionTokens"] == 1.4648 and by["best"]["usdPerMillionTokens"] == 5.4716
    assert r["tenants"] == [{"name": "default", "tokensPerHour": None}, {"name": "batch", "tokensPerHour": 50000000}]
    md = routes.markdown(r)
    assert "| cheap | cheapest | llama-8b (100%, $1.4648) | llama-70b ($5.4716) | least-request | 1.4648 |" in md


def test_blended_cost_of_a_canary_is_weight_averaged():
    canary = {"models": [{"name": "llama-8b", "versions": [{"model": "llama-8b", "weight": 90},
                                                        {"model": "llama-8b-fp8", "weight": 10}]}]}
    spec = _load("dev", models=CANARY_MODELS, routing=canary)
    r = routes.report(SimpleNamespace(spec=spec))
    route = next(x for x in r["routes"] if x["model"] == "llama-8b")
    a, b = (x["usdPerMillionTokens"] for x in route["backends"])
    assert b < a        # fp8 weights: fewer bytes per decode step on the same GPU
    assert route["usdPerMillionTokens"] == round((90 * a + 10 * b) / 100, 4)


def test_no_table_without_a_gateway():
    spec = _load("edge")
    assert spec.gateway is None and spec.routing is None
    assert routes.report(SimpleNamespace(spec=spec)) is None


def test_bad_routing_config_one_line_each():
    lines = _errors("dev", models=CANARY_MODELS, routing={
        "models": [{"name": "llama-8b", "versions": [{"model": "llama-8b", "weight": 80},
                                                     {"model": "llama-8b-fp8", "weight": 10}],
                    "fallback": ["mistral-7b"]},
                   {"name": "other", "versions": [{"model": "llama-9b", "weight": 100}]}],
        "tiers": [{"name": "cheap", "pick": "cheapst"}],
        "tenants": [{"name": "a"}, {"name": "a"}],
        "extra": True})
    assert lines == [
        "llmfleet:routing.models[0].versions: weights must sum to 100, got 90 (80 + 10)",
        "llmfleet:routing.models[0].fallback[0]: 'mistral-7b' is not a model of llmfleet:models "
        "(llama-8b, llama-8b-fp8)",
        "llmfleet:routing.models[1].versions[0].model: 'llama-9b' is not a model of llmfleet:models "
        "(llama-8b, llama-8b-fp8)",
        "llmfleet:routing.tiers[0].pick: must be one of best, cheapest, got 'cheapst' (did you mean 'cheapest'?)",
        "llmfleet:routing.tenants[1].name: duplicate tenant name 'a'",
        "llmfleet:routing.extra: unknown key; allowed: models, tenants, tiers",
    ]


def test_routing_needs_a_gateway_and_vllm_models():
    cfg, secrets = _config("dev")
    del cfg["gateway"]
    with pytest.raises(ConfigError) as info:
        load(cfg, secrets, "dev")
    assert info.value.lines == ["llmfleet:routing: needs llmfleet:gateway (the routes attach to the stack's "
                                "Gateway): set llmfleet:gateway.hostname, or remove llmfleet:routing"]
    lines = _errors("gcp-prod", routing={"models": [{"name": "small", "versions": [{"model": "llama-8b",
                                                                                    "weight": 100}]}]})
    assert lines == ["llmfleet:routing.models[0].versions[0].model: model 'llama-8b' runs on kserve; only vLLM "
                     "models are routable on the gateway"]


def test_tier_names_must_not_shadow_models():
    lines = _errors("prod", routing={"tiers": [{"name": "llama-8b", "pick": "best"}]})
    assert lines == ["llmfleet:routing.tiers[0].name: 'llama-8b' is a model of llmfleet:models: a tier needs its "
                     "own name"]


def test_routing_changes_show_in_the_plan_diff():
    """A weight change, a removed fallback, a new tier and a tenant limit change each give one row."""
    from plan.routesdiff import markdown as md, routes_diff
    head = routes.report(SimpleNamespace(spec=_load("prod")))
    base = copy.deepcopy(head)
    base["routes"] = [r for r in base["routes"] if r["model"] != "best"]
    base["routes"][0]["fallback"] = []
    base["tenants"][1]["tokensPerHour"] = 1000000
    rows = routes_diff(base, head)
    assert rows == [
        {"model": "llama-70b", "op": "change", "base": "llama-70b 100%; $5.4716/1M",
         "head": "llama-70b 100%; fallback llama-8b; $5.4716/1M"},
        {"model": "best", "op": "add", "base": None, "head": "llama-70b 100%; fallback llama-8b; $5.4716/1M"},
        {"model": "tenant batch", "op": "change", "base": "tokens/hour 1000000", "head": "tokens/hour 50000000"}]
    assert routes_diff(head, copy.deepcopy(head)) == []
    assert routes_diff(None, None) is None
    assert "| prod | best | add | - | llama-70b 100%; fallback llama-8b; $5.4716/1M |" in md({"prod": {"routes": rows}})


def test_more_virtual_names_than_one_route_holds_is_a_config_error():
    """AIGatewayRoute v1beta1 caps `rules` at 15 (shared/crds/envoy-ai-gateway): the 16th name is refused here, with
    one line, rather than by the API server halfway through an `up`."""
    tiers = [{"name": f"tier-{i}", "pick": "cheapest"} for i in range(15)]
    lines = _errors("dev", routing={"tiers": tiers})
    assert len(lines) == 1 and lines[0].startswith("llmfleet:routing: routes 16 virtual model names (llama-8b, ")
    assert lines[0].endswith("but one AIGatewayRoute holds at most 15 rules: serve fewer vLLM models behind this "
                             "Gateway, or fewer tiers")
    assert _load("dev", routing={"tiers": tiers[:14]}).routing is not None      # 15 names: still one route
