"""spec/reader.py, the config walker every spec reader uses: the exact problem line of each rule, the value an
accessor hands back on a problem, and which keys it marks rejected. The lines are the user's only guide, so their
text is pinned here word for word."""
import pytest

from spec.reader import (REQUIRED, ConfigError, Obj, Problems, describe, nearest, one_of, printable, unique)


def obj(value, path="llmfleet:x"):
    problems = Problems()
    return Obj(value, path, problems), problems


def read(method, value, *args, **kwargs):
    """Reads key `k` of {"k": value} with `method`; returns the value, the problem lines and the rejected keys."""
    o, problems = obj({"k": value})
    got = getattr(o, method)("k", *args, **kwargs)
    return got, problems.lines, o.bad


def test_problems_one_line_per_cause_and_raise():
    problems = Problems()
    problems.add("llmfleet:a", "is wrong")
    problems.add("llmfleet:a", "is wrong")
    problems.add("llmfleet:b\nc", "bad\tvalue")
    assert problems.lines == ["llmfleet:a: is wrong", "llmfleet:b\\nc: bad\\tvalue"]
    assert problems.paths == ["llmfleet:a", "llmfleet:b\\nc"]
    problems.secret_missing("llmfleet:token", "token", "is required")
    problems.secret_missing("llmfleet:token2", "token", "is required")
    assert problems.missing_secrets == ["token"]
    with pytest.raises(ConfigError) as err:
        problems.raise_if_any()
    assert str(err.value) == "\n".join(problems.lines)
    assert err.value.lines == problems.lines and err.value.missing_secrets == ("token",)
    Problems().raise_if_any()          # nothing recorded: no error


def test_problems_under():
    problems = Problems()
    problems.add("llmfleet:pools[1].name", "x")
    assert problems.under("llmfleet:pools[1]")
    assert problems.under("llmfleet:pools")
    assert problems.under("llmfleet:pools[1].name")
    assert problems.under("llmfleet:other", "llmfleet:pools[1]")
    assert not problems.under("llmfleet:pools[1].nam")
    assert not problems.under("llmfleet:pools[0]")
    assert not problems.under("llmfleet:pool")


def test_describe_and_helpers():
    assert describe("abc") == "'abc'"
    assert describe("x" * 80) == repr("x" * 80)
    assert describe("x" * 81) == repr("x" * 77) + "..."
    assert [describe(True), describe(False), describe(None)] == ["true", "false", "null"]
    assert [describe({}), describe([]), describe(3), describe(2.5)] == ["an object", "a list", "3", "2.5"]
    assert printable("a\x00b") == "a\\x00b" and printable("plain") == "plain"
    assert nearest("replcas", ["replicas", "name"]) == " (did you mean 'replicas'?)"
    assert nearest("zzzz", ["replicas"]) == ""
    assert nearest("1.29", ["1.30"]) == ""
    assert nearest("1.29b", ["1.29"]) == " (did you mean '1.29'?)"
    assert one_of(["b", "a"]) == "one of a, b"


def test_obj_not_a_mapping():
    o, problems = obj([1])
    assert problems.lines == ["llmfleet:x: must be an object, got a list"]
    assert (o.ok, o.given, o.raw) == (False, True, {})
    o, problems = obj(None)
    assert problems.lines == [] and (o.ok, o.given) == (False, False)
    assert obj({"a": 1})[0].key_path("b") == "llmfleet:x.b"


def test_str_rules():
    assert read("str", "v") == ("v", [], set())
    assert read("str", 3) == ("", ["llmfleet:x.k: must be a string, got 3 (quote it in YAML to keep it a string)"],
                              {"k"})
    assert read("str", 1.3)[1] == ["llmfleet:x.k: must be a string, got 1.3 (YAML reads an unquoted number like "
                                   "1.30 as 1.3: quote it, e.g. \"1.30\")"]
    assert read("str", True)[1] == ["llmfleet:x.k: must be a string, got true (quote it in YAML to keep it a string)"]
    assert read("str", [1])[1] == ["llmfleet:x.k: must be a string, got a list"]
    assert read("str", 3, "d") == ("d", ["llmfleet:x.k: must be a string, got 3 (quote it in YAML to keep it a "
                                         "string)"], {"k"})
    assert read("str", "gpu", choices=["cpu", "gpus"]) == (
        "", ["llmfleet:x.k: must be one of cpu, gpus, got 'gpu' (did you mean 'gpus'?)"], {"k"})
    assert read("str", "cpu", choices=["cpu"]) == ("cpu", [], set())
    assert read("str", "A", pattern="[a-z]+") == ("", ["llmfleet:x.k: must be of the form [a-z]+, got 'A'"], {"k"})
    assert read("str", "A", pattern="[a-z]+", hint="lowercase")[1] == ["llmfleet:x.k: must be lowercase, got 'A'"]
    assert read("str", "ab", pattern="[a-z]")[0] == ""          # the whole value must match
    assert read("str", "ab", pattern="[a-z]+") == ("ab", [], set())


