"""What a chord segment puts on the real Redis broker (issue 14: no repr of the payload)."""

from __future__ import annotations

import json

import redis
from celery import Celery

from orchestrator import messages
from orchestrator.control.bus import CeleryBus
from orchestrator.settings import Settings


def _batch(arn: str, first: int, count: int) -> messages.ChildBatch:
    return messages.ChildBatch(
        map_run_arn=arn, segment="seg1", state_machine_arn="arn:sm", execution_prefix="arn:x:",
        processor_key="p", processor_hash="h", execution_type="EXPRESS", semaphore_key="s",
        status_key="st", control_key="c", outbox_key="o", journal_key="j", claims_key="cl",
        lease_ms=1000,
        children=[messages.ChildWork(index=i, name=f"n{i}", holder=f"h{i}",
                                     input=json.dumps({"Items": ["row-%d" % i] * 500}))
                  for i in range(first, first + count)],
    )


def test_children_messages_name_their_children_instead_of_a_repr_of_the_inputs(
    settings: Settings,
) -> None:
    app = Celery("bus-test")
    app.conf.update(messages.celery_config(settings.broker_url, settings.celery))
    arn = "arn:aws:states:us-east-1:1:mapRun:sm/Fan:run"
    try:
        CeleryBus(app, settings).send_segment([_batch(arn, 0, 3), _batch(arn, 3, 1)], arn,
                                              "seg1")
    finally:
        app.close()
    client = redis.Redis.from_url(settings.broker_url)
    try:
        raw = client.lrange(settings.celery.children_queue, 0, -1)
    finally:
        client.close()
    headers = sorted((json.loads(m)["headers"] for m in raw), key=lambda h: h["argsrepr"])
    assert sorted(h["argsrepr"] for h in headers) == [
        f"<batch of 1 children of {arn}>",
        f"<batch of 3 children of {arn}>",
    ]
    assert all(h["kwargsrepr"] == "{}" for h in headers)
    # The message itself still carries every child's input.
    bodies = [json.loads(m)["body"] for m in raw]
    assert len(bodies) == 2
