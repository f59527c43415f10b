"""`pulumi new` from this repository: the template's prompts, answered with their defaults, make a stack that plans."""
import yaml

from plan import __main__ as plan_cli
from plan.runtime import ROOT


def test_pulumi_new_defaults_make_a_stack_that_plans(tmp_path):
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    prompts = project["template"]["config"]
    assert set(prompts) == {"llmfleet:cloud", "llmfleet:cluster", "llmfleet:gpuPools", "llmfleet:models"}
    assert all(p["description"] for p in prompts.values())
    # pulumi new writes each answer as a plain string value into Pulumi.<stack>.yaml.
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.fresh.yaml").write_text(yaml.safe_dump(
        {"config": {k: str(p["default"]) for k, p in prompts.items()}}))
    assert plan_cli.plan("fresh", tmp_path / "out", quiet=True, stack_root=tmp_path) == 0
    cost = (tmp_path / "out" / "cost.md").read_text()
    assert "g6e.xlarge" in cost and "qwen-7b" in cost
