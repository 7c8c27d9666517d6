"""Result files streamed to S3 while children run (ResultWriter with a bucket).

As children end, their result records go into the result files' multipart uploads in index
order: a *write pass* (control task ``MAP_RUN_WRITE``, under the Map Run's write lease) takes
the children from the stream's ``frontier`` up to the first one that has not ended, adds each
record's entries to its category's file (SUCCEEDED / FAILED / PENDING, exactly as
:class:`orchestrator.writer.ResultFileWriter` frames and rolls them over), and uploads a part
whenever the bytes past the last part reach ``limits.result_stream_bytes`` (the part's bytes are
spooled to a temporary file on the way, :class:`orchestrator.writer.PartSpool`, and the records
are read a few hundred KiB at a time: nothing held in memory grows with the part size or the
batches). Entries that do not make a part yet are only *counted* in the store: the pass that
fills the part reads them again from the store (a part is a pure function of the records it
covers, so a part uploaded again after a crash has the same bytes), unless this process's
previous pass kept their spooled bytes (:data:`_kept`, used only while the stored stream is
still the one they belong to). Near the end no pass runs (:data:`END_PARTS`): the children's
last reports go first, and the finalizer writes the rest. The state after every part and every
file lives in the store
(:class:`orchestrator.store.result_stream.ResultStream`), so a killed control process is taken
over by the next pass or the finalizer.

When the Map Run closes, the finalizer (:func:`close`) takes the write lease too, writes what
is left (children past the frontier, PENDING and ABORTED ones; each part uploaded on a
thread of its own while it encodes the next, as the closing writer does, its save in the store
after it), completes the uploads, aborts
any multipart upload left under the Map Run's folder (one created by a process killed before it
could record it) and writes ``manifest.json``. If streaming failed on the way (an S3 error), it
aborts the stream's uploads and the finalizer writes every file from the start, as it does with
streaming off (``limits.result_stream_bytes`` 0): the files are the same either way.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orchestrator import messages
from orchestrator.asl.errors import ResultWriterFailed
from orchestrator.maprun import result_records
from orchestrator.maprun.deps import Deps
from orchestrator.maprun.leases import LeaseHeld
from orchestrator.maprun.plan import MapRunPlan, ResultDestination
from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_base import Lease
from orchestrator.store.maprun_record import MapRun
from orchestrator.store.result_stream import CategoryStream, ResultStream
from orchestrator.writer import (
    CATEGORIES,
    CATEGORY,
    PART_CHECKSUM,
    PartSpool,
    encode_entries,
    file_key,
    framed,
    manifest,
    result_prefix,
    s3_write_errors,
    uploaded_part,
    writer_options,
)

log = logging.getLogger(__name__)

#: Children whose statuses a pass reads per round trip (records only for the ended ones).
SCAN = 256
#: A pass is asked for when about this many parts' worth of children ended since the last one.
PARTS_PER_PASS = 1
#: Once the children left to end would fill fewer parts than this, no pass is asked for: the
#: closing pass writes the rest (encoding the next part while one uploads). Passes there kept
#: the children's last reports waiting behind 100-ms part uploads in the control process, and
#: the Map Run closed up to 0.3 s after its last child ended (issue 14).
END_PARTS = 2
#: Map Runs whose unfinished bytes a process keeps between passes (the most recent ones), and
#: for how long at most (a Map Run closed by another process leaves them here until then).
KEPT_RUNS = 4
KEPT_SECONDS = 60.0
#: Bounds on the children between two passes.
MIN_EVERY, MAX_EVERY = 1, 100_000
#: How often the finalizer looks whether a write pass has given the write lease up.
WAIT_STEP = 0.02
#: Parts of the closing pass on their way to S3 at once (each spooled to its own temporary
#: file) while it encodes the next.
PARTS_IN_FLIGHT = 2


class StopPass(Exception):
    """The pass stops early (the finalizer wants the stream, or the lease was lost)."""


#: Per Map Run, the bytes a write pass of this process left past the last part of each file
#: (spooled, not in memory), with the stream state they belong to (the frontier and the
#: categories, as stored) and when.
_kept: dict[str, tuple[tuple[int, Any], dict[str, PartSpool | None], float]] = {}


def _drop_kept(arn: str) -> dict[str, PartSpool | None]:
    """Take a Map Run's kept spools out of :data:`_kept` (``{}``: none)."""
    kept = _kept.pop(arn, None)
    return kept[1] if kept is not None else {}


