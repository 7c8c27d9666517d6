"""The AWS face against the botocore Step Functions model: which operations it serves."""

from __future__ import annotations

import botocore.session

from orchestrator.api.aws_json import OPERATIONS

#: Operations of the model stepmap does not serve yet (activities and task callbacks).
NOT_YET = {
    "CreateActivity", "DeleteActivity", "DescribeActivity", "GetActivityTask", "ListActivities",
    "SendTaskFailure", "SendTaskHeartbeat", "SendTaskSuccess",
}


def test_aws_face_serves_every_model_operation_but_activities_and_callbacks() -> None:
    model = set(botocore.session.get_session().get_service_model("stepfunctions").operation_names)
    assert set(OPERATIONS) <= model
    assert model - set(OPERATIONS) == NOT_YET
