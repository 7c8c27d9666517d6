"""Decoding messages keeps nothing of them once they are dropped (``orchestrator/messages.py``).

pydantic's JSON parser caches the strings it reads (up to 16,384 of them, per process): every
child name, holder and output of every report a control process decoded stayed in memory until
the cache was full, so a long Map Run's control process grew by about a MiB more than a short
one's (the 10M-row benchmark's 1.3 MiB more RSS over idle than the 100k-row run's).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

import pytest

from orchestrator import messages

#: Decoded messages, each with strings no other message has.
MESSAGES = 3_000


def _report(n: int) -> str:
    outcome = {"index": n, "name": f"child-{n:08d}", "holder": f"holder-{n:08d}-x",
               "status": "SUCCEEDED", "output": f'{{"n":{n}}}', "start": 1.5, "stop": 2.5}
    return messages.ChildrenReport(map_run_arn=f"arn:aws:states:us-east-1:1:mapRun:m/{n}",
                                   segment=f"s{n}", outcomes=[
                                       messages.ChildOutcome.model_validate(outcome)
                                   ]).model_dump_json()


def _batch(n: int) -> str:
    keys = ("processor_key", "semaphore_key", "status_key", "control_key", "outbox_key",
            "journal_key", "claims_key")
    return messages.ChildBatch.model_validate({
        "map_run_arn": f"arn:aws:states:us-east-1:1:mapRun:m/{n}", "segment": f"s{n}",
        "state_machine_arn": f"arn:aws:states:us-east-1:1:stateMachine:m/{n}",
        "execution_prefix": f"arn:aws:states:us-east-1:1:express:m/{n}:",
        "processor_hash": f"hash-{n}", "execution_type": "EXPRESS", "lease_ms": 1000,
        **{key: f"{key}-{n}" for key in keys},
        "children": [{"index": n, "name": f"child-{n:08d}", "holder": f"holder-{n:08d}-x",
                      "input": f'{{"k":"v{n}"}}'}],
    }).model_dump_json()


def _blocks_kept(decode: Callable[[int], object]) -> int:
    """Memory blocks still allocated after decoding MESSAGES messages and dropping them."""
    decode(-1)  # anything allocated once (validators, the first call's buffers)
    gc.collect()
    before = sys.getallocatedblocks()
    for n in range(MESSAGES):
        decode(n)
    gc.collect()
    return sys.getallocatedblocks() - before


@pytest.mark.parametrize(("model", "make"), [(messages.ChildrenReport, _report),
                                              (messages.ChildBatch, _batch)],
                         ids=["children report", "children batch"])
def test_decoding_keeps_no_string_of_a_message(model: type[messages.M],
                                               make: Callable[[int], str]) -> None:
    texts = [make(n) for n in range(-1, MESSAGES)]
    gc.collect()
    kept = _blocks_kept(lambda n: messages.decode(model, texts[n + 1]))
    # With the parser's string cache on, about one block per unique string (several a message).
    assert kept < MESSAGES // 10, f"{kept} blocks kept after decoding {MESSAGES} messages"
