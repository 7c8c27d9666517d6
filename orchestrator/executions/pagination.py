"""Opaque pagination tokens (AWS: valid 24 hours, ``InvalidToken`` when unknown or misused).

A token is a random id; its payload (the operation, the listed resource and the position to
resume from) is kept in the store with a TTL, so tokens stay short and reveal nothing.
"""

from __future__ import annotations

from typing import Any

from orchestrator.executions.errors import InvalidToken
from orchestrator.store.base import StateStore

TOKEN_TTL_SECONDS = 24 * 60 * 60


class PageTokens:
    """Issues and resolves pagination tokens through a :class:`StateStore`.

    Args:
        store: where token payloads live.
        ttl_seconds: lifetime of a token.
    """

    def __init__(self, store: StateStore, ttl_seconds: int = TOKEN_TTL_SECONDS) -> None:
        self._store = store
        self._ttl = ttl_seconds

    def issue(self, operation: str, scope: str, position: Any) -> str:
        """A token that resumes ``operation`` on ``scope`` (e.g. an ARN) at ``position``."""
        return self._store.put_page_token(
            {"operation": operation, "scope": scope, "position": position}, self._ttl
        )

    def resolve(self, token: str | None, operation: str, scope: str) -> Any:
        """The position stored in ``token``, or ``None`` when no token was given.

        Raises:
            InvalidToken: unknown or expired token, or a token of another listing.
        """
        if token is None:
            return None
        payload = self._store.get_page_token(token) if 1 <= len(token) <= 3096 else None
        if (
            payload is None
            or payload.get("operation") != operation
            or payload.get("scope") != scope
        ):
            raise InvalidToken(f"Invalid Token: '{token}'")
        return payload.get("position")
