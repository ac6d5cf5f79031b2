"""The message the processor consumes and produces: payload bytes plus string metadata."""

from __future__ import annotations


class Message:
    """One message: ``payload`` (bytes) and ``meta`` (``dict[str, str]``; ``umh_topic`` routes it).

    A plain slotted class: creating one is as cheap as Python allows, which matters because the
    processor creates one per output. The processor's generated code creates its outputs without
    ``__init__`` (``object.__new__`` and the two slots): they are bytes and a dict of strings by
    construction, so whatever ``__init__`` checks for library callers is not paid per output.
    """

    __slots__ = ("payload", "meta")

    def __init__(self, payload: bytes, meta: dict[str, str]) -> None:
        self.payload = payload
        self.meta = meta

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Message:
            return NotImplemented
        return self.payload == other.payload and self.meta == other.meta  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Message(payload={self.payload!r}, meta={self.meta!r})"
