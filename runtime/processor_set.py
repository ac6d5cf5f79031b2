"""Several stream processors on the same input: what a benthos-umh pipeline with several
``stream_processor`` entries becomes (``runtime.benthos``).

A ``ProcessorSet`` offers what the command line and the connectors use of a ``StreamProcessor``
(``process``, ``process_batch``, ``metrics``, ``state``, ``source_topics``, ``spec.sources``,
``flush_log``, ``describe``), so one consumer (one Kafka group, one MQTT session) feeds every
processor: each gets every input message and keeps its own state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from runtime.message import Message
from runtime.processor import MappingInfo, Metrics, StreamProcessor

__all__ = ["ProcessorSet", "processor_name"]

_SEP = "/"  # alias keys of a set's state: "<processor index>/<alias>"


def processor_name(processor: StreamProcessor) -> str:
    """``<output_topic>._<model>_<version>``: the data contract a processor writes."""
    spec = processor.spec
    return f"{spec.output_topic}._{spec.model_name}_{spec.model_version}"


@dataclass(frozen=True, slots=True)
class _SetSpec:
    sources: dict[str, str]  # "<index>/<alias>" -> topic (what connectors.common reads)


class ProcessorSet:
    """``ProcessorSet([p0, p1, ...])``: every message goes to every processor, in list order.

    ``process_batch`` (and the record and JSON Lines paths) return the outputs in input order,
    each input's outputs processor by processor, as ``process`` gives. ``metrics`` sums the
    processors' counters field by field (so ``messages_in`` counts a message once per processor);
    ``processors`` gives each one's own.
    """

    def __init__(self, processors: Iterable[StreamProcessor]) -> None:
        self.processors: tuple[StreamProcessor, ...] = tuple(processors)
        if not self.processors:
            raise ValueError("a ProcessorSet needs at least one processor")
        self.spec = _SetSpec({f"{i}{_SEP}{a}": t for i, p in enumerate(self.processors)
                              for a, t in p.spec.sources.items()})
        self.name = "+".join(processor_name(p) for p in self.processors)

    def process(self, message: Message) -> list[Message]:
        """Process one message with every processor; their outputs, processor by processor."""
        out: list[Message] = []
        for p in self.processors:
            out += p.process(message)
        return out

    def _interleaved(self, method: str, items: Iterable[Any]) -> list[Any]:
        """Each input's outputs from every processor (processor by processor), inputs in order:
        the same outputs in the same order whatever the batching. With several processors each
        input is a batch of one per processor; with one, the batch goes through as it is."""
        if not isinstance(items, list | tuple):
            items = list(items)
        calls = [getattr(p, method) for p in self.processors]
        if len(calls) == 1:
            return calls[0](items)
        out: list[Any] = []
        for item in items:
            one = (item,)
            for call in calls:
                out += call(one)
        return out

    def process_batch(self, messages: Iterable[Message]) -> list[Message]:
        """Process messages with every processor: the outputs of all inputs, in input order
        (an input's outputs processor by processor), as ``process`` on each message gives."""
        return self._interleaved("process_batch", messages)

    def process_records(self, records: Iterable[Any]) -> list[Any]:
        """``StreamProcessor.process_records`` of every processor, in input order."""
        return self._interleaved("process_records", records)

    def write_json_lines(self, entries: Iterable[Any]) -> list[bytes]:
        """``StreamProcessor.write_json_lines`` of every processor, in input order."""
        return self._interleaved("write_json_lines", entries)

    @property
    def metrics(self) -> Metrics:
        snaps = [p.metrics for p in self.processors]
        return Metrics(**{f.name: sum(getattr(s, f.name) for s in snaps) for f in fields(Metrics)})

    def state(self) -> dict[str, Any]:
        return {f"{i}{_SEP}{a}": v for i, p in enumerate(self.processors) for a, v in p.state().items()}

    @property
    def source_topics(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t for p in self.processors for t in p.source_topics))

    def describe(self) -> list[MappingInfo]:
        return [row for p in self.processors for row in p.describe()]

    def flush_log(self) -> None:
        for p in self.processors:
            p.flush_log()
