"""Test-local recorder of resource options (protect, retainOnDelete, ignoreChanges, deleteBeforeReplace, aliases)
and of the provider each invoke used, which plan/runtime.py does not record yet.

It wraps the mock monitor's RegisterResource and the mocks' call for the duration of one run, reading the fields
of the engine's RegisterResourceRequest as `pulumi up` would send them.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field

from plan import runtime


@dataclass
class Options:
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: list = field(default_factory=list)
    alias_names: list = field(default_factory=list)      # names of aliases given by name (same parent, type)


@dataclass
class Recording:
    options: dict = field(default_factory=dict)           # resource URN -> Options
    invokes: list = field(default_factory=list)           # (token, args, provider reference)

    def of(self, resource) -> Options:
        return self.options[resource.urn]


@contextmanager
def recording():
    rec = Recording()
    register, call = runtime._Monitor.RegisterResource, runtime._Mocks.call

    def record_register(self, request):
        response = register(self, request)
        names = [a.spec.name for a in request.aliases if a.HasField("spec") and a.spec.name]
        rec.options[response.urn] = Options(
            protect=bool(request.protect), retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace), ignore_changes=list(request.ignoreChanges),
            alias_names=names)
        return response

    def record_call(self, args):
        rec.invokes.append((args.token, dict(args.args), args.provider))
        return call(self, args)

    runtime._Monitor.RegisterResource, runtime._Mocks.call = record_register, record_call
    try:
        yield rec
    finally:
        runtime._Monitor.RegisterResource, runtime._Mocks.call = register, call
