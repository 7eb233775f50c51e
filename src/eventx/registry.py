"""The event types eventx knows: the three built-in ones, and any registered later.

The discriminated union that validates ``ArticleExtraction.events`` and
``FusedEvent.event`` (and the ``FusedEvent.type`` literal) is built from this
registry. pydantic fixes a model's validator when the class is built, so
:func:`register_event_type` rewrites those fields' annotations and rebuilds every
model that holds them, directly or through another model (``ExtractionResult``,
subclasses such as the extractor's model-facing answer), inner models first.

Register a type before building models of your own that embed eventx's, or rebuild
those with ``model_rebuild(force=True)`` afterwards. How to write one:
docs/extending.md.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal, TypeVar, Union, get_args

from pydantic import BaseModel, Field

from eventx import models
from eventx.models import (
    AidDelivery,
    ArticleExtraction,
    DiplomaticProtest,
    EventBase,
    FusedEvent,
    MeetingEvent,
)

E = TypeVar("E", bound=type[EventBase])

BUILT_IN: tuple[type[EventBase], ...] = (MeetingEvent, AidDelivery, DiplomaticProtest)
"""The event types eventx ships with; they cannot be unregistered."""

_TAG = re.compile(r"^[a-z][a-z0-9_]*$")
_registry: dict[str, type[EventBase]] = {model.TYPE: model for model in BUILT_IN}


def event_types() -> dict[str, type[EventBase]]:
    """Type name → model of every known event type: the built-in ones first, then the
    registered ones in registration order."""
    return dict(_registry)


def event_type(name: str) -> type[EventBase]:
    """The model of the event type called ``name``.

    Raises:
        KeyError: naming the known types, when ``name`` is not one of them.
    """
    try:
        return _registry[name]
    except KeyError:
        raise KeyError(f"unknown event type {name!r}; known: {', '.join(_registry)}") from None


def register_event_type(model: E) -> E:
    """Make ``model`` (a subclass of :class:`~eventx.models.EventBase`) an event type that
    eventx validates, extracts, normalizes, exports, reports, fuses and evaluates.

    Registering the same model again does nothing. Returns ``model``, so it can be used
    as a class decorator.

    Raises:
        TypeError: ``model`` is not an event type with a ``type`` literal, or is not
            fully defined yet.
        ValueError: its type name is malformed, reserved, or taken by another model.
    """
    name = _type_name(model)
    model.declare_roles()
    existing = _registry.get(name)
    if existing is model:
        return model
    if existing is not None:
        raise ValueError(f"event type {name!r} is already registered as {existing.__name__}")
    _registry[name] = model
    try:
        _rebuild()
    except Exception:
        del _registry[name]
        _rebuild()
        raise
    return model


def unregister_event_type(model: type[EventBase] | str) -> None:
    """Forget a registered event type (its model or its name); built-in types stay.

    Raises:
        KeyError: it is not registered.
        ValueError: it is a built-in type.
    """
    name = model if isinstance(model, str) else _type_name(model)
    event_type(name)
    if name in {built_in.TYPE for built_in in BUILT_IN}:
        raise ValueError(f"{name!r} is a built-in event type")
    del _registry[name]
    _rebuild()


def _type_name(model: type[EventBase]) -> str:
    if not (isinstance(model, type) and issubclass(model, EventBase)):
        raise TypeError(f"{model!r} is not a subclass of EventBase")
    if not model.__pydantic_complete__:
        raise TypeError(
            f"{model.__name__} is not fully defined (an annotation could not be resolved); "
            f"call {model.__name__}.model_rebuild() before registering it"
        )
    field = model.model_fields.get("type")
    values = get_args(field.annotation) if field is not None else ()
    if len(values) != 1 or field is None or field.default != values[0]:
        raise TypeError(
            f'{model.__name__} needs a field type: Literal["name"] = "name" naming its type'
        )
    name = str(values[0])
    if not _TAG.match(name) or name == "claim":
        raise ValueError(
            f"event type name {name!r} must be lower-case letters, digits and underscores, "
            "and not 'claim'"
        )
    return name


# -- rebuilding the models ---------------------------------------------------------------


def _union_fields() -> dict[tuple[type[BaseModel], str], Any]:
    """The annotation each registry-derived field gets for the current registry."""
    union: Any = Union[tuple(_registry.values())]  # noqa: UP007
    names: Any = Literal[tuple(_registry)]
    return {
        (ArticleExtraction, "events"): list[Annotated[union, Field(discriminator="type")]],
        (FusedEvent, "event"): union,  # the field keeps its discriminator
        (FusedEvent, "type"): names,
    }


def _rebuild() -> None:
    changed: list[type[BaseModel]] = []
    for (owner, name), annotation in _union_fields().items():
        for model in [owner, *_subclasses(owner)]:
            if model is owner or name not in inspect.get_annotations(model):
                model.model_fields[name].annotation = annotation
                changed.append(model)
    for model in _in_build_order(list(dict.fromkeys(changed))):
        model.model_rebuild(force=True)


def _subclasses(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    for subclass in model.__subclasses__():
        yield subclass
        yield from _subclasses(subclass)


def _in_build_order(changed: list[type[BaseModel]]) -> list[type[BaseModel]]:
    """``changed`` and every eventx model that embeds one of them (directly or through
    another), each after the models it embeds."""
    candidates = list(_subclasses(models._Model))
    affected = list(changed)
    grown = True
    while grown:
        embedding = [m for m in candidates if m not in affected and _embeds_any(m, affected)]
        affected += embedding
        grown = bool(embedding)
    ordered: list[type[BaseModel]] = []
    while len(ordered) < len(affected):
        pending = [model for model in affected if model not in ordered]
        ready = [m for m in pending if not _embeds_any(m, [o for o in pending if o is not m])]
        ordered.extend(ready or pending[:1])  # pending[:1]: models embedding each other
    return ordered


def _embeds_any(model: type[BaseModel], others: list[type[BaseModel]]) -> bool:
    return any(_mentions(info.annotation, others) for info in model.model_fields.values())


def _mentions(annotation: Any, targets: list[type[BaseModel]]) -> bool:
    return annotation in targets or any(_mentions(arg, targets) for arg in get_args(annotation))
