"""The stream processor: configuration compiled into one specialised handler per source topic.

At load time every mapping is compiled, pure static mappings are evaluated once and their payload
prefix precomputed, the topics and aliases are indexed once (the build is linear in both), and
Python code is generated (``StreamProcessor.generated_source``):

* the state as closure cells (one per alias, ``MISSING`` until a value comes), shared by all
  handlers,
* per source topic and output writer (``runtime/writers.py``), a handler that parses and
  validates the payload, updates the aliases of that topic, emits the static mappings, then calls
  the compiled function (``CompiledExpression.fn``) of every dynamic mapping depending on those
  aliases, positionally with the state cells, and writes the outputs from precomputed topics and
  byte fragments; compiled when its topic's first message comes, one template per structure,
* the entry points — ``process`` / ``process_batch`` (``Message`` objects), ``process_records``
  (connector records), ``write_json_lines`` (the CLI's output bytes): one dict lookup on
  ``umh_topic`` picks the handler.

Everything unusual (invalid payloads, failing mappings, odd numbers) leaves the generated code
for the helpers below, so the common path stays a straight line.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import CellType, FunctionType
from typing import Any

import yaml
from orjson import JSONDecodeError, dumps, loads

from runtime import yaml12
from runtime.config import ConfigError, ProcessorSpec, parse_config
from runtime.encode import BadResult, json_quote, value_bytes
from runtime.logs import RateLimitedLog, logger, shorten, topic_key
from runtime.message import Message
from runtime.payload import EXPECTED, Invalid, describe_json_type, slow_loads, slow_timestamp, to_js
from runtime.watch import DONE, STEP, SourceWatch
from runtime.writers import (
    META_POST_TOPIC_ONLY,
    META_PRE_TOPIC_ONLY,
    JsonLinesWriter,
    MessageWriter,
    RecordWriter,
    Writer,
    escape_json_text,
    meta_fragments,
    quoted_escaped,
)
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


def _instantiate(template: FunctionType, cells: dict[str, CellType]) -> FunctionType:
    """A copy of the generated function ``template`` whose free variables are ``cells`` (state
    cells shared by all handlers, constants of one topic); its reference to itself (a handler
    passing itself on) is to the copy."""
    code = template.__code__
    own = CellType()
    closure = tuple(cells.get(v, own) for v in code.co_freevars)
    assert all(v in cells or v == code.co_name for v in code.co_freevars), code.co_freevars
    fn = FunctionType(code, template.__globals__, template.__name__, None, closure)
    own.cell_contents = fn
    return fn


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
MESSAGES, RECORDS, LINES = MessageWriter(), RecordWriter(), JsonLinesWriter()
_WRITERS = (MESSAGES, RECORDS, LINES)
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
        (self.process, self.process_batch, self.process_records, self.write_json_lines,
         self._counters, self._state) = self._generate()

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

    def _general_result_escaped(self, i: int, r: object) -> bytes | None:
        rb = self._general_result(i, r)
        return None if rb is None else escape_json_text(rb)

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

    def _poison_record(self, topic: object, exc: Exception) -> None:
        """``_poison`` for the entry points that take an input as parts (``process_records``,
        ``write_json_lines``): the input is counted as invalid and logged with its topic."""
        self._slow.invalid += 1
        if topic.__class__ is bytes:
            topic = topic.decode("utf-8", "replace")  # type: ignore[union-attr]
        shown = topic if topic.__class__ is str else "?"
        if isinstance(exc, Invalid):
            kind, reason = exc.kind, str(exc)
        else:
            kind, reason = "error", f"processing it raised {type(exc).__name__}: {shorten(str(exc))}"
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

    def _make_text_payload(self):
        odd_start_counted = self._make_odd_start()

        def text(handler: Any, topic: str, payload: bytes, meta: dict, out: list) -> None:
            """A payload given as text to an entry point whose handlers take parsed payloads:
            parsed (and rejected) exactly as the handlers that parse do."""
            if payload[:1] != b"{":
                stripped = payload.lstrip(b" \t\n\r")
                if stripped[:1] != b"{":
                    return odd_start_counted(None, topic, payload, meta, out)
                payload = stripped
            try:
                obj = loads(payload)
            except JSONDecodeError as e:
                try:
                    obj = slow_loads(payload, e)
                except Invalid as exc:
                    return self._invalid(topic, exc, payload)
            return handler(obj, payload, meta, out)

        return text

    def _waiting(self, i: int, values: tuple) -> None:
        self._slow.waiting += 1
        if logger.isEnabledFor(logging.DEBUG):
            m = self.spec.mappings[i]
            missing = [d for d, v in zip(m.compiled.dependencies, values) if v is MISSING]
            names = ", ".join(f"'{d}'" for d in missing)
            logger.debug(f"cannot evaluate '{m.path}' yet: waiting for {names}")

    # ----------------------------------------------------------------- code generation
    def _triggered(self) -> dict[str, list[int]]:
        """Per source topic, the dynamic mappings a message on it triggers, in document order.
        Built from an index (alias -> topic), so the build is linear in topics and mappings."""
        spec = self.spec
        triggered: dict[str, set[int]] = {t: set() for t in spec.sources.values()}
        for i, m in enumerate(spec.mappings):
            for d in m.compiled.dependencies:
                triggered[spec.sources[d]].add(i)
        return {t: sorted(idxs) for t, idxs in triggered.items()}

    def _generate(self):
        spec = self.spec
        aliases = list(spec.sources)
        alias_index = {a: k for k, a in enumerate(aliases)}
        topics: dict[str, list[int]] = {}
        for a, t in spec.sources.items():
            topics.setdefault(t, []).append(alias_index[a])
        triggered = self._triggered()

        ns: dict[str, Any] = {
            "loads": loads, "JSONDecodeError": JSONDecodeError, "Invalid": Invalid,
            "slow_loads": slow_loads, "slow_ts": slow_timestamp, "to_js": to_js, "M": Message,
            "new": object.__new__, "dumps": dumps, "poison": self._poison, "poison_r": self._poison_record,
            "watch": self._watch.check, "DONE": DONE, "STEP": STEP,
            "MISSING": MISSING, "jq": json_quote, "n2b": number_to_bytes, "invalid": self._invalid,
            "fail": self._mapping_failed,
            "general": self._general_result, "non_finite": self._non_finite, "waiting": self._waiting,
            "odd": self._make_odd_start(), "text": self._make_text_payload(), "WS": _JSON_WHITESPACE,
            "slow": self._slow,
            "windows_get": self.log._windows.get, "clock": self.log.clock, "INTERVAL": self.log.interval,
            "gc_isenabled": gc.isenabled, "gc_disable": gc.disable, "gc_enable": gc.enable,
            "qe": quoted_escaped, "egeneral": self._general_result_escaped, "esc": escape_json_text,
            "mfrag": meta_fragments, "MPRE1": META_PRE_TOPIC_ONLY, "MPOST1": META_POST_TOPIC_ONLY,
        }

        # Each handler is generated inside a function of its own (``shape``) whose locals are
        # the state variables and constants it uses, and each copy of it gets cells of its own
        # for the constants and the shared state cells (``_instantiate``); it is compiled when
        # its topic's first message comes through its entry point, once per distinct source.
        # One enclosing function for all handlers, compiled at once, costs (functions x
        # variables) and a millisecond per handler: minutes for 10,000 sources.
        self._ns = ns
        self._cells = {f"s{k}": CellType(MISSING) for k in range(len(aliases))}
        self._shapes: dict[str, FunctionType] = {}  # handler source -> compiled template
        self._topics = []
        for topic, idxs in topics.items():
            used = set(idxs)
            for i in triggered[topic]:
                used.update(alias_index[d] for d in spec.mappings[i].compiled.dependencies)
            self._topics.append((topic, idxs, sorted(used), triggered[topic]))
        self._aliases, self._alias_index = aliases, alias_index
        self._statics = [i for i, m in enumerate(spec.mappings) if m.compiled.is_static]

        L: list[str] = []
        w = L.append
        w("def entry_points(get_m, get_r, get_l):")
        w("    n_in = n_out = n_missing = n_unknown = 0")
        w("    watch_at = STEP")

        def route(ind: str, writer: Writer, prelude: tuple[str, ...], call: tuple[str, ...],
                  drop: str, poison: str) -> None:
            """The per-message step, written once for every entry point: one dict lookup on
            umh_topic picks the handler; no topic or a foreign one is dropped unparsed. Whatever
            a message makes raise (a payload nested too deep, a meta that is not a dict) is that
            message's problem: counted as invalid, and the others go on (no cost until raised)."""
            w(ind + "n_in += 1")
            w(ind + "try:")
            for line in (*prelude, f"h = get_{writer.name}(topic)", "if h is None:",
                         "    if topic is None:", "        n_missing += 1", "    else:",
                         "        n_unknown += 1", f"    {drop}", *call):
                w(ind + "    " + line)
            w(ind + "except Exception as e:")
            w(ind + f"    {poison}")

        def batch(signature: str, loop: str, writer: Writer, prelude: tuple[str, ...],
                  call: tuple[str, ...], count: str, poison: str) -> None:
            # The cyclic GC is paused for the length of a batch: the outputs it accumulates are
            # acyclic, but thousands of live containers make every collection pass longer, so
            # the per-message cost would grow with the batch size (restored even if one raises).
            w(f"    def {signature}:")
            w("        nonlocal n_in, n_out, n_missing, n_unknown, watch_at")
            w("        out = []")
            w("        collecting = gc_isenabled()")
            w("        if collecting:")
            w("            gc_disable()")
            w("        try:")
            w(f"            for {loop}:")
            route("                ", writer, prelude, call, "continue", poison)
            w("        finally:")
            w("            if collecting:")
            w("                gc_enable()")
            w(f"        n_out += {count}")
            w("        if watch_at != DONE:")
            w("            watch_at = watch(n_in)")
            w("        return out")

        from_message = ("meta = message.meta", "topic = meta.get('umh_topic')")
        w("    def process(message):")
        w("        nonlocal n_in, n_out, n_missing, n_unknown, watch_at")
        w("        out = []")
        route("        ", MESSAGES, from_message, ("h(message.payload, meta, out)",), "return out",
              "poison(message, e)")
        w("        n_out += len(out)")
        w("        if n_in >= watch_at:")
        w("            watch_at = watch(n_in)")
        w("        return out")
        batch("process_batch(messages)", "message in messages", MESSAGES, from_message,
              ("h(message.payload, meta, out)",), "len(out)", "poison(message, e)")
        batch("process_records(records)", "topic, payload, x in records", RECORDS, (),
              ("h(payload, x, out)",), "len(out)", "poison_r(topic, e)")
        batch("write_json_lines(entries)", "payload, meta in entries", LINES,
              ("topic = meta.get('umh_topic')",),
              ("if payload.__class__ is bytes:", "    text(h, topic, payload, meta, out)",
               "else:", "    h(payload, None, meta, out)"), f"len(out) // {LINES.fragments}",
              "poison_r(meta.get('umh_topic') if meta.__class__ is dict else None, e)")
        w("    def counters():")
        w("        return n_in, n_out, n_missing, n_unknown")
        w("    return process, process_batch, process_records, write_json_lines, counters")
        source = "\n".join(L) + "\n"
        exec(compile(source, self._code_name, "exec"), ns)  # noqa: S102 - our own generated code
        self._routes: list[dict[str | bytes, Any]] = [{} for _ in _WRITERS]
        for h, (topic, *_) in enumerate(self._topics):
            for j, route_table in enumerate(self._routes):
                route_table[topic] = self._compile_on_first_call(h, j)
        for topic, *_ in self._topics:  # the connectors route on the Kafka key's bytes as well
            self._routes[1][topic.encode()] = self._routes[1][topic]
        routes = self._routes
        *entry_points, counters = ns["entry_points"](*(r.get for r in routes))
        for fn, doc in zip(entry_points, (StreamProcessor.process, StreamProcessor.process_batch,
                                          StreamProcessor.process_records,
                                          StreamProcessor.write_json_lines)):
            fn.__doc__ = doc.__doc__
        state_cells = tuple(self._cells.values())

        def state() -> tuple:
            return tuple(c.cell_contents for c in state_cells)

        self._entry_source = source
        return (*entry_points, counters, state)

    @property
    def _code_name(self) -> str:
        spec = self.spec
        return f"<stream processor {spec.output_topic}._{spec.model_name}_{spec.model_version}>"

    def _handler_source(self, h: int, writer: Writer) -> tuple[str, dict[str, Any]]:
        """The handler of topic ``h`` for ``writer`` as the source of ``def shape():`` returning
        it, and the values of the names it refers to: ``T`` the topic; per mapping ``j`` in the
        order the handler uses them, ``f<j>`` its function, ``i<j>`` its index, ``o<j>`` its output
        topic, ``q<j>`` that as JSON, ``p<j>``/``v<j>`` a pure static's payload start (as is /
        escaped); ``s<a>`` the state variables (``state[a]`` names the alias index). Topics with
        the same structure have the same source, compiled once."""
        topic, idxs, used, triggered = self._topics[h]
        local = {k: f"s{a}" for a, k in enumerate(used)}
        mappings = self._statics + triggered
        consts: dict[str, Any] = {"T": topic, "K": topic_key(topic, _NOT_OBJECT), "state": used}
        for j, i in enumerate(mappings):
            m = self.spec.mappings[i]
            consts.update({f"f{j}": m.compiled.fn, f"i{j}": i, f"o{j}": m.output_topic,
                           f"q{j}": dumps(m.output_topic)})
            prefix = self._static_prefix.get(i)
            if prefix is not None:
                consts[f"p{j}"] = prefix
                consts[f"v{j}"] = escape_json_text(prefix[len(b'{"value":'):])
        L: list[str] = []
        w = L.append
        w("def shape():")
        names = [n for n in consts if n != "state"] + list(local.values())
        w(f"    {' = '.join(names)} = None")
        self._emit_handler(w, idxs, local, mappings, writer)
        w("    return handler")
        return "\n".join(L) + "\n", consts

    def _compile_on_first_call(self, h: int, j: int) -> Any:
        def first_call(*args: Any) -> Any:
            writer = _WRITERS[j]
            source, consts = self._handler_source(h, writer)
            template = self._shapes.get(source)
            if template is None:
                defined: dict[str, Any] = {}  # not the shared namespace: another thread may compile too
                exec(compile(source, self._code_name, "exec"), self._ns, defined)  # noqa: S102 - generated by us
                template = self._shapes[source] = defined["shape"]()
            cells = {f"s{a}": self._cells[f"s{k}"] for a, k in enumerate(consts.pop("state"))}
            cells.update((name, CellType(value)) for name, value in consts.items())
            fn = _instantiate(template, cells)
            topic = self._topics[h][0]
            self._routes[j][topic] = fn
            if writer is RECORDS:
                self._routes[j][topic.encode()] = fn
            return fn(*args)

        return first_call

    @property
    def generated_source(self) -> str:
        """The generated code: the handler of every topic for every writer (each compiled when
        its topic's first message comes; topics of the same structure share one), and the entry
        points."""
        parts = []
        for h, (topic, *_) in enumerate(self._topics):
            for writer in _WRITERS:
                source, consts = self._handler_source(h, writer)
                state = consts.pop("state")
                bound = ", ".join([f"{k}={v!r}" for k, v in consts.items() if k[0] in "Tiop"]
                                  + [f"s{a}={self._aliases[k]}" for a, k in enumerate(state)])
                parts.append(f"# {writer.__class__.__name__} handler of {topic}: {bound}\n{source}")
        return "".join(parts) + self._entry_source

    def _emit_handler(self, w, idxs: list[int], local: dict[int, str], mappings: list[int],
                      writer: Writer) -> None:
        """The handler of one source topic for one writer: validate, store, emit the outputs.
        ``idxs``: the aliases the topic updates; ``local``: alias index -> state variable name;
        ``mappings``: the statics and the triggered dynamics, in that order."""
        spec = self.spec
        aliases = self._aliases
        alias_index = self._alias_index
        updated = {aliases[k] for k in idxs}
        w(f"    def handler({writer.params}):")
        w(f"        nonlocal {', '.join(local[k] for k in idxs)}")
        if writer.parses:
            # not an object (or an object after whitespace): counted here, without a call,
            # while the rate-limited log of this topic suppresses its warnings
            w("        first = payload[:1]")
            w("        if first != b'{':")
            w("            if first not in WS:")
            w("                window = windows_get(K)")
            w("                if window is not None and clock() - window[0] < INTERVAL:")
            w("                    window[1] += 1")
            w("                    slow.invalid += 1")
            w("                    return")
            w("            return odd(handler, T, payload, x, out)")
            w("        try:")
            w("            obj = loads(payload)")
            w("        except JSONDecodeError as e:")
            w("            try:")
            w("                obj = slow_loads(payload, e)")
            w("            except Invalid as exc:")
            w("                return invalid(T, exc, payload)")
            text = "payload"
        else:
            # an already parsed payload: the text exists only if the input gave one
            text = "payload if payload is not None else dumps(obj)"
        w("        if obj.__class__ is not dict:")
        w("            return invalid(T, obj)")
        # subscripts, not .get(): cheaper in the common case; a missing field is the slow path
        w("        try:")
        w("            ts = obj['timestamp_ms']")
        w("        except KeyError:")
        w("            ts = None")
        w(f"        if ts.__class__ is int and 0 < ts <= {_TS_FAST_MAX}:")
        for line in writer.fast_suffix():
            w("            " + line)
        w("        else:")
        w("            try:")
        w(f"                sfx = slow_ts(obj, {text})")
        w("            except Invalid as exc:")
        w(f"                return invalid(T, exc, {text})")
        for line in writer.slow_suffix():
            w("            " + line)
        w("        try:")
        w("            v = obj['value']")
        w("        except KeyError:")
        w("            v = None")
        w("        if v is None:")
        w("            return invalid(T, obj)")
        w("        c = v.__class__")
        w("        if c is not float and c is not str and c is not bool:")
        w("            v = to_js(v)")
        w(f"        {' = '.join(local[k] for k in idxs)} = v")
        if mappings:
            for line in writer.per_input():
                w("        " + line)
        for j, i in enumerate(mappings):
            m = spec.mappings[i]
            c = m.compiled
            if c.is_static:
                if c.is_pure:
                    if i in self._static_prefix:
                        for line in writer.emit_static(j):
                            w("        " + line)
                else:
                    self._emit_call(w, j, (), "        ", writer)
                continue
            args = [local[alias_index[d]] for d in c.dependencies]
            unknown = [local[alias_index[d]] for d in c.dependencies if d not in updated]
            if unknown:
                w(f"        if {' and '.join(f'{s} is not MISSING' for s in unknown)}:")
                self._emit_call(w, j, args, "            ", writer)
                w("        else:")
                w(f"            waiting(i{j}, ({', '.join(args)},))")
            else:
                self._emit_call(w, j, args, "        ", writer)

    @staticmethod
    def _emit_call(w, j: int, args: list[str] | tuple, ind: str, writer: Writer) -> None:
        w(f"{ind}try:")
        w(f"{ind}    r = f{j}({', '.join(args)})")
        w(f"{ind}except Exception as e:")
        w(f"{ind}    fail(i{j}, e)")
        w(f"{ind}else:")
        w(f"{ind}    if r.__class__ is float:")
        w(f"{ind}        rb = n2b(r) if r - r == 0.0 else non_finite(i{j}, r)  # NaN, +-Infinity: no output")
        w(f"{ind}    elif r.__class__ is str:")
        w(f"{ind}        rb = {writer.str_fn}(r)")
        w(f"{ind}    else:")
        w(f"{ind}        rb = {writer.general_fn}(i{j}, r)")
        w(f"{ind}    if rb is not None:")
        for line in writer.emit("rb", j):
            w(f"{ind}        {line}")

    # ----------------------------------------------------------------- public API
    def process(self, message: Message) -> list[Message]:  # replaced per instance by generated code
        """Process one message; return its output messages (possibly none)."""
        raise NotImplementedError

    def process_batch(self, messages: Iterable[Message]) -> list[Message]:  # replaced per instance
        """Process messages in order; return the outputs of all of them, in input order."""
        raise NotImplementedError

    def process_records(self, records: Iterable[tuple[str | bytes, bytes, Any]]
                        ) -> list[tuple[str, bytes, Any]]:  # replaced per instance
        """The connectors' batch path: ``records`` are ``(umh_topic, payload, extra)`` (the topic
        as ``str`` or UTF-8 ``bytes``, e.g. a Kafka key; ``extra`` anything the front end needs
        again for the outputs, e.g. Kafka headers, computed once per input). Returns one
        ``(output umh_topic, payload bytes, extra)`` per output, in input order: the same outputs
        ``process_batch`` gives, without building ``Message`` objects or metadata copies."""
        raise NotImplementedError

    def write_json_lines(self, entries: Iterable[tuple[Any, dict[str, str]]]) -> list[bytes]:  # replaced
        """The CLI's batch path: ``entries`` are ``(payload, meta)`` with ``payload`` either the
        payload text (``bytes``) or an already parsed JSON value (as ``orjson.loads`` gives it,
        treated exactly like its ``orjson.dumps``). Returns fragments whose concatenation is the
        output JSON Lines, one ``{"payload": "<payload text>", "meta": {...}}\\n`` per output, the
        same bytes as ``orjson.dumps`` of the messages ``process_batch`` gives."""
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
