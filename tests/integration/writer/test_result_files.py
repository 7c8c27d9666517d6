"""ResultWriter export (files, manifest, rollover, JSONL) against a real S3 server."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from orchestrator.asl.errors import ResultWriterFailed
from orchestrator.writer import ResultFileWriter, result_record, transform_results

RUN_ID = "0f1e2d3c-4b5a-3968-8776-655443322110"
MAP_RUN_ARN = f"arn:aws:states:eu-west-1:111122223333:mapRun:nightly/Orders:{RUN_ID}"
SM_ARN = "arn:aws:states:eu-west-1:111122223333:stateMachine:nightly/Orders"


def record(n: int, status: str = "SUCCEEDED", output: Any = None) -> dict[str, Any]:
    child = f"5d7c2a10-8e1b-3f44-9a0c-{n:012d}"
    ok = status == "SUCCEEDED"
    return result_record(
        execution_arn=f"arn:aws:states:eu-west-1:111122223333:execution:nightly/Orders:{child}",
        name=child,
        state_machine_arn=SM_ARN,
        status=status,
        input=json.dumps({"id": f"o{n}"}, separators=(",", ":")),
        output=json.dumps(output if output is not None else {"ok": n}) if ok else None,
        error=None if ok else "Lambda.Unknown",
        cause=None if ok else f"boom {n}",
        start_date=datetime(2025, 6, 1, 2, 0, 1, 120000, tzinfo=timezone.utc),
        stop_date=datetime(2025, 6, 1, 2, 0, 1, 870999, tzinfo=timezone.utc),
        redrive_status="NOT_REDRIVABLE" if ok else "REDRIVABLE",
        redrive_status_reason="Execution is SUCCEEDED and cannot be redriven" if ok else "",
    )


def read_json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def listed(s3: Any, bucket: str) -> dict[str, int]:
    page = s3.list_objects_v2(Bucket=bucket)
    return {o["Key"]: o["Size"] for o in page.get("Contents", [])}


def test_none_record_matches_the_aws_export_shape() -> None:
    assert record(1) == {
        "ExecutionArn": "arn:aws:states:eu-west-1:111122223333:execution:nightly/Orders:"
                        "5d7c2a10-8e1b-3f44-9a0c-000000000001",
        "Input": '{"id":"o1"}',
        "InputDetails": {"Included": True},
        "Name": "5d7c2a10-8e1b-3f44-9a0c-000000000001",
        "Output": '{"ok": 1}',
        "OutputDetails": {"Included": True},
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        "StartDate": "2025-06-01T02:00:01.120Z",
        "StopDate": "2025-06-01T02:00:01.870Z",
        "StateMachineArn": SM_ARN,
        "Status": "SUCCEEDED",
    }
    assert list(record(1)) == sorted(record(1))


def test_failed_record_has_error_and_cause_and_no_output() -> None:
    failed = record(2, "FAILED")
    assert (failed["Error"], failed["Cause"]) == ("Lambda.Unknown", "boom 2")
    assert failed["Status"] == "FAILED"
    assert "Output" not in failed and "OutputDetails" not in failed
    assert list(failed)[:3] == ["Cause", "Error", "ExecutionArn"]


def test_pending_record_is_input_and_status_only() -> None:
    assert record(3, "PENDING") == {
        "Input": '{"id":"o3"}', "InputDetails": {"Included": True}, "Status": "PENDING"
    }


def test_export_writes_status_files_and_the_manifest(s3_client: Any, bucket: str) -> None:
    writer = ResultFileWriter(s3_client, bucket=bucket, prefix="audits", map_run_arn=MAP_RUN_ARN,
                              writer_config=None)
    writer.add("SUCCEEDED", record(0))
    writer.add("FAILED", record(1, "FAILED"))
    writer.add("SUCCEEDED", record(2))
    writer.add("TIMED_OUT", record(3, "TIMED_OUT"))
    details = writer.close()
    folder = f"audits/{RUN_ID}/"
    assert details == {"Bucket": bucket, "Key": f"{folder}manifest.json"}
    sizes = listed(s3_client, bucket)
    assert read_json(s3_client, bucket, f"{folder}manifest.json") == {
        "DestinationBucket": bucket,
        "MapRunArn": MAP_RUN_ARN,
        "ResultFiles": {
            "FAILED": [{"Key": f"{folder}FAILED_0.json", "Size": sizes[f"{folder}FAILED_0.json"]}],
            "PENDING": [],
            "SUCCEEDED": [{"Key": f"{folder}SUCCEEDED_0.json",
                           "Size": sizes[f"{folder}SUCCEEDED_0.json"]}],
        },
    }
    assert read_json(s3_client, bucket, f"{folder}SUCCEEDED_0.json") == [record(0), record(2)]
    assert read_json(s3_client, bucket, f"{folder}FAILED_0.json") == [
        record(1, "FAILED"), record(3, "TIMED_OUT")
    ]


@pytest.mark.parametrize(
    ("prefix", "folder"),
    [("mapJobs", f"mapJobs/{RUN_ID}/"), ("mapJobs/", f"mapJobs/{RUN_ID}/"),
     ("", f"{RUN_ID}/"), (None, f"{RUN_ID}/")],
)
def test_prefix_gets_one_slash_and_an_empty_prefix_means_the_root(
    s3_client: Any, bucket: str, prefix: str | None, folder: str
) -> None:
    writer = ResultFileWriter(s3_client, bucket=bucket, prefix=prefix, map_run_arn=MAP_RUN_ARN,
                              writer_config=None)
    writer.add("PENDING", record(0, "PENDING"))
    assert writer.close()["Key"] == f"{folder}manifest.json"
    assert sorted(listed(s3_client, bucket)) == [
        f"{folder}PENDING_0.json", f"{folder}manifest.json"
    ]


def test_files_roll_over_at_max_file_bytes_in_order(s3_client: Any, bucket: str) -> None:
    one = len(json.dumps(record(0), separators=(",", ":"), ensure_ascii=False).encode())
    writer = ResultFileWriter(s3_client, bucket=bucket, prefix="r", map_run_arn=MAP_RUN_ARN,
                              writer_config=None, max_file_bytes=2 * one + 3)
    for n in range(5):
        writer.add("SUCCEEDED", record(n))
    manifest = read_json(s3_client, bucket, writer.close()["Key"])
    files = manifest["ResultFiles"]["SUCCEEDED"]
    assert [f["Key"] for f in files] == [f"r/{RUN_ID}/SUCCEEDED_{n}.json" for n in range(3)]
    assert all(f["Size"] <= 2 * one + 3 for f in files)
    contents = [read_json(s3_client, bucket, f["Key"]) for f in files]
    assert contents == [[record(0), record(1)], [record(2), record(3)], [record(4)]]
    sizes = listed(s3_client, bucket)
    assert [f["Size"] for f in files] == [sizes[f["Key"]] for f in files]


def test_jsonl_files_hold_one_record_per_line(s3_client: Any, bucket: str) -> None:
    writer = ResultFileWriter(s3_client, bucket=bucket, prefix="l", map_run_arn=MAP_RUN_ARN,
                              writer_config={"OutputType": "JSONL", "Transformation": "NONE"})
    writer.add("SUCCEEDED", record(0))
    writer.add("SUCCEEDED", record(1))
    manifest = read_json(s3_client, bucket, writer.close()["Key"])
    key = f"l/{RUN_ID}/SUCCEEDED_0.jsonl"
    assert manifest["ResultFiles"]["SUCCEEDED"][0]["Key"] == key
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert [json.loads(line) for line in body.splitlines()] == [record(0), record(1)]
    assert body.endswith("\n") and body.count("\n") == 2


def test_compact_and_flatten_apply_to_succeeded_records_only(s3_client: Any, bucket: str) -> None:
    for transformation, expected in (
        ("COMPACT", [[1, 2], {"k": 3}]),
        ("FLATTEN", [1, 2, {"k": 3}]),
    ):
        writer = ResultFileWriter(
            s3_client, bucket=bucket, prefix=transformation, map_run_arn=MAP_RUN_ARN,
            writer_config={"OutputType": "JSON", "Transformation": transformation},
        )
        writer.add("SUCCEEDED", record(0, output=[1, 2]))
        writer.add("FAILED", record(1, "FAILED"))
        writer.add("SUCCEEDED", record(2, output={"k": 3}))
        folder = f"{transformation}/{RUN_ID}/"
        writer.close()
        assert read_json(s3_client, bucket, f"{folder}SUCCEEDED_0.json") == expected
        assert read_json(s3_client, bucket, f"{folder}FAILED_0.json") == [record(1, "FAILED")]


def test_large_files_are_streamed_with_multipart_upload(s3_client: Any, bucket: str) -> None:
    sent: dict[str, Any] = {}

    def seen(request: Any, event_name: str, **_: Any) -> None:
        sent[event_name.rsplit(".", 1)[-1]] = request

    for operation in ("CreateMultipartUpload", "CompleteMultipartUpload"):
        s3_client.meta.events.register(f"before-send.s3.{operation}", seen)
    writer = ResultFileWriter(s3_client, bucket=bucket, prefix="big", map_run_arn=MAP_RUN_ARN,
                              writer_config={"OutputType": "JSONL"}, part_size=5 * 1024 * 1024)
    payload = "x" * 100_000
    for n in range(120):  # ~12 MB: three parts
        writer.add("SUCCEEDED", record(n, output={"n": n, "pad": payload}))
    manifest = read_json(s3_client, bucket, writer.close()["Key"])
    [entry] = manifest["ResultFiles"]["SUCCEEDED"]
    head = s3_client.head_object(Bucket=bucket, Key=entry["Key"])
    assert head["ContentLength"] == entry["Size"]
    assert head["ETag"].endswith('-3"')  # a multipart object of three parts
    # the upload is a CRC32 one and its completion lists every part's CRC32
    # (writer.PART_CHECKSUM), as the streamed files' are
    assert sent["CreateMultipartUpload"].headers["x-amz-checksum-algorithm"] == b"CRC32"
    assert sent["CompleteMultipartUpload"].body.count(b"<ChecksumCRC32>") == 3
    body = s3_client.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read().decode()
    assert [json.loads(json.loads(line)["Output"])["n"] for line in body.splitlines()] == list(
        range(120)
    )


def test_no_results_still_writes_a_manifest_with_empty_lists(s3_client: Any, bucket: str) -> None:
    writer = ResultFileWriter(s3_client, bucket=bucket, prefix="e", map_run_arn=MAP_RUN_ARN,
                              writer_config=None)
    manifest = read_json(s3_client, bucket, writer.close()["Key"])
    assert manifest["ResultFiles"] == {"FAILED": [], "PENDING": [], "SUCCEEDED": []}


def test_writing_to_a_missing_bucket_fails_naming_bucket_and_key(s3_client: Any) -> None:
    writer = ResultFileWriter(s3_client, bucket="no-such-bucket-stepmap", prefix="p",
                              map_run_arn=MAP_RUN_ARN, writer_config=None)
    writer.add("SUCCEEDED", record(0))
    with pytest.raises(ResultWriterFailed) as raised:
        writer.close()
    assert raised.value.error == "States.ResultWriterFailed"
    assert raised.value.cause == (
        f"Failed to write s3://no-such-bucket-stepmap/p/{RUN_ID}/SUCCEEDED_0.json: "
        "NoSuchBucket: The specified bucket does not exist"
    )


def test_transform_results_formats_the_state_result() -> None:
    records = [("SUCCEEDED", record(0, output=[1, 2])), ("FAILED", record(1, "FAILED")),
               ("SUCCEEDED", record(2, output="s"))]
    assert transform_results(records, {"OutputType": "JSON", "Transformation": "FLATTEN"}) == [
        1, 2, record(1, "FAILED"), "s"
    ]
    assert transform_results(records, {"OutputType": "JSON", "Transformation": "COMPACT"}) == [
        [1, 2], record(1, "FAILED"), "s"
    ]
    lines = transform_results(records[:1], {"OutputType": "JSONL", "Transformation": "FLATTEN"})
    assert lines == "1\n2\n"


def test_unknown_writer_config_values_fail(s3_client: Any, bucket: str) -> None:
    with pytest.raises(ResultWriterFailed) as raised:
        ResultFileWriter(s3_client, bucket=bucket, prefix="p", map_run_arn=MAP_RUN_ARN,
                         writer_config={"OutputType": "CSV"})
    assert raised.value.cause == (
        "Unsupported WriterConfig OutputType 'CSV'; expected JSON or JSONL."
    )


def test_a_part_that_fails_in_the_background_fails_the_export_naming_the_file(
    s3_client: Any, bucket: str
) -> None:
    writer = ResultFileWriter(s3_client, bucket=bucket, prefix="gone", map_run_arn=MAP_RUN_ARN,
                              writer_config={"OutputType": "JSONL"}, part_size=5 * 1024 * 1024)
    payload = "x" * 100_000
    for n in range(60):  # ~6 MB: the first part is started
        writer.add("SUCCEEDED", record(n, output={"n": n, "pad": payload}))
    # Someone aborts the multipart upload while its parts go up (as a lifecycle rule would).
    [upload] = s3_client.list_multipart_uploads(Bucket=bucket)["Uploads"]
    s3_client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    with pytest.raises(ResultWriterFailed) as raised:
        for n in range(60, 120):
            writer.add("SUCCEEDED", record(n, output={"n": n, "pad": payload}))
        writer.close()
    # (moto answers the part of an aborted upload with a 500 where S3 says NoSuchUpload)
    assert raised.value.cause.startswith(f"Failed to write s3://{bucket}/{upload['Key']}: ")
    assert not s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads")
    with pytest.raises(s3_client.exceptions.ClientError):
        s3_client.head_object(Bucket=bucket, Key=f"gone/{RUN_ID}/manifest.json")
