"""The NVIDIA layer: GPU Operator (or standalone device plugin) set up from the pools' driver ownership.

This package's top level holds only the pure label/resource contract (`labels`), so spec/ and the cluster
components can import it without pulling in Pulumi; the component itself is `components.nvidia.stack.NvidiaStack`.
"""
from components.nvidia.labels import (LABEL_DEVICE_PLUGIN_CONFIG, LABEL_MIG_CONFIG, gpu_resource,
                                      nvidia_node_labels, pool_node_labels)

__all__ = ["LABEL_DEVICE_PLUGIN_CONFIG", "LABEL_MIG_CONFIG", "gpu_resource", "nvidia_node_labels",
           "pool_node_labels"]
