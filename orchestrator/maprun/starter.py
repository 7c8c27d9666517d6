"""Creating a Map Run from the engine's :class:`~orchestrator.asl.DistributedMapRequest`."""

from __future__ import annotations

import hashlib
import uuid

from orchestrator.asl import RUNTIME, DistributedMapRequest, StatesError
from orchestrator.executions.arns import parse_execution_arn
from orchestrator.executions.binding import MapRunBinding
from orchestrator.jsontext import dumps
from orchestrator.maprun import admission
from orchestrator.maprun.deps import Deps
from orchestrator.statuses import MapRunStatus
from orchestrator.store.maprun_record import MapRun

#: Namespace of generated labels: uuid3(LABEL_NAMESPACE, "{state machine name}/{state name}").
LABEL_NAMESPACE = uuid.UUID("0b8f1c7e-9d5a-3c1e-8f44-2a6b7c9d0e11")


def window_for(limit: int) -> int:
    """How many undispatched children the feeder keeps ready."""
    return max(1000, min(20_000, 4 * limit))


def start_map_run(deps: Deps, request: DistributedMapRequest, execution_arn: str,
                  binding: MapRunBinding | None = None) -> str:
    """Create a Map Run for ``request`` and admit it if a slot is free; returns its ARN.

    It is created QUEUED in the admission backlog (:mod:`orchestrator.maprun.admission`);
    admitted at once when fewer than the open limit are open and nothing queued before it.

    ``binding``: its rate limits and named pools (docs/limits.md).

    Raises:
        StatesError: ``States.Runtime`` when a pool of the binding does not exist.
    """
    binding = binding or MapRunBinding()
    for name in binding.pools:
        if deps.pools is None or deps.pools.get(name) is None:
            raise StatesError(RUNTIME, f"Map state {request.state_name!r} is bound to pool "
                              f"{name!r}, which does not exist (create it, or change the "
                              "state machine's stepmap:pools tags)")
    execution = parse_execution_arn(execution_arn)
    region, account, sm_part = execution.region, execution.account, execution.machine
    label = request.label or str(uuid.uuid3(LABEL_NAMESPACE, f"{sm_part}/{request.state_name}"))
    map_run_id = str(uuid.uuid4())
    arn = f"arn:aws:states:{region}:{account}:mapRun:{sm_part}/{label}:{map_run_id}"
    processor = dict(request.processor)
    processor.pop("ProcessorConfig", None)
    processor_json = dumps(processor)
    digest = hashlib.sha256(processor_json.encode()).hexdigest()[:32]
    limit = request.max_concurrency or deps.settings.limits.max_concurrency_ceiling
    run = MapRun(
        arn=arn, execution_arn=execution_arn, map_run_id=map_run_id, label=label,
        state_name=request.state_name,
        labelled_arn=f"arn:aws:states:{region}:{account}:stateMachine:{sm_part}/{label}",
        execution_prefix=f"arn:aws:states:{region}:{account}:execution:{sm_part}/{label}:",
        processor_key=deps.store.processor_key(digest), processor_hash=digest,
        execution_type="EXPRESS" if request.execution_type == "EXPRESS" else "STANDARD",
        request_json=MapRun.encode_request(request), max_concurrency=request.max_concurrency, limit=limit,
        window=window_for(limit), tolerated_failure_count=request.tolerated_failure_count,
        tolerated_failure_percentage=request.tolerated_failure_percentage,
        start_date=deps.clock(), items_per_second=binding.items_per_second,
        children_per_second=binding.children_per_second, pools=binding.pools,
        status=MapRunStatus.QUEUED, queued_at=deps.clock(),
        admission_key=f"arn:aws:states:{region}:{account}:stateMachine:{execution.machine}",
    )
    deps.store.create(run, processor_json)
    admission.admit(deps)
    return arn
