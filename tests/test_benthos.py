"""benthos-umh configuration files as they are (``runtime.benthos``): upstream's example file, the
standard layout with several ``stream_processor`` entries, environment interpolation, the ``uns``
input/output mapped onto the Kafka connector, and the errors for what is not supported."""

from __future__ import annotations

import collections
import re
import signal
import time
from pathlib import Path

import pytest
from test_connectors_kafka import FAST_ARGS, PUMP_OUT, TOPIC, OutputReader, committed

from runtime import ConfigError, Message, StreamProcessor
from runtime.benthos import UPSTREAM_LAYOUT_NOTE, interpolate, is_benthos, load, parse
from runtime.cli import main
from runtime.connectors.testing import (
    MockKafkaCluster,
    ProcessorProcess,
    jsonl_outputs,
    kafka_records_from_jsonl,
    wait_until,
)
from runtime.processor_set import ProcessorSet

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
UPSTREAM = EXAMPLES / "benthos-umh" / "stream_processor.yaml"  # benthos-umh config/stream_processor.yaml
TWO = EXAMPLES / "benthos-umh" / "pump-and-boiler.yaml"
BOILER_OUT = "umh.v1.acme.hamburg.utilities.boiler2._boiler_v2."


@pytest.fixture
def bootstrap():
    with MockKafkaCluster() as bs:
        yield bs


def both_jsonl(tmp_path: Path) -> Path:
    p = tmp_path / "both.jsonl"
    p.write_bytes((EXAMPLES / "pump.jsonl").read_bytes() + (EXAMPLES / "boiler.jsonl").read_bytes())
    return p


def norm(rows) -> collections.Counter:
    return collections.Counter((t, p, tuple(sorted(m.items()))) for t, p, m, *_ in rows)


# --------------------------------------------------------------------------- loading
def test_upstream_example_file_loads_with_a_note_saying_what_to_change(capsys):
    """Upstream's file nests processors: pipeline: stream_processor:, which Benthos rejects; it
    loads, and check says how to write it in the Benthos layout."""
    assert main(["check", str(UPSTREAM)]) == 0
    captured = capsys.readouterr()
    assert "valid (6 mappings, 3 sources)" in captured.out
    assert "combined" in captured.out and "press+tF" in captured.out
    assert "processors.pipeline.stream_processor" in captured.err
    assert "pipeline:\n      processors:\n        - stream_processor:" in captured.err
    processor, pipeline = load(UPSTREAM)
    assert isinstance(processor, StreamProcessor)
    assert pipeline.notes == [UPSTREAM_LAYOUT_NOTE]
    assert pipeline.input.topic_patterns == tuple(processor.source_topics)
    assert pipeline.input.broker_address == "localhost:9092" and pipeline.input.kafka_topic == "umh.messages"
    assert pipeline.output.bridged_by == "umh-core"


def test_the_upstream_layout_written_the_benthos_way_is_the_same_processor():
    doc = {"input": {"uns": {}}, "output": {"uns": {}},
           "pipeline": {"processors": [{"stream_processor": {"output_topic": "umh.v1.a", "model": {
               "name": "m", "version": "v1"}, "sources": {"x": "umh.v1.a._raw.x"},
               "mapping": {"y": "x*2"}}}]}}
    upstream = {**doc, "processors": {"pipeline": doc["pipeline"]["processors"][0]}}
    del upstream["pipeline"]
    a, b = parse(doc), parse(upstream)
    assert a.processors == b.processors and a.input == b.input and a.output == b.output
    assert b.notes == [UPSTREAM_LAYOUT_NOTE] and a.notes == []