def test_str_missing_and_null():
    o, problems = obj({"k": None})
    assert o.str("k") == "" and problems.lines == ["llmfleet:x.k: is required"] and o.bad == {"k"}
    o, problems = obj({})
    assert o.str("k", "d") == "d" and o.str("j", None) is None and problems.lines == [] and o.seen == {"k", "j"}


def test_int_rules():
    assert read("int", 3) == (3, [], set())
    assert read("int", " 12 ") == (12, [], set())
    assert read("int", "-4") == (-4, [], set())
    assert read("int", 4.0) == (4, [], set())
    assert type(read("int", 4.0)[0]) is int
    assert read("int", 4.5) == (0, ["llmfleet:x.k: must be a whole number, got 4.5"], {"k"})
    assert read("int", "٣")[1] == ["llmfleet:x.k: must be a whole number, got '٣'"]
    assert read("int", True, 7) == (7, ["llmfleet:x.k: must be a whole number, got true"], {"k"})
    assert read("int", "x", min=1, max=3)[1] == ["llmfleet:x.k: must be a whole number between 1 and 3, got 'x'"]
    assert read("int", "x", min=1)[1] == ["llmfleet:x.k: must be a whole number >= 1, got 'x'"]
    assert read("int", "x", max=3)[1] == ["llmfleet:x.k: must be a whole number <= 3, got 'x'"]


@pytest.mark.parametrize("method", ["int", "float"])
def test_bounds_are_inclusive(method):
    zero = 0 if method == "int" else 0.0
    assert read(method, 1, min=1, max=3) == (1, [], set())
    assert read(method, 3, min=1, max=3) == (3, [], set())
    assert read(method, 0, min=1, max=3) == (zero, [f"llmfleet:x.k: must be >= 1, got {0 if method == 'int' else 0.0}"],
                                             {"k"})
    assert read(method, 4, min=1, max=3) == (zero, [f"llmfleet:x.k: must be <= 3, got {4 if method == 'int' else 4.0}"],
                                             {"k"})
    assert read(method, 4, 2, min=1, max=3)[0] == 2


def test_limit_sets_the_bounds():
    class Limit:
        lo, hi = 2, 5
    assert read("int", 1, limit=Limit)[1] == ["llmfleet:x.k: must be >= 2, got 1"]
    assert read("int", 6, limit=Limit)[1] == ["llmfleet:x.k: must be <= 5, got 6"]
    assert read("float", 1, limit=Limit)[1] == ["llmfleet:x.k: must be >= 2, got 1.0"]
    assert read("float", 6, limit=Limit)[1] == ["llmfleet:x.k: must be <= 5, got 6.0"]


@pytest.mark.parametrize("method", ["int", "float"])
def test_defaults_must_meet_the_bounds(method):
    o, problems = obj({})
    assert getattr(o, method)("a", 9, min=1, max=3) == 9
    assert getattr(o, method)("b", 0, min=1) == 0
    assert getattr(o, method)("c", 2, min=1, max=3) == 2
    assert getattr(o, method)("d", 1, min=1, max=1) == 1
    assert getattr(o, method)("e", None, min=1) is None
    assert getattr(o, method)("f", True, min=5) is True
    assert getattr(o, method)("g", 4, max=3) == 4
    assert getattr(o, method)("r") == 0 and type(getattr(o, method)("r")) is (int if method == "int" else float)
    assert problems.lines == ["llmfleet:x.a: is not set, and its default here (9) must be between 1 and 3: set it",
                              "llmfleet:x.b: is not set, and its default here (0) must be >= 1: set it",
                              "llmfleet:x.g: is not set, and its default here (4) must be <= 3: set it",
                              "llmfleet:x.r: is required"]
    assert o.bad == {"a", "b", "g", "r"}


