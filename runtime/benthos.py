"""benthos-umh configuration files as they are: ``input: uns``, ``pipeline.processors`` with
``stream_processor`` entries, ``output: uns``.

``load(path)`` reads either layout:

* a bare stream processor configuration (``output_topic``, ``model``, ``sources``, ``mapping``):
  one ``StreamProcessor``;
* a Benthos / benthos-umh file: every ``pipeline.processors[i].stream_processor`` becomes its own
  ``StreamProcessor`` (several are a ``ProcessorSet``: each gets every input message), and
  ``input.uns`` / ``output.uns`` become ``UnsInput`` / ``UnsOutput``, which the command line maps
  onto the Kafka connector when no ``--input``/``--kafka``/``--mqtt`` is given.

Benthos environment interpolation applies to every string of a Benthos file: ``${VAR}`` and
``${VAR:default}`` (``$${...}`` is a literal ``${...}``, as in Benthos: a JavaScript template
literal in a mapping is written ``$${press}`` there). Upstream's ``config/stream_processor.yaml``
nests ``processors: pipeline: stream_processor:``, which Benthos itself rejects: it is loaded
as ``pipeline.processors[0].stream_processor``, with a note saying how to write it.

Sources: benthos-umh ``uns_plugin/uns_input_config.go``, ``uns_input_processor.go`` (topic
patterns are unanchored RE2 searches on the record key, combined with ``|``; defaults
``umh.messages``, ``localhost:9092``), ``uns_output.go`` (``bridged_by`` header, default
``umh-core``; headers are the metadata except ``kafka_*``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runtime import yaml12
from runtime.config import ConfigError
from runtime.processor import StreamProcessor
from runtime.processor_set import ProcessorSet
from runtime.uns import location_problem, topic_problem

__all__ = ["BenthosPipeline", "UnsInput", "UnsOutput", "interpolate", "is_benthos", "load", "parse"]

DEFAULT_BROKER = "localhost:9092"
DEFAULT_KAFKA_TOPIC = "umh.messages"
DEFAULT_BRIDGED_BY = "umh-core"
DEFAULT_OUTPUT_UMH_TOPIC = '${! meta("umh_topic") }'

BARE_FIELDS = frozenset(("mode", "output_topic", "model", "sources", "mapping"))
BENTHOS_SECTIONS = frozenset(("input", "pipeline", "output", "processors"))
# Benthos service sections whose job streamproc's command line does: ignored with a note
SERVICE_SECTIONS = {
    "http": "--metrics-port serves /metrics, /health and /ready",
    "metrics": "--metrics-port serves Prometheus metrics",
    "logger": "--log-level sets the log level",
    "tracer": "streamproc has no tracing",
    "shutdown_timeout": "SIGINT/SIGTERM stop within a few seconds",
    "shutdown_delay": "SIGINT/SIGTERM stop within a few seconds",
}
INPUT_FIELDS = ("umh_topics", "umh_topic", "topic", "kafka_topic", "broker_address", "consumer_group",
                "metadata_format")
OUTPUT_FIELDS = ("umh_topic", "broker_address", "bridged_by", "schema_registry_url")
SUPPORTED = ("supported: input 'uns', pipeline.processors entries 'stream_processor', output 'uns' "
             "(or give --input/--kafka/--mqtt on the command line)")

# Benthos' environment interpolation (internal/config: ReplaceEnvVariables): ${NAME} or
# ${NAME:default}; $${...} escapes it.
_LITERAL = re.compile(r"[A-Za-z0-9._-]+")  # a topic pattern without regular expression operators
_ENV = re.compile(r"\$(\$?)\{([0-9A-Za-z_.]+)(?::((?:\$\{[^}]+\}|[^}])*))?\}")


@dataclass(frozen=True, slots=True)
class UnsInput:
    """``input.uns``: the record keys (``umh_topic``) accepted are those a pattern finds."""

    topic_patterns: tuple[str, ...] = (".*",)
    kafka_topic: str = DEFAULT_KAFKA_TOPIC
    broker_address: str = DEFAULT_BROKER
    consumer_group: str | None = None  # None: streamproc's default group (not benthos' 'uns_plugin')

    @property
    def regex(self) -> re.Pattern[str]:
        """The patterns combined as upstream does: ``(?:p1)|(?:p2)``, searched (unanchored)."""
        return re.compile("|".join(f"(?:{p})" for p in self.topic_patterns))

    def accepts(self, topic: str) -> bool:
        return self.regex.search(topic) is not None


@dataclass(frozen=True, slots=True)
class UnsOutput:
    """``output.uns``: produced to ``umh.messages`` with a ``bridged_by`` header."""

    broker_address: str = DEFAULT_BROKER
    bridged_by: str = DEFAULT_BRIDGED_BY


@dataclass(slots=True)
class BenthosPipeline:
    """A Benthos file, parsed: the bare configurations of its ``stream_processor`` entries (with
    the path of each), the ``uns`` input and output (None when absent), and notes for the user
    (ignored sections, the upstream layout)."""

    processors: list[tuple[str, dict]] = field(default_factory=list)  # (path, bare configuration)
    input: UnsInput | None = None
    output: UnsOutput | None = None
    notes: list[str] = field(default_factory=list)


def is_benthos(doc: object) -> bool:
    """A Benthos file has a top-level ``input``, ``pipeline``, ``output`` or ``processors``."""
    return isinstance(doc, Mapping) and any(k in BENTHOS_SECTIONS for k in doc)


def interpolate(value: Any, path: str, errors: list[str], environ: Mapping[str, str] | None = None) -> Any:
    """``value`` with ``${VAR}`` / ``${VAR:default}`` replaced in every string (keys included);
    an unset variable without a default is an error naming the field."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        def repl(m: re.Match[str]) -> str:
            escaped, name, default = m.group(1), m.group(2), m.group(3)
            if escaped:
                return m.group(0)[1:]
            if name in env:
                return env[name]
            if default is not None:
                return default
            errors.append(f"{path}: environment variable '{name}' is not set (and '${{{name}}}' has no "
                          f"default: write '${{{name}:default}}')")
            return ""
        return _ENV.sub(repl, value) if "${" in value else value
    if isinstance(value, Mapping):
        prefix = f"{path}." if path else ""
        return {interpolate(k, f"{prefix}{k}", errors, env): interpolate(v, f"{prefix}{k}", errors, env)
                for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, f"{path}[{i}]", errors, env) for i, v in enumerate(value)]
    return value


