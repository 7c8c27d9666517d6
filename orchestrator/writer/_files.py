"""Streaming export of Map Run results to S3 (spec §2.7 layout and manifest).

Layout: ``{Prefix}/{mapRunId}/SUCCEEDED_0.json``, ``FAILED_0.json``, ``PENDING_0.json``
(``_1``, ``_2`` ... after each rollover) and ``{Prefix}/{mapRunId}/manifest.json``.
``{mapRunId}`` is the Map Run ARN's text after its last ``:``; a ``/`` is added after a
Prefix that lacks one. Decision (unverified): an empty or absent Prefix puts the files
at ``{mapRunId}/...`` in the bucket root. JSONL files use the ``.jsonl`` extension
(unverified; spec §2.7 says likely).

Each file is streamed: records are encoded one by one into a part spooled to a temporary file
(:class:`~orchestrator.writer._spool.PartSpool`) that is sent as a multipart-upload part
whenever it reaches ``part_size``; a file that never fills one part is written with a single
PutObject. No part is held in memory; the temporary files hold at most two parts per category.
A file is closed and the next one started when adding a record would take it past
``max_file_bytes`` (5 GB on AWS); a single larger record still gets a file of its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orchestrator.asl.errors import ResultWriterFailed
from orchestrator.jsontext import dumps, dumps_float_free
from orchestrator.writer._records import CATEGORY, transformed, writer_options
from orchestrator.writer._spool import PartSpool

#: Multipart part size; S3 requires at least 5 MiB for every part but the last.
PART_SIZE = 8 * 1024 * 1024
#: Result-file categories, in the manifest's order.
CATEGORIES = ("FAILED", "PENDING", "SUCCEEDED")

#: The checksum of the result files' multipart uploads (the streamed ones and this writer's): S3
#: checks every part, and the completion combines the parts' checksums (a server that checks a
#: whole-object checksum instead reads the whole object once more when it completes: moto's
#: took 0.25 s for 57 MB, 0.15 s with this).
PART_CHECKSUM = "CRC32"


def uploaded_part(sent: Mapping[str, Any], number: int) -> dict[str, Any]:
    """An uploaded part as CompleteMultipartUpload lists it (with its checksum)."""
    part = {"ETag": sent["ETag"], "PartNumber": number}
    if sent.get("ChecksumCRC32"):
        part["ChecksumCRC32"] = sent["ChecksumCRC32"]
    return part


@contextmanager
def s3_write_errors(bucket: str, key: str) -> Iterator[None]:
    """Translate botocore errors raised inside the block into ResultWriterFailed.

    Raises:
        ResultWriterFailed: cause ``Failed to write s3://b/k: Code: message``.
    """
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "ClientError"
        message = error.get("Message") or str(exc)
        raise ResultWriterFailed(f"Failed to write s3://{bucket}/{key}: {code}: {message}") from exc
    except (BotoCoreError, OSError) as exc:
        raise ResultWriterFailed(
            f"Failed to write s3://{bucket}/{key}: {type(exc).__name__}: {exc}"
        ) from exc


def encode_entries(status: str, record: Mapping[str, Any],
                   transformation: str) -> tuple[str, list[bytes]]:
    """The result-file category of a child's record and the encoded entries it contributes.

    Raises:
        ResultWriterFailed: unknown status, or a SUCCEEDED Output that is not JSON.
    """
    category = CATEGORY.get(status)
    if category is None:
        raise ResultWriterFailed(f"Cannot write a result with status {status!r}.")
    try:
        # The record itself (NONE, or not SUCCEEDED) holds no float: orjson writes it.
        entries = [dumps_float_free(entry) if entry is record else dumps(entry).encode()
                   for entry in transformed(status, record, transformation)]
    except ValueError as exc:
        raise ResultWriterFailed(
            f"The Output of {record.get('ExecutionArn', 'a child execution')} "
            f"is not valid JSON: {exc}"
        ) from exc
    return category, entries


def framed(entry: bytes, *, opens: bool, jsonl: bool) -> bytes:
    """An entry as its file holds it: after ``[`` (first of a JSON file) or ``,`` (JSON), or
    followed by a newline (JSON Lines). A JSON file is closed by ``]``."""
    if jsonl:
        return entry + b"\n"
    return (b"[" if opens else b",") + entry


def file_key(folder: str, category: str, number: int, jsonl: bool) -> str:
    """``{folder}{CATEGORY}_{n}.json`` (``.jsonl`` for JSON Lines)."""
    return f"{folder}{category}_{number}{'.jsonl' if jsonl else '.json'}"


def manifest(bucket: str, map_run_arn: str,
             files: Mapping[str, list[dict[str, Any]]]) -> bytes:
    """The body of ``manifest.json`` (``files``: ``{"Key", "Size"}`` lists per category)."""
    return dumps({"DestinationBucket": bucket, "MapRunArn": map_run_arn,
                  "ResultFiles": {c: list(files.get(c, [])) for c in CATEGORIES}}).encode()


def result_prefix(prefix: str | None, map_run_arn: str) -> str:
    """``{Prefix}/{mapRunId}/`` (or ``{mapRunId}/`` without a Prefix)."""
    run_id = map_run_arn.rsplit(":", 1)[-1]
    if not prefix:
        return f"{run_id}/"
    return f"{prefix}{'' if prefix.endswith('/') else '/'}{run_id}/"


class _StreamedObject:
    """One S3 object written incrementally (PutObject, or multipart once large).

    A full part is uploaded by ``uploads`` (one background thread of the writer) while the
    next part is encoded; at most one part per object is in flight, so the object's bytes take
    two parts' worth of temporary files at most (and no memory: :class:`PartSpool`). An
    upload's failure is raised by the next part or by :meth:`finish`.
    """

    def __init__(self, s3: Any, bucket: str, key: str, part_size: int,
                 uploads: ThreadPoolExecutor | None = None) -> None:
        self._s3 = s3
        self._bucket = bucket
        self.key = key
        self._part_size = part_size
        self._spool = PartSpool()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._uploads = uploads
        self._in_flight: Future[dict[str, Any]] | None = None
        self.size = 0

    def write(self, data: bytes) -> None:
        self._spool.write(data)
        self.size += len(data)
        if len(self._spool) >= self._part_size:
            self._flush_part()

    def _flush_part(self) -> None:
        self._settle()
        if self._upload_id is None:
            with s3_write_errors(self._bucket, self.key):
                started = self._s3.create_multipart_upload(
                    Bucket=self._bucket, Key=self.key, ContentType="application/json",
                    ChecksumAlgorithm=PART_CHECKSUM)
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        part, self._spool = self._spool, PartSpool()
        if self._uploads is None:
            self._parts.append(self._upload(self._upload_id, number, part))
        else:
            self._in_flight = self._uploads.submit(self._upload, self._upload_id, number, part)

    def _upload(self, upload_id: str, number: int, part: PartSpool) -> dict[str, Any]:
        try:
            with s3_write_errors(self._bucket, self.key):
                sent = self._s3.upload_part(Bucket=self._bucket, Key=self.key,
                                            UploadId=upload_id, PartNumber=number,
                                            Body=part.body(), ChecksumAlgorithm=PART_CHECKSUM)
        finally:
            part.close()
        return uploaded_part(sent, number)

    def _settle(self) -> None:
        """Wait for the part in flight (raising its failure) and record it."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            self._parts.append(in_flight.result())

    def finish(self) -> None:
        self._settle()
        if self._upload_id is None:
            try:
                with s3_write_errors(self._bucket, self.key):
                    self._s3.put_object(
                        Bucket=self._bucket,
                        Key=self.key,
                        Body=self._spool.body(),
                        ContentType="application/json",
                    )
            finally:
                self._spool.close()
            return
        if self._spool:
            self._flush_part()
        self._settle()
        self._spool.close()
        with s3_write_errors(self._bucket, self.key):
            self._s3.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )

    def abort(self) -> None:
        try:
            self._settle()
        except ResultWriterFailed:
            pass  # aborting anyway
        self._spool.close()
        if self._upload_id is None:
            return
        try:
            self._s3.abort_multipart_upload(
                Bucket=self._bucket, Key=self.key, UploadId=self._upload_id
            )
        except (ClientError, BotoCoreError, OSError):
            pass  # best effort: a lifecycle rule cleans up what is left


