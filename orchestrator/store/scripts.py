"""The stores' Lua scripts: ``store/lua/*.lua``, shipped as package data.

Each store registers the scripts it uses once, when it is built (one ``SCRIPT LOAD`` per
script and connection pool, then ``EVALSHA``).
"""

from __future__ import annotations

from importlib import resources


def lua(name: str) -> str:
    """The source of ``store/lua/{name}.lua``."""
    return (resources.files("orchestrator.store") / "lua" / f"{name}.lua").read_text()
