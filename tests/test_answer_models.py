"""Instructor gets each answer model wrapped once: no new class and no schema built, and
no walk over the model, per request; models with async validators are still refused."""

from __future__ import annotations

from typing import Any

import instructor
import pytest
from instructor.v2.core.response_model import prepare_response_model
from instructor.v2.validation import async_field_validator, async_validators
from pydantic import BaseModel

from eventx.extraction.answers import ModelAnswer, answer_model
from eventx.extraction.requests import instructor_model


def test_each_answer_model_is_wrapped_once_and_instructor_takes_it_as_it_is() -> None:
    for profile, task in (("full", None), ("compact", "meeting")):
        wrapped = instructor_model(answer_model(profile, task))
        assert wrapped is instructor_model(answer_model(profile, task))
        assert issubclass(wrapped, ModelAnswer)
        assert issubclass(wrapped, instructor.ResponseSchema)
        assert prepare_response_model(wrapped) is wrapped
        assert wrapped.model_json_schema() == answer_model(profile, task).model_json_schema()


def test_models_with_async_validators_are_still_refused() -> None:
    instructor_model(answer_model("full", None))

    class Hasty(ModelAnswer):
        @async_field_validator("events")
        async def check(cls, value: Any) -> Any:  # noqa: N805
            return value

    class Other(BaseModel):
        name: str

        @async_field_validator("name")
        async def check(cls, value: Any) -> Any:  # noqa: N805
            return value

    with pytest.raises(ValueError, match="async validators are not supported"):
        instructor_model(Hasty)
    with pytest.raises(ValueError, match="async validators are not supported"):
        async_validators.reject_async_validators(Other)
