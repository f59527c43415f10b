"""The config reference (docs/config.md) and the stack-file JSON Schema (schema/stack.schema.json), generated from
the readers themselves: `make docs` writes both, tests/test_docs_generated.py fails when the committed files differ.

How: while generating (never during a plan), every accessor call of spec/reader.py `Obj` is recorded: the key's
path (list positions as `[]`), its kind, default, choices, bounds and pattern, and the cloud of the config being
loaded. Every shipped stack and a few synthetic configs (spec/keydocs.py `synthetic`, reaching blocks no stack
writes) are loaded; a reader call site in spec/ that none of them reaches fails the generator, as does a key
without a meaning in spec/keydocs.py. Types, defaults and allowed values thus come from the code; only the
one-line meaning is written by hand.
"""
import json
import sys

from plan.configdocs.record import ROOT, Key, Recorder, load_recorded, record_all, recording, stack_config, stacks
from plan.configdocs.reference import DocsError, Entry, _default, entries, markdown
from plan.configdocs.schema import schema

__all__ = ["DocsError", "Entry", "Key", "Recorder", "entries", "load_recorded", "markdown", "record_all",
           "recording", "render", "schema", "stack_config", "stacks", "main", "_default"]


def render() -> dict[str, str]:
    """The text of every generated file, by path relative to the repository."""
    items = entries(record_all())
    return {"docs/config.md": markdown(items),
            "schema/stack.schema.json": json.dumps(schema(items), indent=2, ensure_ascii=False) + "\n"}


def main(argv: list[str]) -> int:
    try:
        texts = render()
    except DocsError as e:
        print(f"make docs: every config key needs a meaning, and every reader call a config that reaches it:\n{e}",
              file=sys.stderr)
        return 1
    for rel, text in texts.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {rel}")
    return 0
