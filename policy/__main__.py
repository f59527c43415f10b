"""The llmfleet cost-guard policy pack, as `pulumi preview --policy-pack policy` loads it.

Building a PolicyPack starts the analyzer's gRPC server, so it happens here only; the offline plan calls the same
policies' validate functions directly (plan/policy.py).
"""
import sys
from pathlib import Path

# The pack reads the project's price and GPU catalogs, so the budget it enforces is the cost report's to the cent.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policy.costguards import POLICIES  # noqa: E402

PolicyPack(name="llmfleet-cost-guards", enforcement_level=EnforcementLevel.ADVISORY, policies=POLICIES)