def test_two_stream_processors_each_run_on_the_same_input(tmp_path):
    processor, pipeline = load(TWO, environ={})
    assert isinstance(processor, ProcessorSet) and len(processor.processors) == 2
    pump, boiler = processor.processors
    assert pump.spec.model_name == "pump" and boiler.spec.model_name == "boiler"
    # each entry alone, on every message, gives exactly what the set gives for that processor
    lines = [m for m in _messages(both_jsonl(tmp_path))]
    together = processor.process_batch(lines)
    alone = [StreamProcessor(c) for _, c in pipeline.processors]
    # in input order, each input's outputs processor by processor: what process() gives
    assert together == [o for m in lines for p in alone for o in p.process(m)]
    assert len(together) == sum(p.metrics.outputs for p in alone) > 0
    # the same outputs whatever the batching (record and JSON Lines paths too)
    again, _ = load(TWO, environ={})
    assert [o for i in range(0, len(lines), 7) for o in again.process_batch(lines[i:i + 7])] == together
    records = [(m.meta["umh_topic"], m.payload, None) for m in lines if "umh_topic" in m.meta]
    fresh, _ = load(TWO, environ={})
    whole = fresh.process_records(records)
    fresh, _ = load(TWO, environ={})
    split = [r for i in range(0, len(records), 5) for r in fresh.process_records(records[i:i + 5])]
    assert whole == split
    assert [(r[0], r[1]) for r in whole] == [(o.meta["umh_topic"], o.payload) for o in together]
    assert any(m.meta["umh_topic"].startswith(PUMP_OUT) for m in together)
    assert any(m.meta["umh_topic"].startswith(BOILER_OUT) for m in together)
    # the set's counters are the sums of its processors'
    total = processor.metrics.as_dict()
    for key, value in total.items():
        assert value == pump.metrics.as_dict()[key] + boiler.metrics.as_dict()[key]
    assert processor.source_topics == tuple(dict.fromkeys(pump.source_topics + boiler.source_topics))


def _messages(path: Path) -> list[Message]:
    import orjson

    out = []
    for line in path.read_bytes().splitlines():
        o = orjson.loads(line)
        p = o["payload"]
        out.append(Message(p.encode() if isinstance(p, str) else orjson.dumps(p), o["meta"]))
    return out


def test_environment_interpolation():
    env = {"BROKER": "kafka-1:9092", "GROUP": "g1", "A.B": "dotted"}
    errors: list[str] = []
    doc = {"x": "${BROKER}", "y": ["${MISSING:fallback:with:colons}", "a${GROUP}b${A.B}"],
           "z": {"${GROUP}": "$${BROKER} stays", "t": "`${(v / 2).toFixed(1)}` and ${} untouched"}, "n": 5}
    got = interpolate(doc, "", errors, env)
    assert errors == []
    assert got == {"x": "kafka-1:9092", "y": ["fallback:with:colons", "ag1bdotted"],
                   "z": {"g1": "${BROKER} stays", "t": "`${(v / 2).toFixed(1)}` and ${} untouched"}, "n": 5}
    # an unset variable without a default names the field and the variable
    errors.clear()
    interpolate({"input": {"uns": {"broker_address": "${NOPE}"}}}, "", errors, {})
    assert errors == ["input.uns.broker_address: environment variable 'NOPE' is not set (and '${NOPE}' has "
                      "no default: write '${NOPE:default}')"]


def test_interpolation_reaches_mappings_and_uns_fields():
    env = {"KAFKA_BROKER": "k:1", "PUMP_SERIAL": "SN-1", "BRIDGED_BY": "me"}
    processor, pipeline = load(TWO, environ=env)
    assert pipeline.input.broker_address == "k:1" and pipeline.output.bridged_by == "me"
    assert pipeline.input.consumer_group == "streamproc-pump-and-boiler"  # the default
    serial = [r for r in processor.describe() if r.path == "serialNumber"]
    assert serial[0].expression == '"SN-1"'
    # $${flueT} is the JavaScript template literal's ${flueT}
    label = [r for r in processor.describe() if r.path == "label"]
    assert "${flueT}" in label[0].expression and "$${" not in label[0].expression


