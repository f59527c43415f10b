"""What the mock runtime answers where a real provider would compute something.

`OUTPUTS[type]` gives a resource's computed outputs (merged over its inputs) for types whose outputs the program
reads (an EKS cluster's endpoint, a GKE cluster's CA...). `CALLS[token]` answers provider functions (invokes).
Values are obviously fake (example.invalid hosts, zeroed account ids) so they can never be mistaken for real ones.
"""
import base64
from typing import Any, Callable

FAKE_CA = base64.b64encode(b"offline-plan-fake-ca").decode()
ACCOUNT = "000000000000"


def _aws_arn(service: str, kind: str):
    return lambda name, inputs: {"arn": f"arn:aws:{service}::{ACCOUNT}:{kind}/{inputs.get('name') or name}"}


OUTPUTS: dict[str, Callable[[str, dict], dict]] = {}
CALLS: dict[str, Callable[[dict], dict]] = {}


def outputs_for(type_: str, name: str, inputs: dict) -> dict:
    fn = OUTPUTS.get(type_)
    extra = fn(name, inputs) if fn else {}
    return {**inputs, **extra}


def call(token: str, args: dict) -> dict:
    fn = CALLS.get(token)
    if fn is None:
        raise KeyError(f"the offline plan has no fake answer for provider function {token}; add one to plan/fakes.py")
    return fn(args)


__all__ = ["OUTPUTS", "CALLS", "outputs_for", "call", "FAKE_CA", "ACCOUNT", "_aws_arn", "Any"]
