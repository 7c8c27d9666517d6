"""A loopback TCP proxy that adds a fixed delay to every request: Redis "on another machine".

``python -m bench.proxy --upstream 127.0.0.1:6379 --delay-ms 1`` listens on a free loopback
port (printed on the first line of stdout as ``LISTEN <port>``) and forwards every connection
to the upstream. Each chunk a client sends is held ``delay`` before it is written upstream
(answers go back at once), so every round trip to Redis costs ``delay`` more, in order, per
connection: what a worker on another host pays, and what this kernel's missing netem would do.
It also counts the chunks it forwarded each way (``STATS`` on stderr at exit, and
:func:`ProxyProcess.stats` through a ``.stats`` file it rewrites every second).

Loopback only: it binds 127.0.0.1 and refuses any other upstream host.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


class Counts:
    """Chunks and bytes forwarded, client to server (requests) and back (answers)."""

    def __init__(self) -> None:
        self.requests = 0
        self.answers = 0
        self.request_bytes = 0
        self.connections = 0

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "answers": self.answers,
                "request_bytes": self.request_bytes, "connections": self.connections}


async def _delayed_pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        delay: float, counts: Counts) -> None:
    """Forward ``reader`` to ``writer``, each chunk ``delay`` seconds after it arrived, in order."""
    queue: collections.deque[tuple[float, bytes]] = collections.deque()
    ready = asyncio.Event()
    closed = False

    async def sender() -> None:
        while True:
            while not queue:
                if closed:
                    return
                ready.clear()
                await ready.wait()
            due, data = queue.popleft()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(sender())
    try:
        while data := await reader.read(65536):
            counts.requests += 1
            counts.request_bytes += len(data)
            queue.append((time.monotonic() + delay, data))
            ready.set()
    finally:
        closed = True
        ready.set()
        try:
            await task
        except (ConnectionError, OSError):
            pass
        writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                counts: Counts) -> None:
    try:
        while data := await reader.read(65536):
            counts.answers += 1
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(upstream: tuple[str, int], delay: float, counts: Counts,
                stats_file: Path | None, port: int = 0) -> None:
    """Accept connections on loopback and proxy each one to ``upstream``."""

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        counts.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection(*upstream)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(_delayed_pipe(client_r, server_w, delay, counts),
                                 _pipe(server_r, client_w, counts), return_exceptions=True)
        except asyncio.CancelledError:  # the proxy stops
            pass

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    server = await asyncio.start_server(handle, LOOPBACK, port)
    bound = server.sockets[0].getsockname()[1]
    print(f"LISTEN {bound}", flush=True)
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass
        if stats_file is not None:
            _write_stats(stats_file, counts)
    server.close()


def _write_stats(path: Path, counts: Counts) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(counts.as_dict()))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    p = argparse.ArgumentParser(prog="python -m bench.proxy", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True, metavar="127.0.0.1:PORT")
    p.add_argument("--delay-ms", type=float, default=1.0, help="added to each request (1)")
    p.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    p.add_argument("--stats", type=Path, help="file the counts are written to every second")
    args = p.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    if host != LOOPBACK:
        p.error(f"--upstream must be on {LOOPBACK} (loopback only), got {host!r}")
    counts = Counts()
    try:
        asyncio.run(serve((host, int(port)), args.delay_ms / 1000.0, counts, args.stats,
                          args.port))
    except KeyboardInterrupt:
        pass
    finally:
        if args.stats is not None:
            _write_stats(args.stats, counts)
        print(f"STATS {json.dumps(counts.as_dict())}", file=sys.stderr, flush=True)
    return 0


class ProxyProcess:
    """``python -m bench.proxy`` in a subprocess: start, its port, its counts, stop."""

    def __init__(self, upstream_port: int, delay_ms: float, workdir: Path) -> None:
        self.stats_path = workdir / f"proxy-{upstream_port}.stats"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.proxy", "--upstream", f"{LOOPBACK}:{upstream_port}",
             "--delay-ms", str(delay_ms), "--stats", str(self.stats_path)],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("LISTEN "):
            self.stop()
            raise RuntimeError(f"bench.proxy did not start: {line!r}")
        self.port = int(line.split()[1])

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def stats(self) -> dict[str, Any]:
        """The last counts the proxy wrote (at most a second old)."""
        try:
            return dict(json.loads(self.stats_path.read_text()))
        except (OSError, ValueError):
            return {}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


if __name__ == "__main__":
    sys.exit(main())