@pytest.mark.parametrize(("doc", "expected"), [
    ({"pipeline": {"processors": [{"bloblang": "root = this"}]}},
     "pipeline.processors[0]: processor 'bloblang' is not supported (supported: input 'uns', "
     "pipeline.processors entries 'stream_processor', output 'uns'"),
    ({"input": {"kafka": {"addresses": ["x"]}}, "pipeline": {"processors": []}, "output": {"uns": {}}},
     "input: input 'kafka' is not supported"),
    ({"input": {"uns": {}}, "pipeline": {"processors": []}, "output": {"stdout": {}}},
     "output: output 'stdout' is not supported"),
    ({"buffer": {"memory": {}}, "pipeline": {"processors": []}},
     "buffer: Benthos section 'buffer' is not supported"),
    ({"input": {"uns": {"umh_topics": ["("]}}, "output": {"uns": {}}, "pipeline": {"processors": []}},
     "input.uns: topic pattern 0 '(' is not a valid regular expression"),
    ({"input": {"uns": {"brokers": "x"}}, "output": {"uns": {}}, "pipeline": {"processors": []}},
     "input.uns.brokers: unknown field (expected one of: umh_topics, umh_topic, topic, kafka_topic, "
     "broker_address, consumer_group, metadata_format)"),
    ({"input": {"uns": {}}, "output": {"uns": {"umh_topic": "umh.v1.a._raw.x"}},
      "pipeline": {"processors": []}},
     "output.uns.umh_topic: only the default ${! meta(\"umh_topic\") } is supported"),
    ({"input": {"uns": {}}, "pipeline": {"processors": []}}, "output: missing: with input 'uns'"),
    ({"processors": [{"stream_processor": {}}]}, "processors: not a Benthos section"),
    ({"input": {"uns": {}, "processors": [{"bloblang": "root = this"}]}, "output": {"uns": {}},
      "pipeline": {"processors": []}},
     "input.processors: processors attached to the input are not supported"),
    ({"output_topic": "umh.v1.a", "pipeline": {"processors": []}},
     "output_topic: a stream processor field at the top of a Benthos file"),
])
def test_unsupported_components_are_named(doc, expected):
    assert is_benthos(doc)
    with pytest.raises(ConfigError) as info:
        parse(doc, environ={})
    assert any(e.startswith(expected) for e in info.value.errors), info.value.errors


