"""Output fragment writers: what the generated handlers append for each output.

The processor's code generator (``StreamProcessor._generate``) writes the handler logic once —
parse, validate, update the state, evaluate the mappings, build the payload bytes
``{"value":<v>,"timestamp_ms":<t>}`` from precomputed fragments — and asks a writer for the few
lines that differ between front ends: how the timestamp suffix is written, what is computed once
per input, and what one output becomes:

* ``MessageWriter``: a ``Message`` (payload, the input's metadata with ``umh_topic`` replaced) —
  ``process`` / ``process_batch``, for library users;
* ``RecordWriter``: a tuple ``(output umh_topic, payload bytes, extra)`` where ``extra`` is
  whatever the front end attached to the input (Kafka: the headers, computed once per input;
  MQTT: the user properties) — ``process_records``, for the connectors;
* ``JsonLinesWriter``: the bytes of the CLI's output line ``{"payload":"<payload as a JSON
  string>","meta":{...}}\\n``, as fragments to join — ``write_json_lines``, for ``streamproc run``.

A writer only produces lines of generated code and constants; the helpers the JSON Lines code
calls at run time (escaping, metadata fragments) are below.
"""

from __future__ import annotations

from collections.abc import Mapping

from orjson import dumps

from runtime.encode import json_quote

__all__ = [
    "JsonLinesWriter", "MessageWriter", "RecordWriter", "Writer", "escape_json_text",
    "meta_fragments", "quoted_escaped",
]


def escape_json_text(data: bytes) -> bytes:
    """The JSON text ``data`` (UTF-8) as the inside of a JSON string: ``JSON.stringify(text)``
    without the quotes. Escaping is per character, so escaping the fragments of a payload one by
    one gives the escaped payload."""
    return dumps(data.decode("utf-8"))[1:-1]


_QUOTED_ESCAPED: dict[str, bytes] = {}


def quoted_escaped(s: str) -> bytes:
    """``escape_json_text(json_quote(s))``: a string result as it appears inside the output
    line's payload string. String results repeat (``"active"``/``"inactive"``): cached, bounded."""
    e = _QUOTED_ESCAPED.get(s)
    if e is None:
        e = escape_json_text(json_quote(s))
        if len(_QUOTED_ESCAPED) >= 4096:
            _QUOTED_ESCAPED.clear()
        _QUOTED_ESCAPED[s] = e
    return e


_LINE_VALUE = b'{"payload":"' + escape_json_text(b'{"value":')
_LINE_TS = escape_json_text(b',"timestamp_ms":') + b"%d}"
META_PRE_TOPIC_ONLY = b'","meta":{"umh_topic":'
META_POST_TOPIC_ONLY = b"}}\n"


_META_FRAGMENTS: dict[tuple, tuple[bytes, bytes]] = {}


def meta_fragments(meta: Mapping[str, str]) -> tuple[bytes, bytes]:
    """The output line around the ``umh_topic`` value, for the input's metadata ``meta`` (which
    has ``umh_topic``: it was routed on it): ``(pre, post)`` with ``pre`` closing the payload
    string and opening the metadata object up to ``"umh_topic":``, ``post`` the entries after it,
    the closing braces and the newline. The key order is the input's, as ``dict.copy`` keeps it."""
    if len(meta) == 1:
        return META_PRE_TOPIC_ONLY, META_POST_TOPIC_ONLY
    items = tuple(meta.items())
    try:
        known = _META_FRAGMENTS.get(items)  # a feed's extra metadata mostly repeats
        cacheable = True
    except TypeError:  # an unhashable value (not a string): worked out every time
        known, cacheable = None, False
    if known is not None:
        return known
    k = next(j for j, (key, _) in enumerate(items) if key == "umh_topic")
    before, after = items[:k], items[k + 1:]
    pre = b'","meta":' + (dumps(dict(before))[:-1] + b"," if before else b"{") + b'"umh_topic":'
    post = (b"," + dumps(dict(after))[1:] if after else b"}") + b"}\n"
    if cacheable:
        if len(_META_FRAGMENTS) >= 4096:
            _META_FRAGMENTS.clear()
        _META_FRAGMENTS[items] = pre, post
    return pre, post


