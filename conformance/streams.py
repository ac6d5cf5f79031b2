"""Processor-level inputs: the example configurations and streams, and generated ones.

A generated stream is a configuration whose sources are the conformance variables (one topic
each) and whose mappings are generated expressions of the python subset, plus a sequence of
messages: mostly valid timeseries payloads with values of the kind each alias stands for,
some invalid ones, some on foreign topics.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import orjson
import yaml
from hypothesis import strategies as st

from conformance.environments import VARIABLES
from conformance.strategies import _arrays, _numbers, _objects, _strings, expressions
from runtime import Message
from transpiler import compile_expression
from transpiler.errors import ExpressionError
from transpiler.jslib.values import UNDEFINED

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PREFIX = "umh.v1.conformance.site"
TOPICS = {name: f"{PREFIX}._raw.{name}" for name in VARIABLES}


def example_streams() -> list[tuple[str, dict, list[Message]]]:
    """(name, configuration, messages) of every ``examples/<name>.yaml`` with a ``.jsonl``."""
    out = []
    for config_path in sorted(EXAMPLES.glob("*.yaml")):
        stream = config_path.with_suffix(".jsonl")
        if not stream.exists():
            continue
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        messages = []
        for line in stream.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            payload = obj["payload"]
            data = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
            messages.append(Message(data, obj["meta"]))
        out.append((config_path.stem, config, messages))
    return out


_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps(v) -> str:
    """JSON text, non-ASCII kept as UTF-8, lone surrogates escaped (UTF-8 cannot carry them)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(v, ensure_ascii=False))


def _json_value(v) -> str | None:
    """JSON text of a variable value, or None when JSON cannot carry it."""
    if v is UNDEFINED or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if isinstance(v, list):
        items = [_json_value(x) for x in v]
        return None if None in items else "[" + ",".join(items) + "]"
    if isinstance(v, dict):
        items = [_json_value(x) for x in v.values()]
        return None if None in items else "{" + ",".join(
            f"{_dumps(k)}:{x}" for k, x in zip(v, items)) + "}"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e22 and str(v) != "-0.0":
        return str(int(v))  # a JSON integer, as most producers write whole numbers
    return _dumps(v)


_KINDS = {"x": _numbers, "y": _numbers, "s": _strings, "t": _strings, "f": st.booleans(),
          "a": st.one_of(_numbers, _strings, st.booleans(), _arrays, _objects), "b": _numbers,
          "arr": _arrays, "o": _objects}
_EXTRA_JSON = st.sampled_from(["9007199254740993", "-0", "-0.0", "1e400", "1E2", "0.1e1", "\"\\ud83d\"",
                               "\"\\u00e9\\n\"", "123456789012345678901234567890", "[]", "{}"])


@st.composite
def _message(draw, ts: int) -> Message:
    alias = draw(st.sampled_from(VARIABLES))
    kind = draw(st.integers(0, 19))
    meta = {"umh_topic": TOPICS[alias]}
    if draw(st.booleans()):
        meta["kafka_key"] = draw(st.sampled_from(["k1", "plant-A", "é"]))
    if kind == 0:  # invalid: value null, missing, timestamp wrong
        body = draw(st.sampled_from(['{"value": null, "timestamp_ms": 1}', '{"timestamp_ms": 5}',
                                     '{"value": 1, "timestamp_ms": "7"}', '{"value": 1, "timestamp_ms": 0}',
                                     '[1]', 'not json', '{"value": 1, "timestamp_ms": 1.5}']))
        return Message(body.encode(), meta)
    if kind == 1:
        meta["umh_topic"] = f"{PREFIX}._raw.elsewhere"
    if kind == 2:
        text = draw(_EXTRA_JSON)
    else:
        text = None
        while text is None:
            text = _json_value(draw(_KINDS[alias]))
    body = '{"value": ' + text + ', "timestamp_ms": ' + str(ts) + "}"
    return Message(body.encode(), meta)


def _in_python_subset(expr) -> bool:
    try:
        compile_expression(expr.text, VARIABLES, engine="python")
    except ExpressionError:
        return False
    return True


@st.composite
def streams(draw) -> tuple[dict, list[Message]]:
    """A configuration of 1-4 generated mappings and a stream of up to 12 messages."""
    count = draw(st.integers(1, 4))
    mapping = {}
    for i in range(count):
        expr = draw(expressions(depth=2).filter(_in_python_subset))  # engine="python" must load it
        if draw(st.booleans()) or i == 0:
            mapping[f"m{i}"] = expr.text
        else:
            mapping.setdefault("nested", {})[f"m{i}"] = expr.text
    config = {"output_topic": f"{PREFIX}.derived", "model": {"name": "conf", "version": "v1"},
              "sources": dict(TOPICS), "mapping": mapping}
    start = draw(st.integers(1, 2**53))
    messages = [draw(_message(start + 1000 * k)) for k in range(draw(st.integers(1, 12)))]
    return config, messages
