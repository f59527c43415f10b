"""Memory math and placement: which pool, how many GPUs, how much KV cache is left."""
from .estimate import GIB, OVERHEAD_GIB_PER_GPU, WEIGHT_FACTOR, Candidate, Fit, fit, place, Placement, NoFit

__all__ = ["GIB", "OVERHEAD_GIB_PER_GPU", "WEIGHT_FACTOR", "Candidate", "Fit", "fit", "place", "Placement", "NoFit"]
