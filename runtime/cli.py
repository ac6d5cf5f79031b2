"""``streamproc``: run a stream processor over JSON Lines, or check a configuration.

    streamproc run CONFIG [--input PATH|-] [--output PATH|-] [--engine auto|python|quickjs]
                          [--stats] [--time-limit S] [--memory-limit BYTES] [--log-level LEVEL]
                      [--kafka BOOTSTRAP [--topic T] [--group ID] | --mqtt HOST:PORT [--qos N]]
    streamproc check CONFIG [--engine ...]

Input lines are ``{"payload": ..., "meta": {...}}`` (a string payload is the raw payload text,
any other JSON value is serialised as the payload); output lines are
``{"payload": "<exact payload text>", "meta": {...}}``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import math
import os
import sys
import time
from typing import IO, Any

import orjson

from runtime import benthos, connectors
from runtime.benthos import BenthosPipeline
from runtime.config import ConfigError
from runtime.metrics import DEFAULT_SLOW_THRESHOLD, MetricsServer, Telemetry
from runtime.processor import StreamProcessor
from runtime.progress import Progress
from streamproc import __version__

__all__ = ["main"]

PROG = "streamproc"
CHUNK = 1 << 16  # bytes read per batch (read1: never waits for more than is available)


def _err(text: str) -> None:
    sys.stderr.write(f"{PROG}: {text}\n")
    sys.stderr.flush()


def _output_closed(out: IO[bytes] | IO[str] | None = None) -> None:
    """The reader went away (``| head``): point the descriptor at /dev/null so that nothing
    written later, nor Python's final flush, raises ``BrokenPipeError`` again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, (out or sys.stdout).fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="UNS stream processor: JavaScript mappings over "
                                "timeseries messages.")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="{run,check}")

    def engine_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--engine", choices=("auto", "python", "quickjs"), default="auto",
                        help="expression engine (default: auto = python where possible, else QuickJS)")
        sp.add_argument("--time-limit", type=float, metavar="S",
                        help="QuickJS time limit per evaluation in seconds (default 1.0)")
        sp.add_argument("--memory-limit", type=int, metavar="BYTES",
                        help="QuickJS memory limit in bytes (default 64 MiB)")

    run = sub.add_parser("run", help="process JSON Lines messages")
    run.add_argument("config", help="processor configuration (YAML): bare, or a benthos-umh file")
    run.add_argument("--input", "-i", metavar="PATH", help="JSON Lines input (default: stdin, or the "
                     "benthos file's input: uns)")
    run.add_argument("--output", "-o", metavar="PATH",
                     help="JSON Lines output (default: stdout)")
    engine_arg(run)
    run.add_argument("--stats", action="store_true", help="print counters and msg/s to stderr at the end")
    run.add_argument("--log-level", default="info",
                     choices=("debug", "info", "warning", "error", "critical"),
                     help="runtime log level on stderr (default: info: connections, metrics address)")
    service_arguments(run)
    connectors.add_arguments(run)

    check = sub.add_parser("check", help="validate a configuration and describe its mappings")
    check.add_argument("config", help="processor configuration (YAML)")
    engine_arg(check)
    return p


def _port(text: str) -> int:
    """argparse type of a TCP port: an integer 0-65535 (0: a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}; expected an integer 0-65535") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}; expected an integer 0-65535")
    return port


def _number_in(low: float, high: float, what: str, unit: str):
    """An argparse type: a number from ``low`` to ``high`` (NaN and infinities refused)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:  # NaN fails too
            raise argparse.ArgumentTypeError(f"invalid {what} {text!r}; expected {unit} from {low:g} "
                                             f"to {high:g}")
        return value
    return parse


_seconds = _number_in(0.1, 1e9, "interval", "a number of seconds")
_milliseconds = _number_in(0.0, 1e9, "threshold", "milliseconds")


def service_arguments(run: argparse.ArgumentParser) -> None:
    """Running as a service: metrics, slow evaluations, periodic counters."""
    g = run.add_argument_group("service")
    g.add_argument("--metrics-port", type=_port, metavar="PORT",
                   help="serve Prometheus /metrics, /health and /ready on this port (0: a free one)")
    g.add_argument("--metrics-address", default="0.0.0.0", metavar="HOST",
                   help="address the metrics server listens on (default: 0.0.0.0)")
    g.add_argument("--slow-evaluation-ms", type=_milliseconds, default=DEFAULT_SLOW_THRESHOLD * 1000,
                   metavar="MS",
                   help="warn (rate-limited, naming the mapping) when one evaluation takes longer "
                        "(default: 10; 0: never; evaluations are timed in sampled batches, see README)")
    g.add_argument("--stats-interval", type=_seconds, metavar="SECONDS",
                   help="print the counters every SECONDS to stderr (JSON Lines and connectors)")
    g.add_argument("--no-progress", action="store_true",
                   help="no self-replacing progress line when stderr is a terminal")


