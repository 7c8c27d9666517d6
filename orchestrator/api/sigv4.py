"""SigV4 verification of AWS-face requests, with botocore's own signer.

The signature is recomputed, not re-implemented: the incoming request is rebuilt as a
``botocore.awsrequest.AWSRequest`` holding exactly the headers the client signed, and
``botocore.auth.SigV4Auth`` computes the canonical request, string to sign and signature with
the configured secret of the access key. The two signatures are compared in constant time.

Errors are AWS's: an unknown access key is ``UnrecognizedClientException``; a wrong signature,
a tampered body, another region or service, or a clock more than 5 minutes off is
``InvalidSignatureException``; a malformed ``Authorization`` header is
``IncompleteSignatureException``; an operation outside the key's scope is
``AccessDeniedException``.

Requests must be signed for ``api.region`` and the service ``states``. Behind a reverse proxy,
forward the client's ``Host`` header unchanged: it is part of what the client signed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from orchestrator.executions.errors import ServiceError
from orchestrator.settings import AccessKey

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "states"
MAX_SKEW = timedelta(minutes=5)
DATE_FORMAT = "%Y%m%dT%H%M%SZ"

#: Operations each scope may call ("admin" may call everything).
READ_ONLY_PREFIXES = ("Describe", "List", "Get")
READ_ONLY_OPERATIONS = frozenset({"ValidateStateMachineDefinition", "StepmapDescribeAdmission"})
EXECUTE_OPERATIONS = frozenset(
    {
        "StartExecution",
        "StartSyncExecution",
        "StopExecution",
        "RedriveExecution",
        "TestState",
        "SendTaskSuccess",
        "SendTaskFailure",
        "SendTaskHeartbeat",
        "GetActivityTask",
    }
)
#: Operations whose name reads like a read but that take work (an activity task): "execute".
NOT_READ_ONLY = frozenset({"GetActivityTask"})


class UnrecognizedClient(ServiceError):
    """The access key id is not one of ``api.access_keys``."""

    code = "UnrecognizedClientException"


class InvalidSignature(ServiceError):
    """The signature does not match, or was made for another time, region or service."""

    code = "InvalidSignatureException"


class IncompleteSignature(ServiceError):
    """The ``Authorization`` header is not a complete SigV4 header."""

    code = "IncompleteSignatureException"


class AccessDenied(ServiceError):
    """The key's scope does not include the operation."""

    code = "AccessDeniedException"


@dataclass(frozen=True, slots=True)
class Authorization:
    """The parts of a SigV4 ``Authorization`` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def is_sigv4(header: str) -> bool:
    """Whether an ``Authorization`` value is a SigV4 one."""
    return header.startswith(ALGORITHM + " ")


def parse_authorization(header: str) -> Authorization:
    """Split ``AWS4-HMAC-SHA256 Credential=.../scope, SignedHeaders=a;b, Signature=hex``.

    Raises:
        IncompleteSignature: a part is missing or malformed.
    """
    fields: dict[str, str] = {}
    for part in header[len(ALGORITHM) :].split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields[name] = value
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in fields]
    scope = fields.get("Credential", "").split("/")
    if missing or len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignature(
            "Authorization header requires 'Credential' (key/date/region/service/aws4_request), "
            f"'SignedHeaders' and 'Signature'; missing or malformed: {missing or ['Credential']}"
        )
    key, date, region, service, _ = scope
    return Authorization(
        key, date, region, service, tuple(fields["SignedHeaders"].split(";")), fields["Signature"]
    )


def scope_allows(scope: str, operation: str) -> bool:
    """Whether a key of ``scope`` may call ``operation``."""
    if scope == "admin":
        return True
    read = ((operation.startswith(READ_ONLY_PREFIXES) or operation in READ_ONLY_OPERATIONS)
            and operation not in NOT_READ_ONLY)
    return read or (scope == "execute" and operation in EXECUTE_OPERATIONS)


def _check_time(stamp: str, now: datetime) -> None:
    try:
        signed_at = datetime.strptime(stamp, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise IncompleteSignature(f"X-Amz-Date '{stamp}' is not in the form {DATE_FORMAT}") from None
    if abs(now - signed_at) > MAX_SKEW:
        raise InvalidSignature(
            f"Signature expired or not yet valid: signed at {stamp}, server time is "
            f"{now.strftime(DATE_FORMAT)} (allowed skew: 5 minutes)"
        )


def signing_key(auth: Authorization, keys: list[AccessKey]) -> AccessKey:
    """The configured access key that ``auth`` names (known before the body is read).

    Raises:
        UnrecognizedClient: no such key is configured.
    """
    key = next((k for k in keys if hmac.compare_digest(k.access_key_id, auth.access_key_id)), None)
    if key is None:
        raise UnrecognizedClient("The security token included in the request is invalid.")
    return key


def verify(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: list[AccessKey],
    region: str,
    now: datetime | None = None,
) -> AccessKey:
    """Verify a SigV4-signed request; returns the access key that signed it.

    Args:
        method, path, query, headers, body: the request as received (``headers`` looked up
            case-insensitively by lower-case name).
        keys: the configured access keys.
        region: the region requests must be signed for.
        now: the server time (injectable for tests).

    Raises:
        IncompleteSignature, UnrecognizedClient, InvalidSignature: see the module docstring.
    """
    auth = parse_authorization(headers.get("authorization", ""))
    key = signing_key(auth, keys)
    stamp = headers.get("x-amz-date")
    if stamp is None or "x-amz-date" not in auth.signed_headers:
        raise IncompleteSignature("The request must sign the X-Amz-Date header")
    _check_time(stamp, now or datetime.now(UTC))
    if (auth.region, auth.service) != (region, SERVICE) or auth.date != stamp[:8]:
        raise InvalidSignature(
            f"Credential should be scoped to {stamp[:8]}/{region}/{SERVICE}/aws4_request, "
            f"not {auth.date}/{auth.region}/{auth.service}/aws4_request"
        )
    content_hash = headers.get("x-amz-content-sha256")
    if content_hash is not None and content_hash != hashlib.sha256(body).hexdigest():
        raise InvalidSignature("X-Amz-Content-SHA256 does not match the request body")
    signed = {name: headers.get(name, "") for name in auth.signed_headers}
    url = f"http://{signed.get('host') or 'localhost'}{path}" + (f"?{query}" if query else "")
    rebuilt = AWSRequest(method=method, url=url, headers=signed, data=body)
    rebuilt.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(key.access_key_id, key.secret()), SERVICE, region)
    canonical = signer.canonical_request(rebuilt)
    expected = signer.signature(signer.string_to_sign(rebuilt, canonical), rebuilt)
    if not hmac.compare_digest(expected.encode(), auth.signature.encode()):
        raise InvalidSignature(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return key


def authorize(key: AccessKey, operation: str) -> None:
    """Raise :class:`AccessDenied` unless ``key``'s scope covers ``operation``."""
    if not scope_allows(key.scope, operation):
        raise AccessDenied(
            f"Access key {key.access_key_id} (scope {key.scope}) is not authorized to perform: "
            f"states:{operation}"
        )
