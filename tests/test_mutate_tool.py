"""The `make mutate` runner's bookkeeping: which tests a mutant gets, the sample, the score. A wrong map or score
would report a mutation score the tests do not earn (tests/mutate.py; the mutation run itself is not in CI)."""
import json

from tests import mutate


def _stats(tmp_path, durations, reach):
    (tmp_path / "mutants").mkdir()
    (tmp_path / "mutants" / "mutmut-stats.json").write_text(json.dumps(
        {"duration_by_test": durations, "tests_by_mangled_function_name": reach}))
    return tmp_path


def test_a_function_gets_every_file_that_reaches_it_whole_and_cheapest_first(tmp_path):
    scratch = _stats(tmp_path, {
        "mutants/tests/test_slow.py::a": 30.0, "mutants/tests/test_slow.py::b": 5.0,
        "mutants/tests/test_fast.py::a": 1.0, "mutants/tests/test_fast.py::b[x]": 2.0,
        "mutants/tests/test_other.py::a": 0.1,
    }, {
        "spec.models.x_read": ["mutants/tests/test_slow.py::b", "mutants/tests/test_fast.py::b[x]"],
        "plan.cost.x_total": ["mutants/tests/test_other.py::a"],
    })
    tests_of, cost = mutate.reach_map(scratch)
    # Whole files (a later test of the file sees what its module fixture computed; tests added since run too),
    # ordered by the file's total duration: fast (3 s) before slow (35 s).
    assert tests_of == {"spec.models.x_read": ["tests/test_fast.py", "tests/test_slow.py"],
                        "plan.cost.x_total": ["tests/test_other.py"]}
    assert cost == {"tests/test_slow.py": 35.0, "tests/test_fast.py": 3.0, "tests/test_other.py": 0.1}


def test_the_sample_is_per_folder_seeded_and_capped_at_the_folder_size():
    names = [f"spec.m.x_f__mutmut_{i}" for i in range(50)] + [f"sizing.e.x_g__mutmut_{i}" for i in range(3)]
    one, two = mutate.draw(names, 10, seed=7), mutate.draw(names, 10, seed=7)
    assert one == two and one != mutate.draw(names, 10, seed=8)
    assert sum(n.startswith("spec.") for n in one) == 10
    assert sorted(n for n in one if n.startswith("sizing.")) == sorted(names[50:])   # all 3 of a small folder


def test_wilson_interval_matches_the_textbook_figures():
    # 27 of 30: p = 0.9, z = 1.96 -> 74.4%..96.5% (Wilson score interval).
    low, high = mutate.wilson(27, 30)
    assert round(100 * low, 1) == 74.4 and round(100 * high, 1) == 96.5
    assert mutate.wilson(0, 0) == (0.0, 1.0)
    assert mutate.wilson(10, 10)[1] == 1.0


def test_the_score_counts_capped_mutants_as_not_killed_and_weighs_folders_by_size():
    sample = ["spec.a__mutmut_1", "spec.a__mutmut_2", "plan.b__mutmut_1", "plan.b__mutmut_2"]
    found = {"spec.a__mutmut_1": "killed", "spec.a__mutmut_2": "capped",
             "plan.b__mutmut_1": "killed", "plan.b__mutmut_2": "killed"}
    result = mutate.report(found, sample, {"spec": 100, "plan": 300})
    assert result["folders"]["spec"]["score"] == 50.0 and result["folders"]["spec"]["upper"] == 100.0
    assert result["folders"]["plan"]["score"] == 100.0
    # 0.25 * 50% + 0.75 * 100%
    assert result["overall"]["score"] == 87.5
    assert result["survivors"] == {"spec.a__mutmut_2": "capped"}


def test_a_mutant_no_test_reaches_survives_without_running_anything(tmp_path):
    assert mutate.run_mutant(tmp_path, {}, "spec.a__mutmut_1", [], cap=1) == "survived"


def test_deselections_reach_mutmuts_own_pytest_runs_and_replace_the_previous_ones(tmp_path):
    cfg = tmp_path / "setup.cfg"
    cfg.write_text("[mutmut]\npytest_add_cli_args=\n    -p\n    no:cacheprovider\n    --deselect=tests/old.py::t\n"
                   "use_git_change_detection=false\n")
    mutate.set_pytest_args(tmp_path, ["--deselect=tests/a.py::x", "--deselect=tests/b.py::y[1]"])
    # The mapping run reads these: a test failing on the unmutated copy must not stop it (mutmut maps with -x).
    assert cfg.read_text() == ("[mutmut]\npytest_add_cli_args=\n    -p\n    no:cacheprovider\n"
                               "    --deselect=tests/a.py::x\n    --deselect=tests/b.py::y[1]\n"
                               "use_git_change_detection=false\n")


def test_remap_is_refused_without_new_tests(capsys):
    import pytest
    with pytest.raises(SystemExit) as stop:
        mutate.main(["--remap"])
    assert stop.value.code == 2
    assert "--remap: only with --reuse --new-tests" in capsys.readouterr().err
