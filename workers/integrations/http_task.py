"""The HTTP Task (``arn:aws:states:::http:invoke``) on a worker, against an allowlist of hosts.

Parameters as AWS names them: ``ApiEndpoint``, ``Method``, ``Headers``, ``QueryParameters``,
``RequestBody``, ``Transform`` (``RequestBodyEncoding``: ``NONE`` or ``URL_ENCODED``;
``RequestEncodingOptions.ArrayFormat``: ``INDICES`` (default), ``REPEAT``, ``COMMAS``,
``BRACKETS``) and ``Authentication.ConnectionArn`` (a connection of
``settings.integrations.http_connections``: Basic or API key). The result is
``{"Headers", "ResponseBody", "StatusCode", "StatusText"}``; the body is parsed when the
response says JSON. A status outside 2xx fails the Task with ``States.Http.StatusCode.<NNN>``
and that result as the cause; a network failure or a timeout with ``States.Http.Socket``.

The host of the URL must be allowed (``settings.integrations.http_allowed_hosts``); a dynamic
``ApiEndpoint`` that names another host fails the Task with ``States.TaskFailed`` saying so.
Redirects are not followed (a redirect could lead off the allowlist): a 3xx is a failure.
"""

from __future__ import annotations

import base64
import http.client
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from orchestrator.asl import StatesError, TaskRequest
from orchestrator.asl import errors as asl_errors
from orchestrator.jsontext import dumps
from orchestrator.resources import HTTP_METHODS, host_refusal
from orchestrator.settings import HttpConnection

SOCKET_ERROR = "States.Http.Socket"
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")


def _fail(request: TaskRequest, message: str) -> StatesError:
    return StatesError(asl_errors.TASK_FAILED, f"HTTP Task '{request.state_name}': {message}")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


