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
import os
import sys
import time
from typing import IO, Any

import orjson

from runtime import connectors
from runtime.config import ConfigError
from runtime.processor import StreamProcessor

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
    sub = p.add_subparsers(dest="command", required=True, metavar="{run,check}")

    def engine_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--engine", choices=("auto", "python", "quickjs"), default="auto",
                        help="expression engine (default: auto = python where possible, else QuickJS)")
        sp.add_argument("--time-limit", type=float, metavar="S",
                        help="QuickJS time limit per evaluation in seconds (default 1.0)")
        sp.add_argument("--memory-limit", type=int, metavar="BYTES",
                        help="QuickJS memory limit in bytes (default 64 MiB)")

    run = sub.add_parser("run", help="process JSON Lines messages")
    run.add_argument("config", help="processor configuration (YAML)")
    run.add_argument("--input", "-i", default="-", metavar="PATH", help="JSON Lines input (default: stdin)")
    run.add_argument("--output", "-o", default="-", metavar="PATH",
                     help="JSON Lines output (default: stdout)")
    engine_arg(run)
    run.add_argument("--stats", action="store_true", help="print counters and msg/s to stderr at the end")
    run.add_argument("--log-level", default="warning",
                     choices=("debug", "info", "warning", "error", "critical"),
                     help="runtime log level on stderr (default: warning)")
    connectors.add_arguments(run)

    check = sub.add_parser("check", help="validate a configuration and describe its mappings")
    check.add_argument("config", help="processor configuration (YAML)")
    engine_arg(check)
    return p


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


def _load(args: argparse.Namespace) -> StreamProcessor | None:
    try:
        return StreamProcessor.from_yaml(args.config, engine=args.engine, limits=_limits(args))
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
    processor = _load(args)
    if processor is None:
        return 2
    rows = [("path", "kind", "pure", "engine", "dependencies", "expression")]
    for r in processor.describe():
        rows.append((r.path, r.kind, "yes" if r.pure else "no", r.engine,
                     ", ".join(r.dependencies) or "-", r.expression))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    out = sys.stdout
    spec = processor.spec
    out.write(f"{args.config}: valid ({len(rows) - 1} mappings, {len(spec.sources)} sources)\n")
    out.write(f"output: {spec.output_topic}._{spec.model_name}_{spec.model_version}.<path>\n")
    for alias, topic in spec.sources.items():
        out.write(f"source {alias}: {topic}\n")
    out.write("\n")
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] + "\n")
    out.flush()
    return 0


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
    try:
        processor = _load(args)
        if processor is None:
            return 2
        if connectors.wants_connector(args):
            try:
                return connectors.run_connector(processor, args, prog=PROG)
            except connectors.ConnectorError as exc:
                _err(str(exc))
                return 1
        try:
            inp = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115
        except OSError as exc:
            _err(f"cannot open input {args.input}: {exc.strerror or exc}")
            return 2
        try:
            out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")  # noqa: SIM115
        except OSError as exc:
            _err(f"cannot open output {args.output}: {exc.strerror or exc}")
            return 2
        try:
            return _pump(processor, inp, out, args)
        finally:
            if inp is not sys.stdin.buffer:
                inp.close()
            if out is not sys.stdout.buffer:
                with contextlib.suppress(BrokenPipeError):
                    out.close()
    finally:
        runtime_logger.removeHandler(handler)
        runtime_logger.level, runtime_logger.propagate = saved


def _pump(processor: StreamProcessor, inp: IO[bytes], out: IO[bytes], args: argparse.Namespace) -> int:
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
    if args.command == "run" and connectors.wants_connector(args):
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
