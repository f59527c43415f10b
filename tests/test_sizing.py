"""Worked examples of the estimator (sizing/estimate.py): vLLM 0.33.0's memory model with KAITO's overhead rule.

Per GPU of n: budget = torch total x u; weights = 1.02 W / n; overhead = base + 0.05 x weights;
tokens = (floor((budget - weights - overhead) / (16 b)) - 1) x 16 with b = 2 L max(1, kv // n) d bytes.
H100 80GB: torch total 79.14 GiB (81039 MiB), so budget at u = 0.9 is 71.226 GiB.
"""
import pytest

from catalog.gpus import GPUS
from catalog.models import CHECKPOINTS, MODELS, ModelArch
from sizing import GIB, Candidate, NoFit, fit, place, place_across, tp_problems, tp_sizes

H100 = GPUS["h100-80gb"]
A100_40 = GPUS["a100-40gb"]
L70 = MODELS["llama-3.1-70b"]
L8 = MODELS["llama-3.1-8b"]


def test_llama_8b_bf16_on_one_h100_holds_433k_tokens():
    # weights 1.02 x 16.06 GB = 15.256 GiB; overhead 2.3 + 0.05 x 15.256 = 3.063 GiB;
    # KV 71.226 - 15.256 - 3.063 = 52.907 GiB -> 433,408 blocks of 16 x 128 KiB -> (27,088 - 1) x 16 = 433,392.
    f = fit(L8, L8.weight_bytes("bf16"), 2, H100, 1, 0, 0.9)
    assert f.budget_bytes / GIB == pytest.approx(71.2257, abs=1e-4)
    assert f.overhead_bytes / GIB == pytest.approx(3.0628, abs=1e-4)
    assert f.kv_tokens == 433_392
    assert f.kv_bytes == 27_088 * 16 * 131_072          # whole blocks: what --kv-cache-memory-bytes gets


def test_llama_70b_bf16_on_two_h100_has_no_room_left():
    # weights 1.02 x 141.2 GB / 2 = 67.066 GiB + overhead 2.3 + 3.353 = 5.653 GiB > 71.226 GiB budget.
    assert fit(L70, L70.weight_bytes("bf16"), 2, H100, 2, 0, 0.9).kv_tokens == 0


def test_llama_70b_bf16_on_four_h100_holds_441k_tokens():
    # weights 33.533 GiB, overhead 2.3 + 1.677 = 3.977 GiB; KV 33.716 GiB per GPU / (16 x 80 KiB) -> 441,904.
    f = fit(L70, L70.weight_bytes("bf16"), 2, H100, 4, 0, 0.9)
    assert (f.kv_bytes_per_token, f.kv_tokens) == (81_920, 441_904)


def test_fp8_70b_on_one_h100_is_refused():
    # The FP8 checkpoint keeps embeddings and lm_head in bf16: 68.60e9 x 1 + 2.10e9 x 2 = 72.70 GB, x 1.02 =
    # 69.06 GiB; overhead 2.3 + 0.05 x 69.06 = 5.75 GiB; 69.06 + 5.75 = 74.82 > 71.23 GiB. The old rule (nvidia-smi
    # memory, flat 2.3 GiB, params x 1 byte, KV at 1 byte for `auto`) planned 15,180 tokens here. One 8k sequence
    # needs 69.06 + 5.75 + (512 + 1 blocks) x 16 x 320 KiB = 77.3 GiB.
    ckpt = CHECKPOINTS[("llama-3.1-70b", "fp8")]
    assert ckpt.weight_bytes / 1e9 == pytest.approx(72.70, abs=0.01)
    f = fit(L70, ckpt.weight_bytes, 2, H100, 1, 8192, 0.9)
    assert (f.kv_tokens, f.fits) == (0, False)
    with pytest.raises(NoFit, match=r"pool 'p5' \(1x H100 80GB HBM3\): needs 77\.3 GiB on 1 GPU"):
        place(L70, ckpt.weight_bytes, 2, 8192, 1, [Candidate("p5", H100, 1, 6.88)], 0.9)


def test_kv_auto_is_sixteen_bit_even_for_quantized_weights():
    # AWQ 70B (39.79 GB) on one H100: KV 29.23 GiB at 2 bytes per element (320 KiB a token) = 95,776 tokens,
    # half of what 1-byte KV would promise and a quarter of the old int4-width figure.
    ckpt = CHECKPOINTS[("llama-3.1-70b", "awq")]
    assert ckpt.weight_bytes / 1e9 == pytest.approx(39.79, abs=0.01)
    auto = fit(L70, ckpt.weight_bytes, 2, H100, 1, 0, 0.9)
    fp8 = fit(L70, ckpt.weight_bytes, 1, H100, 1, 0, 0.9)
    assert auto.kv_tokens == 95_776
    assert fp8.kv_tokens == pytest.approx(2 * auto.kv_tokens, abs=32)   # block rounding


