"""``python -m bench.integrations``: what a child costs when its Task is an integration.

One stack with every integration enabled and an HTTP server on loopback started here. The same
STANDARD Distributed Map (items inline, one item per child, MaxConcurrency 0) runs with four
children, each timed from StartExecution to SUCCEEDED, and reported as children/s and as a
ratio to the Pass child of the same run:

* ``pass``  a Pass state (the baseline: what a child costs with no Task);
* ``http``  an HTTP Task (GET to the loopback server), run on the children workers;
* ``s3``    ``aws-sdk:s3:getObject`` of a small object on the stack's S3;
* ``sync2`` ``states:startExecution.sync:2`` of a one-Pass machine: the child is handed over
  to the control plane, the nested execution runs there, its end resumes the child.

Examples::

    python -m bench.integrations                 # 1,000 children each (sync2: 200)
    python -m bench.integrations --items 200 --nested 50
"""

from __future__ import annotations

import argparse
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench._stack import BUCKET, ROLE, StackOptions, clients, start_stack
from bench.maprun import _run


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return


@contextmanager
def _http_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _map(child: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "MaxConcurrency": 0, "ItemsPath": "$.items", "ResultPath": None,
        "End": True, "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "C", "States": {"C": {**child, "End": True}}}}}}


def children(port: int, inner_arn: str) -> dict[str, dict[str, Any]]:
    """The child state of each measurement."""
    return {
        "pass": {"Type": "Pass"},
        "http": {"Type": "Task", "Resource": "arn:aws:states:::http:invoke",
                 "Parameters": {"ApiEndpoint": f"http://127.0.0.1:{port}/ok", "Method": "GET"}},
        "s3": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
               "Parameters": {"Bucket": BUCKET, "Key": "bench/small.json"}},
        "sync2": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                  "Parameters": {"StateMachineArn": inner_arn, "Input.$": "$"}},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.integrations",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1000, help="children of pass/http/s3")
    parser.add_argument("--nested", type=int, default=200, help="children of sync2")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args(argv)
    with _http_server() as port:
        overrides = {"integrations": {"start_execution": True, "http_invoke": True,
                                      "s3_sdk": True, "http_allowed_hosts": [f"127.0.0.1:{port}"]}}
        options = StackOptions(workers=args.workers, concurrency=args.concurrency,
                               overrides=overrides)
        stack = start_stack(options)
        try:
            sfn, s3 = clients(stack)
            s3.put_object(Bucket=BUCKET, Key="bench/small.json", Body=b'{"small": true}')
            inner = sfn.create_state_machine(
                name=f"inner-{uuid.uuid4().hex[:8]}", roleArn=ROLE, definition=json.dumps(
                    {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))
            rates: dict[str, float] = {}
            print(f"stack: {options.describe()}")
            for name, child in children(port, inner["stateMachineArn"]).items():
                n = args.nested if name == "sync2" else args.items
                seconds, _, _ = _run(sfn, f"integ-{name}", _map(child),
                                     {"items": [{"i": i} for i in range(n)]}, timeout=900)
                rates[name] = n / seconds
                ratio = rates[name] / rates["pass"]
                print(f"{name:6s} {n:6d} children in {seconds:7.2f} s: {rates[name]:8.1f} "
                      f"children/s ({ratio:.2f}x pass)")
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
