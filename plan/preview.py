"""preview.json in the shape `pulumi preview --json` prints.

Shape (pulumi/pulumi sdk/go/common/display: `PreviewDigest` and `PreviewStep`, checked against the source;
steps' states are apitype.ResourceV3): {"config": {...}, "steps": [{"op", "urn", "provider", "newState": {"urn", "custom", "type",
"inputs", "parent", "provider", "dependencies"}}], "duration", "changeSummary": {"create": N}}. Differences: this plan has no prior
state, so every step is `create` and there is no `oldState`/`detailedDiff`; `outputs` in newState are the inputs
plus the offline fakes, so they are left out; `duration` is wall time of the offline run in nanoseconds.
"""
from typing import Any

from plan.runtime import SECRET, RunResult


def digest(result: RunResult, duration_ns: int) -> dict[str, Any]:
    stack_urn = f"urn:pulumi:{result.stack}::{result.project}::pulumi:pulumi:Stack::{result.project}-{result.stack}"
    steps = [{"op": "create", "urn": stack_urn,
              "newState": {"urn": stack_urn, "custom": False, "type": "pulumi:pulumi:Stack", "inputs": {}}}]
    for r in result.resources:
        state = {"urn": r.urn, "custom": r.custom, "type": r.type, "inputs": r.inputs,
                 "parent": r.parent or stack_urn}
        step = {"op": "create", "urn": r.urn}
        if r.dependencies:
            state["dependencies"] = r.dependencies
        if r.provider:
            state["provider"] = r.provider
            step["provider"] = r.provider
        step["newState"] = state
        steps.append(step)
    config = {k: (SECRET if k in result.secret_keys else v) for k, v in sorted(result.config.items())}
    return {"config": config, "steps": steps, "duration": duration_ns,
            "changeSummary": {"create": len(steps)}}
