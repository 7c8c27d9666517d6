"""The AWS face against the botocore Step Functions model: which operations it serves."""

from __future__ import annotations

import botocore.session

from orchestrator.api import aws_extensions
from orchestrator.api.aws_json import OPERATIONS


def test_aws_face_serves_every_model_operation_plus_the_stepmap_extensions() -> None:
    model = set(botocore.session.get_session().get_service_model("stepfunctions").operation_names)
    extensions = set(aws_extensions.OPERATIONS)
    assert set(OPERATIONS) == model | extensions
    # The extensions are named so that they can never be an AWS operation.
    assert extensions and all(name.startswith("Stepmap") for name in extensions)
    assert not extensions & model
