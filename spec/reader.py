"""Walks raw stack config and collects every problem before anything is built.

Each `Obj` wraps one mapping with its key path. Reading a field records it, so `done()` can reject whatever the
stack file set that nobody read (a typo), suggesting the nearest valid key. Problems are collected, never raised
one at a time: `Problems.raise_if_any()` turns them into one `ConfigError` with one line per problem.
"""
import difflib
import math
import re
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, TypeVar

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Missing()


class ConfigError(Exception):
    """Every problem found in a stack's config; `str()` is one line per problem."""

    def __init__(self, lines: Sequence[str], missing_secrets: Sequence[str] = ()):
        self.lines = list(lines)
        # Secret keys the stack needs and does not set (the offline plan supplies placeholders for exactly these).
        self.missing_secrets = tuple(missing_secrets)
        super().__init__("\n".join(self.lines))


class Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.paths: list[str] = []
        self.missing_secrets: list[str] = []

    def secret_missing(self, path: str, key: str, message: str) -> None:
        """A secret the stack needs is not set: a problem like any other, and remembered as such."""
        self.add(path, message)
        if key not in self.missing_secrets:
            self.missing_secrets.append(key)

    def add(self, path: str, message: str) -> None:
        # A key or value with a line break or another control character must not split the line: escape them.
        path, message = printable(path), printable(message)
        line = f"{path}: {message}"
        if line not in self.lines:         # one cause, one line: two rules reaching the same verdict print it once
            self.lines.append(line)
            self.paths.append(path)

    def under(self, *prefixes: str) -> bool:
        """Whether any problem was recorded at one of `prefixes` or inside it (`a.b`, `a[0]`)."""
        return any(p == pre or p.startswith((pre + ".", pre + "[")) for p in self.paths for pre in prefixes)

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError(self.lines, self.missing_secrets)


def printable(text: str) -> str:
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else repr(value[:77]) + "..."
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return str(value)


def nearest(key: str, allowed: Iterable[str]) -> str:
    key = str(key)
    if re.fullmatch(r"[\d.]+", key):
        return ""  # versions: "1.29" is not a typo of "1.32"
    match = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


def one_of(choices: Iterable[str]) -> str:
    return "one of " + ", ".join(sorted(choices))


def _range(lo: Any, hi: Any) -> str:
    if lo is not None and hi is not None:
        return f" between {lo} and {hi}"
    if lo is not None:
        return f" >= {lo}"
    return f" <= {hi}" if hi is not None else ""


def _quote_hint(value: Any) -> str:
    """YAML reads an unquoted 1.30 as the number 1.3: say how to keep the text."""
    if isinstance(value, float) and not isinstance(value, bool):
        return " (YAML reads an unquoted number like 1.30 as 1.3: quote it, e.g. \"1.30\")"
    if isinstance(value, (int, bool)):
        return " (quote it in YAML to keep it a string)"
    return ""


