"""Worked examples from shared/FACTS.md (KAITO's estimator, H100 80GB, utilisation 0.9)."""
import pytest

from catalog.gpus import GPUS
from catalog.models import MODELS
from sizing import Candidate, NoFit, fit, place
from sizing.estimate import tp_sizes

H100 = GPUS["h100-80gb"]


def test_llama_8b_on_one_h100_has_about_443k_tokens():
    f = fit(MODELS["llama-3.1-8b"], "bf16", 2, H100, 1, 0, 0.9)
    assert 440_000 <= f.kv_tokens <= 446_000


def test_llama_70b_on_two_h100_has_about_15k_tokens():
    f = fit(MODELS["llama-3.1-70b"], "bf16", 2, H100, 2, 0, 0.9)
    assert 14_500 <= f.kv_tokens <= 15_500


def test_llama_70b_on_four_h100_has_about_470k_tokens():
    f = fit(MODELS["llama-3.1-70b"], "bf16", 2, H100, 4, 0, 0.9)
    assert 465_000 <= f.kv_tokens <= 475_000


def test_fp8_kv_cache_doubles_the_tokens():
    bf16 = fit(MODELS["llama-3.1-8b"], "bf16", 2, H100, 1, 0, 0.9).kv_tokens
    fp8 = fit(MODELS["llama-3.1-8b"], "bf16", 1, H100, 1, 0, 0.9).kv_tokens
    assert fp8 == pytest.approx(2 * bf16, rel=1e-4)


def test_70b_at_8k_with_concurrency_needs_four_gpus_not_two():
    pool = Candidate("p5", H100, 8, 55.04)
    p = place(MODELS["llama-3.1-70b"], "bf16", 2, 8192, 32, [pool], 0.9)
    assert p.tensor_parallel == 4
    assert p.kv_tokens >= 8192 * 32
    assert p.price_hour == pytest.approx(55.04 * 4 / 8)


def test_cheapest_pool_wins_and_a_7b_model_needs_one_gpu():
    a100 = Candidate("a100-40", GPUS["a100-40gb"], 8, 21.96)
    h100 = Candidate("h100", H100, 8, 55.04)
    p = place(MODELS["mistral-7b-instruct-v0.2"], "bf16", 2, 8192, 8, [h100, a100], 0.9)
    assert (p.pool, p.tensor_parallel) == ("a100-40", 1)


def test_tensor_parallel_must_divide_attention_heads():
    # Qwen2.5-7B has 28 heads: 8-way TP is impossible.
    assert tp_sizes(MODELS["qwen2.5-7b"], 8) == [1, 2, 4]


def test_a_model_that_fits_nowhere_says_needed_vs_available():
    l4 = Candidate("l4", GPUS["l4-24gb"], 1, 0.8)
    with pytest.raises(NoFit) as e:
        place(MODELS["llama-3.1-70b"], "bf16", 2, 8192, 1, [l4], 0.9)
    msg = str(e.value)
    assert "pool 'l4' (1x L4 24GB): needs 138.9 GiB on 1 GPU(s)" in msg and "has 20.2 GiB at utilization 0.9" in msg


def test_405b_does_not_fit_an_h100_node_in_bf16_but_fits_four_h200_in_fp8():
    h200 = Candidate("h200", GPUS["h200-141gb"], 8, 63.3)
    with pytest.raises(NoFit):
        place(MODELS["llama-3.1-405b"], "bf16", 2, 8192, 4, [Candidate("h100", H100, 8, 55.04)], 0.9)
    p = place(MODELS["llama-3.1-405b"], "fp8", 1, 8192, 4, [h200], 0.9)
    assert p.tensor_parallel == 4  # 4 x 141 GB x 0.9 = 505 GiB >= 403 GiB needed