def test_unsupported_component_from_the_command_line(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text(TWO.read_text().replace("    - stream_processor:\n        mode: timeseries\n        model: "
                                         "{name: boiler",
                                         "    - mapping: 'root = this'\n    - stream_processor:\n        "
                                         "mode: timeseries\n        model: {name: boiler", 1))
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err
    assert "pipeline.processors[1]: processor 'mapping' is not supported" in err


def test_problems_of_each_entry_carry_its_path(tmp_path, capsys):
    f = tmp_path / "p.yaml"
    f.write_text("pipeline:\n  processors:\n    - stream_processor: {output_topic: umh.v1.a, "
                 "model: {name: m, version: v1}, sources: {x: umh.v1.a._raw.x}, mapping: {y: nope + 1}}\n"
                 "    - stream_processor: {output_topic: umh.v1.b, sources: {x: umh.v1.b._raw.x}}\n")
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err
    assert "pipeline.processors[0].stream_processor: mapping 'y' (nope + 1): unknown identifier 'nope'" in err
    assert "pipeline.processors[1].stream_processor: model.name: missing" in err


def test_a_source_topic_no_pattern_accepts_is_reported():
    doc = {"input": {"uns": {"umh_topic": r"^umh\.v1\.a\._raw\.x$"}}, "output": {"uns": {}},
           "pipeline": {"processors": [{"stream_processor": {
               "output_topic": "umh.v1.a", "model": {"name": "m", "version": "v1"},
               "sources": {"x": "umh.v1.a._raw.x", "y": "umh.v1.a._raw.y"}, "mapping": {"s": "x + y"}}}]}}
    import yaml

    from runtime import benthos

    path = Path(__file__).parent / "_tmp_filter.yaml"
    try:
        path.write_text(yaml.safe_dump(doc))
        _, pipeline = benthos.load(path)
    finally:
        path.unlink()
    assert pipeline.input.accepts("umh.v1.a._raw.x") and not pipeline.input.accepts("umh.v1.a._raw.y")
    assert any("umh.v1.a._raw.y matches none of the topic patterns" in n for n in pipeline.notes)


# --------------------------------------------------------------------------- running over Kafka
def produce_in_order(bootstrap: str, records, topic: str = TOPIC) -> None:
    """Every input record into partition 0: consumed in the order produced, so mappings over
    topics that would hash to different partitions see the interleaving of the JSON Lines run."""
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for key, value, headers in records:
        p.produce(topic, value, key, partition=0, headers=headers)
    assert p.flush(10) == 0


def _run_over_kafka(bootstrap: str, config: Path, inputs, expected_count: int, *args: str,
                    env: dict[str, str] | None = None):
    produce_in_order(bootstrap, inputs)
    reader = OutputReader(bootstrap, "umh.v1.")
    try:
        with ProcessorProcess(config, "--stats", *FAST_ARGS, *args, env=env) as proc:
            proc.wait_for(r"assigned all \d+ partitions")
            assert wait_until(lambda: len(_outputs(reader)) >= expected_count, 20), proc.stderr
            time.sleep(0.2)
            assert proc.stop(signal.SIGINT) == 0, proc.stderr
            stderr = proc.stderr
        time.sleep(0.3)
        return _outputs(reader), stderr
    finally:
        reader.close()


def _outputs(reader: OutputReader) -> list:
    return [r for r in reader.snapshot() if "._raw." not in r[0] and not r[0].startswith("umh.v1.nobody")]


def test_upstream_example_runs_over_kafka_like_json_lines(bootstrap):
    """Upstream's file as it is, on the Kafka connector (its input: uns / output: uns; --kafka
    points at the mock cluster instead of localhost:9092): the outputs equal the JSON Lines run of
    the same file, with benthos-umh's bridged_by header added."""
    inputs = kafka_records_from_jsonl(EXAMPLES / "pump.jsonl")
    expected = jsonl_outputs(UPSTREAM, EXAMPLES / "pump.jsonl")
    got, stderr = _run_over_kafka(bootstrap, UPSTREAM, inputs, len(expected), "--kafka", bootstrap)
    assert all(m.pop("bridged_by") == "umh-core" for _t, _p, m, *_ in got)
    assert norm(got) == norm(expected)
    assert "connected to Kafka at" in stderr  # at the default log level
    stats = dict(re.findall(r"stats: (\w+): ([\d,.]+)", stderr))
    assert int(stats["outputs_acked"]) == len(expected)


def test_two_processor_file_runs_over_kafka_like_json_lines(bootstrap, tmp_path):
    """The standard layout, two stream_processor entries, no connector option on the command
    line: broker, group and bridged_by come from the file through ${VAR:default}."""
    jsonl = both_jsonl(tmp_path)
    inputs = kafka_records_from_jsonl(jsonl)
    expected = jsonl_outputs(TWO, jsonl)
    assert {t.rsplit("._", 1)[0] for t, *_ in expected} == {"umh.v1.corpA.plant-A.aawd",
                                                           "umh.v1.acme.hamburg.utilities.boiler2"}
    env = {"KAFKA_BROKER": bootstrap, "BRIDGED_BY": "test-bridge", "CONSUMER_GROUP": "two-processors"}
    got, stderr = _run_over_kafka(bootstrap, TWO, inputs, len(expected), env=env)
    assert all(m.pop("bridged_by") == "test-bridge" for _t, _p, m, *_ in got)
    assert norm(got) == norm(expected)
    assert "group 'two-processors'" in stderr
    done = {tp.partition: tp.offset for tp in committed(bootstrap, "two-processors", TOPIC)}
    assert done[0] >= len(inputs)  # every input (all in partition 0) was committed by the clean stop


def test_a_literal_topic_pattern_is_checked_with_the_uns_rules():
    doc = {"input": {"uns": {"umh_topics": ["umh.v1.acme", "umh.v1.a._raw.x", "umh-v1.a._raw.x",
                                            r"umh\.v1\..*"]}},
           "output": {"uns": {}}, "pipeline": {"processors": [{"stream_processor": {}}]}}
    notes = parse(doc).notes
    assert notes == ["input.uns: topic pattern 2 is neither a UNS topic nor a location (topic "
                     "'umh-v1.a._raw.x' must start with 'umh.v1.'); as a regular expression it matches "
                     "topics containing it"]


def test_service_sections_are_ignored_with_a_note_naming_the_option():
    doc = {"http": {"address": "0.0.0.0:4195"}, "logger": {"level": "INFO"}, "metrics": {"prometheus": {}},
           "pipeline": {"processors": [{"stream_processor": {}}]}}
    notes = parse(doc).notes
    assert "http: ignored (--metrics-port serves /metrics, /health and /ready)" in notes
    assert "logger: ignored (--log-level sets the log level)" in notes
    assert "metrics: ignored (--metrics-port serves Prometheus metrics)" in notes


def _args(*argv: str):
    from runtime.cli import _parser

    return _parser().parse_args(["run", str(TWO), *argv])


def test_the_files_uns_input_and_output_become_kafka_options():
    from runtime.cli import _use_benthos_io

    env = {"KAFKA_BROKER": "k1:9092", "CONSUMER_GROUP": "g"}
    _, pipeline = load(TWO, environ=env)
    a = _args()
    _use_benthos_io(a, pipeline)
    assert (a.kafka, a.topic, a.group, a.produce_topic) == ("k1:9092", "umh.messages", "g", None)
    assert a.extra_headers == [("bridged_by", "streamproc")] and a.kafka_option is None
    assert a.accept_topic("umh.v1.corpA.plant-A.aawd._raw.press")
    assert not a.accept_topic("umh.v1.other._raw.press")
    # the command line wins: --kafka over broker_address, --group over consumer_group
    a = _args("--kafka", "cli:1", "--group", "mine")
    _use_benthos_io(a, pipeline)
    assert (a.kafka, a.group) == ("cli:1", "mine") and a.extra_headers == [("bridged_by", "streamproc")]
    # --input, --output or --mqtt: the file's input and output are not used
    for argv in (["--input", "x.jsonl"], ["--output", "-"], ["--mqtt", "h:1"]):
        a = _args(*argv)
        _use_benthos_io(a, pipeline)
        assert a.kafka is None and not hasattr(a, "extra_headers")
    # another output broker: the producer's bootstrap.servers; another kafka_topic: outputs still
    # go to umh.messages (upstream's uns output)
    doc = {"input": {"uns": {"broker_address": "in:1", "kafka_topic": "raw"}},
           "output": {"uns": {"broker_address": "out:2"}},
           "pipeline": {"processors": [{"stream_processor": {}}]}}
    a = _args()
    _use_benthos_io(a, parse(doc))
    assert (a.kafka, a.topic, a.produce_topic) == ("in:1", "raw", "umh.messages")
    assert a.kafka_option == ["producer.bootstrap.servers=out:2"]


def test_a_sets_state_survives_a_snapshot(tmp_path):
    """The Kafka connector commits the state as a snapshot per topic; a set's snapshot restores
    every processor of it (the default group of a set names every contract)."""
    from runtime.connectors.common import decode_snapshot, default_group, encode_snapshot, restore_state

    first, _ = load(TWO, environ={})
    first.process_batch(_messages(both_jsonl(tmp_path)))
    seq, values = decode_snapshot(encode_snapshot(first, first.state(), 7))
    assert seq == 7 and set(values) == set(first.source_topics)
    second, _ = load(TWO, environ={})
    assert restore_state(second, values) == len(first.source_topics)
    assert second.state() == first.state()
    assert [p.state() for p in second.processors] == [p.state() for p in first.processors]
    assert default_group(second) == ("streamproc.umh.v1.corpA.plant-A.aawd._pump_v1+"
                                     "umh.v1.acme.hamburg.utilities.boiler2._boiler_v2")


def test_from_yaml_points_library_users_to_the_benthos_loader():
    with pytest.raises(ConfigError, match=r"benthos-umh file .*runtime\.benthos\.load\(path\)"):
        StreamProcessor.from_yaml(TWO)


def test_a_benthos_file_is_read_as_yaml_1_2_with_duplicate_keys_reported(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text("input:\n  uns: {}\noutput:\n  uns: {}\npipeline:\n  processors:\n    - stream_processor:\n"
                 "        output_topic: umh.v1.a\n        model: {name: m, version: v1}\n"
                 "        sources: {x: umh.v1.a._raw.x}\n        mapping:\n          y: x * 2\n"
                 "          y: x * 3\n          on: 0x10\n")
    with pytest.raises(ConfigError) as info:
        load(f)
    assert any("pipeline.processors[0].stream_processor.mapping.y: duplicate key" in e
               for e in info.value.errors), info.value.errors
    f.write_text(f.read_text().replace("          y: x * 3\n", ""))
    processor, _ = load(f)
    assert {r.path: r.expression for r in processor.describe()} == {"y": "x * 2", "on": "0x10"}
