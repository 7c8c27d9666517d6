"""A children message taken off the queue by a worker that died before starting it (issue 9).

Real Redis as store and broker, the control plane's real Celery bus and coordinator. The
message is taken the way a worker's consumer takes it: ``basic_get`` without an ack moves it
into the Redis transport's unacked set (``unacked`` / ``unacked_index``); then the consumer
dies before ``task_received`` could start the children's leases, and nothing gives the message
back for the broker's visibility timeout (an hour). Found by the chaos long form: one child's
permit stayed parked and its execution RUNNING. A backlog stays in the children queue, so the
rule for an empty queue does not apply: the liveness sweep must find the message in the
unacked set and give its parked permits one lease, after which the child is dispatched again.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from maprun_world import EXECUTION, request

from orchestrator import messages
from orchestrator.control.app import create_app
from orchestrator.control.bus import CeleryBus
from orchestrator.maprun import Deps, MapRunCoordinator
from orchestrator.settings import Settings
from orchestrator.store.keys import Keys
from orchestrator.store.maprun_redis import RedisMapRunStore


def take_and_die(app: Any, queue: str) -> messages.ChildBatch:
    """Take one message as a consumer does, then vanish without acking or restoring it."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        message = channel.basic_get(queue, no_ack=False)
        assert message is not None, "no children message in the queue"
        channel.qos.restore_at_shutdown = False  # a SIGKILLed worker restores nothing
        return messages.decode(messages.ChildBatch, message.decode()[0][0])


def test_a_message_taken_by_a_worker_that_died_before_starting_it_is_dispatched_again(
        settings: Settings) -> None:
    app = create_app(settings)
    bus = CeleryBus(app, settings)
    store = RedisMapRunStore.from_url(settings.redis.url, settings.redis.key_prefix)
    offset = [0.0]
    coordinator = MapRunCoordinator(Deps(
        store=store, bus=bus, s3_factory=lambda: None, settings=settings,
        clock=lambda: time.time() + offset[0]))
    client = redis.Redis.from_url(settings.redis.url)

    def sweep() -> None:
        client.delete(Keys(settings.redis.key_prefix).reconcile_lock())  # one pass per interval
        assert coordinator.reconcile()

    lease = settings.limits.lease_seconds
    arn = coordinator.start(request([{"id": 0}], max_concurrency=1), EXECUTION)
    coordinator.feed(arn)
    queue = settings.celery.children_queue
    batch = take_and_die(app, queue)
    assert [c.index for c in batch.children] == [0]
    app.send_task(messages.NOOP, queue=queue)  # a backlog: the queue is not empty
    assert bus.children_waiting() == 1
    assert len(bus.children_reserved(time.time() + 1)) == 1

    def parked() -> list[str]:
        now_ms = int(coordinator.deps.clock() * 1000)
        return store.parked_holders(arn, now_ms + 2 * int(lease * 1000), 2**62)

    assert parked() == [batch.children[0].holder]
    offset[0] = 2 * lease + 1
    sweep()
    assert parked() == []  # one lease now, nobody renews it
    assert bus.children_waiting() == 1  # nothing dispatched yet
    offset[0] = 3 * lease + 3
    sweep()  # lapsed: reclaimed and dispatched again, behind the backlog
    assert bus.children_waiting() == 2
    assert store.running_indexes(arn) == [0]
