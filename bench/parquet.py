"""``python -m bench.parquet``: InputType PARQUET read speed and memory.

Writes a Parquet file of ``--rows`` rows (default 1,000,000; four columns; row groups of
``--row-group`` rows) to a local moto S3 server, then reads every item through the
Distributed Map item reader (``orchestrator.readers.open_items``) in a fresh process, and
reports rows/s and that process's peak RSS, next to its RSS before reading and the file's size.
The reader streams one row group at a time, so the peak should follow the row group, not the
file: compare ``--rows 100000`` with the default.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3

BUCKET = "bench-parquet"
KEY = "data.parquet"
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "bench", "aws_secret_access_key": "b"}


def _rss_mib() -> float:
    """Peak RSS of this process in MiB.

    Linux's ``VmHWM`` first: unlike ``ru_maxrss`` it starts afresh at ``exec``, so the reader
    process does not inherit the peak of the process that wrote the file.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux/BSD: KiB


def write_file(endpoint: str, rows: int, row_group: int) -> int:
    """Upload the benchmark file; returns its size in bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": pa.array(range(rows), pa.int64()),
        "customer": pa.array([f"c-{i % 50_000:06d}" for i in range(rows)]),
        "amount": pa.array([(i % 10_000) / 100 for i in range(rows)], pa.float64()),
        "active": pa.array([i % 3 == 0 for i in range(rows)]),
    })
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group, compression="snappy")
    s3 = boto3.client("s3", endpoint_url=endpoint, **CREDS)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=sink.getvalue())
    return len(sink.getvalue())


def read_file(endpoint: str) -> dict[str, Any]:
    """Read every item (this runs in its own process); rows, seconds and RSS figures."""
    from orchestrator.asl import ItemReaderRequest
    from orchestrator.readers import open_items

    s3 = boto3.client("s3", endpoint_url=endpoint, **CREDS)
    reader = {"Resource": "arn:aws:states:::s3:getObject",
              "Parameters": {"Bucket": BUCKET, "Key": KEY},
              "ReaderConfig": {"InputType": "PARQUET"}}
    before = _rss_mib()
    started = time.perf_counter()
    count = 0
    with open_items(ItemReaderRequest.of_asl(reader), None, s3) as stream:
        for _ in stream:
            count += 1
    seconds = time.perf_counter() - started
    return {"rows": count, "seconds": seconds, "rss_before_mib": before, "peak_rss_mib": _rss_mib()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--row-group", type=int, default=100_000)
    parser.add_argument("--read", metavar="ENDPOINT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.read:
        print(json.dumps(read_file(args.read)))
        return 0
    from orchestrator.devstack.servers import running, start_s3

    with tempfile.TemporaryDirectory() as work, running(start_s3(workdir=Path(work))) as server:
        size = write_file(server.url, args.rows, args.row_group)
        done = subprocess.run([sys.executable, "-m", "bench.parquet", "--read", server.url],
                              capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout)
    rate = figures["rows"] / figures["seconds"]
    print(f"parquet: {figures['rows']:,} rows ({size / 2**20:.1f} MiB, row groups of "
          f"{args.row_group:,}) read in {figures['seconds']:.1f}s = {rate:,.0f} rows/s; "
          f"reader peak RSS {figures['peak_rss_mib']:.0f} MiB "
          f"(before reading: {figures['rss_before_mib']:.0f} MiB)")
    return 0 if figures["rows"] == args.rows else 1


if __name__ == "__main__":
    sys.exit(main())
