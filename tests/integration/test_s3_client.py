"""The workers' S3 client (``orchestrator/s3client.py``) against the S3 server on loopback.

Uploads go unsigned (no SHA256 pass over the body, as botocore does over HTTPS), their checksum
header signed and checked by the server; the bytes arrive whole.
"""

from __future__ import annotations

import zlib
from base64 import b64encode
from typing import Any

from orchestrator.s3client import s3_client
from orchestrator.settings import Settings


def _sent_headers(client: Any) -> list[dict[str, str]]:
    seen: list[dict[str, str]] = []

    def record(request: Any, **_: Any) -> None:
        seen.append({k.lower(): v.decode() if isinstance(v, bytes) else v
                     for k, v in request.headers.items()})

    client.meta.events.register("before-send.s3", record)
    return seen


def test_a_part_upload_is_unsigned_and_carries_its_signed_checksum(
        settings: Settings, bucket: str) -> None:
    client = s3_client(settings)
    sent = _sent_headers(client)
    body = b"x" * (5 * 2**20) + b"tail"
    started = client.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC32")
    part = client.upload_part(Bucket=bucket, Key="k", UploadId=started["UploadId"], PartNumber=1,
                              Body=body, ChecksumAlgorithm="CRC32")
    client.complete_multipart_upload(
        Bucket=bucket, Key="k", UploadId=started["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"],
                                    "ChecksumCRC32": part["ChecksumCRC32"]}]})
    upload = sent[1]
    assert upload["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    crc = b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert upload["x-amz-checksum-crc32"] == crc
    assert "x-amz-checksum-crc32" in upload["authorization"]  # among the signed headers
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == body


def test_a_put_object_is_unsigned_with_a_checksum(settings: Settings, bucket: str) -> None:
    client = s3_client(settings)
    sent = _sent_headers(client)
    client.put_object(Bucket=bucket, Key="small.json", Body=b'{"a":1}')
    assert sent[0]["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert any(name.startswith("x-amz-checksum-") for name in sent[0])
    assert client.get_object(Bucket=bucket, Key="small.json")["Body"].read() == b'{"a":1}'


def test_a_spooled_file_body_arrives_whole(settings: Settings, bucket: str) -> None:
    from orchestrator.writer import PartSpool

    client = s3_client(settings)
    sent = _sent_headers(client)
    spool = PartSpool()
    for n in range(2000):
        spool.write(f'{{"n":{n},"pad":"{"y" * 100}"}},'.encode())
    expected = spool.body().read()
    client.put_object(Bucket=bucket, Key="spooled.json", Body=spool.body())
    spool.close()
    assert sent[0]["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert client.get_object(Bucket=bucket, Key="spooled.json")["Body"].read() == expected