def _close_all(spools: dict[str, PartSpool | None]) -> None:
    for spool in spools.values():
        if spool is not None:
            spool.close()


def destination_of(deps: Deps, run: MapRun) -> ResultDestination | None:
    """The run's ResultWriter destination when its results are streamed, else ``None``."""
    if deps.settings.limits.result_stream_bytes <= 0:
        return None
    destination = MapRunPlan.of(run.request).destination
    if destination is None or destination.bucket is None:
        return None
    return destination


def after_progress(deps: Deps, run: MapRun, ended: int) -> None:
    """Ask for a write pass when enough children ended since the last one (``ended``: count)."""
    if run.status is not MapRunStatus.RUNNING or destination_of(deps, run) is None:
        return
    stream = deps.store.result_stream(run.arn)
    if stream is not None:
        if _near_end(run, ended, stream) or stream.failed is not None or stream.done \
                or ended - stream.ended_at_pass < stream.every:
            return
    if not deps.store.lease_held(Lease.WRITE, run.arn):
        deps.bus.send_control(messages.MAP_RUN_WRITE, run.arn)


def _near_end(run: MapRun, ended: int, stream: ResultStream) -> bool:
    """Whether the children left to end would fill fewer than :data:`END_PARTS` parts: no pass
    runs then (the finalizer writes the rest, and the last reports are not kept waiting)."""
    return run.reader_done and run.feed.next - ended < stream.every * END_PARTS


def write(deps: Deps, arn: str) -> None:
    """One write pass (the ``MAP_RUN_WRITE`` task); does nothing when another one runs.

    A pass stops after the chunk of children in which it uploaded a part and asks for the
    next pass: with one control process, the children's reports waiting behind a pass that
    uploaded three 8-MiB parts were recorded 0.2 s late (and the Map Run closed that late).
    """
    if _pass(deps, arn):
        deps.bus.send_control(messages.MAP_RUN_WRITE, arn)


def _pass(deps: Deps, arn: str) -> bool:
    """:func:`write`'s pass; True when it stopped with more to write."""
    store = deps.store
    ttl_ms = int(deps.settings.limits.finalize_lease_seconds * 1000)
    held = LeaseHeld.acquire(store, Lease.WRITE, arn, ttl_ms)
    if held is None:
        return False
    with held:
        run = store.get(arn)
        if run is None or run.status is not MapRunStatus.RUNNING:
            return False
        destination = destination_of(deps, run)
        stream = store.result_stream(arn) or ResultStream()
        if destination is None or stream.failed is not None or stream.done:
            return False
        _, execs = store.counters(arn)
        if _near_end(run, execs.terminal, stream):
            return False
        stream = replace(stream, ended_at_pass=execs.terminal)
        store.save_result_stream(arn, stream)

        def check() -> None:
            if held.lost or store.lease_held(Lease.FINALIZE, arn):
                raise StopPass

        try:
            files = _StreamedFiles(deps, run, destination, stream, held)
        except ResultWriterFailed as exc:  # the closing writer reports it
            store.save_result_stream(arn, replace(stream, failed=exc.cause))
            return False
        try:
            files.advance(final=False, check=check)
        except ResultWriterFailed as exc:
            log.warning("map run %s: streaming the result files failed (%s); they are written "
                        "when the Map Run closes", arn, exc.cause)
            files.discard(exc.cause)
        except StopPass:
            pass
        finally:
            files.release()
        return files.more


