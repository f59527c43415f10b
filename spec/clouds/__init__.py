"""Per-cloud cluster settings (`llmfleet:cluster.aws`, `.gcp`, `.azure`), one reader per cloud.

Each reader takes the sub-object's `Obj` (empty when the stack sets nothing) and returns that cloud's settings
dataclass with its defaults; `spec/cluster.py` calls the one for the stack's cloud and rejects the others.
"""
from typing import Any, Callable

from spec.reader import Obj

READERS: dict[str, Callable[[Obj], Any]] = {}
# Cloud checks that need the cluster and the pools together: check(cluster, pools, problems).
CHECKS: dict[str, Callable[..., None]] = {}

from spec.clouds.aws import check_aws, read_aws_settings  # noqa: E402

READERS["aws"] = read_aws_settings
CHECKS["aws"] = check_aws

from spec.clouds.gcp import check_gcp, read_gcp_settings  # noqa: E402

READERS["gcp"] = read_gcp_settings
CHECKS["gcp"] = check_gcp

from spec.clouds.azure import check_azure, read_azure_settings  # noqa: E402

READERS["azure"] = read_azure_settings
CHECKS["azure"] = check_azure
