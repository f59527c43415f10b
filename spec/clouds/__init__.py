"""Per-cloud cluster settings (`llmfleet:cluster.aws`, `.gcp`, `.azure`), one reader per cloud.

Each reader takes the sub-object's `Obj` (empty when the stack sets nothing) and returns that cloud's settings
dataclass with its defaults; `spec/cluster.py` calls the one for the stack's cloud and rejects the others.
"""
from typing import Any, Callable

from spec.reader import Obj

READERS: dict[str, Callable[[Obj], Any]] = {}