def close(deps: Deps, run: MapRun, destination: ResultDestination, held: LeaseHeld,
          check: Callable[[], None]) -> dict[str, str] | None:
    """Finish the streamed files and write the manifest (the finalizer, under its lease).

    Returns:
        The ``ResultWriterDetails``, or ``None`` when streaming had failed: the caller then
        writes every file from the start.

    Raises:
        ResultWriterFailed: an S3 failure (no multipart upload is left open).
        Whatever ``check`` raises (called while waiting and between chunks).
    """
    store = deps.store
    ttl_ms = int(deps.settings.limits.finalize_lease_seconds * 1000)
    writing = LeaseHeld.acquire(store, Lease.WRITE, run.arn, ttl_ms)
    while writing is None:  # a write pass is at work: it stops at its next chunk
        check()
        time.sleep(WAIT_STEP)
        writing = LeaseHeld.acquire(store, Lease.WRITE, run.arn, ttl_ms)
    with writing:
        stream = store.result_stream(run.arn) or ResultStream()
        files = _StreamedFiles(deps, run, destination, stream, writing, background=True)
        try:
            if stream.failed is not None:
                files.discard(stream.failed)
                return None
            if not stream.done:
                try:
                    files.advance(final=True, check=check)
                    files.complete()
                    files.settle()
                except ResultWriterFailed as exc:
                    files.settle(quiet=True)
                    files.discard(exc.cause)
                    raise
        finally:
            files.settle(quiet=True)
            files.release()
        return {"Bucket": destination.bucket or "", "Key": files.manifest_key}