def form_pairs(body: Mapping[str, Any], array_format: str) -> list[tuple[str, str]]:
    """A JSON object as URL-encoded form pairs; arrays as ``array_format`` says.

    ``INDICES``: ``a[0]=x&a[1]=y``; ``REPEAT``: ``a=x&a=y``; ``COMMAS``: ``a=x,y``;
    ``BRACKETS``: ``a[]=x&a[]=y``. Nested objects become ``a[b]=x``.
    """
    pairs: list[tuple[str, str]] = []

    def add(key: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for inner, item in value.items():
                add(f"{key}[{inner}]", item)
        elif isinstance(value, list):
            if array_format == "COMMAS":
                pairs.append((key, ",".join(_text(v) for v in value)))
            for i, item in enumerate(value if array_format != "COMMAS" else []):
                suffix = {"INDICES": f"[{i}]", "BRACKETS": "[]"}.get(array_format, "")
                add(key + suffix, item)
        elif value is None:
            pairs.append((key, ""))
        elif isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        else:
            pairs.append((key, str(value)))

    for key, value in body.items():
        add(str(key), value)
    return pairs


def _headers(request: TaskRequest, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail(request, f"Headers must be an object, got {type(raw).__name__}")
    return {str(k): _text(v) for k, v in raw.items()}


def _query(request: TaskRequest, raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, Mapping):
        raise _fail(request, f"QueryParameters must be an object, got {type(raw).__name__}")
    return urlencode(form_pairs(raw, "REPEAT"), quote_via=quote)


class HttpTask:
    """Runs HTTP Tasks (see the module docstring)."""

    def __init__(self, allowed_hosts: Sequence[str], connections: Sequence[HttpConnection],
                 timeout_seconds: float = 60.0) -> None:
        self.allowed_hosts = list(allowed_hosts)
        self.connections = {c.connection_arn: c for c in connections}
        self.timeout_seconds = timeout_seconds

    def invoke(self, request: TaskRequest) -> dict[str, Any]:
        """Send the request; the Task result, or raise :class:`StatesError`."""
        params = request.parameters if isinstance(request.parameters, Mapping) else {}
        url = params.get("ApiEndpoint")
        refusal = host_refusal(url, self.allowed_hosts)
        if refusal is not None:
            raise _fail(request, refusal)
        assert isinstance(url, str)
        method = params.get("Method")
        if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
            raise _fail(request, f"Method {method!r} is not one of {', '.join(HTTP_METHODS)}")
        headers = _headers(request, params.get("Headers"))
        headers.update(self._authorization(request, params.get("Authentication")))
        body = self._body(request, params, headers)
        parts = urlsplit(url)
        query = "&".join(q for q in (parts.query, _query(request, params.get("QueryParameters")))
                         if q)
        target = urlunsplit(("", "", parts.path or "/", query, ""))
        return self._send(request, parts.scheme, parts.netloc, method.upper(), target, headers,
                          body)

    def _authorization(self, request: TaskRequest, auth: Any) -> dict[str, str]:
        if auth is None:
            return {}
        arn = auth.get("ConnectionArn") if isinstance(auth, Mapping) else None
        if not isinstance(arn, str):
            raise _fail(request, "Authentication must be {\"ConnectionArn\": \"...\"}")
        connection = self.connections.get(arn)
        if connection is None:
            raise _fail(request, f"connection '{arn}' is not in integrations.http_connections")
        if connection.authorization_type == "BASIC":
            assert connection.password is not None
            pair = f"{connection.username}:{connection.password.get_secret_value()}"
            return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        assert connection.api_key_name is not None and connection.api_key_value is not None
        return {connection.api_key_name: connection.api_key_value.get_secret_value()}

    def _body(self, request: TaskRequest, params: Mapping[str, Any],
              headers: dict[str, str]) -> bytes | None:
        if "RequestBody" not in params:
            return None
        body = params["RequestBody"]
        transform = params.get("Transform") or {}
        if not isinstance(transform, Mapping):
            raise _fail(request, "Transform must be an object")
        named = {k.lower() for k in headers}
        if transform.get("RequestBodyEncoding", "NONE") == "URL_ENCODED":
            options = transform.get("RequestEncodingOptions") or {}
            array_format = options.get("ArrayFormat", "INDICES") if isinstance(
                options, Mapping) else "INDICES"
            if array_format not in ARRAY_FORMATS:
                raise _fail(request, f"ArrayFormat {array_format!r} is not one of "
                            f"{', '.join(ARRAY_FORMATS)}")
            if not isinstance(body, Mapping):
                raise _fail(request, "RequestBody must be an object to be URL_ENCODED")
            if "content-type" not in named:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            return urlencode(form_pairs(body, array_format), quote_via=quote).encode()
        if isinstance(body, str):
            return body.encode()
        if "content-type" not in named:
            headers["Content-Type"] = "application/json"
        return dumps(body).encode()

    def _send(self, request: TaskRequest, scheme: str, netloc: str, method: str, target: str,
              headers: Mapping[str, str], body: bytes | None) -> dict[str, Any]:
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        timeout = min(self.timeout_seconds, float(request.timeout_seconds or self.timeout_seconds))
        connection = kind(netloc, timeout=timeout)
        try:
            connection.request(method, target, body=body, headers=dict(headers))
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise StatesError(SOCKET_ERROR, f"HTTP Task '{request.state_name}': {method} "
                              f"{scheme}://{netloc}{target} failed: {type(exc).__name__}: {exc}"
                              ) from exc
        finally:
            connection.close()
        grouped: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            grouped.setdefault(name.lower(), []).append(value)
        result = {"Headers": grouped, "ResponseBody": _response_body(raw, response),
                  "StatusCode": response.status, "StatusText": response.reason}
        if not 200 <= response.status < 300:
            raise StatesError(f"States.Http.StatusCode.{response.status}", dumps(result))
        return result


def _response_body(raw: bytes, response: http.client.HTTPResponse) -> Any:
    """The body parsed when it is JSON, else its text (undecodable bytes replaced)."""
    text = raw.decode(response.headers.get_content_charset() or "utf-8", errors="replace")
    if "json" in (response.headers.get_content_type() or ""):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
