"""Creating a Map Run from the engine's DistributedMapRequest."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from orchestrator import messages
from orchestrator.maprun.batching import dumps
from orchestrator.maprun.context import MapRunContext

#: Namespace of generated labels: uuid3(LABEL_NAMESPACE, "{state machine name}/{state name}").
LABEL_NAMESPACE = uuid.UUID("0b8f1c7e-9d5a-3c1e-8f44-2a6b7c9d0e11")


def split_execution_arn(execution_arn: str) -> tuple[str, str, str, str]:
    """(region, account, state machine part, execution name) of an execution ARN."""
    parts = execution_arn.split(":")
    if len(parts) < 8 or parts[5] not in ("execution", "express"):
        raise ValueError(f"not an execution ARN: {execution_arn!r}")
    return parts[3], parts[4], parts[6], ":".join(parts[7:])


def window_for(limit: int) -> int:
    """How many undispatched children the feeder keeps ready."""
    return max(1000, min(20_000, 4 * limit))


def start_map_run(ctx: MapRunContext, request: dict[str, Any], execution_arn: str) -> str:
    """Create a RUNNING Map Run for ``request`` and start feeding it; returns its ARN."""
    region, account, sm_part, _ = split_execution_arn(execution_arn)
    label = request.get("label") or str(uuid.uuid3(LABEL_NAMESPACE, f"{sm_part}/{request['state_name']}"))
    map_run_id = str(uuid.uuid4())
    arn = f"arn:aws:states:{region}:{account}:mapRun:{sm_part}/{label}:{map_run_id}"
    processor = dict(request["processor"])
    processor.pop("ProcessorConfig", None)
    processor_json = dumps(processor)
    digest = hashlib.sha256(processor_json.encode()).hexdigest()[:32]
    ctx.redis.set(ctx.keys.processor(digest), processor_json)
    max_concurrency = int(request.get("max_concurrency") or 0)
    limit = max_concurrency or ctx.settings.limits.max_concurrency_ceiling
    ctx.store.create(arn, {
        "mapRunId": map_run_id,
        "label": label,
        "stateName": request["state_name"],
        "labelledArn": f"arn:aws:states:{region}:{account}:stateMachine:{sm_part}/{label}",
        "executionPrefix": f"arn:aws:states:{region}:{account}:execution:{sm_part}/{label}:",
        "processorKey": ctx.keys.processor(digest),
        "processorHash": digest,
        "executionType": request.get("execution_type", "STANDARD"),
        "maxConcurrency": str(max_concurrency),
        "limit": str(limit),
        "window": str(window_for(limit)),
        "toleratedFailureCount": json.dumps(request.get("tolerated_failure_count")),
        "toleratedFailurePercentage": json.dumps(request.get("tolerated_failure_percentage")),
        "request": dumps(request),
        "redriveCount": "0",
    }, execution_arn=execution_arn)
    ctx.send_control(messages.MAP_RUN_FEED, arn)
    return arn
