"""Response models of the console's own read (``/console/api``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class FailureRow(_Camel):
    """A FAILED child execution of a Map Run."""

    execution_arn: str = Field(description="The child execution's ARN (open its history).")
    name: str = Field(description="The child execution's name.")
    index: int | None = Field(None, description="The child's index in the Map Run (= item index "
                              "without ItemBatcher; the first item's index with it).")
    error: str | None = Field(None, description="The ASL error name.")
    cause: str | None = Field(None, description="The cause (JSON text for handler errors).")
    input: str | None = Field(None, description="The child's input (JSON text).")
    stop_date: float | None = Field(None, description="When the child ended (epoch seconds).")


class FailurePage(_Camel):
    """One page of failures."""

    failures: list[FailureRow]
    next_token: str | None = None