def _limits(args: argparse.Namespace) -> Any:
    """The QuickJSLimits of ``--time-limit``/``--memory-limit`` (None: the defaults). Raises
    ``argparse.ArgumentError`` naming the option when QuickJSLimits refuses a value."""
    time_limit, memory_limit = getattr(args, "time_limit", None), getattr(args, "memory_limit", None)
    if time_limit is None and memory_limit is None:  # not given, or a command without them
        return None
    from transpiler.quickjs_engine import LimitError, QuickJSLimits

    options = {}
    if time_limit is not None:
        options["time_limit"] = time_limit
    if memory_limit is not None:
        options["memory_limit"] = memory_limit
    try:
        return QuickJSLimits(**options)
    except LimitError as exc:
        option = "--" + exc.field.replace("_", "-")
        raise argparse.ArgumentError(None, f"argument {option}: {exc}") from None


def _load(args: argparse.Namespace) -> tuple[Any, BenthosPipeline | None] | None:
    """The processor (or ``ProcessorSet``) of ``args.config`` and its Benthos file, or None after
    reporting why not."""
    try:
        processor, pipeline = benthos.load(args.config, engine=args.engine, limits=_limits(args))
        for note in pipeline.notes if pipeline is not None else ():
            _err(f"{args.config}: note: {note}")
        return processor, pipeline
    except FileNotFoundError:
        _err(f"configuration file not found: {args.config}")
    except OSError as exc:
        _err(f"cannot read configuration {args.config}: {exc.strerror or exc}")
    except ConfigError as exc:
        _err(f"{args.config}: invalid configuration:")
        for e in exc.errors:
            sys.stderr.write(f"  - {e}\n")
        sys.stderr.flush()
    return None


def _check(args: argparse.Namespace) -> int:
    loaded = _load(args)
    if loaded is None:
        return 2
    processor, pipeline = loaded
    out = sys.stdout
    members = getattr(processor, "processors", None) or (processor,)
    for n, member in enumerate(members):
        if len(members) > 1:
            out.write(("\n" if n else "") + f"pipeline.processors[{n}].stream_processor:\n")
        _describe(args.config, member, out)
    if pipeline is not None and pipeline.input is not None:
        i, o = pipeline.input, pipeline.output
        out.write(f"\ninput: uns: Kafka {i.broker_address}, topic {i.kafka_topic}, group "
                  f"{i.consumer_group or connectors.default_group(processor)}, topic patterns "
                  f"{list(i.topic_patterns)}\n")
        if o is not None:
            out.write(f"output: uns: Kafka {o.broker_address}, topic umh.messages, "
                      f"bridged_by {o.bridged_by}\n")
    out.flush()
    return 0


def _describe(config: str, processor: StreamProcessor, out: IO[str]) -> None:
    rows = [("path", "kind", "pure", "engine", "dependencies", "expression")]
    for r in processor.describe():
        rows.append((r.path, r.kind, "yes" if r.pure else "no", r.engine,
                     ", ".join(r.dependencies) or "-", r.expression))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    spec = processor.spec
    out.write(f"{config}: valid ({len(rows) - 1} mappings, {len(spec.sources)} sources)\n")
    out.write(f"output: {spec.output_topic}._{spec.model_name}_{spec.model_version}.<path>\n")
    for alias, topic in spec.sources.items():
        out.write(f"source {alias}: {topic}\n")
    out.write("\n")
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] + "\n")


def _use_benthos_io(args: argparse.Namespace, pipeline: BenthosPipeline | None) -> None:
    """A benthos file's ``input: uns`` / ``output: uns`` as Kafka connector options, unless the
    command line chose JSON Lines or MQTT (``--input``/``--output``/``--mqtt``); options given on
    the command line win (``--kafka`` over ``broker_address``, ``--group``, ``--topic``, ...)."""
    if pipeline is None or pipeline.input is None or args.mqtt:
        return
    if args.input is not None or args.output is not None:
        return
    uns_in, uns_out = pipeline.input, pipeline.output
    from_file = args.kafka is None
    args.kafka = args.kafka or uns_in.broker_address
    if args.topic == connectors.DEFAULT_TOPIC:
        args.topic = uns_in.kafka_topic
    args.group = args.group or uns_in.consumer_group
    if args.produce_topic is None and args.topic != benthos.DEFAULT_KAFKA_TOPIC:
        args.produce_topic = benthos.DEFAULT_KAFKA_TOPIC  # output: uns always writes umh.messages
    if uns_out is not None:
        if from_file and uns_out.broker_address != uns_in.broker_address:
            args.kafka_option = [f"producer.bootstrap.servers={uns_out.broker_address}",
                                 *(args.kafka_option or ())]
        args.extra_headers = [("bridged_by", uns_out.bridged_by)]
    args.accept_topic = uns_in.accepts