def test_float_rules():
    assert read("float", 2) == (2.0, [], set())
    assert type(read("float", 2)[0]) is float
    assert read("float", "2.5") == (2.5, [], set())
    assert read("float", "x") == (0.0, ["llmfleet:x.k: must be a number, got 'x'"], {"k"})
    assert read("float", "nan")[1] == ["llmfleet:x.k: must be a number, got nan"]
    assert read("float", float("inf"), min=0)[1] == ["llmfleet:x.k: must be a number >= 0, got inf"]
    assert read("float", True, 1.5) == (1.5, ["llmfleet:x.k: must be a number, got true"], {"k"})
    assert read("float", [1], max=1)[1] == ["llmfleet:x.k: must be a number <= 1, got a list"]


def test_bool_rules():
    assert read("bool", True) == (True, [], set())
    assert read("bool", "false") == (False, [], set())
    assert read("bool", "true") == (True, [], set())
    assert read("bool", "yes") == (False, ["llmfleet:x.k: must be true or false, got 'yes'"], {"k"})
    assert read("bool", 1, True) == (True, ["llmfleet:x.k: must be true or false, got 1"], {"k"})
    o, problems = obj({})
    assert o.bool("k", True) is True and o.bool("j") is REQUIRED
    assert problems.lines == ["llmfleet:x.j: is required"]


def test_str_map_rules():
    assert read("str_map", {"a": "1", "b": 2, "c": True, "d": 1.5}) == (
        {"a": "1", "b": "2", "c": "true", "d": "1.5"}, [], set())
    assert read("str_map", "x") == ({}, ["llmfleet:x.k: must be an object of strings, got 'x'"], {"k"})
    assert read("str_map", {"a": [1], "b": {}, "c": None}) == (
        {}, ["llmfleet:x.k.a: must be a string, got a list", "llmfleet:x.k.b: must be a string, got an object",
             "llmfleet:x.k.c: must be a string, got null"], set())
    assert read("str_map", {"A": "v"}, key_pattern="[a-z]+") == (
        {"A": "v"}, ["llmfleet:x.k.A: is not a valid key: [a-z]+"], set())
    assert read("str_map", {"A": "v"}, key_pattern="[a-z]+", hint="lowercase")[1] == [
        "llmfleet:x.k.A: is not a valid key: lowercase"]
    assert read("str_map", {"ab": "v"}, key_pattern="[a-z]")[1] == ["llmfleet:x.k.ab: is not a valid key: [a-z]"]
    assert read("str_map", {"a": "V"}, value_pattern="[a-z]+")[1] == ["llmfleet:x.k.a: must be [a-z]+, got 'V'"]
    assert read("str_map", {"a": "V"}, value_pattern="[a-z]+", value_hint="lowercase")[1] == [
        "llmfleet:x.k.a: must be lowercase, got 'V'"]
    assert read("str_map", {"a": "vv"}, value_pattern="[a-z]")[1] == ["llmfleet:x.k.a: must be [a-z], got 'vv'"]
    assert read("str_map", {3: "v"}) == ({"3": "v"}, [], set())
    o, problems = obj({})
    assert o.str_map("k") == {} and o.seen == {"k"}


def test_list_rules():
    assert read("list", [1, 2]) == ([("llmfleet:x.k[0]", 1), ("llmfleet:x.k[1]", 2)], [], set())
    assert read("list", "x") == ([], ["llmfleet:x.k: must be a list, got 'x'"], {"k"})
    assert read("list", [1], min_items=2) == (
        [("llmfleet:x.k[0]", 1)], ["llmfleet:x.k: must have at least 2 item(s), got 1"], {"k"})
    assert read("list", [1, 2], min_items=2)[1] == []
    o, problems = obj({})
    assert o.list("k", [5]) == [("llmfleet:x.k[0]", 5)]
    assert o.list("j", None) == [] and o.list("i") == []
    assert o.list("m", min_items=1) == [] and problems.lines == ["llmfleet:x.m: must have at least 1 item(s), got 0"]


