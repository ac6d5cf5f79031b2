"""Configuration: validation (every problem at once) and compilation of the mapping expressions."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.encode import BadResult, value_bytes
from runtime.uns import location_problem, path_problem, segment_problem, topic_problem
from runtime.yaml12 import NullKey
from transpiler import ExpressionError, compile_expression
from transpiler.jslib.numbers import number_to_string
from transpiler.policy import identifier_problem

__all__ = ["ConfigError", "MappingSpec", "ProcessorSpec", "parse_config", "alias_problem"]

FIELDS = ("mode", "output_topic", "model", "sources", "mapping")
MODES = ("timeseries",)
LOAD_TIME_LIMIT = 1.0  # seconds: a static evaluated at load when the run-time limit is off (<= 0)


class ConfigError(ValueError):
    """The configuration is invalid; ``errors`` lists every problem, each naming its field."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        n = len(self.errors)
        head = f"invalid stream processor configuration ({n} problem{'s' if n != 1 else ''})"
        super().__init__(head + ":\n" + "\n".join(f"  - {e}" for e in self.errors))


@dataclass(slots=True)
class MappingSpec:
    path: str  # dotted mapping path
    source: str  # the expression text
    output_topic: str
    compiled: Any = None  # CompiledExpression
    static_bytes: bytes | None = None  # a pure static: JSON.stringify of its value, computed at load


@dataclass(slots=True)
class ProcessorSpec:
    output_topic: str
    model_name: str
    model_version: str
    sources: dict[str, str]  # alias -> topic, document order
    mappings: list[MappingSpec] = field(default_factory=list)


def alias_problem(alias: object) -> str | None:
    """Why ``alias`` cannot name a source, or None: the identifier rule of compile_expression."""
    problem = identifier_problem(alias)
    return None if problem is None else f"alias {problem}"


def _scalar_text(v: object) -> str | None:
    """YAML scalars that may stand for text: strings, and integers (``version: 1``)."""
    if isinstance(v, str):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return None


def _expression_text(v: object) -> str | None:
    """A mapping leaf: a string, or a YAML number/boolean taken as the expression of its text."""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return number_to_string(v)
    return None


def _flatten(node: Mapping, prefix: str, out: list[tuple[str, object]], errors: list[str]) -> None:
    """Nested mappings become dotted paths; each key is a UNS path (``uns.path_problem``), since
    it becomes the end of the output topic."""
    for key, value in node.items():
        if isinstance(key, bool) or not isinstance(key, (str, int)) or key == "":
            shown = "null" if key is None else key  # YAML's null keys print as written (NullKey)
            got = "an empty string" if key == "" else _type_name(key)
            errors.append(f"mapping '{prefix}{shown}': a field name must be a non-empty string, "
                          f"got {got}")
            continue
        path = f"{prefix}{key}"
        problem = path_problem(str(key), "name")
        if problem is not None:
            errors.append(f"mapping '{path}': {problem}")
            continue
        if isinstance(value, Mapping):
            if not value:
                errors.append(f"mapping '{path}': an empty mapping (no expressions under it)")
            _flatten(value, path + ".", out, errors)
        else:
            out.append((path, value))


_ASCII_NAME = re.compile(r"[A-Za-z0-9_$]+")


def _candidates(text: str, variables: tuple[str, ...], variable_set: frozenset[str]) -> tuple[str, ...]:
    """The sources an expression can reference, so that compiling it costs its own length, not
    the number of sources (10,000 sources x 10,000 mappings must not be quadratic). In ASCII
    text without escapes every identifier is a maximal run of ``[A-Za-z0-9_$]``, so the runs
    that are source aliases are a superset of its references; the transpiler decides which are
    references. Anything else (Unicode identifiers, ``\\u`` escapes) gets every source."""
    if not text.isascii() or "\\" in text:
        return variables
    return tuple(dict.fromkeys(n for n in _ASCII_NAME.findall(text) if n in variable_set))


def _static_problem(compiled: Any, text: str, engine: str,
                    limits: Any) -> tuple[Any, bytes | None, str | None]:
    """Evaluate a pure static once, at load: (the compiled expression used, its output value
    bytes, or the reason it can never produce output). With the run-time time limit off
    (``time_limit <= 0``) the evaluation still gets ``LOAD_TIME_LIMIT``: loading must end."""
    base = getattr(limits, "limits", limits)  # a configuration's QuickJSEngine carries its limits
    if compiled.engine == "quickjs" and base is not None and not base.time_limit > 0:
        load_limits = dataclasses.replace(base, time_limit=LOAD_TIME_LIMIT)
        compiled = compile_expression(text, (), engine=engine, limits=load_limits)
    try:
        return compiled, value_bytes(compiled.fn()), None
    except BadResult as exc:
        reason = f"its value is {str(exc).removeprefix('result is ')}"
    except Exception as exc:  # noqa: BLE001 - JSError, or anything the evaluation raised
        what = f"{exc.name}: {exc.message}" if hasattr(exc, "name") and hasattr(exc, "message") \
            else f"{type(exc).__name__}: {exc}"
        reason = f"evaluating it at load failed: {what}"
    return compiled, None, f"{reason}; a static mapping is evaluated once, so it can never produce output"


def _shown(text: str) -> str:
    """An expression in an error message: as written, cut after 80 characters."""
    return text if len(text) <= 80 else text[:80] + "..."


