"""Reading :class:`~orchestrator.settings.Settings` from the environment, strictly.

``Settings()`` alone ignores a misspelt variable (``STEPMAP_REDIS_URL`` instead of
``STEPMAP_REDIS__URL``) and answers a malformed value with a long validation traceback. The
entry points read the environment through :func:`load_settings` instead, which:

* refuses every ``STEPMAP_*`` variable that is not a setting, naming the nearest valid one;
* reads a secret from a file when ``{NAME}_FILE`` is set (``STEPMAP_API__TOKENS_FILE=/run/secrets/t``),
  so that no secret has to travel in argv or in the environment itself;
* reports every malformed value on one line each: the variable, what was wrong, what was
  expected.

Variables that start with ``STEPMAP_TEST_`` belong to the test suite (``tests/conftest.py``) and
are left alone.
"""

from __future__ import annotations

import difflib
import json
import os
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeGuard

from pydantic import BaseModel, ValidationError

from orchestrator.settings import Settings

PREFIX = "STEPMAP_"
DELIMITER = "__"
FILE_SUFFIX = "_FILE"
#: Variables the test suite reads itself (never settings).
IGNORED_PREFIXES = ("STEPMAP_TEST_",)


class _FromValues(Settings):
    """Settings built from the values :func:`load_settings` parsed, and nothing else."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: Any, init_settings: Any,
                                   *_sources: Any, **_named: Any) -> tuple[Any, ...]:
        return (init_settings,)


class ConfigError(ValueError):
    """The environment does not describe valid settings; one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def _is_group(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_structured(annotation: Any) -> bool:
    """Whether a value of this type is written as JSON in the environment (lists, dicts, groups)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_structured(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    return origin in (list, dict, set, tuple) or annotation in (list, dict, set, tuple) or _is_group(annotation)


def _expected(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is list or annotation is list:
        return 'a JSON list, e.g. ["a","b"]'
    if origin is dict or annotation is dict or _is_group(annotation):
        return 'a JSON object, e.g. {"key":"value"}'
    return "JSON"


def setting_variables(model: type[BaseModel] = Settings) -> dict[str, tuple[tuple[str, ...], Any]]:
    """Every variable name that sets something -> (path of field names, annotation).

    A group is settable as a whole (``STEPMAP_REDIS='{"url": ...}'``) and field by field
    (``STEPMAP_REDIS__URL``).
    """
    out: dict[str, tuple[tuple[str, ...], Any]] = {}

    def walk(cls: type[BaseModel], path: tuple[str, ...]) -> None:
        for name, info in cls.model_fields.items():
            annotation = info.annotation
            here = (*path, name)
            out[PREFIX + DELIMITER.join(here).upper()] = (here, annotation)
            if _is_group(annotation):
                walk(annotation, here)

    walk(model, ())
    return out


def _stepmap_variables(environ: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    for name, value in environ.items():
        upper = name.upper()
        if upper.startswith(PREFIX) and not upper.startswith(IGNORED_PREFIXES):
            yield upper, value


def _read_secret_file(variable: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError([f"{variable}: cannot read {path!r}: {exc.strerror or exc}"]) from exc


def _unknown(name: str, known: list[str]) -> str:
    nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    hint = f"did you mean {nearest[0]}?" if nearest else (
        "settings are " + ", ".join(sorted({k.split(DELIMITER)[0] for k in known})) + " (groups use '__')"
    )
    return f"{name}: not a stepmap setting; {hint}"


def _set(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):  # a whole group given as a non-object: reported by validation
            return
        node = child
    if isinstance(node.get(path[-1]), dict) and isinstance(value, dict):
        node[path[-1]] = {**value, **node[path[-1]]}  # field variables win over the group's JSON
    else:
        node[path[-1]] = value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings the environment describes (``os.environ`` by default).

    Raises:
        ConfigError: unknown ``STEPMAP_*`` variables, unreadable secret files or malformed
            values, every one of them named with what was expected.
    """
    env = dict(_stepmap_variables(os.environ if environ is None else environ))
    variables = setting_variables()
    known = sorted(variables)
    problems: list[str] = []
    values: dict[str, str] = {}
    for name, value in env.items():
        if name in variables:
            if name + FILE_SUFFIX in env:
                problems.append(f"{name}: set both {name} and {name}{FILE_SUFFIX}; keep one")
                continue
            values[name] = value
        elif name.endswith(FILE_SUFFIX) and name[: -len(FILE_SUFFIX)] in variables:
            if name[: -len(FILE_SUFFIX)] in env:
                continue  # reported with the variable itself
            try:
                values[name[: -len(FILE_SUFFIX)]] = _read_secret_file(name, value)
            except ConfigError as exc:
                problems.extend(exc.problems)
        else:
            problems.append(_unknown(name, known))
    tree: dict[str, Any] = {}
    # Groups first, so that a field variable overrides the same field of a group's JSON.
    for name in sorted(values, key=lambda n: len(variables[n][0])):
        path, annotation = variables[name]
        raw: Any = values[name]
        if _is_structured(annotation):
            try:
                raw = json.loads(raw)
            except ValueError:
                problems.append(f"{name}: expected {_expected(annotation)}, got {values[name]!r}")
                continue
        _set(tree, path, raw)
    if problems:
        raise ConfigError(problems)
    try:
        return _FromValues(**tree)
    except ValidationError as exc:
        raise ConfigError([_describe(error, values, variables) for error in exc.errors()]) from None


def _describe(error: Any, values: Mapping[str, str],
              variables: Mapping[str, tuple[tuple[str, ...], Any]]) -> str:
    """One line for one pydantic error: the variable, the problem, and the value given.

    The value is shown only when the variable sets exactly the failing field and that field is
    not a secret (a group's JSON may carry secrets beside the field that failed).
    """
    path = [str(p) for p in error["loc"] if not isinstance(p, int)]
    name = PREFIX + DELIMITER.join(path).upper()
    given = values.get(name)
    secret = "SecretStr" in repr(variables[name][1]) if name in variables else True
    shown = f" (got {given!r})" if given is not None and not secret else ""
    return f"{name}: {error['msg']}{shown}"
