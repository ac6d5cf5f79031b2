"""Array.prototype methods against QuickJS: every result (value, type, -0, NaN) or error."""

from __future__ import annotations

import copy
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qjs_harness import check_method, py_call, same

from transpiler.jslib.arrays import ARRAY_METHODS
from transpiler.jslib.values import UNDEFINED, to_utf16


def call_checked(name: str, a: list, *args):
    """ARRAY_METHODS[name](a, *args), asserting the receiver is neither mutated nor returned."""
    before = copy.deepcopy(a)
    result = ARRAY_METHODS[name](a, *args)
    assert same(a, before), "receiver mutated"
    if isinstance(result, list):
        assert result is not a
    return result


def check(name: str, cases: list[tuple[list, tuple]]) -> None:
    check_method("Array.prototype", name, lambda a, args: py_call(call_checked, (name, a, *args)), cases)


NAN = math.nan
RECEIVERS = [
    [], [1.0], [1.0, 2.0, 3.0], [1.0, 2.0, 1.0, 2.0], [NAN], [0.0, -0.0], [-0.0], ["a", "b", "a"],
    [None, UNDEFINED, 1.0], [[1.0, 2.0], [3.0, [4.0, None]]], [True, "1", 1.0, False, "true"],
    [{}], [{"a": 1.0}, []], ["", " ", ","], [to_utf16("😀"), "\ud83d", "é"], [1e21, 1e-7, -1.5, math.inf],
    [UNDEFINED], [None], [[]], [[None]], ["x", NAN, "NaN", UNDEFINED, "undefined"],
]
ARGS = [UNDEFINED, None, True, False, 0.0, -0.0, 1.0, 2.0, -1.0, -2.0, 1.5, -1.5, 3.0, 10.0, NAN, math.inf,
        -math.inf, 1e300, "", "a", "1", "NaN", "undefined", ",", " - ", to_utf16("😀"), [], [1.0], {}]
SMALL = [UNDEFINED, None, 0.0, -0.0, 1.0, -1.0, 2.0, -3.0, NAN, math.inf, -math.inf, "1", "a", 1.5]


def cases_for(arities: tuple[int, ...]) -> list[tuple[list, tuple]]:
    out: list[tuple[list, tuple]] = []
    for a in RECEIVERS:
        for k in arities:
            if k == 0:
                out.append((a, ()))
            elif k == 1:
                out.extend((a, (x,)) for x in ARGS)
            else:
                out.extend((a, xy) for xy in itertools.product(SMALL, repeat=2))
    return out


@pytest.mark.parametrize("name", ["indexOf", "lastIndexOf", "includes", "slice", "at", "join", "concat"])
def test_methods(name):
    cases = cases_for((0, 1, 2))
    if name in ("indexOf", "lastIndexOf", "includes"):
        # search for elements of the receiver itself, with and without a fromIndex
        for a in RECEIVERS:
            for x in a:
                if not isinstance(x, (list, dict)):
                    cases.extend([(a, (x,)), (a, (x, 1.0)), (a, (x, -1.0)), (a, (x, UNDEFINED))])
    check(name, cases)


def test_to_string_and_concat_many():
    check("toString", [(a, ()) for a in RECEIVERS])
    check("concat", [(a, (b, 1.0, c)) for a in RECEIVERS[:6] for b in RECEIVERS for c in ([], [[2.0]], "s")])


def test_readable_cases():
    m = ARRAY_METHODS
    assert m["join"]([1.0, [2.0, [3.0, None]], UNDEFINED, None, "x"]) == "1,2,3,,,,x"
    assert m["indexOf"]([NAN], NAN) == -1.0
    assert m["includes"]([NAN], NAN) is True
    assert m["indexOf"]([-0.0], 0.0) == 0.0
    assert m["lastIndexOf"]([1.0, 1.0], 1.0) == 1.0
    assert m["lastIndexOf"]([1.0, 1.0], 1.0, UNDEFINED) == 0.0  # present-but-undefined fromIndex is 0


values = st.one_of(st.sampled_from([UNDEFINED, None, True, False, NAN, -0.0, 0.0, "", "a", "1"]),
                   st.integers(-3, 3).map(float))
arrays = st.lists(st.one_of(values, st.lists(values, max_size=2)), max_size=6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(arrays, st.lists(values, max_size=2).map(tuple)), min_size=1, max_size=20),
       st.sampled_from(["indexOf", "lastIndexOf", "includes", "slice", "at", "join", "concat"]))
def test_random_against_quickjs(cases, name):
    check(name, cases)
