"""The benchmarks' floor: the pump configuration processed by hand-written Python.

What a careful programmer would write for this one configuration (see ``examples/pump.yaml``),
with no interpreter and no generality: ``orjson.loads``, the contract's validation, the state
update, the JavaScript arithmetic done directly on floats (exact for these operators), and the
four output ``Message`` objects with the same bytes and metadata as ``StreamProcessor``. Output
order is the contract's: static mappings first (document order), then dynamic ones.

It handles the common case only — the float values the benchmarks send; any other ``value``
type, an integral or exponent-form result, or an unusual ``timestamp_ms`` raises
``NotImplementedError`` (the general processor handles them). It is a yardstick, not a product.
"""

from __future__ import annotations

from orjson import JSONDecodeError, dumps, loads

from runtime.message import Message, trusted_message

PREFIX = "umh.v1.corpA.plant-A.aawd"
PRESS = PREFIX + "._raw.press"
TEMPF = PREFIX + "._raw.tempF"
RUN = PREFIX + "._raw.run"
OUT = PREFIX + "._pump_v1."

__all__ = ["make_handwritten"]


def make_handwritten():
    """Return ``process(message) -> list[Message]`` for the pump configuration."""
    state: dict[str, object] = {}
    t_pressure = OUT + "pressure"
    t_temperature = OUT + "temperature"
    t_rpm = OUT + "motor.rpm"
    t_status = OUT + "status"
    t_serial = OUT + "serialNumber"
    t_device = OUT + "deviceType"
    M = trusted_message  # the outputs' parts are valid by construction, as in the processor

    def process(message: Message) -> list[Message]:
        meta = message.meta
        topic = meta.get("umh_topic")
        if topic != PRESS and topic != TEMPF and topic != RUN:
            return []
        try:
            obj = loads(message.payload)
        except JSONDecodeError:
            return []
        if obj.__class__ is not dict:
            return []
        ts = obj.get("timestamp_ms")
        if ts.__class__ is not int or not 0 < ts <= 9007199254740992:
            if ts.__class__ is int and ts < 0:
                raise NotImplementedError("negative timestamp")
            return []
        value = obj.get("value")
        if value is None:
            return []
        if value.__class__ is not float:
            raise NotImplementedError("only float values")
        sfx = b',"timestamp_ms":%d}' % ts
        d1 = meta.copy()
        d1["umh_topic"] = t_serial
        d2 = meta.copy()
        d2["umh_topic"] = t_device
        out = [M(b'{"value":"SN-P42-008"' + sfx, d1), M(b'{"value":"pump"' + sfx, d2)]
        if topic == PRESS:
            state["press"] = value
            d3 = meta.copy()
            d3["umh_topic"] = t_pressure
            d4 = meta.copy()
            d4["umh_topic"] = t_rpm
            # orjson (Ryu) prints JavaScript's digits and layout for non-integral numbers
            # whenever it writes no exponent
            xb = dumps(value + 4.00001)
            yb = dumps(value / 4)
            if 101 in xb or 101 in yb or xb[-2:] == b".0" or yb[-2:] == b".0":  # 101: "e"
                raise NotImplementedError("integral, tiny, huge or non-finite result")
            out.append(M(b'{"value":' + xb + sfx, d3))
            out.append(M(b'{"value":' + yb + sfx, d4))
        elif topic == TEMPF:
            state["tF"] = value
            d3 = meta.copy()
            d3["umh_topic"] = t_temperature
            xb = dumps(value * 69 / 31)
            if 101 in xb or xb[-2:] == b".0":  # 101: "e"
                raise NotImplementedError("integral, tiny, huge or non-finite result")
            out.append(M(b'{"value":' + xb + sfx, d3))
        else:
            state["r"] = value
            d3 = meta.copy()
            d3["umh_topic"] = t_status
            out.append(M(b'{"value":' + (b'"active"' if value else b'"inactive"') + sfx, d3))
        return out

    return process
