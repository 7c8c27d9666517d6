"""The AWS face against the botocore Step Functions model: which operations it serves."""

from __future__ import annotations

import botocore.session

from orchestrator.api import aws_extensions
from orchestrator.api.aws_json import OPERATIONS


def test_aws_face_serves_every_model_operation_plus_the_stepmap_extensions() -> None:
    model = set(botocore.session.get_session().get_service_model("stepfunctions").operation_names)
    # stepmap's extensions (docs/limits.md) are named apart: none is an AWS operation
    extensions = {name for name in OPERATIONS if name.startswith("Stepmap")}
    assert set(OPERATIONS) - extensions == model
    assert not extensions & model
    assert set(aws_extensions.OPERATIONS) <= extensions
