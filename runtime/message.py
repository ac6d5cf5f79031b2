"""The message the processor consumes and produces: payload bytes plus string metadata."""

from __future__ import annotations

__all__ = ["Message", "trusted_message"]


def _meta_problem(meta: object) -> str | None:
    if meta.__class__ is not dict and not isinstance(meta, dict):
        return f"meta must be a dict of str to str, not {type(meta).__name__}"
    for k, v in meta.items():  # type: ignore[attr-defined]
        if k.__class__ is not str or v.__class__ is not str:
            bad, which = (k, "key") if k.__class__ is not str else (v, f"value of {k!r}")
            text = repr(bad)
            if len(text) > 60:
                text = text[:60] + "..."
            return f"meta must be a dict of str to str: the {which} is {type(bad).__name__} {text}"
        if not (k.isascii() and v.isascii()):  # a lone surrogate cannot travel (UTF-8, JSON, headers)
            for text, which in ((k, "key"), (v, f"value of {k!r}")):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return (f"meta must be a dict of str to str encodable as UTF-8: the {which} has "
                            f"the lone surrogate {text[exc.start]!r} at index {exc.start}")
    return None


class Message:
    """One message: ``payload`` (bytes) and ``meta`` (``dict[str, str]``; ``umh_topic`` routes it).

    ``Message(payload, meta)`` validates at construction: ``payload`` is ``bytes`` (a ``str`` is
    taken as its UTF-8 encoding; ``bytearray``/``memoryview`` are copied to ``bytes``); ``meta``
    is a ``dict`` whose keys and values are ``str`` encodable as UTF-8 (no lone surrogates: they
    could not be written as JSON, Kafka headers or MQTT properties). Anything else raises
    ``TypeError`` naming the
    field and the expected type. A plain slotted class: the processor builds its outputs with
    ``trusted_message`` (no checks: their parts are already valid), which costs what an
    unchecked constructor costs.
    """

    __slots__ = ("payload", "meta")

    def __init__(self, payload: bytes | str, meta: dict[str, str]) -> None:
        if payload.__class__ is not bytes:
            if isinstance(payload, str):
                payload = payload.encode("utf-8", "surrogatepass")
            elif isinstance(payload, bytes | bytearray | memoryview):
                payload = bytes(payload)
            else:
                raise TypeError(f"Message payload must be bytes (or str, encoded as UTF-8), not "
                                f"{type(payload).__name__}")
        problem = _meta_problem(meta)
        if problem is not None:
            raise TypeError(f"Message {problem}")
        self.payload = payload
        self.meta = meta

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Message:
            return NotImplemented
        return self.payload == other.payload and self.meta == other.meta  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Message(payload={self.payload!r}, meta={self.meta!r})"


_new = object.__new__


def trusted_message(payload: bytes, meta: dict[str, str]) -> Message:
    """A ``Message`` from parts known to be valid (``payload`` bytes, ``meta`` a dict of str),
    without the checks of ``Message()``: for the processor's outputs and the front ends that
    have already validated what they read."""
    m = _new(Message)
    m.payload = payload
    m.meta = meta
    return m
