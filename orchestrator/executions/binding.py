"""What a Map Run is bound to when it starts: its rate limits and named pools (docs/limits.md).

AWS would reject an unknown field in a definition, so stepmap reads these stepmap extensions
from the state machine's tags (settable with any AWS SDK: CreateStateMachine ``tags``,
TagResource):

=====================================  ==================================================
tag key                                 value
=====================================  ==================================================
``stepmap:pools``                       pool names, comma-separated (every Distributed Map)
``stepmap:itemsPerSecond``              items/s limit of each Map Run
``stepmap:childrenPerSecond``           child executions/s limit of each Map Run
``stepmap:pools:<MapStateName>``        as above, for the Map state of that name only
``stepmap:itemsPerSecond:<MapStateName>``  (the per-state tag wins over the general one)
``stepmap:childrenPerSecond:<MapStateName>``
=====================================  ==================================================

An execution may also carry an explicit binding, given at StartExecution as the stepmap
member ``stepmapBinding`` (``{"pools": [...], "itemsPerSecond": n, "childrenPerSecond": n}``,
any of them): it applies to every Distributed Map of that execution and wins, member by member,
over the tags (:func:`with_request`). Limits are then changed live per Map Run
(``StepmapUpdateMapRunRate``).
"""

from __future__ import annotations

import math
import re
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "stepmap:"
POOLS = "pools"
ITEMS_PER_SECOND = "itemsPerSecond"
CHILDREN_PER_SECOND = "childrenPerSecond"
NAMES = (POOLS, ITEMS_PER_SECOND, CHILDREN_PER_SECOND)
#: The same rule as ``orchestrator.store.pools.NAME_PATTERN`` (a pool name).
POOL_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
#: Highest rate accepted (items or children per second).
MAX_RATE = 1_000_000.0


class BindingError(ValueError):
    """A stepmap tag whose value cannot be used (the message names the tag and the value)."""


@dataclass(frozen=True, slots=True)
class MapRunBinding:
    """Rate limits (``None``: none) and pools a Map Run starts with."""

    pools: tuple[str, ...] = ()
    items_per_second: float | None = None
    children_per_second: float | None = None


def check_rate(value: object, where: str) -> float | None:
    """A rate from an API field or a tag: a number > 0 and <= MAX_RATE; 0 or None means none."""
    if value is None:
        return None
    try:
        rate = float(value) if isinstance(value, (int, float, str)) and \
            not isinstance(value, bool) else math.nan
    except ValueError:
        rate = math.nan
    if not math.isfinite(rate) or rate < 0 or rate > MAX_RATE:
        raise BindingError(f"{where} must be a number from 0 to {MAX_RATE:.0f} "
                           f"(0 means no limit), not {str(value)[:80]!r}")
    return rate or None


def check_pool_names(names: Iterable[str], where: str) -> tuple[str, ...]:
    """Pool names, each checked, duplicates dropped, order kept."""
    out: list[str] = []
    for name in names:
        if not isinstance(name, str) or not POOL_NAME.match(name):
            raise BindingError(f"{where}: {str(name)[:80]!r} is not a pool name "
                               "(1-80 of A-Z a-z 0-9 _ . -)")
        if name not in out:
            out.append(name)
    return tuple(out)


def _value(tags: Mapping[str, str], name: str, state_name: str) -> tuple[str, str] | None:
    for key in (f"{PREFIX}{name}:{state_name}", f"{PREFIX}{name}"):
        if key in tags:
            return key, tags[key]
    return None


def check_tags(tags: Iterable[Mapping[str, str]]) -> None:
    """Refuse stepmap tags whose value cannot be used (CreateStateMachine, TagResource)."""
    for tag in tags:
        key, value = tag.get("key", ""), tag.get("value", "")
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):].split(":", 1)[0]
        if name == POOLS:
            check_pool_names([p.strip() for p in value.split(",") if p.strip()], f"tag {key}")
        elif name in (ITEMS_PER_SECOND, CHILDREN_PER_SECOND):
            check_rate(value, f"tag {key}")


def binding_from_tags(tags: Iterable[Mapping[str, str]], state_name: str) -> MapRunBinding:
    """The binding a state machine's tags give the Map Run of Map state ``state_name``.

    Raises:
        BindingError: a stepmap tag's value is not usable.
    """
    by_key = {t.get("key", ""): t.get("value", "") for t in tags}
    found = {name: _value(by_key, name, state_name) for name in NAMES}
    pools: tuple[str, ...] = ()
    if (pool_tag := found[POOLS]) is not None:
        key, value = pool_tag
        pools = check_pool_names([p.strip() for p in value.split(",") if p.strip()],
                                 f"tag {key}")
    rates: dict[str, float | None] = {}
    for name in (ITEMS_PER_SECOND, CHILDREN_PER_SECOND):
        tag = found[name]
        rates[name] = check_rate(tag[1], f"tag {tag[0]}") if tag is not None else None
    return MapRunBinding(pools=pools, items_per_second=rates[ITEMS_PER_SECOND],
                         children_per_second=rates[CHILDREN_PER_SECOND])


#: The StartExecution member of an explicit binding.
REQUEST_FIELD = "stepmapBinding"


def checked_request(value: object, where: str = REQUEST_FIELD) -> dict[str, Any]:
    """An explicit binding from a request, checked: only its given members, normalised.

    Raises:
        BindingError: not an object, an unknown member, or a value that cannot be used.
    """
    if not isinstance(value, Mapping):
        raise BindingError(f"{where} must be an object with any of pools, {ITEMS_PER_SECOND}, "
                           f"{CHILDREN_PER_SECOND}")
    unknown = sorted(set(value) - set(NAMES))
    if unknown:
        raise BindingError(f"{where} has unknown member(s) {', '.join(unknown)}; it takes "
                           f"{', '.join(NAMES)}")
    out: dict[str, Any] = {}
    if POOLS in value:
        pools = value[POOLS]
        if not isinstance(pools, list):
            raise BindingError(f"{where}.{POOLS} must be a list of pool names")
        out[POOLS] = list(check_pool_names(pools, f"{where}.{POOLS}"))
    for name in (ITEMS_PER_SECOND, CHILDREN_PER_SECOND):
        if name in value:
            rate = value[name]
            if isinstance(rate, bool) or not isinstance(rate, (int, float)):
                raise BindingError(f"{where}.{name} must be a number (0 means no limit), "
                                   f"not {str(rate)[:40]!r}")
            out[name] = check_rate(rate, f"{where}.{name}") or 0.0
    return out


def with_request(binding: MapRunBinding, explicit: Mapping[str, Any]) -> MapRunBinding:
    """``binding`` with the members an explicit binding gives (a checked request) replaced."""
    changes: dict[str, Any] = {}
    if POOLS in explicit:
        changes["pools"] = tuple(explicit[POOLS])
    if ITEMS_PER_SECOND in explicit:
        changes["items_per_second"] = explicit[ITEMS_PER_SECOND] or None
    if CHILDREN_PER_SECOND in explicit:
        changes["children_per_second"] = explicit[CHILDREN_PER_SECOND] or None
    return dataclasses.replace(binding, **changes)
