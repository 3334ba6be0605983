"""The allow-list evaluator (docs/security.md §1): what it evaluates, what it refuses, its budgets."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from app.engine.evaluator import (
    MAX_SEQUENCE,
    MAX_STRING,
    BudgetExceeded,
    EvaluationError,
    Interpreter,
    check_expression,
    check_script,
    evaluate,
    execute,
)

# -- ordinary expressions and scripts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "context", "expected"),
    [
        ("amount > 1000 and status == 'approved'", {"amount": 1500, "status": "approved"}, True),
        ("amount > 1000 and status == 'approved'", {"amount": 500, "status": "approved"}, False),
        ("0 < level <= 4", {"level": 4}, True),
        ("0 < level <= 4", {"level": 5}, False),
        ("'weibo' in channels", {"channels": ["weibo", "douyin"]}, True),
        ("'x' not in channels", {"channels": ["weibo"]}, True),
        ("'high' if level < 2 else 'low'", {"level": 1}, "high"),
        ("[level, 2 * level]", {"level": 3}, [3, 6]),
        ("{'a': level, 'b': [1, 2]}", {"level": 3}, {"a": 3, "b": [1, 2]}),
        ("report['channels'][0]", {"report": {"channels": ["weibo"]}}, "weibo"),
        ("xs[1:3]", {"xs": [1, 2, 3, 4]}, [2, 3]),
        ("xs[::-1]", {"xs": [1, 2, 3]}, [3, 2, 1]),
        ("[x * 2 for x in xs if x > 1]", {"xs": [1, 2, 3]}, [4, 6]),
        ("{k: v + 1 for k, v in items(d)}", {"d": {"a": 1}}, {"a": 2}),
        ("{x % 2 for x in range(4)}", {}, {0, 1}),
        ("min(3, 1, 2)", {}, 1),
        ("join('、', ['a', 'b'])", {}, "a、b"),
        ("add_duration('2026-11-25T09:00:00+08:00', 'PT30M') == '2026-11-25T09:30:00+08:00'", {}, True),
        ("hours_between('2026-11-25T09:00:00+08:00', '2026-11-25T01:30:00Z')", {}, 0.5),
        ("is_before('2026-11-25T09:00:00+08:00', '2026-11-25T02:00:00Z')", {}, True),
        ("is_before('2026-11-25T10:00:00+08:00', '2026-11-25T02:00:00Z')", {}, False),
        ("defined('subsided_at')", {"subsided_at": None}, True),
        ("defined('subsided_at')", {}, False),
        ("subsided_at if defined('subsided_at') else 'now'", {}, "now"),
        ("[defined('x') for x in [1]]", {}, [True]),
    ],
)
def test_evaluates_ordinary_expressions(expression: str, context: dict[str, Any], expected: Any) -> None:
    assert check_expression(expression) == []
    assert evaluate(expression, context) == expected


def test_script_assigns_augments_unpacks_deletes_and_branches() -> None:
    context: dict[str, Any] = {"a": 1, "pair": [10, 20]}
    script = (
        "b = a + 1\n"
        "b += 2\n"
        "x, y = pair\n"
        "if b > 3:\n    size = 'big'\nelse:\n    size = 'small'\n"
        "d = {'k': [1]}\n"
        "d['k'] += [2]\n"
        "del a\n"
    )
    assert check_script(script) == []
    execute(script, context)
    assert context == {"pair": [10, 20], "b": 4, "x": 10, "y": 20, "size": "big", "d": {"k": [1, 2]}}


def test_script_else_branch_runs_when_condition_is_false() -> None:
    context: dict[str, Any] = {"level": 3}
    execute("if level < 2:\n    urgent = True\nelse:\n    urgent = False", context)
    assert context["urgent"] is False


def test_extra_names_are_visible_but_not_written_into_task_data() -> None:
    context: dict[str, Any] = {}
    execute("seen = engine_value + 1", context, extra={"engine_value": 41})
    assert context == {"seen": 42}


def test_defined_takes_a_quoted_name_only() -> None:
    assert check_expression("defined(name)") != []
    assert check_expression("defined('a', 'b')") != []
    assert check_expression("defined('subsided_at')") == []


# -- sandbox-escape payloads: refused by the deploy check and by the evaluator -------------------

ESCAPES = [
    ("__import__('os').system('id')", "is not in the registry of allowed functions"),
    ("().__class__.__bases__[0].__subclasses__()", "attribute access is not allowed"),
    ("[c for c in ().__class__.__base__.__subclasses__()]", "attribute access is not allowed"),
    ('"{0.__class__}".format(1)', "attribute access is not allowed"),
    ("(lambda: 1)()", "lambda is not allowed"),
    ("getattr(x, 'y')", "function 'getattr' is not in the registry"),
    ("open('/etc/passwd')", "function 'open' is not in the registry"),
    ("eval('1')", "function 'eval' is not in the registry"),
    ("exec('1')", "function 'exec' is not in the registry"),
    ("globals()", "function 'globals' is not in the registry"),
    ("vars()", "function 'vars' is not in the registry"),
    ("type(x)", "function 'type' is not in the registry"),
    ("x.__dict__", "attribute access is not allowed"),
    ("(x for x in [1]).gi_frame", "attribute access is not allowed"),
    ('f"{x}"', "f-strings are not allowed"),
    ("__builtins__", "name '__builtins__' starts with '_'"),
    ("_private", "name '_private' starts with '_'"),
    ("lambda: 0", "lambda is not allowed"),
    ("(y := 1)", ":= is not allowed"),
    ("100000000000000000000", "number literal above"),
    ("1 + " * 200 + "1", "expression longer than 500 characters"),
    ("len", "function 'len' may only be called"),
    ("min(xs, key=len)", "function 'len' may only be called"),
    ("x.upper()", "attribute access is not allowed"),
    ("len(*x)", "* unpacking is not allowed"),
    ("1j", "complex literals are not allowed"),
    ("b'x'", "bytes literals are not allowed"),
]


@pytest.mark.parametrize(("payload", "reason"), ESCAPES, ids=[p[:60] for p, _ in ESCAPES])
def test_escape_payload_is_refused_by_check_expression(payload: str, reason: str) -> None:
    problems = check_expression(payload)
    assert any(reason in str(p) for p in problems), problems


@pytest.mark.parametrize(("payload", "reason"), ESCAPES, ids=[p[:60] for p, _ in ESCAPES])
def test_escape_payload_is_refused_by_evaluate(payload: str, reason: str) -> None:
    with pytest.raises(EvaluationError) as refused:
        evaluate(payload, {"x": "abc", "xs": ["a", "bb"]})
    assert reason in str(refused.value)


SCRIPT_ESCAPES = [
    ("import os", "imports are not allowed"),
    ("from os import system", "imports are not allowed"),
    ("def f(): pass", "defining functions is not allowed"),
    ("while True: pass", "loops are not allowed"),
    ("for i in range(10): pass", "loops are not allowed"),
    ("with open('x') as f: pass", "With is not allowed"),
    ("class A: pass", "ClassDef is not allowed"),
    ("len = 3", "'len' is the name of a function and cannot be assigned"),
    ("f = len", "function 'len' may only be called"),
    ("del len", "'len' is the name of a function"),
    ("x = __import__('os')", "name '__import__' starts with '_'"),
    ("y = x.__class__", "attribute access is not allowed"),
    ("try:\n    pass\nexcept Exception:\n    pass", "Try is not allowed"),
]


@pytest.mark.parametrize(("script", "reason"), SCRIPT_ESCAPES, ids=[s for s, _ in SCRIPT_ESCAPES])
def test_statement_payload_is_refused_by_check_script_and_execute(script: str, reason: str) -> None:
    assert any(reason in str(p) for p in check_script(script)), check_script(script)
    context: dict[str, Any] = {"x": "abc"}
    with pytest.raises(EvaluationError) as refused:
        execute(script, context)
    assert reason in str(refused.value)
    assert context == {"x": "abc"}


@pytest.mark.parametrize("script", [s for s, _ in SCRIPT_ESCAPES])
def test_statement_payload_is_not_an_expression(script: str) -> None:
    problems = check_expression(script)
    assert problems, script
    with pytest.raises(EvaluationError):
        evaluate(script, {"x": "abc"})


# Payloads whose danger depends on operand values: the evaluator refuses them before computing.
RUNTIME_REFUSALS = [
    ("'%s' % x", "Mod needs numbers"),
    ("10**10**10", "** operands too large"),
    ("9**9**9", "** operands too large"),
    ("'a' * 10**9", "Mult needs numbers"),
    ("[0] * 10**9", "Mult needs numbers"),
    ("10**20", "number too large"),
]


@pytest.mark.parametrize(("payload", "reason"), RUNTIME_REFUSALS, ids=[p for p, _ in RUNTIME_REFUSALS])
def test_size_and_format_payload_is_refused_by_evaluate(payload: str, reason: str) -> None:
    with pytest.raises(EvaluationError):
        evaluate(payload, {"x": "abc"})
    # and the interpreter refuses them on its own too, should the deploy check ever miss one
    with pytest.raises(EvaluationError, match=reason.replace("*", r"\*")):
        Interpreter({"x": "abc"}).eval(ast.parse(payload, mode="eval"))


@pytest.mark.parametrize("payload", [p for p, _ in RUNTIME_REFUSALS])
def test_size_and_format_payload_is_refused_by_check_expression(payload: str) -> None:
    assert check_expression(payload) != []


# -- budgets and plain results --------------------------------------------------------------------


def test_triple_nested_comprehension_hits_step_budget() -> None:
    expression = "[1 for a in range(10000) for b in range(10000) for c in range(10000) if a < 0]"
    assert check_expression(expression) == []
    with pytest.raises(BudgetExceeded, match="step budget"):
        evaluate(expression, {})


def test_small_budget_stops_a_script() -> None:
    with pytest.raises(BudgetExceeded):
        execute("a = 1\nb = 2\nc = 3", {}, budget=4)


def test_comprehension_result_length_is_capped() -> None:
    with pytest.raises(EvaluationError, match="comprehension result too long"):
        evaluate("[a for a in range(10000) for b in range(2)]", {}, budget=10**6)


def test_string_concatenation_is_capped() -> None:
    context: dict[str, Any] = {"s": "a" * MAX_STRING}
    with pytest.raises(EvaluationError, match="result too long"):
        execute("s = s + 'b'", context)


def _is_plain(value: Any) -> bool:
    if isinstance(value, bool | int | float | str | type(None)):
        return True
    if isinstance(value, list | tuple | set):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


@pytest.mark.parametrize("expression", [
    "range(3)", "enumerate(['a', 'b'])", "zip([1, 2], ['a', 'b'])", "items({'a': 1})", "keys({'a': 1})",
    "sorted([3, 1], reverse=True)", "now()", "add_duration('2026-11-25T09:00:00+08:00', 'P1D')",
    "to_utc('2026-11-25T09:00:00+08:00')", "[x for x in 'abc']", "{'k': (1, 2)}",
])
def test_results_are_plain_data(expression: str) -> None:
    assert _is_plain(evaluate(expression, {}))


def test_assigning_non_plain_value_is_refused() -> None:
    context: dict[str, Any] = {}
    with pytest.raises(EvaluationError, match="complex numbers are not allowed"):
        execute("y = (-1) ** 0.5", context)
    assert "y" not in context


@pytest.mark.parametrize("expression", ["(-1) ** 0.5", "[(-1) ** 0.5]", "{'k': [(-8) ** 0.5]}"])
def test_fractional_power_of_negative_number_never_yields_non_plain_data(expression: str) -> None:
    try:
        result = evaluate(expression, {})
    except EvaluationError:
        return
    assert _is_plain(result), result


@pytest.mark.parametrize(("expression", "limit"), [
    ("join(join('', range(10000)), range(5))", MAX_STRING),
    ("sum([range(5000), range(5000), range(5000)], [])", MAX_SEQUENCE),
])
def test_helper_results_respect_size_limits(expression: str, limit: int) -> None:
    try:
        result = evaluate(expression, {})
    except EvaluationError:
        return
    assert len(result) <= limit


# -- runtime type rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "message"), [
    ("'a' + 1", "+ needs two numbers, two strings or two lists"),
    ("[1] + 'a'", "+ needs two numbers, two strings or two lists"),
    ("1 / 0", "division by zero"),
    ("1 % 0", "division by zero"),
    ("'a' < 1", "cannot compare str with int"),
    ("level[0]", "int cannot be indexed"),
    ("{'a': 1}['b']", "no item 'b' in dict"),
    ("missing + 1", "name 'missing' is not defined"),
    ("int('x')", "int(): invalid literal"),
    ("max([])", "max(): "),
    ("add_duration('2026-11-25T09:00:00', 'PT1H')", "has no UTC offset"),
    ("add_duration('2026-11-25T09:00:00+08:00', 'P9999999Y')", "is not an ISO-8601 duration"),
    ("add_duration('2026-11-25T09:00:00+08:00', 'PT99999999999999H')", "longer than ten years"),
    ("range(100000)", "range longer than 10000"),
])
def test_runtime_type_errors_are_readable_evaluation_errors(expression: str, message: str) -> None:
    with pytest.raises(EvaluationError) as refused:
        evaluate(expression, {"level": 3})
    assert message in str(refused.value)


@pytest.mark.parametrize("script", [
    "y = -'a'",
    "y = keys(1)",
    "y = 1000000.0 ** 64",
    "d = {}\ndel d[1]",
    "xs = [1]\nxs[5] = 2",
    "d = {}\nd[[1]] = 2",
    "s = 'abc'\ndel s[0]",
    "y = " + "1+" * 1990 + "1",
], ids=lambda script: script[:24].replace("\n", "; "))
def test_script_runtime_errors_are_evaluation_errors(script: str) -> None:
    with pytest.raises(EvaluationError):
        execute(script, {})


def test_deeply_nested_script_is_a_problem_not_a_crash() -> None:
    problems = check_script("x = " + "-" * 3990 + "1")
    assert problems