def test_str_list_rules():
    assert read("str_list", ["a", 1, "b"]) == (["a", "b"], ["llmfleet:x.k[1]: must be a string, got 1"], set())
    assert read("str_list", ["cpu", "gpx"], choices=["cpu", "gpu"]) == (
        ["cpu"], ["llmfleet:x.k[1]: must be one of cpu, gpu, got 'gpx' (did you mean 'gpu'?)"], set())
    assert read("str_list", [], min_items=1)[1] == ["llmfleet:x.k: must have at least 1 item(s), got 0"]
    o, problems = obj({})
    assert o.str_list("k", ["d"]) == ["d"]


def test_obj_and_items():
    o, problems = obj({"a": {"n": 1}, "b": 3})
    child = o.obj("a")
    assert (child.path, child.ok, child.raw, o.bad) == ("llmfleet:x.a", True, {"n": 1}, set())
    assert not o.obj("b").ok and o.bad == {"b"}
    assert problems.lines == ["llmfleet:x.b: must be an object, got 3"]
    missing = o.obj("c")
    assert (missing.ok, missing.given, o.bad) == (False, False, {"b"})
    assert problems.lines == ["llmfleet:x.b: must be an object, got 3"]
    o.obj("d", required=True)
    assert problems.lines[-1] == "llmfleet:x.d: is required" and o.bad == {"b", "d"}


def test_items_skip_non_objects_and_check_unknown_keys():
    o, problems = obj({"k": [{"n": 1}, None, 5, {"n": 2, "typo": 1}]})
    got = o.items("k", lambda c: c.int("n"))
    assert got == [("llmfleet:x.k[0]", 1), ("llmfleet:x.k[3]", 2)]
    assert problems.lines == ["llmfleet:x.k[1]: must be an object, got null",
                              "llmfleet:x.k[2]: must be an object, got 5",
                              "llmfleet:x.k[3].typo: unknown key; allowed: n"]
    o, problems = obj({"k": [{"n": 1}, {"n": 2}]})
    assert o.objs("k", lambda c: c.int("n") * 10) == [10, 20]
    o, problems = obj({"k": []})
    assert o.objs("k", lambda c: 1, min_items=1) == []
    assert problems.lines == ["llmfleet:x.k: must have at least 1 item(s), got 0"]


def test_done_names_unknown_keys_with_the_nearest():
    o, problems = obj({"replica": 1, "name": "a", "zzz": 2})
    o.str("name")
    o.int("replicas", 1)
    o.done(extra_allowed=["extra"])
    assert problems.lines == [
        "llmfleet:x.replica: unknown key (did you mean 'replicas'?); allowed: extra, name, replicas",
        "llmfleet:x.zzz: unknown key; allowed: extra, name, replicas"]
    assert list(o) == ["replica", "name", "zzz"] and o.has("zzz") and not o.has("nope")


def test_reject_marks_the_key_and_valid_looks_inside():
    o, problems = obj({"a": {"b": "x"}, "c": 1})
    assert o.valid("a", "c")
    o.obj("a").int("b")
    assert not o.valid("a") and o.valid("c") and o.bad == set()
    o.reject("c", "is bad")
    assert not o.valid("c") and o.bad == {"c"}
    o.error("e", "noted")
    assert "e" not in o.bad and not o.valid("e")
    assert problems.lines[-2:] == ["llmfleet:x.c: is bad", "llmfleet:x.e: noted"]


def test_unique_names():
    problems = Problems()
    unique(problems, "llmfleet:pools", ["a", "b", "a", "", "", "b"], "pool")
    assert problems.lines == ["llmfleet:pools[2].name: duplicate pool name 'a'",
                              "llmfleet:pools[5].name: duplicate pool name 'b'"]
    problems = Problems()
    problems.add("llmfleet:pools[1].name", "is bad")
    unique(problems, "llmfleet:pools", ["a", "a", "a"], "pool", paths=["p0", "llmfleet:pools[1]", "p2"])
    assert problems.lines == ["llmfleet:pools[1].name: is bad", "p2.name: duplicate pool name 'a'"]
