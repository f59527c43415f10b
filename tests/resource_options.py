"""Test-local recording of resource options (protect, delete_before_replace, retain_on_delete, ignore_changes).

plan/runtime.py records inputs, parents, providers and dependencies but not options yet. Until it does, these tests
wrap the mock monitor's RegisterResource and keep the options of each registration, keyed by (type, name). The
wrapper calls the real method first, so what the harness records is unchanged.
"""
from dataclasses import dataclass
from typing import Optional

import pytest

from plan import runtime


@dataclass(frozen=True)
class Options:
    protect: bool
    delete_before_replace: bool
    retain_on_delete: bool
    ignore_changes: tuple


class Recorder:
    def __init__(self):
        self.options: dict[tuple[str, str], Options] = {}

    def of(self, type_: str, name: str) -> Options:
        key = (type_, name)
        assert key in self.options, f"no registration of {type_} {name!r}; have {sorted(self.options)[:20]}"
        return self.options[key]

    def named(self, type_: str) -> dict[str, Options]:
        return {n: o for (t, n), o in self.options.items() if t == type_}


@pytest.fixture
def recorded_options(monkeypatch) -> Recorder:
    rec = Recorder()
    real = runtime._Monitor.RegisterResource

    def register(self, request):
        response = real(self, request)
        rec.options[(request.type, request.name)] = Options(
            protect=bool(request.protect), delete_before_replace=bool(request.deleteBeforeReplace),
            retain_on_delete=bool(request.retainOnDelete), ignore_changes=tuple(request.ignoreChanges))
        return response

    monkeypatch.setattr(runtime._Monitor, "RegisterResource", register)
    return rec


def options_of(rec: Recorder, type_: str, name: str) -> Optional[Options]:
    return rec.options.get((type_, name))