class _File:
    """One category's open file as the pass sees it: counted, or with its bytes spooled.

    ``spool`` is ``None`` while the entries past the last part are only counted; it is filled
    (:meth:`load`) when a part or the file's end has to be written, or at the category's first
    entry of a pass when little is past the last part (so a pass encodes its entries once).
    The bytes go to a temporary file (:class:`orchestrator.writer.PartSpool`), not to memory.
    """

    def __init__(self, owner: _StreamedFiles, name: str, state: CategoryStream) -> None:
        self.owner = owner
        self.name = name
        self.files = list(state.files)
        self.upload_id = state.upload_id
        self.parts = list(state.parts)
        self.uploaded = state.uploaded
        self.mark = state.mark
        self.open = state.open
        self.pending = state.pending
        self.spool: PartSpool | None = None

    def state(self) -> CategoryStream:
        return CategoryStream(files=tuple(self.files), upload_id=self.upload_id,
                              parts=tuple(self.parts), uploaded=self.uploaded, mark=self.mark,
                              open=self.open, pending=self.pending)

    @property
    def key(self) -> str:
        return file_key(self.owner.folder, self.name, len(self.files), self.owner.jsonl)

    # -- entries ---------------------------------------------------------------------------
    def add(self, index: int, entries: list[bytes]) -> None:
        """Add a record's entries (those before the mark are in parts already)."""
        first, skip = self.mark
        if index < first:
            return
        for k, entry in enumerate(entries):
            if index == first and k < skip:
                continue
            self._entry(index, k, entry)

    def _entry(self, index: int, k: int, entry: bytes) -> None:
        owner = self.owner
        # As ResultFileWriter._append: "[" / "," before an entry, "]" to close (JSON), or
        # "\n" after it (JSONL); a file rolls over before the entry that would pass the size.
        rollover = self.open and self.uploaded + self.pending + len(entry) + (
            1 if owner.jsonl else 2) > owner.max_file_bytes
        if self.spool is None:
            if self.pending == 0:
                self.spool = PartSpool()  # nothing past the last part: nothing to read again
            elif (owner.final or rollover or self.pending <= owner.part_size // 4
                  or self.pending + len(entry) + 1 >= owner.part_size):
                # Bytes needed now, or cheap to get: the entries past the last part are read
                # again once, and this pass's entries are encoded once.
                self.load((index, k))
        if rollover:
            self.finish(next_mark=(index, k))
        self._append(entry)
        if self.spool is not None and self.pending >= owner.part_size:
            self._upload_part(next_mark=(index, k + 1))

    def _append(self, entry: bytes) -> None:
        self._write(framed(entry, opens=not self.open, jsonl=self.owner.jsonl))
        self.open = True

    def _write(self, data: bytes) -> None:
        self.pending += len(data)
        if self.spool is not None:
            self.spool.write(data)

    def load(self, upto: tuple[int, int] | None) -> None:
        """Read the entries from the mark up to ``upto`` (excluded; ``None``: all) again."""
        self.open = bool(self.parts)
        self.pending = 0
        self.release()
        self.spool = PartSpool()
        first, skip = self.mark
        last = upto[0] if upto is not None else None
        for index, entries in self.owner.entries(self.name, first, last):
            for k, entry in enumerate(entries):
                if (index, k) < (first, skip):
                    continue
                if upto is not None and (index, k) >= upto:
                    return
                self._append(entry)

    def release(self) -> None:
        """Drop the spooled bytes past the last part (they are counted, not kept)."""
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    # -- S3 --------------------------------------------------------------------------------
    def _upload_part(self, next_mark: tuple[int, int]) -> None:
        """Upload the spooled part (:meth:`_StreamedFiles.later`: on the closing pass's thread),
        its save after it; the file goes on with a new spool."""
        spool = self.spool
        assert spool is not None
        owner = self.owner
        owner.raise_failed()
        if self.upload_id is None:
            with s3_write_errors(owner.bucket, self.key):
                started = owner.s3.create_multipart_upload(
                    Bucket=owner.bucket, Key=self.key, ContentType="application/json",
                    ChecksumAlgorithm=PART_CHECKSUM)
            self.upload_id = started["UploadId"]
            # Recorded at once, so that it is aborted if this process dies before a part.
            owner.save(self.name, replace(owner.saved(self.name), upload_id=self.upload_id))
        number = len(self.parts) + 1
        s3, key, upload_id, size = owner.s3, self.key, self.upload_id, len(spool)
        #: Filled with the part's ETag and checksum by the upload, before the save below.
        part: dict[str, Any] = {}

        def upload() -> None:
            try:
                with s3_write_errors(owner.bucket, key):
                    sent = s3.upload_part(Bucket=owner.bucket, Key=key, UploadId=upload_id,
                                          PartNumber=number, Body=spool.body(),
                                          ChecksumAlgorithm=PART_CHECKSUM)
            finally:
                spool.close()
            part.update(uploaded_part(sent, number))

        owner.upload(upload)
        self.spool = PartSpool()
        self.parts.append(part)
        owner.parts_uploaded += 1
        self.uploaded += size
        self.pending = 0
        self.mark = next_mark
        owner.save(self.name, self.state())

    def finish(self, next_mark: tuple[int, int]) -> None:
        """Close the open file (its last part, or one PutObject) and start counting anew."""
        assert self.spool is not None
        owner = self.owner
        owner.settle()  # every part uploaded (an upload's error raised here) before the end
        if not owner.jsonl:
            self._write(b"]")
        key, size = self.key, self.uploaded + self.pending
        with s3_write_errors(owner.bucket, key):
            if self.upload_id is None:
                owner.s3.put_object(Bucket=owner.bucket, Key=key, Body=self.spool.body(),
                                    ContentType="application/json")
            else:
                self._complete(key, size)
        self.files.append({"Key": key, "Size": size})
        self.upload_id, self.parts, self.uploaded = None, [], 0
        self.open, self.pending = False, 0
        self.spool.clear()
        self.mark = next_mark
        owner.save(self.name, self.state())

    def _complete(self, key: str, size: int) -> None:
        owner = self.owner
        spool = self.spool
        assert spool is not None and self.upload_id is not None
        parts = list(self.parts)
        try:
            if spool:
                number = len(parts) + 1
                sent = owner.s3.upload_part(Bucket=owner.bucket, Key=key,
                                            UploadId=self.upload_id, PartNumber=number,
                                            Body=spool.body(), ChecksumAlgorithm=PART_CHECKSUM)
                parts.append(uploaded_part(sent, number))
            owner.s3.complete_multipart_upload(Bucket=owner.bucket, Key=key,
                                               UploadId=self.upload_id,
                                               MultipartUpload={"Parts": parts})
        except ClientError:
            # Completed by a process that died before it recorded so: the object is there,
            # with the ETag of exactly these parts (not a redriven run's older file).
            etags = [str(p["ETag"]) for p in self.parts]
            if spool:
                etags.append(f'"{spool.md5()}"')
            if _etag_of(owner.s3, owner.bucket, key) != multipart_etag(etags):
                raise


