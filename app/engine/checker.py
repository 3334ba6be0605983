"""Static checks of diagram expressions and scripts: what the allow-list evaluator accepts.

Run at deploy (every expression and script of a diagram) and before the first evaluation of any
text at run time. Also holds the limits and operator tables the interpreter shares.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from typing import Any

from app.engine.helpers import FUNCTIONS

MAX_EXPRESSION_CHARS = 500
MAX_SCRIPT_CHARS = 4000
MAX_CONSTANT = 10**15
MAX_STRING = 100_000
MAX_SEQUENCE = 10_000
DEFAULT_STEP_BUDGET = 20_000
MAX_EXPONENT = 64


class EvaluationError(Exception):
    """A diagram expression or script was refused or failed; the message says why."""


class BudgetExceeded(EvaluationError):
    """An evaluation took more steps than its budget."""


BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY = {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}
COMPARE = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_EXPRESSION_NODES = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
    ast.Name, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Subscript, ast.Slice,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension,
    ast.Load, ast.Store, ast.Del, ast.And, ast.Or, *BINARY, *UNARY, *COMPARE,
)
_STATEMENT_NODES = (ast.Module, ast.Assign, ast.AugAssign, ast.Delete, ast.If, ast.Expr, ast.Pass)


@dataclass(frozen=True)
class Problem:
    """Why a piece of diagram text is refused."""

    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


def check_expression(text: str) -> list[Problem]:
    """Return the reasons an expression is refused (empty when it is acceptable)."""
    if len(text) > MAX_EXPRESSION_CHARS:
        return [Problem(f"expression longer than {MAX_EXPRESSION_CHARS} characters")]
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _check_tree(tree, allow_statements=False)
    except SyntaxError as exc:
        return [Problem(f"syntax error: {exc.msg}", exc.lineno)]
    except (RecursionError, MemoryError):
        return [Problem("expression nested too deeply")]


def check_script(text: str) -> list[Problem]:
    """Return the reasons a script is refused: expressions plus assignment, `del` and `if`."""
    if len(text) > MAX_SCRIPT_CHARS:
        return [Problem(f"script longer than {MAX_SCRIPT_CHARS} characters")]
    try:
        tree = ast.parse(text, mode="exec")
        return _check_tree(tree, allow_statements=True)
    except SyntaxError as exc:
        return [Problem(f"syntax error: {exc.msg}", exc.lineno)]
    except (RecursionError, MemoryError):
        return [Problem("script nested too deeply")]


def _check_tree(tree: ast.AST, *, allow_statements: bool) -> list[Problem]:
    allowed = _EXPRESSION_NODES + (_STATEMENT_NODES if allow_statements else ())
    problems: list[Problem] = []
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if not isinstance(node, allowed):
            problems.append(Problem(refusal(node), line))
        elif isinstance(node, ast.Name) and node.id.startswith("_"):
            problems.append(Problem(f"name '{node.id}' starts with '_'", line))
        elif isinstance(node, ast.Name) and node.id in FUNCTIONS and id(node) not in called:
            problems.append(Problem(f"function '{node.id}' may only be called", line))
        elif isinstance(node, ast.Call):
            problems.extend(Problem(reason, line) for reason in _check_call(node))
        elif isinstance(node, ast.Constant):
            problems.extend(Problem(reason, line) for reason in _check_constant(node.value))
        elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
            problems.extend(Problem(reason, line) for reason in _check_targets(node))
        elif isinstance(node, ast.BinOp | ast.AugAssign):
            problems.extend(Problem(reason, line) for reason in _check_operator(node))
        elif isinstance(node, ast.Dict) and any(key is None for key in node.keys):
            problems.append(Problem("** unpacking is not allowed", line))
    return problems


_SEQUENCE_LITERALS = (ast.List, ast.Tuple, ast.ListComp, ast.JoinedStr)


def _check_operator(node: ast.BinOp | ast.AugAssign) -> list[str]:
    """What can be refused before running: formatting with %, repetition, big powers."""
    left = node.left if isinstance(node, ast.BinOp) else node.target
    right = node.right if isinstance(node, ast.BinOp) else node.value
    operands = (left, right)
    if isinstance(node.op, ast.Mod) and _is_str(left):
        return ["% formatting of strings is not allowed; use str() and +"]
    if isinstance(node.op, ast.Mult) and any(_is_str(o) or isinstance(o, _SEQUENCE_LITERALS) for o in operands):
        return ["sequence repetition (* on strings or lists) is not allowed"]
    if isinstance(node.op, ast.Pow):
        exponent = right
        if not (isinstance(exponent, ast.Constant) and isinstance(exponent.value, int | float)
                and abs(exponent.value) <= MAX_EXPONENT):
            return [f"** needs a number literal exponent of at most {MAX_EXPONENT}"]
        if isinstance(left, ast.Constant) and isinstance(left.value, int | float):
            try:
                number(BINARY[ast.Pow](left.value, exponent.value))
            except (EvaluationError, OverflowError, ZeroDivisionError):
                return ["** result too large or not a real number"]
    return []


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def refusal(node: ast.AST) -> str:
    kind = type(node).__name__
    messages = {
        "Attribute": "attribute access is not allowed",
        "Import": "imports are not allowed",
        "ImportFrom": "imports are not allowed",
        "Lambda": "lambda is not allowed",
        "JoinedStr": "f-strings are not allowed; use str() and +",
        "While": "loops are not allowed in diagram scripts",
        "For": "loops are not allowed in diagram scripts",
        "FunctionDef": "defining functions is not allowed",
        "Starred": "* unpacking is not allowed",
        "NamedExpr": ":= is not allowed",
        "Await": "await is not allowed",
        "Yield": "yield is not allowed",
    }
    return messages.get(kind, f"{kind} is not allowed")


def _check_call(node: ast.Call) -> list[str]:
    if not isinstance(node.func, ast.Name):
        return ["only registered functions may be called"]
    if node.func.id not in FUNCTIONS:
        return [f"function '{node.func.id}' is not in the registry of allowed functions"]
    if any(kw.arg is None for kw in node.keywords):
        return ["** unpacking is not allowed"]
    if node.func.id == "defined" and (
            len(node.args) != 1 or node.keywords or not isinstance(node.args[0], ast.Constant)
            or not isinstance(node.args[0].value, str)):
        return ['defined() takes one quoted name, e.g. defined("subsided_at")']
    return []


def _check_constant(value: Any) -> list[str]:
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float) and abs(value) > MAX_CONSTANT:
        return [f"number literal above {MAX_CONSTANT:.0e}"]
    if isinstance(value, complex | bytes) or value is Ellipsis:
        return [f"{type(value).__name__} literals are not allowed"]
    if isinstance(value, str) and len(value) > MAX_STRING:
        return ["string literal too long"]
    return []


def _check_targets(node: ast.Assign | ast.AugAssign | ast.Delete) -> list[str]:
    targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
    problems = []
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name) and sub.id in FUNCTIONS:
                problems.append(f"'{sub.id}' is the name of a function and cannot be assigned")
    return problems


def number(value: Any) -> Any:
    """Numbers stay finite, real and within range."""
    if isinstance(value, complex):
        raise EvaluationError("complex numbers are not allowed")
    if isinstance(value, float) and not math.isfinite(value):
        raise EvaluationError("number is not finite")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_CONSTANT * 1000:
        raise EvaluationError("number too large")
    return value
