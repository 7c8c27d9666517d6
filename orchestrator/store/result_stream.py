"""The state of a Map Run's result files while they are streamed to S3 (one record per Map Run).

Result records are written into the files' multipart uploads as children finish, in index
order (``orchestrator/maprun/streaming.py``). What a control process must know to go on where
another one stopped is kept here, in the store, and only here:

- ``frontier``: every child below it has ended and its record is accounted for in its
  category (in an uploaded part, or counted in ``pending``);
- per category (the result writer's SUCCEEDED, FAILED, PENDING): the files already complete, the open file's
  multipart upload (id, parts with their ETags, bytes uploaded), the ``mark`` (the first
  entry not in an uploaded part: child index and entries of that child's record already
  written, since a FLATTEN record may span two files) and the bytes and openness of the
  file as of ``frontier`` (``pending``: bytes past the last part).

A part is a pure function of the records it covers and of the file state at its mark, so a
part uploaded again after a crash has the same bytes under the same part number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrator.jsontext import dumps


@dataclass(frozen=True, slots=True)
class CategoryStream:
    """One category's files: the complete ones and the open one."""

    #: ``{"Key", "Size"}`` of the complete files, in order (the manifest's list).
    files: tuple[dict[str, Any], ...] = ()
    #: Multipart upload of the open file (``None``: no part uploaded yet).
    upload_id: str | None = None
    #: ``{"ETag", "PartNumber"}`` of the open file's uploaded parts.
    parts: tuple[dict[str, Any], ...] = ()
    #: Bytes of the open file in uploaded parts.
    uploaded: int = 0
    #: First entry not in an uploaded part: (child index, entries of its record written).
    mark: tuple[int, int] = (0, 0)
    #: As of the frontier: whether a file is open, and its bytes past the last part.
    open: bool = False
    pending: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The persisted form."""
        return {"files": list(self.files), "uploadId": self.upload_id, "parts": list(self.parts),
                "uploaded": self.uploaded, "mark": list(self.mark), "open": self.open,
                "pending": self.pending}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryStream:
        """Inverse of :meth:`to_dict`."""
        mark = data.get("mark") or [0, 0]
        return cls(files=tuple(data.get("files") or ()), upload_id=data.get("uploadId"),
                   parts=tuple(data.get("parts") or ()), uploaded=int(data.get("uploaded", 0)),
                   mark=(int(mark[0]), int(mark[1])), open=bool(data.get("open")),
                   pending=int(data.get("pending", 0)))


@dataclass(frozen=True, slots=True)
class ResultStream:
    """A Map Run's result files in the making (see the module docstring)."""

    frontier: int = 0
    #: By category name (the result writer's: SUCCEEDED, FAILED, PENDING); absent: nothing yet.
    categories: dict[str, CategoryStream] = field(default_factory=dict)
    #: Children ended when the last pass started, and how many more make a pass worth it.
    ended_at_pass: int = 0
    every: int = 1
    #: Why streaming stopped (an S3 failure): the closing writer then writes every file.
    failed: str | None = None
    #: The files are complete and ``manifest.json`` is written.
    done: bool = False

    def with_category(self, name: str, category: CategoryStream) -> ResultStream:
        """A copy with one category replaced."""
        return replace(self, categories={**self.categories, name: category})

    def upload_ids(self) -> list[tuple[str, str]]:
        """(category, upload id) of the open multipart uploads."""
        return [(name, c.upload_id) for name, c in self.categories.items()
                if c.upload_id is not None]

    def to_json(self) -> str:
        """The persisted form."""
        return dumps({"frontier": self.frontier, "endedAtPass": self.ended_at_pass,
                      "every": self.every, "failed": self.failed, "done": self.done,
                      "categories": {n: c.to_dict() for n, c in self.categories.items()}})

    @classmethod
    def from_json(cls, text: str | bytes) -> ResultStream:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        stored = data.get("categories") or {}
        return cls(frontier=int(data.get("frontier", 0)),
                   categories={name: CategoryStream.from_dict(c) for name, c in stored.items()},
                   ended_at_pass=int(data.get("endedAtPass", 0)),
                   every=max(1, int(data.get("every", 1))), failed=data.get("failed"),
                   done=bool(data.get("done")))
