"""Result writer of the Distributed Map (spec §2.7): result records, files, manifest.

- :func:`result_record` builds the NONE record of one child execution.
- :class:`ResultFileWriter` streams records to ``{Prefix}/{mapRunId}/{STATUS}_{n}.json``
  (rolling over at 5 GB) and writes ``manifest.json``; errors are
  ``States.ResultWriterFailed``.
- :class:`PartSpool` holds a part's bytes in a temporary file until it is uploaded.
- :func:`transform_results` formats results as the state result when ``ResultWriter``
  has only a ``WriterConfig``.
"""

from __future__ import annotations

from orchestrator.writer._files import (
    CATEGORIES,
    PART_CHECKSUM,
    PART_SIZE,
    ResultFileWriter,
    encode_entries,
    file_key,
    framed,
    manifest,
    result_prefix,
    s3_write_errors,
    uploaded_part,
)
from orchestrator.writer._records import (
    CATEGORY,
    iso_millis,
    result_record,
    transform_results,
    writer_options,
)
from orchestrator.writer._spool import PartSpool

__all__ = [
    "CATEGORIES",
    "CATEGORY",
    "PART_CHECKSUM",
    "PART_SIZE",
    "PartSpool",
    "ResultFileWriter",
    "encode_entries",
    "file_key",
    "framed",
    "manifest",
    "s3_write_errors",
    "writer_options",
    "iso_millis",
    "result_prefix",
    "result_record",
    "transform_results",
    "uploaded_part",
]