def multipart_etag(part_etags: list[str]) -> str:
    """The ETag S3 gives an object completed from parts with these ETags (MD5s)."""
    digest = hashlib.md5(b"".join(bytes.fromhex(e.strip('"')) for e in part_etags),
                         usedforsecurity=False)
    return f"{digest.hexdigest()}-{len(part_etags)}"


class _StreamedFiles:
    """The result files of one Map Run, advanced by one pass (or by the finalizer)."""

    def __init__(self, deps: Deps, run: MapRun, destination: ResultDestination,
                 stream: ResultStream, held: LeaseHeld, *, background: bool = False) -> None:
        self.deps = deps
        self.run = run
        self.held = held
        self.stream = stream
        self.bucket = destination.bucket or ""
        self.folder = result_prefix(destination.prefix, run.arn)
        try:
            self.transformation, output_type = writer_options(destination.writer_config)
        except ValueError as exc:
            raise ResultWriterFailed(str(exc)) from exc
        self.jsonl = output_type == "JSONL"
        self.inputs_for = result_records.inputs_for(destination)
        self.budget = result_records.ReadBudget()
        self.part_size = deps.settings.limits.result_stream_bytes
        self.max_file_bytes = deps.settings.limits.result_file_bytes
        self._s3: Any = None
        #: The finalizer's pass: every entry is needed as bytes.
        self.final = False
        #: Parts this pass uploaded, and whether it stopped after one with children left.
        self.parts_uploaded = 0
        self.more = False
        #: Uploads and saves run in order on a thread of their own (the closing pass: it
        #: encodes the next part meanwhile), else at once on the caller's.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="stream-parts") \
            if background else None
        #: The first error of a job (the jobs after it do nothing); the last job handed over;
        #: the part uploads not yet done.
        self._error: BaseException | None = None
        self._last: Future[None] | None = None
        self._in_flight: deque[Future[None]] = deque()
        self.files = {name: _File(self, name, stream.categories.get(name, CategoryStream()))
                      for name in CATEGORIES}
        kept = _kept.get(run.arn)
        spools = _drop_kept(run.arn)
        if kept is not None and kept[0] == (stream.frontier, stream.categories):
            for name, spool in list(spools.items()):
                if spool is not None and len(spool) == self.files[name].pending:
                    self.files[name].spool = spools.pop(name)
        _close_all(spools)  # those that no longer belong to the stream

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = self.deps.s3
        return self._s3

    @property
    def manifest_key(self) -> str:
        return f"{self.folder}manifest.json"

    # -- jobs: part uploads and saves, in order ---------------------------------------------
    def later(self, job: Callable[[], None]) -> None:
        """Run ``job`` after the jobs handed over before it: on the upload thread (once a job
        failed the others do nothing and :meth:`settle` raises its error), or now (its error
        raised at once)."""
        if self._thread is not None:
            self._last = self._thread.submit(self._run, job)
        else:
            job()

    def _run(self, job: Callable[[], None]) -> None:
        if self._error is None:
            try:
                job()
            except BaseException as exc:  # noqa: BLE001 - raised on the caller's thread by settle
                # Whatever stopped a job stops the ones after it: a save after an upload that
                # did not end would record a part without its ETag.
                self._error = exc

    def upload(self, job: Callable[[], None]) -> None:
        """Hand a part's upload over, first waiting while :data:`PARTS_IN_FLIGHT` are."""
        while len(self._in_flight) >= PARTS_IN_FLIGHT:
            self._in_flight.popleft().result()
        self.later(job)
        if self._thread is not None and self._last is not None:
            self._in_flight.append(self._last)

    def settle(self, *, quiet: bool = False) -> None:
        """Wait for every job handed over; raise the first error (unless ``quiet``)."""
        if self._last is not None:
            self._last.result()
        self._in_flight.clear()
        if not quiet:
            self.raise_failed()

    def raise_failed(self) -> None:
        """Raise the error of a job that failed, if one did."""
        if self._error is not None:
            raise self._error

    # -- the stored state ------------------------------------------------------------------
    def saved(self, name: str) -> CategoryStream:
        return self.stream.categories.get(name, CategoryStream())

    def save(self, name: str, category: CategoryStream) -> None:
        """Store one category's new state (the others stay as stored, at the old frontier),
        after the jobs handed over before."""
        self._store(self.stream.with_category(name, category))

    def _save_all(self, **changes: Any) -> None:
        self._store(replace(self.stream, categories={n: f.state() for n, f in self.files.items()},
                            **changes))

    def _store(self, stream: ResultStream) -> None:
        if self.held.lost:
            raise StopPass
        self.stream = stream

        def save() -> None:
            if self.held.lost:
                raise StopPass
            self.deps.store.save_result_stream(self.run.arn, stream)

        self.later(save)

    # -- reading ---------------------------------------------------------------------------
    def _encoded(self, child: result_records.Child) -> tuple[str, list[bytes]]:
        index, status, record, child_input = child
        return encode_entries(status, result_records.record(self.run, index, status, record,
                                                            child_input), self.transformation)

    def entries(self, category: str, first: int, last: int | None) -> Iterator[
            tuple[int, list[bytes]]]:
        """(index, entries) of one category's records from ``first`` to ``last`` (included)."""
        end = self.run.feed.next if last is None else min(last + 1, self.run.feed.next)
        for start in range(first, end, result_records.CHUNK):
            indexes = list(range(start, min(end, start + result_records.CHUNK)))
            names = [st or result_records.PENDING
                     for st in result_records.statuses(self.deps, self.run.arn, indexes)]
            mine = [(i, st) for i, st in zip(indexes, names, strict=True)
                    if CATEGORY.get(st) == category]
            if not mine:
                continue
            for child in result_records.children_at(self.deps, self.run, [i for i, _ in mine],
                                                    [st for _, st in mine], self.inputs_for,
                                                    self.budget):
                yield child[0], self._encoded(child)[1]

    def advance(self, *, final: bool, check: Callable[[], None]) -> None:
        """Add the children from the frontier on: up to the first not ended, or (``final``)
        all of them, the never-started ones as PENDING."""
        total = self.run.feed.next
        position = self.stream.frontier
        self.final = final
        counted = counted_bytes = 0
        try:
            while position < total:
                check()
                indexes = list(range(position, min(total, position + SCAN)))
                names = result_records.statuses(self.deps, self.run.arn, indexes)
                if not final and None in names:
                    indexes = indexes[:names.index(None)]
                    names = names[:len(indexes)]
                for first in range(0, len(indexes), result_records.CHUNK):
                    chunk = indexes[first:first + result_records.CHUNK]
                    chunk_names = [st or result_records.PENDING
                                   for st in names[first:first + result_records.CHUNK]]
                    for child in result_records.children_at(self.deps, self.run, chunk,
                                                            chunk_names, self.inputs_for,
                                                            self.budget):
                        category, entries = self._encoded(child)
                        self.files[category].add(child[0], entries)
                        counted += 1
                        counted_bytes += sum(len(e) + 1 for e in entries)
                    position = chunk[-1] + 1
                    if self.parts_uploaded and not final:
                        # One part per pass: reports waiting for this process go first.
                        self.more = position < total
                        break
                if self.more or (len(indexes) < SCAN and not final):
                    break
        except StopPass:
            if self.held.lost:
                raise
        every = self.stream.every
        if counted_bytes:
            every = min(MAX_EVERY, max(MIN_EVERY, PARTS_PER_PASS * self.part_size * counted
                                       // counted_bytes))
        self._save_all(frontier=position, every=every)
        if self.held.lost:
            raise StopPass
        if not final:
            self._keep()

    def _keep(self) -> None:
        """Keep the bytes past the last part for this process's next pass, which takes them
        when the stored stream is still the one they belong to (else it reads them again)."""
        spools = {name: file.spool for name, file in self.files.items()}
        for file in self.files.values():
            file.spool = None
        now = time.monotonic()
        for arn in [a for a, kept in _kept.items() if now - kept[2] > KEPT_SECONDS]:
            _close_all(_drop_kept(arn))
        _close_all(_drop_kept(self.run.arn))
        _kept[self.run.arn] = ((self.stream.frontier, self.stream.categories), spools, now)
        while len(_kept) > KEPT_RUNS:
            _close_all(_drop_kept(next(iter(_kept))))

    def complete(self) -> None:
        """Finish every open file, abort strays, write the manifest (after a final advance)."""
        for file in self.files.values():
            if file.open:
                if file.spool is None:
                    file.load(None)
                file.finish(next_mark=(self.run.feed.next, 0))
        self._abort_strays()
        with s3_write_errors(self.bucket, self.manifest_key):
            self.s3.put_object(Bucket=self.bucket, Key=self.manifest_key,
                               Body=manifest(self.bucket, self.run.arn,
                                             {n: f.files for n, f in self.files.items()}),
                               ContentType="application/json")
        self._save_all(done=True)

    def release(self) -> None:
        """Remove every file's spool (at the end of a pass or of the close, also on errors; the
        spools :meth:`_keep` took for the next pass stay) and end the upload thread."""
        for file in self.files.values():
            file.release()
        if self._thread is not None:
            self._thread.shutdown()

    def discard(self, cause: str) -> None:
        """Abort the stream's uploads and mark it failed (the closing writer starts over)."""
        self._abort_strays()
        self.stream = replace(self.stream, failed=cause or "the result stream failed",
                              categories={})
        if not self.held.lost:
            self.deps.store.save_result_stream(self.run.arn, self.stream)

    def _abort_strays(self) -> None:
        """Abort every multipart upload left under the Map Run's folder (best effort).

        The stream's own uploads are complete (or being discarded) by then; one created by a
        process killed before it could record it is found here.
        """
        try:
            listing = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=self.folder)
            while True:
                for upload in listing.get("Uploads", []):
                    try:
                        self.s3.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                    except (ClientError, BotoCoreError, OSError):
                        pass  # gone already
                if not listing.get("IsTruncated"):
                    break
                listing = self.s3.list_multipart_uploads(
                    Bucket=self.bucket, Prefix=self.folder,
                    KeyMarker=listing.get("NextKeyMarker", ""),
                    UploadIdMarker=listing.get("NextUploadIdMarker", ""))
        except (ClientError, BotoCoreError, OSError):
            log.warning("map run %s: could not list multipart uploads under %s", self.run.arn,
                        self.folder, exc_info=True)


def _etag_of(s3: Any, bucket: str, key: str) -> str | None:
    try:
        return str(s3.head_object(Bucket=bucket, Key=key)["ETag"]).strip('"')
    except (ClientError, BotoCoreError, OSError):
        return None