def _bad_line(line: bytes, lineno: int, obj: Any = None, exc: orjson.JSONDecodeError | None = None) -> bool:
    """Report why input line ``lineno`` is skipped (``exc``: it is not JSON; else ``obj`` is what
    it parsed to); False for a blank line, which is skipped silently."""
    if exc is not None:
        if not line.strip():
            return False
        _err(f"input line {lineno}: not valid JSON ({exc.msg}); skipped")
        return True
    if obj.__class__ is not dict:
        _err(f"input line {lineno}: expected an object {{\"payload\": ..., \"meta\": {{...}}}}; skipped")
        return True
    meta = obj.get("meta")
    if meta.__class__ is not dict or not all(v.__class__ is str for v in meta.values()):
        what = "lacks \"meta\"" if meta is None else "\"meta\" is not an object of strings"
        _err(f"input line {lineno}: {what}; skipped")
    else:
        _err(f"input line {lineno}: lacks \"payload\"; skipped")
    return True


def _writable(payload: object, lineno: int) -> bool:
    """Whether the parsed payload has a compact JSON text (the payload it stands for): orjson
    reads 1024 levels of nesting but writes at most 255. Reports the line when not."""
    try:
        orjson.dumps(payload)
    except orjson.JSONEncodeError as exc:
        _err(f"input line {lineno}: \"payload\" cannot be written back as JSON ({exc}); give it "
             f"as a string; skipped")
        return False
    return True


def _parse_lines(lines: list[bytes], lineno: int) -> tuple[list[tuple[object, dict]], int]:
    """Input lines -> ``(payload, meta)`` entries for ``StreamProcessor.write_json_lines``:
    a string payload is the payload text (as UTF-8 bytes), any other JSON value is passed
    parsed (the processor treats it exactly as its compact serialisation). Returns the entries
    and the number of bad lines (reported on stderr with their numbers, ``lineno`` being the
    number of the line before the first)."""
    entries: list[tuple[object, dict]] = []
    collecting = gc.isenabled()
    if collecting:  # as in process_batch: the parsed envelopes are acyclic, and collections
        gc.disable()  # passing over a chunk's worth of them cost ~8% of a run
    try:
        bad = _parse_into(entries, lines, lineno)
    finally:
        if collecting:
            gc.enable()
    return entries, bad


def _parse_into(entries: list[tuple[object, dict]], lines: list[bytes], lineno: int) -> int:
    append = entries.append
    bad = 0
    loads, decode_error = orjson.loads, orjson.JSONDecodeError
    for line in lines:
        lineno += 1
        try:
            obj = loads(line)
        except decode_error as exc:
            bad += _bad_line(line, lineno, exc=exc)
            continue
        if obj.__class__ is dict:
            try:
                meta = obj["meta"]
                payload = obj["payload"]
            except KeyError:
                meta = None
            if meta.__class__ is dict:
                for v in meta.values():
                    if v.__class__ is not str:
                        break
                else:
                    if payload.__class__ is str:
                        append((payload.encode("utf-8"), meta))
                    elif len(line) < 512 or _writable(payload, lineno):
                        # (shorter lines cannot nest 256 levels, beyond what orjson writes)
                        append((payload, meta))
                    else:
                        bad += 1
                    continue
        bad += _bad_line(line, lineno, obj)
    return bad


