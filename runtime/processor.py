"""The stream processor: configuration compiled into one specialised handler per source topic.

At load time every mapping is compiled, pure static mappings are evaluated once and their payload
prefix precomputed, and a Python module is generated (``StreamProcessor.generated_source``) with:

* the state as closure cells (``s0``, ``s1``, ... one per alias, ``MISSING`` until a value comes),
* one handler per source topic that parses and validates the payload, updates the aliases of that
  topic, emits the static mappings, then calls the compiled function (``CompiledExpression.fn``)
  of every dynamic mapping depending on those aliases, positionally with the state cells, and
  builds the output messages from precomputed topics and byte fragments,
* ``process`` / ``process_batch``: one dict lookup on ``umh_topic`` picks the handler.

Everything unusual (invalid payloads, failing mappings, odd numbers) leaves the generated code
for the helpers below, so the common path stays a straight line.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from orjson import JSONDecodeError, loads

from runtime import yaml12
from runtime.config import ConfigError, MappingSpec, ProcessorSpec, parse_config
from runtime.encode import BadResult, json_quote, value_bytes
from runtime.logs import RateLimitedLog, logger, shorten, topic_key
from runtime.message import Message, trusted_message
from runtime.payload import EXPECTED, Invalid, describe_json_type, slow_loads, slow_timestamp, to_js
from runtime.watch import DONE, STEP, SourceWatch
from transpiler.jslib.numbers import number_to_bytes, number_to_string
from transpiler.quickjs_engine import QuickJSEngine

__all__ = ["MappingInfo", "Metrics", "StreamProcessor"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


@dataclass(frozen=True, slots=True)
class MappingInfo:
    """One row of ``StreamProcessor.describe()``."""

    path: str
    expression: str
    output_topic: str
    kind: str  # "static" or "dynamic"
    pure: bool
    dependencies: tuple[str, ...]
    engine: str

    @property
    def is_static(self) -> bool:
        return self.kind == "static"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _SlowCounters:
    __slots__ = ("invalid", "mapping_errors", "waiting")

    def __init__(self) -> None:
        self.invalid = 0
        self.mapping_errors = 0
        self.waiting = 0


@dataclass(frozen=True, slots=True)
class Metrics:
    """A snapshot of the processor's counters (``processor.metrics``)."""

    messages_in: int
    processed: int
    dropped_missing_topic: int
    dropped_unknown_topic: int
    invalid: int
    outputs: int
    mapping_errors: int
    waiting: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


_TS_FAST_MAX = 9007199254740992  # 2**53
_JSON_WHITESPACE = frozenset((b" ", b"\t", b"\n", b"\r"))


def _odd_start_message(topic: str, payload: bytes) -> str:
    try:
        reason = f"not a JSON object but {describe_json_type(loads(payload))}"
    except JSONDecodeError as exc:
        try:
            reason = f"not a JSON object but {describe_json_type(slow_loads(payload, exc))}"
        except Invalid as invalid:
            reason = str(invalid)
    return (f"invalid timeseries payload on {topic}: {reason}; payload {shorten(payload)}; {EXPECTED}; "
            "skipping")


_NOT_OBJECT = "not-object"  # the rate-limit kind of payloads that are not a JSON object


