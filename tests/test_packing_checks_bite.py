"""The whole-node floor (plan/packing.py) and the cluster-check stage's bookkeeping (plan/checks/__init__.py,
plan/checks/stage.py), decision by decision on hand-built models and checks."""
import json
from types import SimpleNamespace as NS

import pytest

from plan import checks
from plan.checks import Check, stage
from plan.packing import Node, pack


def model(name, pool, tp, replicas, gpus_per_node=8, price=80.0):
    return NS(name=name, replicas=NS(min=replicas),
              placement=NS(pool=pool, tensor_parallel=tp, gpus_per_node=gpus_per_node, node_price_hour=price))


def test_replicas_pack_first_fit_decreasing_onto_whole_nodes():
    floors = pack([model("small", "h100", 1, 3), model("big", "h100", 4, 2), model("mid", "h100", 2, 1)])
    f = floors["h100"]
    assert [n.used for n in f.nodes] == [{"big": 8}, {"mid": 2, "small": 3}]
    assert (f.gpus_per_node, f.node_price_hour, f.idle_gpus) == (8, 80.0, 3)
    # Each node's price split by GPUs used: the models' shares add up to the whole nodes.
    assert f.model_hour("big") == 80.0
    assert f.model_hour("mid") == pytest.approx(80.0 * 2 / 5) and f.model_hour("small") == pytest.approx(80.0 * 3 / 5)
    assert f.model_hour("absent") == 0


def test_a_replica_fits_a_node_with_exactly_its_gpus_free_and_zero_replicas_need_no_node():
    f = pack([model("a", "p", 4, 1), model("b", "p", 4, 1)])["p"]
    assert [n.used for n in f.nodes] == [{"a": 4, "b": 4}] and f.idle_gpus == 0
    f = pack([model("a", "p", 4, 1), model("b", "p", 5, 1)])["p"]
    assert [n.used for n in f.nodes] == [{"b": 5}, {"a": 4}] and f.idle_gpus == 7
    assert pack([model("z", "p", 1, 0)])["p"].nodes == ()
    assert pack([]) == {}


def test_each_pool_packs_separately_with_its_own_node_size():
    floors = pack([model("a", "x", 1, 2, gpus_per_node=1, price=2.0), model("b", "y", 1, 1, gpus_per_node=4)])
    assert [n.used for n in floors["x"].nodes] == [{"a": 1}, {"a": 1}] and floors["x"].model_hour("a") == 4.0
    assert [n.used for n in floors["y"].nodes] == [{"b": 1}] and floors["y"].idle_gpus == 3
    assert Node(8, {"a": 3}).free == 5


# --- checks bookkeeping -----------------------------------------------------------------------------------------

def test_a_check_takes_only_the_three_verdicts():
    for v in ("pass", "fail", "unchecked"):
        assert Check("n", "o", v, "m").verdict == v
    with pytest.raises(ValueError, match="verdict 'ok' is not one of"):
        Check("n", "o", "ok", "m")


def test_summary_and_write(tmp_path):
    found = [Check("a", "o", "pass", "m"), Check("b", "o", "fail", "x"), Check("c", "o", "fail", "y"),
             Check("d", "o", "unchecked", "z")]
    assert checks.summary(found) == {"pass": 1, "fail": 2, "unchecked": 1, "total": 4}
    assert checks.summary([]) == {"pass": 0, "fail": 0, "unchecked": 0, "total": 0}
    checks.write(found, tmp_path / "checks.json")
    doc = json.loads((tmp_path / "checks.json").read_text())
    assert doc["summary"] == checks.summary(found)
    assert doc["checks"][1] == {"name": "b", "object": "o", "verdict": "fail", "message": "x"}


def test_run_collects_every_rule_module():
    names = [m.__name__.rsplit(".", 1)[-1] for m in checks.rule_modules()]
    assert names == ["admission", "scheduling", "scale_from_zero", "storage", "references", "gateway", "api_rules",
                     "cel", "helm_values", "network", "secrets", "hygiene", "rbac"]


def test_the_stage_reports_failures_on_stderr_and_counts_them(tmp_path, monkeypatch, capsys):
    found = [Check("r.x", "Deployment a/b", "fail", "broken"), Check("r.y", "o", "pass", "fine")]
    monkeypatch.setattr(stage.checks, "run", lambda ctx: found)
    monkeypatch.setattr(stage.Context, "from_run", classmethod(lambda cls, *a: None))
    said = []
    assert stage.run_stage(None, [], "1.34", tmp_path, say=said.append) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"cluster checks: 1 pass, 1 fail, 0 unchecked -> {tmp_path / 'checks.json'}",
                                "  Deployment a/b: [r.x] broken"]
    assert said == [] and (tmp_path / "checks.json").exists()
    monkeypatch.setattr(stage.checks, "run", lambda ctx: found[1:])
    assert stage.run_stage(None, [], "1.34", tmp_path, say=said.append) == 0
    assert said == [f"cluster checks: 1 pass, 0 fail, 0 unchecked -> {tmp_path / 'checks.json'}"]
    assert capsys.readouterr().err == ""
