"""llmfleet: LLM inference on Kubernetes across EKS, GKE, AKS and existing clusters.

Stack config -> validated spec (spec/) -> composition (stacks/compose.py) -> components (components/).
A config mistake stops the program before any resource exists, with one line per problem and no traceback.
"""
import pulumi

from spec.reader import ConfigError
from spec.stack import from_pulumi
from stacks.compose import compose

try:
    SPEC = from_pulumi()
except ConfigError as error:
    # RunError ends the program cleanly: Pulumi prints the message without a stack trace.
    raise pulumi.RunError("invalid stack config:\n" + str(error)) from None

STACK = compose(SPEC)