class StreamProcessor:
    """Derive new timeseries values from source topics with JavaScript mapping expressions.

    ``StreamProcessor(config, engine="auto", limits=None)``; raises ``ConfigError`` listing every
    configuration problem. ``process(message)`` and ``process_batch(messages)`` return the output
    messages; ``describe()``, ``metrics`` and ``state()`` inspect it. Nothing a message contains
    raises out of them: a message that cannot be processed is counted as invalid and logged
    with its reason. ``silent_after_messages``/``silent_after_seconds``: when a source topic
    has received no valid message after that many messages or seconds, it is named in a warning.
    """

    def __init__(self, config: Mapping, *, engine: str = "auto", limits: Any = None,
                 log: RateLimitedLog | None = None, silent_after_messages: int = 10_000,
                 silent_after_seconds: float = 60.0) -> None:
        # its own QuickJS worker and context: configurations share no JavaScript state
        self.spec: ProcessorSpec = parse_config(config, engine=engine,
                                                limits=QuickJSEngine.for_configuration(limits))
        self.engine = engine
        self.log = log if log is not None else RateLimitedLog()
        self._slow = _SlowCounters()
        self._static_prefix: dict[int, bytes] = {}  # pure static mapping index -> b'{"value":...'
        self._precompute_statics()
        self._watch = SourceWatch(self.spec.sources, lambda: self._state(), MISSING, self.log.logger,
                                  after_messages=silent_after_messages,
                                  after_seconds=silent_after_seconds)
        (self.process, self.process_batch, self._counters, self._state,
         self.generated_source) = self._generate()

    # ----------------------------------------------------------------- construction helpers
    @classmethod
    def from_yaml(cls, path: str | Path, **options: Any) -> StreamProcessor:
        """Load the configuration from a YAML file (``OSError`` if it cannot be read, ``ConfigError``
        for YAML syntax errors and invalid configurations)."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            config, problems = yaml12.load(text)  # YAML 1.2: every scalar is the text written
        except yaml.YAMLError as exc:
            raise ConfigError([f"{path}: YAML syntax error: {exc}"]) from None
        config = config if config is not None else {}
        if problems:  # duplicate keys: reported with every other problem
            parse_config(config, engine=options.get("engine", "auto"), limits=options.get("limits"),
                         problems=[f"{path}: {p}" for p in problems])
        return cls(config, **options)

    def _precompute_statics(self) -> None:
        for i, m in enumerate(self.spec.mappings):
            c = m.compiled
            if not c.is_static or not c.is_pure:
                continue
            if m.static_bytes is not None:  # evaluated by parse_config (a failing one is refused)
                self._static_prefix[i] = b'{"value":' + m.static_bytes
                continue
            try:
                self._static_prefix[i] = b'{"value":' + value_bytes(c.fn())
            except Exception as exc:  # noqa: BLE001 - fail-open: this mapping only
                self._mapping_failed(i, exc, " (static: evaluated once at load; it never produces output)")

    # ----------------------------------------------------------------- slow paths (called by generated code)
    def _mapping_failed(self, i: int, exc: BaseException, note: str = "") -> None:
        self._slow.mapping_errors += 1
        m = self.spec.mappings[i]

        def message() -> str:  # made only when logged (a failing mapping fails on every message)
            if isinstance(exc, BadResult):
                what = str(exc)
            elif hasattr(exc, "name") and hasattr(exc, "message") and not isinstance(exc, ImportError):
                what = f"{exc.name}: {exc.message}"  # JSError
            else:
                what = f"{type(exc).__name__}: {exc}"
            source = m.source if len(m.source) <= 80 else m.source[:80] + "..."
            if len(what) > 200:
                what = what[:200] + f"... ({len(what):,} characters)"
            return f"mapping '{m.path}' ({source}) failed: {what}; no output for it{note}"

        self.log.warning(i, message)  # keys: a mapping index, or topic_key(source topic, kind)

    def _general_result(self, i: int, r: object) -> bytes | None:
        try:
            return value_bytes(r)
        except Exception as exc:  # noqa: BLE001
            self._mapping_failed(i, exc)
            return None

    def _non_finite(self, i: int, r: float) -> None:
        self._mapping_failed(i, BadResult(f"result is {number_to_string(r)}"))

    def _invalid(self, topic: str, what: object, payload: bytes = b"") -> None:
        self._slow.invalid += 1
        if isinstance(what, Invalid):
            kind = what.kind
        elif isinstance(what, dict):
            kind = "value"
        else:
            kind = _NOT_OBJECT

        def message() -> str:
            if isinstance(what, Invalid):
                reason = str(what)
                if kind == "json":
                    reason += f"; payload {shorten(payload)}"
            elif isinstance(what, dict):
                reason = 'missing "value"' if "value" not in what else '"value" is null'
            else:
                reason = f"not a JSON object but {describe_json_type(what)}"
            return f"invalid timeseries payload on {topic}: {reason}; {EXPECTED}; skipping"

        self.log.warning(topic_key(topic, kind), message)

    def _poison(self, message: object, exc: Exception) -> None:
        """A message whose processing raised (``process``/``process_batch`` never let it out):
        counted as invalid, logged with its reason, rate-limited per (topic, kind)."""
        self._slow.invalid += 1
        meta = getattr(message, "meta", None)
        topic = meta.get("umh_topic") if isinstance(meta, dict) else None
        shown = topic if topic.__class__ is str else "?"
        if isinstance(exc, Invalid):
            kind, reason = exc.kind, str(exc)
        elif message.__class__ is not Message and not isinstance(message, Message):
            kind, reason = "type", f"not a Message but {type(message).__name__}"
        elif not isinstance(meta, dict):
            kind, reason = "meta", f"meta is {type(meta).__name__}, not a dict of str"
        elif topic is not None and topic.__class__ is not str:
            kind, reason = "meta", f"umh_topic is {type(topic).__name__} {shorten(topic)}, not a str"
        else:
            kind = "error"
            reason = f"processing it raised {type(exc).__name__}: {shorten(str(exc))}"
        self.log.warning(topic_key(shown, kind), f"invalid message on {shown}: {reason}; skipping")

    def _make_odd_start(self):
        slow = self._slow
        warning = self.log.warning
        whitespace = _JSON_WHITESPACE
        message = _odd_start_message

        log = self.log
        windows = log._windows
        clock = log.clock

        def odd_start(handler: Any, topic: str, payload: bytes, meta: dict, out: list) -> None:
            """A payload not starting with ``{``: JSON with leading whitespace, or no JSON object
            at all. Rejecting the latter without a parse keeps invalid traffic cheap (orjson's
            exception is a Python-level JSONDecodeError, expensive to build); the reason is
            worked out only if the warning is actually logged."""
            if payload[:1] in whitespace:
                stripped = payload.lstrip(b" \t\n\r")
                if stripped[:1] == b"{":
                    return handler(stripped, meta, out)
            slow.invalid += 1
            key = topic_key(topic, _NOT_OBJECT)
            window = windows.get(key)  # RateLimitedLog.warning's suppression, inlined
            if window is not None and clock() - window[0] < log.interval:
                window[1] += 1
                return None
            warning(key, message, topic, payload)
            return None

        return odd_start

    def _waiting(self, i: int, values: tuple) -> None:
        self._slow.waiting += 1
        if logger.isEnabledFor(logging.DEBUG):
            m = self.spec.mappings[i]
            missing = [d for d, v in zip(m.compiled.dependencies, values) if v is MISSING]
            names = ", ".join(f"'{d}'" for d in missing)
            logger.debug(f"cannot evaluate '{m.path}' yet: waiting for {names}")

    # ----------------------------------------------------------------- code generation
    def _generate(self):
        spec = self.spec
        aliases = list(spec.sources)
        alias_index = {a: k for k, a in enumerate(aliases)}
        topics: dict[str, list[int]] = {}
        for a, t in spec.sources.items():
            topics.setdefault(t, []).append(alias_index[a])

        ns: dict[str, Any] = {
            "loads": loads, "JSONDecodeError": JSONDecodeError, "Invalid": Invalid,
            "slow_loads": slow_loads, "slow_ts": slow_timestamp, "to_js": to_js, "M": trusted_message,
            "poison": self._poison, "watch": self._watch.check, "DONE": DONE, "STEP": STEP,
            "MISSING": MISSING, "jq": json_quote, "n2b": number_to_bytes, "invalid": self._invalid,
            "fail": self._mapping_failed,
            "general": self._general_result, "non_finite": self._non_finite, "waiting": self._waiting,
            "odd": self._make_odd_start(), "WS": _JSON_WHITESPACE, "slow": self._slow,
            "windows_get": self.log._windows.get, "clock": self.log.clock, "INTERVAL": self.log.interval,
            "gc_isenabled": gc.isenabled, "gc_disable": gc.disable, "gc_enable": gc.enable,
        }
        for i, m in enumerate(spec.mappings):
            ns[f"F{i}"] = m.compiled.fn

        state_vars = [f"s{k}" for k in range(len(aliases))]
        L: list[str] = []
        w = L.append
        w("def build():")
        w(f"    {' = '.join(state_vars)} = MISSING" if state_vars else "    pass")
        w("    n_in = n_out = n_missing = n_unknown = 0")
        w("    watch_at = STEP")

        statics = [i for i, m in enumerate(spec.mappings) if m.compiled.is_static]
        dynamics = [i for i, m in enumerate(spec.mappings) if not m.compiled.is_static]

        handler_names = {}
        for h, (topic, idxs) in enumerate(topics.items()):
            name = f"h{h}"
            handler_names[topic] = name
            updated = {aliases[k] for k in idxs}
            T = repr(topic)
            w(f"    def {name}(payload, meta, out):")
            w(f"        nonlocal {', '.join(f's{k}' for k in idxs)}")
            # not an object (or an object after whitespace): counted here, without a call,
            # while the rate-limited log of this topic suppresses its warnings
            w("        first = payload[:1]")
            w("        if first != b'{':")
            w("            if first not in WS:")
            w(f"                window = windows_get({topic_key(topic, _NOT_OBJECT)!r})")
            w("                if window is not None and clock() - window[0] < INTERVAL:")
            w("                    window[1] += 1")
            w("                    slow.invalid += 1")
            w("                    return")
            w(f"            return odd({name}, {T}, payload, meta, out)")
            w("        try:")
            w("            obj = loads(payload)")
            w("        except JSONDecodeError as e:")
            w("            try:")
            w("                obj = slow_loads(payload, e)")
            w("            except Invalid as exc:")
            w(f"                return invalid({T}, exc, payload)")
            w("        if obj.__class__ is not dict:")
            w(f"            return invalid({T}, obj)")
            w("        ts = obj.get('timestamp_ms')")
            w(f"        if ts.__class__ is int and 0 < ts <= {_TS_FAST_MAX}:")
            w("            sfx = b',\"timestamp_ms\":%d}' % ts")
            w("        else:")
            w("            try:")
            w("                sfx = slow_ts(obj, payload)")
            w("            except Invalid as exc:")
            w(f"                return invalid({T}, exc, payload)")
            w("        v = obj.get('value')")
            w("        if v is None:")
            w(f"            return invalid({T}, obj)")
            w("        c = v.__class__")
            w("        if c is not float and c is not str and c is not bool:")
            w("            v = to_js(v)")
            w(f"        {' = '.join(f's{k}' for k in idxs)} = v")
            for i in statics:
                m = spec.mappings[i]
                if m.compiled.is_pure:
                    if i in self._static_prefix:
                        w("        d = meta.copy()")
                        w(f"        d['umh_topic'] = {m.output_topic!r}")
                        w(f"        out.append(M({self._static_prefix[i]!r} + sfx, d))")
                else:
                    self._emit_call(w, i, m, (), "        ")
            for i in dynamics:
                m = spec.mappings[i]
                deps = m.compiled.dependencies
                if not updated.intersection(deps):
                    continue
                args = [f"s{alias_index[d]}" for d in deps]
                unknown = [f"s{alias_index[d]}" for d in deps if d not in updated]
                if unknown:
                    w(f"        if {' and '.join(f'{s} is not MISSING' for s in unknown)}:")
                    self._emit_call(w, i, m, args, "            ")
                    w("        else:")
                    w(f"            waiting({i}, ({', '.join(args)},))")
                else:
                    self._emit_call(w, i, m, args, "        ")

        w("    handlers = {" + ", ".join(f"{t!r}: {n}" for t, n in handler_names.items()) + "}")
        w("    get = handlers.get")
        def route(ind: str, drop: str) -> None:
            """The per-message step, written once for both entry points: one dict lookup on
            umh_topic picks the handler; no topic or a foreign one is dropped unparsed. Whatever
            a message makes raise (a payload nested too deep, a meta that is not a dict) is that
            message's problem: counted as invalid, and the others go on (no cost until raised)."""
            w(ind + "n_in += 1")
            w(ind + "try:")
            for line in ("meta = message.meta", "topic = meta.get('umh_topic')",
                         "h = get(topic)", "if h is None:", "    if topic is None:",
                         "        n_missing += 1", "    else:", "        n_unknown += 1",
                         f"    {drop}", "h(message.payload, meta, out)"):
                w(ind + "    " + line)
            w(ind + "except Exception as e:")
            w(ind + "    poison(message, e)")

        w("    def process(message):")
        w("        nonlocal n_in, n_out, n_missing, n_unknown, watch_at")
        w("        out = []")
        route("        ", "return out")
        w("        n_out += len(out)")
        w("        if n_in >= watch_at:")
        w("            watch_at = watch(n_in)")
        w("        return out")
        # The cyclic GC is paused for the length of a batch: the outputs it accumulates are
        # acyclic, but thousands of live containers make every collection pass longer, so the
        # per-message cost would grow with the batch size (restored even if a message raises).
        w("    def process_batch(messages):")
        w("        nonlocal n_in, n_out, n_missing, n_unknown, watch_at")
        w("        out = []")
        w("        collecting = gc_isenabled()")
        w("        if collecting:")
        w("            gc_disable()")
        w("        try:")
        w("            for message in messages:")
        route("                ", "continue")
        w("        finally:")
        w("            if collecting:")
        w("                gc_enable()")
        w("        n_out += len(out)")
        w("        if watch_at != DONE:")
        w("            watch_at = watch(n_in)")
        w("        return out")
        w("    def counters():")
        w("        return n_in, n_out, n_missing, n_unknown")
        w("    def state():")
        w(f"        return ({''.join(s + ', ' for s in state_vars)})")
        w("    return process, process_batch, counters, state")
        source = "\n".join(L) + "\n"
        name = f"<stream processor {spec.output_topic}._{spec.model_name}_{spec.model_version}>"
        code = compile(source, name, "exec")
        exec(code, ns)  # noqa: S102 - our own generated code; user text only appears via repr()
        process, process_batch, counters, state = ns["build"]()
        process.__doc__ = StreamProcessor.process.__doc__
        process_batch.__doc__ = StreamProcessor.process_batch.__doc__
        return process, process_batch, counters, state, source

    @staticmethod
    def _emit_call(w, i: int, m: MappingSpec, args: list[str] | tuple, ind: str) -> None:
        T = repr(m.output_topic)
        w(f"{ind}try:")
        w(f"{ind}    r = F{i}({', '.join(args)})")
        w(f"{ind}except Exception as e:")
        w(f"{ind}    fail({i}, e)")
        w(f"{ind}else:")
        w(f"{ind}    if r.__class__ is float:")
        w(f"{ind}        rb = n2b(r) if r - r == 0.0 else non_finite({i}, r)  # NaN, +-Infinity: no output")
        w(f"{ind}    elif r.__class__ is str:")
        w(f"{ind}        rb = jq(r)")
        w(f"{ind}    else:")
        w(f"{ind}        rb = general({i}, r)")
        w(f"{ind}    if rb is not None:")
        w(f"{ind}        d = meta.copy()")
        w(f"{ind}        d['umh_topic'] = {T}")
        w(f"{ind}        out.append(M(b'{{\"value\":' + rb + sfx, d))")

    # ----------------------------------------------------------------- public API
    def process(self, message: Message) -> list[Message]:  # replaced per instance by generated code
        """Process one message; return its output messages (possibly none)."""
        raise NotImplementedError

    def process_batch(self, messages: Iterable[Message]) -> list[Message]:  # replaced per instance
        """Process messages in order; return the outputs of all of them, in input order."""
        raise NotImplementedError

    def describe(self) -> list[MappingInfo]:
        """One record per mapping, in document order."""
        rows = []
        for m in self.spec.mappings:
            c = m.compiled
            rows.append(MappingInfo(m.path, m.source, m.output_topic, "static" if c.is_static else "dynamic",
                                    bool(c.is_pure), tuple(c.dependencies), c.engine))
        return rows

    @property
    def metrics(self) -> Metrics:
        n_in, n_out, n_missing, n_unknown = self._counters()
        s = self._slow
        return Metrics(
            messages_in=n_in, processed=n_in - n_missing - n_unknown - s.invalid,
            dropped_missing_topic=n_missing, dropped_unknown_topic=n_unknown, invalid=s.invalid,
            outputs=n_out, mapping_errors=s.mapping_errors, waiting=s.waiting,
        )

    def state(self) -> dict[str, Any]:
        """The latest value of every alias that has one (JavaScript form: numbers are floats)."""
        return {a: v for a, v in zip(self.spec.sources, self._state()) if v is not MISSING}

    @property
    def source_topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.spec.sources.values()))

    def flush_log(self) -> None:
        """Log the counts of rate-limited warnings not yet reported."""
        self.log.flush()
