"""Memory math and placement: which pool, how many GPUs, how much KV cache is left."""
from .estimate import (GIB, OVERHEAD_WEIGHT_FACTOR, WEIGHT_FACTOR, Candidate, Fit, NoFit, Placement, PoolFit, fit,
                       place, place_across, tp_problems, tp_sizes)

__all__ = ["GIB", "OVERHEAD_WEIGHT_FACTOR", "WEIGHT_FACTOR", "Candidate", "Fit", "NoFit", "Placement", "PoolFit",
           "fit", "place", "place_across", "tp_problems", "tp_sizes"]
