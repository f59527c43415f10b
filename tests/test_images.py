"""Issue 16 item 4: every image the program renders is pinned (exact tag or digest), pulled IfNotPresent, and can be
replaced per image by `llmfleet:images` (a digest from the user's registry mirror)."""
import pytest

from plan.checks.context import Context
from spec.images import IMAGES, is_digest, problem
from tests.harness import config_error, run_config, run_stack
from tests.test_serving import H100_POOL, SECRETS

DIGEST = "sha256:" + "0123456789abcdef" * 4
MIRROR = {"vllm": f"registry.example.com/mirror/vllm-openai@{DIGEST}",
          "ray-llm": f"registry.example.com/mirror/ray-llm:2.52.0-py311-cu128@{DIGEST}",
          "tei": f"registry.example.com:5000/mirror/text-embeddings-inference@{DIGEST}",
          "rag-job": f"registry.example.com/mirror/python@{DIGEST}"}
BASE = {"cloud": "existing", "gpuPools": [H100_POOL],
        "models": [{"name": "chat", "model": "llama-3.1-8b"},
                   {"name": "ray", "model": "llama-3.1-8b", "engine": "rayserve"}],
        "rag": {"llm": "chat", "embedding": {"model": "bge-base-en-v1.5"}, "frontEnd": {"enabled": False}}}


def containers(p) -> list[tuple[str, dict]]:
    ctx = Context("existing", "1.34", p.manifests)
    return [(pod.owner, c) for pod in ctx.pods for c in pod.containers()]


def test_catalog_defaults_are_pinned_references():
    for name, (_, default) in IMAGES.items():
        assert default is None or problem(default) is None, name


def test_reference_syntax():
    assert problem(f"repo/x@{DIGEST}") is None and is_digest(f"repo/x@{DIGEST}")
    assert problem("r.example.com:5000/a/b:v1") is None and not is_digest("r.example.com:5000/a/b:v1")
    assert problem(f"repo/x:v1@{DIGEST}") is None
    assert "names no tag or digest" in problem("repo/x")
    assert "must be pinned" in problem("repo/x:latest")
    assert problem(f"repo/x:latest@{DIGEST}") is None     # the digest pins it
    assert "must be an image reference" in problem("repo/x@sha256:short")
    assert "must be an image reference" in problem("Repo/X:1")


@pytest.mark.parametrize("stack", ["dev", "prod", "gcp-prod", "azure-prod", "edge", "prod-karpenter"])
def test_every_rendered_container_is_pinned_and_pulled_if_not_present(stack):
    found = containers(run_stack(stack))
    assert found
    for owner, c in found:
        if "image" not in c:
            # KServe's predictor takes image and pull policy from the chart's ClusterServingRuntime.
            assert owner.startswith("InferenceService "), owner
            continue
        assert problem(c["image"]) is None, (owner, c["image"])
        assert c.get("imagePullPolicy") == "IfNotPresent", (owner, c["name"])


def test_overrides_reach_every_component_that_renders_the_image():
    p = run_config({**BASE, "images": MIRROR}, secrets=SECRETS)
    by_name = {c["name"]: c["image"] for _, c in containers(p)}
    assert by_name["vllm"] == MIRROR["vllm"]
    assert by_name["ray-head"] == by_name["ray-worker"] == MIRROR["ray-llm"]
    assert by_name["tei"] == MIRROR["tei"]
    assert by_name["collection"] == MIRROR["rag-job"]
    # Nothing of the catalog's defaults is left.
    assert not {i for i in by_name.values() if "registry.example.com" not in i}


def test_without_overrides_the_catalog_tags_are_used():
    p = run_config(BASE, secrets=SECRETS)
    by_name = {c["name"]: c["image"] for _, c in containers(p)}
    assert by_name["vllm"] == IMAGES["vllm"][1] and by_name["ray-head"] == IMAGES["ray-llm"][1]
    assert by_name["collection"] == IMAGES["rag-job"][1]
    assert by_name["tei"] == "ghcr.io/huggingface/text-embeddings-inference:cpu-1.9"


def test_bad_image_overrides_are_one_line_each():
    lines = config_error({**BASE, "images": {"vllm": "vllm/vllm-openai", "ray": "x:1", "tei": "a/b:latest",
                                             "rag-job": 3},
                          "serving": {"vllmImage": "vllm/vllm-openai:v0.33.0"}}, secrets=SECRETS)
    assert lines == [
        "llmfleet:images.vllm: names no tag or digest (the runtime would pull latest): an image reference with a "
        "tag or a digest, e.g. repo/name:v1.2.3 or repo/name@sha256:<64 hex>",
        "llmfleet:images.ray: is not an image this program renders (did you mean 'ray-llm'?); allowed: vllm, "
        "ray-llm, tei, rag-job (chart images are pinned by the chart version)",
        "llmfleet:images.tei: must be pinned: latest moves with every release; give a release tag or a digest",
        "llmfleet:images.rag-job: must be a string, got 3 (quote it in YAML to keep it a string)"]
    lines = config_error({**BASE, "images": {"vllm": MIRROR["vllm"]},
                          "serving": {"vllmImage": "vllm/vllm-openai:v0.33.0"}}, secrets=SECRETS)
    assert lines == ["llmfleet:images.vllm: and llmfleet:serving.vllmImage both set the image: keep one"]