class Obj:
    """A mapping read field by field. Every accessor returns a usable value (its default) even on error."""

    def __init__(self, value: Any, path: str, problems: Problems):
        self.path = path
        self.problems = problems
        self.ok = isinstance(value, dict)
        self.given = value is not None        # present in the config (an object or not)
        if value is not None and not self.ok:
            problems.add(path, f"must be an object, got {describe(value)}")
        self.raw: dict = value if self.ok else {}
        self.seen: set[str] = set()
        # Keys whose value (given or defaulted) was rejected: rules that combine keys skip them, so a rejected value
        # is reported once, at its key, and never used (no division by a rejected 0, no knock-on lines).
        self.bad: set[str] = set()

    # --- plumbing -------------------------------------------------------------------------------------------
    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}"

    def error(self, key: str, message: str) -> None:
        self.problems.add(self.key_path(key), message)

    def reject(self, key: str, message: str) -> None:
        """A problem with the value of `key`: recorded, and the key is marked so later rules leave it alone."""
        self.error(key, message)
        self.bad.add(key)

    def valid(self, *keys: str) -> bool:
        """True when none of `keys` was rejected (nor anything inside them)."""
        return not any(k in self.bad or self.problems.under(self.key_path(k)) for k in keys)

    def has(self, key: str) -> bool:
        return key in self.raw

    def _take(self, key: str, default: Any) -> tuple[bool, Any]:
        self.seen.add(key)
        if key in self.raw and self.raw[key] is not None:
            return True, self.raw[key]
        if default is REQUIRED:
            self.reject(key, "is required")
        return False, default

    # --- scalar fields --------------------------------------------------------------------------------------
    def str(self, key: str, default: Any = REQUIRED, *, choices: Optional[Iterable[str]] = None,
            pattern: Optional[str] = None, hint: str = "") -> Any:
        """The string at `key`; on a problem, the default ("" when required) and the key is marked rejected."""
        present, value = self._take(key, default)
        fallback = default if default is not REQUIRED else ""
        if not present:
            return value if value is not REQUIRED else fallback
        if not isinstance(value, str):
            self.reject(key, f"must be a string, got {describe(value)}{_quote_hint(value)}")
            return fallback
        if choices is not None and value not in choices:
            self.reject(key, f"must be {one_of(choices)}, got {describe(value)}{nearest(value, choices)}")
            return fallback
        if pattern is not None and not re.fullmatch(pattern, value):
            self.reject(key, f"must be {hint or 'of the form ' + pattern}, got {describe(value)}")
            return fallback
        return value

    def int(self, key: str, default: Any = REQUIRED, *, min: Optional[int] = None,
            max: Optional[int] = None, limit: Any = None) -> Any:
        """A whole number within [min, max] (or `limit`, a spec/limits.py Limit). On a problem: the default
        (0 when required), and the key is marked rejected. A default outside the range is a problem too: defaults
        derived from other keys (maxNodes from minNodes) must not escape the bounds an explicit value meets."""
        if limit is not None:
            min, max = limit.lo, limit.hi
        present, value = self._take(key, default)
        fallback = default if default is not REQUIRED else 0
        if not present:
            if value is REQUIRED:
                return fallback
            return self._default_in_range(key, value, min, max)
        # YAML may hand us "3" when a user quotes a number; Pulumi config set does the same. ASCII digits only.
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.reject(key, f"must be a whole number{_range(min, max)}, got {describe(value)}")
            return fallback
        return self._bounded(key, value, min, max, fallback)

    def float(self, key: str, default: Any = REQUIRED, *, min: Optional[float] = None,
              max: Optional[float] = None, limit: Any = None) -> Any:
        if limit is not None:
            min, max = limit.lo, limit.hi
        present, value = self._take(key, default)
        fallback = default if default is not REQUIRED else 0.0
        if not present:
            if value is REQUIRED:
                return fallback
            return self._default_in_range(key, value, min, max)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.reject(key, f"must be a number{_range(min, max)}, got {describe(value)}")
            return fallback
        return self._bounded(key, float(value), min, max, fallback)

    def _bounded(self, key: str, value: Any, lo: Any, hi: Any, fallback: Any) -> Any:
        if lo is not None and value < lo:
            self.reject(key, f"must be >= {lo}, got {value}")
            return fallback
        if hi is not None and value > hi:
            self.reject(key, f"must be <= {hi}, got {value}")
            return fallback
        return value

    def _default_in_range(self, key: str, value: Any, lo: Any, hi: Any) -> Any:
        if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.reject(key, f"is not set, and its default here ({value}) must be{_range(lo, hi)}: set it")
        return value

    def bool(self, key: str, default: Any = REQUIRED) -> Any:
        present, value = self._take(key, default)
        if not present:
            return value
        if isinstance(value, str) and value in ("true", "false"):
            value = value == "true"
        if not isinstance(value, bool):
            self.reject(key, f"must be true or false, got {describe(value)}")
            return default if default is not REQUIRED else False
        return value

    def str_map(self, key: str, *, key_pattern: Optional[str] = None, hint: str = "",
                value_pattern: Optional[str] = None, value_hint: str = "") -> dict[str, str]:
        present, value = self._take(key, {})
        if not present:
            return {}
        if not isinstance(value, dict):
            self.reject(key, f"must be an object of strings, got {describe(value)}")
            return {}
        out = {}
        for k, v in value.items():
            if not isinstance(v, (str, int, float, bool)) or isinstance(v, (dict, list)):
                self.problems.add(f"{self.key_path(key)}.{k}", f"must be a string, got {describe(v)}")
                continue
            if key_pattern and not re.fullmatch(key_pattern, str(k)):
                self.problems.add(f"{self.key_path(key)}.{k}", f"is not a valid key: {hint or key_pattern}")
            text = v if isinstance(v, str) else describe(v)
            if value_pattern and not re.fullmatch(value_pattern, text):
                self.problems.add(f"{self.key_path(key)}.{k}", f"must be {value_hint or value_pattern}, "
                                                              f"got {describe(text)}")
            out[str(k)] = text
        return out

    def str_list(self, key: str, default: Any = (), *, choices: Optional[Iterable[str]] = None,
                 min_items: int = 0) -> list[str]:
        out = []
        for path, item in self.list(key, default, min_items=min_items):
            if not isinstance(item, str):
                self.problems.add(path, f"must be a string, got {describe(item)}")
            elif choices is not None and item not in choices:
                self.problems.add(path, f"must be {one_of(choices)}, got {describe(item)}{nearest(item, choices)}")
            else:
                out.append(item)
        return out

    # --- nested ---------------------------------------------------------------------------------------------
    def obj(self, key: str, required: bool = False) -> "Obj":
        present, value = self._take(key, REQUIRED if required else None)
        child = Obj(value if present else None, self.key_path(key), self.problems)
        if present and not child.ok:
            self.bad.add(key)
        return child

    # Quoted like objs' below: mutation testing redefines this method after its name `list` is bound in the class.
    def list(self, key: str, default: Any = (), *, min_items: int = 0) -> "List[tuple[str, Any]]":
        """Items with their paths, e.g. ('llmfleet:gpuPools[1]', {...})."""
        present, value = self._take(key, default)
        if not present:
            value = list(value or [])
        if not isinstance(value, list):
            self.reject(key, f"must be a list, got {describe(value)}")
            return []
        if len(value) < min_items:
            self.reject(key, f"must have at least {min_items} item(s), got {len(value)}")
        return [(f"{self.key_path(key)}[{i}]", item) for i, item in enumerate(value)]

    def objs(self, key: str, read: Callable[["Obj"], T], default: Any = (), *, min_items: int = 0) -> "List[T]":
        """Reads a list of objects with `read`, each checked for unknown keys."""
        return [value for _, value in self.items(key, read, default, min_items=min_items)]

    def items(self, key: str, read: Callable[["Obj"], T], default: Any = (), *,
              min_items: int = 0) -> "List[tuple[str, T]]":
        """Like `objs`, with each item's own path: an item that is not an object is skipped, so list positions
        and paths differ, and rules that name an item must use its path."""
        out = []
        for path, item in self.list(key, default, min_items=min_items):
            child = Obj(item, path, self.problems)
            if not child.ok:
                if item is None:
                    self.problems.add(path, "must be an object, got null")
                continue
            out.append((path, read(child)))
            child.done()
        return out

    def done(self, extra_allowed: Iterable[str] = ()) -> None:
        """Rejects keys that no accessor read: the stack file set something this program would ignore."""
        allowed = self.seen | set(extra_allowed)
        for key in self.raw:
            if key not in allowed:
                self.error(str(key), f"unknown key{nearest(str(key), allowed)}; allowed: {', '.join(sorted(allowed))}")

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)


def unique(problems: Problems, path: str, names: Sequence[str], what: str,
           paths: Optional[Sequence[str]] = None) -> None:
    """Duplicate names; `paths` are the items' own paths when some list items were skipped (not objects)."""
    seen: set[str] = set()
    for i, name in enumerate(names):
        at = paths[i] if paths is not None else f"{path}[{i}]"
        if not name or problems.under(f"{at}.name"):
            continue                       # a rejected name is reported at its key already
        if name in seen:
            problems.add(f"{at}.name", f"duplicate {what} name {name!r}")
        seen.add(name)


DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
DNS_LABEL_HINT = "a DNS label (lowercase letters, digits and '-', at most 63, starting and ending alphanumeric)"
