"""What makes a stack production: one rule for every cloud and layer.

`llmfleet:environment` (default: the stack name) is production when it is `prod`, `production` or one of those
with a suffix (`prod-eu`). Production stacks must close their control plane, keep protection on and carry a
budget; the cost guards relax their non-prod rules for them.
"""
import re

PROD_ENVIRONMENT = r"prod(uction)?(-[a-z0-9-]+)?"


def is_production(environment: str) -> bool:
    return bool(re.fullmatch(PROD_ENVIRONMENT, environment or ""))
