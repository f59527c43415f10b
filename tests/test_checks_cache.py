"""The schema and verdict caches never serve a stale answer: they are keyed by content, not by name."""
import os
import textwrap

import pytest

from plan import validate

CRD = textwrap.dedent("""\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: widgets.example.com}
    spec:
      group: example.com
      names: {kind: Widget, plural: widgets}
      scope: Namespaced
      versions:
      - name: v1
        served: true
        storage: true
        schema:
          openAPIV3Schema:
            type: object
            properties:
              apiVersion: {type: string}
              kind: {type: string}
              spec:
                type: object
                properties:
                  %s: {type: string}
    """)


@pytest.fixture(autouse=True)
def _forget_tmp_schemas():
    yield
    for f in (validate.crd_index, validate.schema, validate._validator):   # later tests see the real CRDs
        f.cache_clear()


def _fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMFLEET_CRDS", str(tmp_path / "crds"))
    monkeypatch.setenv("LLMFLEET_CACHE", str(tmp_path / "cache"))
    for f in (validate.crd_index, validate.schema, validate._validator):
        f.cache_clear()


def test_a_changed_crd_file_is_parsed_again(monkeypatch, tmp_path):
    (tmp_path / "crds").mkdir()
    crd = tmp_path / "crds" / "widgets.yaml"
    crd.write_text(CRD % "size")
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "n"},
              "spec": {"size": "big"}}
    _fresh(monkeypatch, tmp_path)
    assert validate.validate_all([widget], "1.34") == {}
    _fresh(monkeypatch, tmp_path)            # a new process: served from the cache, same verdict
    assert validate.validate_all([widget], "1.34") == {}
    crd.write_text(CRD % "colour")           # same name, new content (and a new mtime)
    os.utime(crd, ns=(1, 1))
    _fresh(monkeypatch, tmp_path)
    (problem,) = validate.validate_all([widget], "1.34").values()
    assert problem == ["spec: Additional properties are not allowed ('size' was unexpected)"]