class Writer:
    """The lines of generated code that differ between front ends (see the module docstring).

    ``params``: the handler's parameters (``x`` is the per-input value the writer uses: the
    metadata, or the front end's extra); ``parses``: whether the handler gets payload bytes (else
    a parsed object and, if there was one, the text it came from); ``str_fn``/``general_fn``: the
    names of the functions writing a string / any other result (``rb`` is then what ``emit``
    puts in the payload); ``ns``: constants and helpers the generated code refers to.
    """

    name = ""
    params = "payload, x, out"
    parses = True
    str_fn = "jq"
    general_fn = "general"
    ns: dict[str, object] = {}

    def fast_suffix(self) -> list[str]:
        """Set ``sfx`` from ``ts``, a positive int up to 2**53."""
        return ["sfx = b',\"timestamp_ms\":%d}' % ts"]

    def slow_suffix(self) -> list[str]:
        """Adjust ``sfx``, set by the validating helper as ``,"timestamp_ms":<t>}``."""
        return []

    def per_input(self) -> list[str]:
        """Once per valid input, before its outputs."""
        return []

    def emit(self, rb: str, j: int) -> list[str]:
        """One output of the handler's mapping ``j`` whose value is written by the expression
        ``rb`` (bytes). The generated code names its output topic ``o<j>`` (``q<j>``: as JSON)."""
        raise NotImplementedError

    def emit_static(self, j: int) -> list[str]:
        """One output of the pure static mapping ``j`` whose ``{"value":<v>`` is ``p<j>``
        (``v<j>``: ``<v>`` escaped as JSON string content)."""
        raise NotImplementedError


class MessageWriter(Writer):
    name = "m"

    def emit(self, rb: str, j: int) -> list[str]:
        return self._message(f"b'{{\"value\":' + {rb} + sfx", j)

    def emit_static(self, j: int) -> list[str]:
        return self._message(f"p{j} + sfx", j)

    @staticmethod
    def _message(payload: str, j: int) -> list[str]:
        # Message's __init__ is skipped: outputs are bytes and a dict of strings by construction
        return ["d = x.copy()", f"d['umh_topic'] = o{j}",
                "m = new(M)", f"m.payload = {payload}", "m.meta = d", "out.append(m)"]


class RecordWriter(Writer):
    name = "r"

    def emit(self, rb: str, j: int) -> list[str]:
        return [f"out.append((o{j}, b'{{\"value\":' + {rb} + sfx, x))"]

    def emit_static(self, j: int) -> list[str]:
        return [f"out.append((o{j}, p{j} + sfx, x))"]


class JsonLinesWriter(Writer):
    """``sfx`` holds the escaped timestamp suffix followed by the metadata up to ``"umh_topic":``;
    ``post`` the rest of the line."""

    name = "l"
    fragments = 5  # per output line, so that the number of lines is len(fragments) // 5
    params = "obj, payload, x, out"
    parses = False
    str_fn = "qe"
    general_fn = "egeneral"

    def fast_suffix(self) -> list[str]:
        return [f"sfx = {_LINE_TS!r} % ts"]

    def slow_suffix(self) -> list[str]:
        return ["sfx = esc(sfx)"]

    def per_input(self) -> list[str]:
        return ["if len(x) == 1:",
                "    sfx += MPRE1",
                "    post = MPOST1",
                "else:",
                "    pre, post = mfrag(x)",
                "    sfx += pre"]

    def emit(self, rb: str, j: int) -> list[str]:
        return [f"out += ({_LINE_VALUE!r}, {rb}, sfx, q{j}, post)"]

    def emit_static(self, j: int) -> list[str]:
        return [f"out += ({_LINE_VALUE!r}, v{j}, sfx, q{j}, post)"]