def test_ten_kv_heads_refuse_tp_4():
    # Phi-3-medium: 40 heads split into 4, but 10 KV heads neither split into 4 nor replicate over 4.
    phi = MODELS["phi-3-medium"]
    assert tp_problems(phi, 4) == ["10 KV heads neither split into 4 nor replicate evenly over 4"]
    # 5 and 10 split heads and KV heads but not the vocabulary (32064 / 5, / 10): only 1 and 2 remain.
    assert tp_sizes(phi, 16) == [1, 2]
    with pytest.raises(NoFit, match="tensorParallel 4 is not possible \\(10 KV heads neither split"):
        place(phi, phi.weight_bytes("bf16"), 2, 4096, 1, [Candidate("p", H100, 8, 55.04)], 0.9, fixed_tp=4)


def test_tp_16_replicates_kv_heads_and_halves_the_tokens():
    # 70B at TP 16 on a2-megagpu-16g (A100 40GB, torch 39.56 GiB, budget 35.60 GiB): 8 KV heads over 16 ranks ->
    # one head per GPU, each replicated twice: 2 x 80 x 1 x 128 x 2 = 40 KiB per token per GPU, not 20 KiB.
    # KV per GPU 35.604 - 8.383 - 2.719 = 24.501 GiB -> 642,256 tokens (sharding would have claimed 1.28M).
    f = fit(L70, L70.weight_bytes("bf16"), 2, A100_40, 16, 0, 0.9)
    assert f.kv_bytes_per_token == 40_960
    assert f.kv_tokens == 642_256
    assert f.kv_tokens < f.kv_bytes / 20_480 / 1.9


def test_tp_3_on_a_six_gpu_node_is_valid_and_cheapest():
    # bigcode/starcoder (config.json: n_layer 40, n_head 48, multi_query -> 1 KV head, n_embd 6144, n_inner 24576,
    # vocab 49152): 48 / 3, 1 KV head replicated 3x, 24576 / 3 and 49152 / 3 all whole -> TP 3 is valid.
    starcoder = ModelArch("starcoder", "bigcode/starcoder", 15.5, 40, 48, 1, 128, 8192, "bf16", 6144, 24576, 49152)
    assert tp_sizes(starcoder, 6) == [1, 2, 3, 4, 6]
    l4_node = Candidate("l4x6", GPUS["l4-24gb"], 6, 6.0)
    # L4 budget 22.25 x 0.9 = 20.02 GiB. 8192 x 16 = 131,072 tokens wanted. TP 2: 20.02 - 14.72 - 3.04 = 2.26 GiB
    # per GPU / 20 KiB = 118,560 tokens, too few. TP 3: 20.02 - 9.82 - 2.79 = 7.42 GiB -> 388,752 tokens at 3/6
    # of the node, cheaper than TP 4 (4/6), the smallest power of two that fits.
    assert fit(starcoder, starcoder.weight_bytes("bf16"), 2, l4_node.gpu, 2, 131_072, 0.9).fits is False
    p = place(starcoder, starcoder.weight_bytes("bf16"), 2, 8192, 16, [l4_node], 0.9)
    assert (p.tensor_parallel, p.price_hour) == (3, 3.0)
    assert p.kv_tokens == 388_752


def test_cheapest_pool_wins_and_a_7b_model_needs_one_gpu():
    a100 = Candidate("a100-40", A100_40, 8, 21.96)
    h100 = Candidate("h100", H100, 8, 55.04)
    m = MODELS["mistral-7b-instruct-v0.2"]
    p = place(m, m.weight_bytes("bf16"), 2, 8192, 8, [h100, a100], 0.9)
    assert (p.pool, p.tensor_parallel) == ("a100-40", 1)


def test_405b_fp8_checkpoint_weight_is_the_measured_one_and_needs_a_whole_h200_node():
    # Measured 57.752 GiB per GPU at TP 8 (vLLM log); params x 1 byte would be 47.3 GiB.
    ckpt = CHECKPOINTS[("llama-3.1-405b", "fp8")]
    assert ckpt.weight_bytes / 8 / GIB == pytest.approx(57.752)
    h200 = Candidate("h200", GPUS["h200-141gb"], 8, 84.8)
    p = place(MODELS["llama-3.1-405b"], ckpt.weight_bytes, 2, 8192, 4, [h200], 0.9)
    assert p.tensor_parallel == 8       # 4 x 138.86 x 0.9 = 499.9 GiB < 471.2 weights + 4 x 25.9 overhead


