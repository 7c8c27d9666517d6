"""The S3 client of every process that reads or writes S3 (control workers, children workers).

Uploads are not SHA256-signed (``payload_signing_enabled`` off): botocore already leaves an
upload's body unsigned over HTTPS when it carries a checksum, and every upload here carries one
(the result files' parts their CRC32; botocore adds a CRC32 to any other by default), which S3
checks; over plain HTTP (a local S3 server) botocore signed every body as well, a SHA256 pass
over every byte written: a third of the control pool's CPU samples in the 1M-row benchmark.
The headers, the checksum header among them, stay signed. Decision in docs/decisions.md.
"""

from __future__ import annotations

from typing import Any

from orchestrator.settings import Settings


def s3_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint.

    boto3 is imported here, on first use: processes that never read or write S3 do not carry
    it.
    """
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=settings.s3.endpoint_url, region_name=settings.s3.region,
        aws_access_key_id=settings.s3.access_key_id.get_secret_value(),
        aws_secret_access_key=settings.s3.secret_access_key.get_secret_value(),
        config=Config(s3={"payload_signing_enabled": False}),
    )
