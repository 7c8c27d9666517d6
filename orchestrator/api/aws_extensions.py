"""Request models and the operation table of the stepmap extensions on the AWS face.

Targets no AWS SDK sends, all prefixed ``Stepmap`` so they can never meet a future AWS
operation: ``AWSStepFunctions.StepmapPauseMapRun`` / ``StepmapResumeMapRun`` ``{mapRunArn}``,
``StepmapDescribeAdmission`` ``{}``, ``StepmapUpdateAdmission`` ``{openMapRunLimit}`` or
``{useSettingsLimit: true}``. A SigV4 key needs the admin scope, except for
``StepmapDescribeAdmission`` (read-only). Merged into
:data:`orchestrator.api.aws_json.OPERATIONS`; docs/extensions.md.
"""

from __future__ import annotations

from orchestrator.api.schemas import AwsModel


class MapRunArnInput(AwsModel):
    """StepmapPauseMapRun, StepmapResumeMapRun."""

    map_run_arn: str


class DescribeAdmissionInput(AwsModel):
    """StepmapDescribeAdmission (no members)."""


class UpdateAdmissionInput(AwsModel):
    """StepmapUpdateAdmission: exactly one of the two members."""

    open_map_run_limit: int | None = None
    use_settings_limit: bool | None = None


OPERATIONS: dict[str, tuple[type[AwsModel], str]] = {
    "StepmapPauseMapRun": (MapRunArnInput, "stepmap_pause_map_run"),
    "StepmapResumeMapRun": (MapRunArnInput, "stepmap_resume_map_run"),
    "StepmapDescribeAdmission": (DescribeAdmissionInput, "stepmap_describe_admission"),
    "StepmapUpdateAdmission": (UpdateAdmissionInput, "stepmap_update_admission"),
}
