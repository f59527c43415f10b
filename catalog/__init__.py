"""Facts carried over from upstream: GPUs, instance types, models and prices. Each entry names its source and date."""
