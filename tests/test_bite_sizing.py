"""Edges of the estimator that the worked examples (tests/test_sizing.py) do not reach: a fixed tensor-parallel
size larger than one listed pool's node, the fallback pools' figures of a shared template, and the token cost of
a model without a placement."""
import pytest

from catalog.gpus import GPUS
from catalog.models import MODELS
from sizing import Candidate, NoFit, place_across
from sizing.token_cost import token_cost

H100 = GPUS["h100-80gb"]
L70 = MODELS["llama-3.1-70b"]


def test_a_fixed_size_above_a_pools_node_fits_no_template():
    # tensorParallel 8 cannot run on a 4-GPU node: no template, and the 4-GPU pool is named with its own verdict.
    eight = Candidate("big", H100, 8, 55.04)
    four = Candidate("small", H100, 4, 27.52)
    with pytest.raises(NoFit) as e:
        place_across(L70, L70.weight_bytes("bf16"), 2, 8192, 32, [eight, four], 0.9, fixed_tp=8)
    assert "no tensor-parallel size that fits every listed pool" in str(e.value)
    assert "pool 'big' alone needs tensor-parallel 8" in str(e.value)
    # At a size both nodes hold, the same two pools make one template.
    p = place_across(L70, L70.weight_bytes("bf16"), 2, 8192, 32, [eight, four], 0.9, fixed_tp=4)
    assert (p.pool, p.tensor_parallel, p.pools) == ("big", 4, ("big", "small"))
    # The fallback's price is its own node's share: 4 of its 4 GPUs.
    (fallback,) = p.fallbacks
    assert (fallback.pool, round(fallback.price_hour, 2)) == ("small", 27.52)
    assert round(p.price_hour, 2) == 27.52          # 4 of the big node's 8 GPUs at $55.04/h


def test_token_cost_needs_a_placed_model():
    class Unplaced:
        name, placement = "m", None
    with pytest.raises(ValueError, match="model m has no placement"):
        token_cost(Unplaced())