def _type_name(v: object) -> str:
    return {list: "a list", dict: "a mapping", type(None): "null", NullKey: "null"}.get(
        type(v), type(v).__name__)


def parse_config(config: object, *, engine: str = "auto", limits: Any = None,
                 problems: Iterable[str] = ()) -> ProcessorSpec:
    """Validate ``config`` and compile its expressions; raise ``ConfigError`` listing every problem
    (``problems`` found before, e.g. the YAML loader's duplicate keys, come first).

    Topics and names follow the UNS rules (``runtime.uns``); a pure static mapping is evaluated
    here, and one whose value can never be output is a problem like a syntax error."""
    if engine not in ("auto", "python", "quickjs"):
        raise ValueError(f"engine must be 'auto', 'python' or 'quickjs', not {engine!r}")
    errors: list[str] = list(problems)
    if not isinstance(config, Mapping):
        raise ConfigError([*errors, f"configuration: expected a mapping, got {_type_name(config)}"])

    for key in config:
        if key not in FIELDS:
            errors.append(f"{key}: unknown field (expected one of: {', '.join(FIELDS)})")

    mode = config.get("mode")
    if mode is not None and mode not in MODES:
        errors.append(f"mode: unknown mode {mode!r} (expected 'timeseries')")

    output_topic = config.get("output_topic")
    if output_topic is None:
        errors.append("output_topic: missing")
        output_topic = ""
    elif not isinstance(output_topic, str) or not output_topic.strip():
        errors.append("output_topic: must be a non-empty string")
        output_topic = ""
    else:
        problem = location_problem(output_topic, "output_topic")
        if problem is not None:
            errors.append(f"output_topic: {problem}")

    model = config.get("model")
    name = version = ""
    if model is None:
        errors.append("model.name: missing")
        errors.append("model.version: missing")
    elif not isinstance(model, Mapping):
        errors.append(f"model: expected a mapping with name and version, got {_type_name(model)}")
    else:
        for key in model:
            if key not in ("name", "version"):
                errors.append(f"model.{key}: unknown field (expected name, version)")
        parts = []
        for key in ("name", "version"):
            raw = model.get(key)
            text = _scalar_text(raw)
            if raw is None:
                errors.append(f"model.{key}: missing")
            elif text is None or not text.strip():
                errors.append(f"model.{key}: must be a non-empty string")
            else:
                problem = segment_problem(text, f"model.{key}")
                if problem is not None:
                    errors.append(f"model.{key}: {problem}")
            parts.append(text or "")
        name, version = parts

    sources_raw = config.get("sources")
    sources: dict[str, str] = {}
    if sources_raw is None:
        errors.append("sources: missing (at least one source is required)")
    elif not isinstance(sources_raw, Mapping):
        errors.append(f"sources: expected a mapping of alias to topic, got {_type_name(sources_raw)}")
    elif not sources_raw:
        errors.append("sources: at least one source is required")
    else:
        for alias, topic in sources_raw.items():
            problem = alias_problem(alias)
            if problem:
                errors.append(f"sources.{alias}: {problem}")
            if not isinstance(topic, str) or not topic.strip():
                errors.append(f"sources.{alias}: topic must be a non-empty string")
            elif (topic_error := topic_problem(topic, "topic")) is not None:
                errors.append(f"sources.{alias}: {topic_error}")
            elif problem is None:
                sources[alias] = topic  # type: ignore[index]

    mapping_raw = config.get("mapping")
    leaves: list[tuple[str, object]] = []
    if mapping_raw is not None:
        if not isinstance(mapping_raw, Mapping):
            errors.append("mapping: expected a mapping of field to expression, "
                          f"got {_type_name(mapping_raw)}")
        else:
            _flatten(mapping_raw, "", leaves, errors)

    prefix = f"{output_topic}._{name}_{version}."
    variables = tuple(sources)
    variable_set = frozenset(variables)
    var_list = ", ".join(variables) if variables else "none"
    mappings: list[MappingSpec] = []
    seen: set[str] = set()
    for path, raw in leaves:
        if path in seen:
            errors.append(f"mapping '{path}': defined twice")
            continue
        seen.add(path)
        text = _expression_text(raw)
        if text is None:
            if raw is None:
                errors.append(f"mapping '{path}': missing expression")
            else:
                errors.append(f"mapping '{path}': expected a JavaScript expression, got {_type_name(raw)}")
            continue
        if not text.strip():
            errors.append(f"mapping '{path}': empty expression")
            continue
        try:
            try:
                compiled = compile_expression(text, _candidates(text, variables, variable_set),
                                              engine=engine, limits=limits)
            except ExpressionError:  # reported against every source, as without the index
                compiled = compile_expression(text, variables, engine=engine, limits=limits)
        except ExpressionError as exc:
            message = str(exc).replace("(variables: ", "(sources: ")
            if "unknown identifier" in message and "sources:" not in message:
                message += f" (sources: {var_list})"
            errors.append(f"mapping '{path}' ({_shown(text)}): {message}")
            continue
        static_bytes = None
        if compiled.is_static and compiled.is_pure:
            compiled, static_bytes, problem = _static_problem(compiled, text, engine, limits)
            if problem is not None:
                errors.append(f"mapping '{path}' ({_shown(text)}): {problem}")
                continue
        mappings.append(MappingSpec(path, text, prefix + path, compiled, static_bytes))

    if errors:
        raise ConfigError(errors)
    return ProcessorSpec(output_topic, name, version, sources, mappings)
