"""The Unified Namespace topic rules, written once.

UMH topics: ``umh.v1.<level0>[.<levels>]._<contract>[.<virtual path>].<name>``.

Source: the UMH topic convention as validated by benthos-umh's ``uns`` input/output
(characters ``[a-zA-Z0-9._-]``, no empty segment, the ``umh.v1`` prefix, a data contract
segment that starts with ``_``). Every check returns ``None`` when the text obeys the rule, or
a short sentence saying what is wrong; callers prefix it with the field's name.

- a *full topic* (a source topic, an output topic): ``umh.v1.<level0>[.<levels>]._<contract>
  [.<virtual path>].<name>``;
- a *location* (``output_topic``): ``umh.v1.<level0>[.<levels>]``, no contract segment;
- a *segment* (a mapping key, ``model.name``, ``model.version``): characters
  ``[a-zA-Z0-9_-]`` (a mapping key may also hold dots: each dot-separated part is a segment).

MQTT wildcards (``#``, ``+``), ``/``, spaces and every other character are refused, so an
output topic can always be published to Kafka (as a key) and MQTT (with ``/`` for ``.``).
"""

from __future__ import annotations

import re

__all__ = ["PREFIX", "topic_problem", "location_problem", "segment_problem", "path_problem"]

PREFIX = "umh.v1."
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_MAX_SHOWN = 80


def _shown(text: str) -> str:
    """``text`` quoted for an error message, shortened past 80 characters."""
    return repr(text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "...")


def _segments_problem(text: str, what: str) -> str | None:
    if not text:
        return f"{what} is empty"
    for segment in text.split("."):
        if not segment:
            return f"{what} {_shown(text)} has an empty segment (leading, trailing or double '.')"
        if not _SEGMENT.fullmatch(segment):
            bad = sorted({c for c in segment if not _SEGMENT.fullmatch(c)})
            return (f"{what} {_shown(text)} contains {', '.join(repr(c) for c in bad)}: only "
                    f"letters, digits, '_', '-' and '.' between segments are allowed")
    return None


def segment_problem(text: object, what: str = "name") -> str | None:
    """One UNS segment (``model.name``, ``model.version``): ``[a-zA-Z0-9_-]+``, no dots."""
    if not isinstance(text, str):
        return f"{what} must be a string, not {type(text).__name__}"
    if "." in text:
        return f"{what} {_shown(text)} must not contain '.'"
    return _segments_problem(text, what)


def path_problem(text: object, what: str = "mapping path") -> str | None:
    """A dotted virtual path and name (a mapping key path): segments joined by '.'."""
    if not isinstance(text, str):
        return f"{what} must be a string, not {type(text).__name__}"
    return _segments_problem(text, what)


def location_problem(text: object, what: str = "location") -> str | None:
    """``umh.v1.<level0>[.<levels>]``: the ``output_topic`` prefix, without a data contract."""
    problem = path_problem(text, what)
    if problem is not None:
        return problem
    assert isinstance(text, str)
    if not text.startswith(PREFIX) or len(text) == len(PREFIX):
        return f"{what} {_shown(text)} must start with 'umh.v1.' followed by at least one level"
    if any(s.startswith("_") for s in text[len(PREFIX):].split(".")):
        return (f"{what} {_shown(text)} must not contain a data contract segment (one starting "
                f"with '_'): the contract is added from model.name and model.version")
    return None


def topic_problem(text: object, what: str = "topic") -> str | None:
    """A full UNS topic: ``umh.v1.<level0>[.<levels>]._<contract>[.<virtual path>].<name>``."""
    problem = path_problem(text, what)
    if problem is not None:
        return problem
    assert isinstance(text, str)
    if not text.startswith(PREFIX):
        return f"{what} {_shown(text)} must start with 'umh.v1.'"
    segments = text[len(PREFIX):].split(".")
    contract = next((i for i, s in enumerate(segments) if s.startswith("_")), None)
    if contract is None or contract == 0:
        return (f"{what} {_shown(text)} must be umh.v1.<level0>[.<levels>]._<contract>"
                f"[.<virtual path>].<name> (no data contract segment after a location level)")
    if contract == len(segments) - 1:
        return f"{what} {_shown(text)} has no name after its data contract {segments[contract]!r}"
    if len(segments[contract]) == 1:
        return f"{what} {_shown(text)} has an empty data contract name '_'"
    return None
