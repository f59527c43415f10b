"""llmfleet: LLM inference on Kubernetes across EKS, GKE, AKS and existing clusters.

Stack config -> validated spec (spec/) -> composition (stacks/compose.py) -> components (components/).
A federation stack (`llmfleet:federation`, docs/federation.md) has no cluster of its own: spec/federation.py ->
stacks/federation.py, over the cloud stacks' outputs.
A config mistake stops the program before any resource exists, with one line per problem and no traceback.
"""
import pulumi

from spec.reader import ConfigError
from spec.stack import from_pulumi
from spec import federation
from stacks.compose import compose

try:
    FEDERATED = federation.is_federation(federation.raw_config())
    SPEC = federation.from_pulumi() if FEDERATED else from_pulumi()
except ConfigError as error:
    # RunError ends the program cleanly: Pulumi prints the message without a stack trace.
    raise pulumi.RunError("invalid stack config:\n" + str(error)) from None

if FEDERATED:
    from stacks.federation import compose_federation
    STACK = compose_federation(SPEC)
else:
    STACK = compose(SPEC)
