"""The house stays one-way: config -> spec/ -> stacks/compose.py -> components/. Lower layers never import upper
ones (a spec rule that imports a component drags Pulumi resources into config validation, and a cycle waits)."""
import ast
from pathlib import Path

import pytest

from plan.runtime import ROOT

# A package may import only the packages listed for it (and itself, and the standard library / third parties).
ALLOWED = {
    "catalog": {"catalog"},
    "sizing": {"catalog", "sizing"},
    "spec": {"catalog", "sizing", "spec"},
    "components": {"catalog", "sizing", "spec", "components"},
    "stacks": {"catalog", "sizing", "spec", "components", "stacks"},
}
PROJECT_PACKAGES = {"catalog", "sizing", "spec", "components", "stacks", "plan", "policy", "tests"}


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_lower_layers_never_import_upper_ones(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    wrong = sorted({f"{f.relative_to(ROOT)} imports {top}" for f in files for top in _imports(f)
                    if top in PROJECT_PACKAGES and top not in ALLOWED[package]})
    assert not wrong, "\n".join(wrong)


def test_the_rule_sees_a_violation(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("from components.descriptors import PoolDescriptor\nimport plan.runtime\n")
    assert set(_imports(bad)) == {"components", "plan"}
