"""Node (V8) as the second oracle: many expressions evaluated by one ``node`` process.

The process reads one JSON request per line on stdin (``{"program": <JavaScript source>}``)
and answers one JSON line per request on stdout, in order: the same tagged result that
``conformance.reference`` gets from QuickJS (so -0, NaN, undefined and lone surrogates
survive), or the error's name and message. Each program runs in one shared ``vm`` context
(built-ins as in a fresh realm) with a time limit. A batch is written by a thread while the
answers are read, so neither side can block on a full pipe.

Used by ``python -m conformance --oracle node``, by the deviation checks of the conformance
suite (``conformance.deviations``) and by the tests that compare the python engine with V8.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from conformance.reference import _TAGGER, Outcome, _untag, js_literal

_SERVER = r"""
'use strict';
const vm = require('vm');
const readline = require('readline');
const ctx = vm.createContext({});
vm.runInContext(TAGGER, ctx);
const rl = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
rl.on('line', (line) => {
  let answer;
  try {
    const req = JSON.parse(line);
    answer = vm.runInContext(req.program, ctx, {timeout: TIMEOUT});
  } catch (e) {
    // a syntax error in the program itself, or the time limit
    answer = JSON.stringify({err: (e && e.name) || 'Error', msg: String(e && e.message)});
  }
  process.stdout.write(answer + '\n');  // synchronous for pipes on Linux: answers keep order
});
"""


def node_available() -> bool:
    """True when a ``node`` executable is on PATH."""
    return shutil.which("node") is not None


def program(source: str, env: Mapping[str, Any] | None = None) -> str:
    """The JavaScript program that evaluates ``source`` with ``env`` bound, strict mode, exactly
    as ``conformance.reference.Reference.evaluate`` builds it for QuickJS."""
    env = env or {}
    names = ", ".join(env)
    args = ", ".join(js_literal(v) for v in env.values())
    return f'__run(() => (function({names}) {{ "use strict"; return ({source}\n); }})({args}))'


class Node:
    """One long-lived ``node`` process answering batches of programs.

    ``timeout_ms``: time limit of one program (a runaway one throws an ``Error``; V8 measures
    wall-clock time, so it is generous for a shared machine).
    Raises ``FileNotFoundError`` when node is not installed.
    """

    def __init__(self, timeout_ms: int = 5000) -> None:
        exe = shutil.which("node")
        if exe is None:
            raise FileNotFoundError("node is not on PATH (the V8 oracle needs Node.js)")
        script = _SERVER.replace("TAGGER", json.dumps(_TAGGER)).replace("TIMEOUT", str(int(timeout_ms)))
        self._proc = subprocess.Popen(
            [exe, "-e", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            encoding="utf-8", errors="surrogatepass", bufsize=1 << 16)
        self._lock = threading.Lock()

    def close(self) -> None:
        """End the node process (idempotent)."""
        if self._proc.poll() is None:
            try:
                self._proc.stdin.close()  # type: ignore[union-attr]
                self._proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_programs(self, programs: Sequence[str]) -> list[Any]:
        """The raw JSON answers (parsed) of ``programs``, in order."""
        if not programs:
            return []
        with self._lock:
            stdin, stdout = self._proc.stdin, self._proc.stdout
            assert stdin is not None and stdout is not None

            def write() -> None:
                for p in programs:
                    # ensure_ascii: lone surrogates and astral characters travel as \\u escapes
                    stdin.write(json.dumps({"program": p}) + "\n")
                stdin.flush()

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            answers = []
            for _ in programs:
                line = stdout.readline()
                if not line:
                    raise RuntimeError("node exited while answering")
                answers.append(json.loads(line))
            writer.join()
            return answers

    def evaluate_many(self, cases: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Outcome]:
        """``Outcome`` of each (expression, variable values) case, as V8 evaluates it."""
        return [_outcome(a) for a in self.run_programs([program(s, env) for s, env in cases])]

    def evaluate(self, source: str, env: Mapping[str, Any] | None = None) -> Outcome:
        """One case (a batch of one)."""
        return self.evaluate_many([(source, env or {})])[0]


def _outcome(answer: Any) -> Outcome:
    if isinstance(answer, str):  # __run's JSON text
        answer = json.loads(answer)
    if "err" in answer:
        name = answer["err"]
        return Outcome(error=name, message=answer.get("msg", ""))
    return Outcome(value=_untag(answer["ok"]))


_SHARED: Node | None = None


def shared() -> Node:
    """A process-wide ``Node`` started on first use (closed at interpreter exit)."""
    global _SHARED
    if _SHARED is None:
        import atexit

        _SHARED = Node()
        atexit.register(_SHARED.close)
    return _SHARED