def _component(node: object, where: str, errors: list[str]) -> tuple[str, Any] | None:
    """A Benthos component: a mapping with one component key (and optionally ``label``)."""
    if not isinstance(node, Mapping):
        errors.append(f"{where}: expected a component (a mapping such as {{stream_processor: ...}}), "
                      f"got {type(node).__name__}")
        return None
    keys = [k for k in node if k != "label"]
    if "processors" in keys and len(keys) > 1:  # Benthos lets inputs/outputs carry processors
        errors.append(f"{where}.processors: processors attached to the {where} are not supported "
                      f"(only pipeline.processors[].stream_processor; {SUPPORTED})")
        keys.remove("processors")
    if len(keys) != 1:
        shown = ", ".join(map(str, keys)) or "none"
        errors.append(f"{where}: expected exactly one component, got {shown}")
        return None
    return str(keys[0]), node[keys[0]]


def _strings(value: object, where: str, errors: list[str]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    errors.append(f"{where}: expected a string or a list of strings")
    return []


def _string(node: Mapping, key: str, where: str, errors: list[str]) -> str | None:
    v = node.get(key)
    if v is None:
        return None
    if not isinstance(v, str) or not v.strip():
        errors.append(f"{where}.{key}: expected a non-empty string, got {v!r}")
        return None
    return v


def _uns_body(comp: tuple[str, object], kind: str, fields: tuple[str, ...],
              errors: list[str]) -> Mapping | None:
    """The body of an ``input``/``output`` component that must be ``uns``: its mapping (its
    unknown fields reported), or None after reporting why not."""
    name, body = comp
    if name != "uns":
        errors.append(f"{kind}: {kind} '{name}' is not supported ({SUPPORTED})")
        return None
    body = body if body is not None else {}
    if not isinstance(body, Mapping):
        errors.append(f"{kind}.uns: expected a mapping, got {type(body).__name__}")
        return None
    for key in body:
        if key not in fields:
            errors.append(f"{kind}.uns.{key}: unknown field (expected one of: {', '.join(fields)})")
    return body


def _parse_input(node: object, errors: list[str], notes: list[str]) -> UnsInput | None:
    comp = _component(node, "input", errors)
    if comp is None:
        return None
    body = _uns_body(comp, "input", INPUT_FIELDS, errors)
    if body is None:
        return None
    patterns: list[str] = []
    for key in ("umh_topics", "umh_topic", "topic"):
        if key in body:
            patterns += _strings(body[key], f"input.uns.{key}", errors)
    if "topic" in body:
        notes.append("input.uns.topic is deprecated in benthos-umh: use umh_topic or umh_topics")
    if "umh_topics" in body and "umh_topic" in body:
        notes.append("input.uns: benthos-umh documents umh_topic and umh_topics as exclusive; "
                     "both are used (their patterns combined)")
    for i, p in enumerate(patterns):
        try:
            re.compile(p)
        except re.error as exc:
            errors.append(f"input.uns: topic pattern {i} {p!r} is not a valid regular expression: {exc}")
            continue
        if _LITERAL.fullmatch(p) and topic_problem(p) and location_problem(p):
            # written like a topic (no regular expression operator but '.'), yet none: a typo?
            notes.append(f"input.uns: topic pattern {i} is neither a UNS topic nor a location "
                         f"({topic_problem(p)}); as a regular expression it matches topics containing it")
    fmt = body.get("metadata_format", "string")
    if fmt != "string":
        errors.append(f"input.uns.metadata_format: {fmt!r} is not supported (metadata are strings: "
                      f"'string')")
    return UnsInput(
        topic_patterns=tuple(dict.fromkeys(patterns)) or (".*",),
        kafka_topic=_string(body, "kafka_topic", "input.uns", errors) or DEFAULT_KAFKA_TOPIC,
        broker_address=_string(body, "broker_address", "input.uns", errors) or DEFAULT_BROKER,
        consumer_group=_string(body, "consumer_group", "input.uns", errors),
    )


def _parse_output(node: object, errors: list[str], notes: list[str]) -> UnsOutput | None:
    comp = _component(node, "output", errors)
    if comp is None:
        return None
    body = _uns_body(comp, "output", OUTPUT_FIELDS, errors)
    if body is None:
        return None
    topic = body.get("umh_topic")
    if topic is not None and topic.replace(" ", "") != DEFAULT_OUTPUT_UMH_TOPIC.replace(" ", ""):
        problem = topic_problem(topic, "topic") if isinstance(topic, str) else "not a string"
        errors.append(f"output.uns.umh_topic: only the default {DEFAULT_OUTPUT_UMH_TOPIC} is supported: "
                      f"each output's topic is the one its mapping writes"
                      + (f" ({problem})" if problem else ""))
    if "schema_registry_url" in body:
        notes.append("output.uns.schema_registry_url: ignored (streamproc does not validate outputs "
                     "against a schema registry)")
    return UnsOutput(
        broker_address=_string(body, "broker_address", "output.uns", errors) or DEFAULT_BROKER,
        bridged_by=_string(body, "bridged_by", "output.uns", errors) or DEFAULT_BRIDGED_BY,
    )


def _processor_entries(entries: object, where: str, out: list[tuple[str, dict]], errors: list[str]) -> None:
    if isinstance(entries, Mapping):  # a single component where Benthos wants a list
        entries = [entries]
    if not isinstance(entries, list):
        errors.append(f"{where}: expected a list of processors, got {type(entries).__name__}")
        return
    for i, entry in enumerate(entries):
        comp = _component(entry, f"{where}[{i}]", errors)
        if comp is None:
            continue
        name, body = comp
        if name != "stream_processor":
            errors.append(f"{where}[{i}]: processor '{name}' is not supported ({SUPPORTED})")
            continue
        if not isinstance(body, Mapping):
            errors.append(f"{where}[{i}].stream_processor: expected a mapping, got {type(body).__name__}")
            continue
        out.append((f"{where}[{i}].stream_processor", dict(body)))


UPSTREAM_LAYOUT_NOTE = (
    "processors.pipeline.stream_processor: this is the layout of benthos-umh's "
    "config/stream_processor.yaml, which Benthos itself rejects (its key is 'pipeline' with a "
    "'processors' list); loaded as pipeline.processors[0].stream_processor. Write it as\n"
    "    pipeline:\n      processors:\n        - stream_processor:\n            mode: timeseries\n"
    "            ...")


def parse(doc: Mapping, environ: Mapping[str, str] | None = None,
          problems: list[str] | None = None) -> BenthosPipeline:
    """A Benthos document (``is_benthos(doc)``) as a ``BenthosPipeline``; ``ConfigError`` listing
    every problem (``problems`` found before, e.g. the YAML loader's duplicate keys, then
    unsupported components, unknown fields, unset environment variables)."""
    errors: list[str] = list(problems or ())
    result = BenthosPipeline()
    doc = interpolate(dict(doc), "", errors, environ)
    for key in doc:
        if key in BENTHOS_SECTIONS:
            continue
        if key in SERVICE_SECTIONS:
            result.notes.append(f"{key}: ignored ({SERVICE_SECTIONS[key]})")
        elif key in BARE_FIELDS:
            errors.append(f"{key}: a stream processor field at the top of a Benthos file: put it under "
                          f"pipeline.processors[0].stream_processor (or remove input/pipeline/output to "
                          f"use the bare configuration)")
        else:
            errors.append(f"{key}: Benthos section '{key}' is not supported ({SUPPORTED})")

    if "pipeline" in doc:
        pipeline = doc["pipeline"]
        if not isinstance(pipeline, Mapping):
            errors.append(f"pipeline: expected a mapping with a 'processors' list, "
                          f"got {type(pipeline).__name__}")
        else:
            for key in pipeline:
                if key == "threads":
                    result.notes.append("pipeline.threads: ignored (a configuration's state is one "
                                        "sequence: one processing thread; scale out with more processes)")
                elif key != "processors":
                    errors.append(f"pipeline.{key}: unknown field (expected processors)")
            _processor_entries(pipeline.get("processors", []), "pipeline.processors", result.processors,
                               errors)
    if "processors" in doc:
        node = doc["processors"]
        inner = node.get("pipeline") if isinstance(node, Mapping) and set(node) == {"pipeline"} else None
        if inner is not None:  # upstream's example: processors: {pipeline: {stream_processor: ...}}
            found: list[tuple[str, dict]] = []
            _processor_entries(inner, "processors.pipeline", found, errors)
            base = len(result.processors)
            result.processors += [(f"pipeline.processors[{base + i}].stream_processor", c)
                                  for i, (_, c) in enumerate(found)]
            result.notes.append(UPSTREAM_LAYOUT_NOTE)
        else:
            errors.append("processors: not a Benthos section; write the processors as\n"
                          "    pipeline:\n      processors:\n        - stream_processor: {...}")
    if not result.processors and not errors:
        errors.append("pipeline.processors: no stream_processor entry (expected pipeline.processors: "
                      "[{stream_processor: {...}}])")

    if "input" in doc:
        result.input = _parse_input(doc["input"], errors, result.notes)
    if "output" in doc:
        result.output = _parse_output(doc["output"], errors, result.notes)
    if result.input is not None and result.output is None and "output" not in doc:
        errors.append("output: missing: with input 'uns' the outputs go back to the UNS: add "
                      "'output: {uns: {}}'")
    if result.output is not None and result.input is None and "input" not in doc:
        errors.append("input: missing: with output 'uns' add 'input: {uns: {umh_topics: [...]}}' "
                      "(or give --kafka on the command line)")
    if errors:
        raise ConfigError(errors)
    return result


def read_yaml(path: str | Path) -> tuple[Any, list[str]]:
    """The YAML 1.2 document of ``path`` (``runtime.yaml12``: every scalar the text written) and
    its duplicate-key problems; ``OSError`` if unreadable, ``ConfigError`` for a syntax error."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        doc, problems = yaml12.load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: YAML syntax error: {exc}"]) from None
    return (doc if doc is not None else {}), [f"{path}: {p}" for p in problems]


def load(path: str | Path, *, environ: Mapping[str, str] | None = None,
         **options: Any) -> tuple[StreamProcessor | ProcessorSet, BenthosPipeline | None]:
    """The processor(s) of a configuration file, bare or Benthos, and the parsed Benthos file
    (None for a bare configuration). ``options`` go to ``StreamProcessor`` (``engine``,
    ``limits``). Raises ``OSError`` and ``ConfigError`` (every problem of every entry, each
    prefixed with its path in the file)."""
    doc, problems = read_yaml(path)
    if not is_benthos(doc):
        return StreamProcessor.from_yaml(path, **options), None
    pipeline = parse(doc, environ, problems)
    processors: list[StreamProcessor] = []
    errors: list[str] = []
    for where, config in pipeline.processors:
        try:
            processors.append(StreamProcessor(config, **options))
        except ConfigError as exc:
            errors += [f"{where}: {e}" for e in exc.errors]
    if errors:
        raise ConfigError(errors)
    if pipeline.input is not None:
        for p in processors:
            for topic in p.source_topics:
                if not pipeline.input.accepts(topic):
                    pipeline.notes.append(
                        f"input.uns: source topic {topic} matches none of the topic patterns "
                        f"{list(pipeline.input.topic_patterns)}: it will receive no messages")
    if len(processors) == 1:
        return processors[0], pipeline
    return ProcessorSet(processors), pipeline