def test_one_template_for_two_pools_uses_the_smaller_kv_cache():
    h100 = Candidate("h100", H100, 8, 55.04)
    h200 = Candidate("h200", GPUS["h200-141gb"], 8, 84.8)
    p = place_across(L70, L70.weight_bytes("bf16"), 2, 8192, 32, [h100, h200], 0.9, fixed_tp=4)
    assert (p.pool, p.tensor_parallel, p.pools) == ("h100", 4, ("h100", "h200"))
    assert p.kv_tokens == 441_904                   # the H100's figure, also on the H200
    assert p.fallbacks[0].kv_tokens > p.kv_tokens


def test_a_pool_that_cannot_run_the_shared_size_is_named():
    two = Candidate("small", H100, 2, 13.76)
    eight = Candidate("big", H100, 8, 55.04)
    with pytest.raises(NoFit) as e:
        place_across(L70, L70.weight_bytes("bf16"), 2, 8192, 32, [eight, two], 0.9)
    assert "no tensor-parallel size that fits every listed pool" in str(e.value)
    assert "pool 'big' alone needs tensor-parallel 4" in str(e.value)
    assert "pool 'small' (2x H100 80GB HBM3)" in str(e.value)


# --- the same rules through the stack config ----------------------------------------------------------------
STARCODER = {"hfId": "bigcode/starcoder", "paramsB": 15.5, "layers": 40, "attentionHeads": 48, "kvHeads": 1,
             "headDim": 128, "context": 8192, "hiddenSize": 6144, "intermediateSize": 24576, "vocabSize": 49152}


def test_tp_3_on_an_existing_clusters_six_gpu_node_is_rendered():
    from tests.harness import run_config
    plan = run_config({"cloud": "existing", "gpuPools": [
        {"name": "l4x6", "gpu": "l4-24gb", "gpusPerNode": 6, "labels": {"gpu": "l4"}, "pricePerHour": 6.0}],
        "models": [{"name": "sc", "architecture": STARCODER, "maxContext": 8192, "concurrency": 16}]},
        secrets={"kubeconfig": "k"})
    (m,) = plan.spec.models
    assert (m.placement.tensor_parallel, m.placement.kv_tokens, m.placement.price_hour) == (3, 388_752, 3.0)
    ctr = plan.manifest("Deployment", "sc", "llm-serving")["spec"]["template"]["spec"]["containers"][0]
    assert ctr["args"][ctr["args"].index("--tensor-parallel-size") + 1] == "3"
    assert ctr["resources"]["limits"]["nvidia.com/gpu"] == "3"


def test_ten_kv_heads_at_tensor_parallel_4_is_a_config_error():
    from tests.harness import config_error
    lines = config_error({"cloud": "existing", "gpuPools": [
        {"name": "h100", "gpu": "h100-80gb", "gpusPerNode": 8, "labels": {"gpu": "h100"}}],
        "models": [{"name": "phi", "model": "phi-3-medium", "maxContext": 4096, "tensorParallel": 4}]},
        secrets={"kubeconfig": "k"})
    assert lines == ["llmfleet:models[0].tensorParallel: 4 is not a size vLLM accepts for phi-3-medium: 10 KV heads "
                     "neither split into 4 nor replicate evenly over 4"]


def test_a_custom_quantized_checkpoint_is_sized_by_its_measured_weight():
    from spec.stack import load
    from components.serving.common import engine_flags
    arch = {**STARCODER, "hfId": "org/starcoder-awq", "weightGiB": 9.5}
    spec = load({"cloud": "existing", "kubeconfig": "k", "gpuPools": [
        {"name": "l4", "gpu": "l4-24gb", "gpusPerNode": 1, "labels": {"gpu": "l4"}}],
        "models": [{"name": "sc", "architecture": arch, "quantization": "awq", "maxContext": 8192,
                    "concurrency": 4}]}, {"kubeconfig"}, "t")
    (m,) = spec.models
    assert (m.hf_repo, m.weight_bytes, m.dtype) == ("org/starcoder-awq", 9.5 * GIB, "int4")
    # L4: 20.02 - 1.02 x 9.5 - (2.3 + 0.05 x 9.69) = 7.55 GiB / (16 x 20 KiB, one KV head) = 24,732 blocks
    # -> (24,732 - 1) x 16 = 395,696 tokens.
    assert m.placement.kv_tokens == 395_696
    assert engine_flags(m)[-2:] == ["--quantization", "awq"]     # no catalog checkpoint: the method is named
    assert engine_flags(m)[:4] == ["--tensor-parallel-size", "1", "--max-model-len", "8192"]