def _run(args: argparse.Namespace) -> int:
    level = getattr(logging, args.log_level.upper())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))
    runtime_logger = logging.getLogger("runtime")
    saved = runtime_logger.level, runtime_logger.propagate  # main() may run inside a host program
    runtime_logger.addHandler(handler)
    runtime_logger.setLevel(level)
    runtime_logger.propagate = False
    server = None
    try:
        loaded = _load(args)
        if loaded is None:
            return 2
        processor, pipeline = loaded
        _use_benthos_io(args, pipeline)
        # always instrumented (one batch in 64 timed: the slow-evaluation warning works without a
        # metrics server); the server only with --metrics-port
        slow = args.slow_evaluation_ms / 1000 if args.slow_evaluation_ms > 0 else float("inf")
        telemetry = Telemetry(processor, slow_threshold=slow, process_metrics=args.metrics_port is not None)
        if args.metrics_port is not None:
            try:
                server = MetricsServer(telemetry, args.metrics_port, args.metrics_address)
            except OSError as exc:
                _err(str(exc.strerror or exc))
                return 1
        if connectors.wants_connector(args):
            try:
                return connectors.run_connector(processor, args, prog=PROG, telemetry=telemetry)
            except connectors.ConnectorError as exc:
                _err(str(exc))
                return 1
        try:
            inp = sys.stdin.buffer if args.input in (None, "-") else open(args.input, "rb")  # noqa: SIM115
        except OSError as exc:
            _err(f"cannot open input {args.input}: {exc.strerror or exc}")
            return 2
        try:
            out = sys.stdout.buffer if args.output in (None, "-") else open(args.output, "wb")  # noqa: SIM115
        except OSError as exc:
            _err(f"cannot open output {args.output}: {exc.strerror or exc}")
            return 2
        telemetry.set_ready()
        progress = Progress(processor, interval=args.stats_interval, prog=PROG,
                            line=not args.no_progress and _is_terminal(sys.stderr)
                            and not _is_terminal(sys.stdout)).start()
        handler.addFilter(progress)  # a log line erases the progress line first
        try:
            return _pump(processor, inp, out, args, progress)
        finally:
            handler.removeFilter(progress)
            progress.stop()
            if inp is not sys.stdin.buffer:
                inp.close()
            if out is not sys.stdout.buffer:
                with contextlib.suppress(BrokenPipeError):
                    out.close()
    finally:
        if server is not None:
            server.close()
        runtime_logger.removeHandler(handler)
        runtime_logger.level, runtime_logger.propagate = saved


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _pump(processor: StreamProcessor, inp: IO[bytes], out: IO[bytes], args: argparse.Namespace,
          progress: Progress | None = None) -> int:
    started = time.perf_counter()
    lineno = 0
    bad_lines = 0
    partial: list[bytes] = []  # the start of a line not yet ended: joined once, when it ends
    status = 0
    read = inp.read1 if hasattr(inp, "read1") else inp.read
    write_json_lines = processor.write_json_lines
    try:
        while True:
            chunk = read(CHUNK)
            if not chunk:
                rest = b"".join(partial)
                lines = [rest] if rest.strip() else []
            else:
                end = chunk.rfind(b"\n")
                if end < 0:  # no line ends in this chunk: keep it, without copying what came before
                    partial.append(chunk)
                    continue
                if partial:
                    partial.append(chunk[:end])
                    lines = b"".join(partial).split(b"\n")
                else:
                    lines = chunk[:end].split(b"\n")
                partial = [chunk[end + 1:]]
            entries, bad = _parse_lines(lines, lineno)
            lineno += len(lines)
            bad_lines += bad
            outputs = write_json_lines(entries)
            if outputs:
                out.write(b"".join(outputs))
                out.flush()
            if not chunk:
                break
    except KeyboardInterrupt:
        _err("interrupted; outputs of the messages processed so far were written")
        status = 130
    except BrokenPipeError:
        _output_closed(out)  # the reader went away (e.g. `| head`): stop quietly
    if progress is not None:
        progress.stop()  # before the final lines: the progress line is erased
    processor.flush_log()
    if args.stats:
        elapsed = time.perf_counter() - started
        m = processor.metrics
        rate = m.messages_in / elapsed if elapsed > 0 else 0.0
        lines_out = [f"{k}: {v}" for k, v in m.as_dict().items()]
        lines_out.append(f"bad_input_lines: {bad_lines}")
        lines_out.append(f"elapsed_s: {elapsed:.3f}")
        lines_out.append(f"msg_per_s: {rate:,.0f}")
        sys.stderr.write("".join(f"{PROG}: stats: {x}\n" for x in lines_out))
        sys.stderr.flush()
    return status


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        _limits(args)  # a bad limit is a usage error (exit 2), before anything is loaded
    except argparse.ArgumentError as exc:
        parser.error(str(exc))
    if args.command == "run":
        problem = connectors.check_arguments(args)
        if problem:
            parser.error(problem)
    try:
        if args.command == "check":
            return _check(args)
        return _run(args)
    except BrokenPipeError:  # stdout closed by its reader (`check ... | head -1`): end quietly
        _output_closed()
        return 0


if __name__ == "__main__":
    sys.exit(main())