class ResultFileWriter:
    """Writes a Map Run's results to S3 as AWS lays them out, then the manifest.

    Args:
        s3: a boto3 S3 client.
        bucket: destination bucket (``ResultWriter`` Parameters ``Bucket``).
        prefix: ``Prefix`` (None or "" for the bucket root).
        map_run_arn: the Map Run ARN (its last segment names the folder).
        writer_config: ``WriterConfig`` (Transformation, OutputType) or None.
        max_file_bytes: rollover size of a result file (5 GiB as on AWS).
        part_size: multipart part size (at least 5 MiB on S3).

    Raises:
        ResultWriterFailed: for an invalid WriterConfig, and later for S3 failures.
    """

    def __init__(
        self,
        s3: Any,
        *,
        bucket: str,
        prefix: str | None,
        map_run_arn: str,
        writer_config: Mapping[str, Any] | None,
        max_file_bytes: int = 5 * 1024**3,
        part_size: int = PART_SIZE,
    ) -> None:
        try:
            self._transformation, output_type = writer_options(writer_config)
        except ValueError as exc:
            raise ResultWriterFailed(str(exc)) from exc
        self._s3 = s3
        self._bucket = bucket
        self._map_run_arn = map_run_arn
        self._folder = result_prefix(prefix, map_run_arn)
        self._jsonl = output_type == "JSONL"
        self._max = max_file_bytes
        self._part_size = part_size
        self._open: dict[str, _StreamedObject] = {}
        self._done: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
        self._closed = False
        # Parts go up while the next ones are encoded (the tail after the last child).
        self._uploads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="result-parts")

    @property
    def manifest_key(self) -> str:
        """Key of the manifest.json this writer writes on close."""
        return f"{self._folder}manifest.json"

    def add(self, status: str, record: dict[str, Any]) -> None:
        """Append one child's result (a NONE record) to the file of its status.

        Args:
            status: SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING.
            record: the child's NONE record (see ``result_record``).

        Raises:
            ResultWriterFailed: unknown status, bad Output JSON, or an S3 failure.
        """
        if self._closed:
            raise ResultWriterFailed(f"Results were added after {self.manifest_key} was written.")
        category, entries = encode_entries(status, record, self._transformation)
        for entry in entries:
            self._append(category, entry)

    def _append(self, category: str, encoded: bytes) -> None:
        current = self._open.get(category)
        # Bytes this entry adds: "[" or "," before it (JSON) / "\n" after it (JSONL);
        # a JSON array also needs its closing "]".
        extra = 1 if self._jsonl else 2
        if current is not None and current.size + len(encoded) + extra > self._max:
            self._finish(category)
            current = None
        opens = current is None
        if current is None:
            key = file_key(self._folder, category, len(self._done[category]), self._jsonl)
            current = self._open[category] = _StreamedObject(
                self._s3, self._bucket, key, self._part_size, self._uploads
            )
        current.write(framed(encoded, opens=opens, jsonl=self._jsonl))

    def _finish(self, category: str) -> None:
        current = self._open.pop(category)
        if not self._jsonl:
            current.write(b"]")
        try:
            current.finish()
        except ResultWriterFailed:
            current.abort()
            raise
        self._done[category].append({"Key": current.key, "Size": current.size})

    def close(self) -> dict[str, str]:
        """Finish every open file and write ``manifest.json``.

        Returns:
            ``{"Bucket": bucket, "Key": "{Prefix}/{mapRunId}/manifest.json"}`` — the
            ``ResultWriterDetails`` of the state result.

        Raises:
            ResultWriterFailed: on an S3 failure.
        """
        if not self._closed:
            try:
                for category in CATEGORIES:
                    if category in self._open:
                        self._finish(category)
            except ResultWriterFailed:
                self.abort()
                raise
            self._uploads.shutdown()
            with s3_write_errors(self._bucket, self.manifest_key):
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=self.manifest_key,
                    Body=manifest(self._bucket, self._map_run_arn, self._done),
                    ContentType="application/json",
                )
            self._closed = True
        return {"Bucket": self._bucket, "Key": self.manifest_key}

    def abort(self) -> None:
        """Abandon open multipart uploads (after a failure); writes no manifest."""
        for current in self._open.values():
            current.abort()
        self._open.clear()
        self._uploads.shutdown()
