"""Walks raw stack config and collects every problem before anything is built.

Each `Obj` wraps one mapping with its key path. Reading a field records it, so `done()` can reject whatever the
stack file set that nobody read (a typo), suggesting the nearest valid key. Problems are collected, never raised
one at a time: `Problems.raise_if_any()` turns them into one `ConfigError` with one line per problem.
"""
import difflib
import re
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, TypeVar

T = TypeVar("T")


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Missing()


class ConfigError(Exception):
    """Every problem found in a stack's config; `str()` is one line per problem."""

    def __init__(self, lines: Sequence[str]):
        self.lines = list(lines)
        super().__init__("\n".join(self.lines))


class Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.lines.append(f"{path}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ConfigError(self.lines)


def describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
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
    if re.fullmatch(r"[\d.]+", key):
        return ""  # versions: "1.29" is not a typo of "1.32"
    match = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.5)
    return f" (did you mean '{match[0]}'?)" if match else ""


def one_of(choices: Iterable[str]) -> str:
    return "one of " + ", ".join(sorted(choices))


class Obj:
    """A mapping read field by field. Every accessor returns a usable value (its default) even on error."""

    def __init__(self, value: Any, path: str, problems: Problems):
        self.path = path
        self.problems = problems
        self.ok = isinstance(value, dict)
        if value is not None and not self.ok:
            problems.add(path, f"must be an object, got {describe(value)}")
        self.raw: dict = value if self.ok else {}
        self.seen: set[str] = set()

    # --- plumbing -------------------------------------------------------------------------------------------
    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}"

    def error(self, key: str, message: str) -> None:
        self.problems.add(self.key_path(key), message)

    def has(self, key: str) -> bool:
        return key in self.raw

    def _take(self, key: str, default: Any) -> tuple[bool, Any]:
        self.seen.add(key)
        if key in self.raw and self.raw[key] is not None:
            return True, self.raw[key]
        if default is REQUIRED:
            self.error(key, "is required")
        return False, default

    # --- scalar fields --------------------------------------------------------------------------------------
    def str(self, key: str, default: Any = REQUIRED, *, choices: Optional[Iterable[str]] = None,
            pattern: Optional[str] = None, hint: str = "") -> Any:
        present, value = self._take(key, default)
        if not present:
            return value
        if not isinstance(value, str):
            self.error(key, f"must be a string, got {describe(value)}")
            return default if default is not REQUIRED else ""
        if choices is not None and value not in choices:
            self.error(key, f"must be {one_of(choices)}, got {describe(value)}{nearest(value, choices)}")
            return default if default is not REQUIRED else value
        if pattern is not None and not re.fullmatch(pattern, value):
            self.error(key, f"must be {hint or 'of the form ' + pattern}, got {describe(value)}")
        return value

    def int(self, key: str, default: Any = REQUIRED, *, min: Optional[int] = None,
            max: Optional[int] = None) -> Any:
        present, value = self._take(key, default)
        if not present:
            return value
        # YAML may hand us "3" when a user quotes a number; Pulumi config set does the same. Accept digits only.
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"must be a whole number, got {describe(value)}")
            return default if default is not REQUIRED else 0
        return self._bounded(key, value, min, max, default)

    def float(self, key: str, default: Any = REQUIRED, *, min: Optional[float] = None,
              max: Optional[float] = None) -> Any:
        present, value = self._take(key, default)
        if not present:
            return value
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.error(key, f"must be a number, got {describe(value)}")
            return default if default is not REQUIRED else 0.0
        return self._bounded(key, float(value), min, max, default)

    def _bounded(self, key: str, value: Any, lo: Any, hi: Any, default: Any) -> Any:
        if lo is not None and value < lo:
            self.error(key, f"must be >= {lo}, got {value}")
        elif hi is not None and value > hi:
            self.error(key, f"must be <= {hi}, got {value}")
        return value

    def bool(self, key: str, default: Any = REQUIRED) -> Any:
        present, value = self._take(key, default)
        if not present:
            return value
        if isinstance(value, str) and value in ("true", "false"):
            value = value == "true"
        if not isinstance(value, bool):
            self.error(key, f"must be true or false, got {describe(value)}")
            return default if default is not REQUIRED else False
        return value

    def str_map(self, key: str, *, key_pattern: Optional[str] = None, hint: str = "") -> dict[str, str]:
        present, value = self._take(key, {})
        if not present:
            return {}
        if not isinstance(value, dict):
            self.error(key, f"must be an object of strings, got {describe(value)}")
            return {}
        out = {}
        for k, v in value.items():
            if not isinstance(v, (str, int, float, bool)) or isinstance(v, (dict, list)):
                self.problems.add(f"{self.key_path(key)}.{k}", f"must be a string, got {describe(v)}")
                continue
            if key_pattern and not re.fullmatch(key_pattern, str(k)):
                self.problems.add(f"{self.key_path(key)}.{k}", f"is not a valid key: {hint or key_pattern}")
            out[str(k)] = v if isinstance(v, str) else describe(v)
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
        return Obj(value if present else None, self.key_path(key), self.problems)

    def list(self, key: str, default: Any = (), *, min_items: int = 0) -> list[tuple[str, Any]]:
        """Items with their paths, e.g. ('llmfleet:gpuPools[1]', {...})."""
        present, value = self._take(key, default)
        if not present:
            value = list(value or [])
        if not isinstance(value, list):
            self.error(key, f"must be a list, got {describe(value)}")
            return []
        if len(value) < min_items:
            self.error(key, f"must have at least {min_items} item(s), got {len(value)}")
        return [(f"{self.key_path(key)}[{i}]", item) for i, item in enumerate(value)]

    def objs(self, key: str, read: Callable[["Obj"], T], default: Any = (), *, min_items: int = 0) -> "List[T]":
        """Reads a list of objects with `read`, each checked for unknown keys."""
        out = []
        for path, item in self.list(key, default, min_items=min_items):
            child = Obj(item, path, self.problems)
            if not child.ok:
                if item is None:
                    self.problems.add(path, "must be an object, got null")
                continue
            out.append(read(child))
            child.done()
        return out

    def done(self, extra_allowed: Iterable[str] = ()) -> None:
        """Rejects keys that no accessor read: the stack file set something this program would ignore."""
        allowed = self.seen | set(extra_allowed)
        for key in self.raw:
            if key not in allowed:
                self.error(key, f"unknown key{nearest(key, allowed)}; allowed: {', '.join(sorted(allowed))}")

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)


def unique(problems: Problems, path: str, names: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            problems.add(f"{path}[{i}].name", f"duplicate {what} name {name!r}")
        seen.add(name)


DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
DNS_LABEL_HINT = "a DNS label (lowercase letters, digits and '-', at most 63, starting and ending alphanumeric)"
