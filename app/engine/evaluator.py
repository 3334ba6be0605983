"""The allow-list evaluator every diagram expression and script runs through (docs/security.md §1).

It is a small tree-walking interpreter over Python's AST, not `eval`: only the node types the
checker accepts exist, names may not start with `_`, attribute access does not exist, calls reach
only the vetted functions of `helpers.FUNCTIONS`, and every evaluation has a step and size budget.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from app.engine.checker import (
    BINARY,
    COMPARE,
    DEFAULT_STEP_BUDGET,
    MAX_EXPONENT,
    MAX_SEQUENCE,
    MAX_STRING,
    UNARY,
    BudgetExceeded,
    EvaluationError,
    Problem,
    check_expression,
    check_script,
    number,
    refusal,
)
from app.engine.helpers import FUNCTIONS

__all__ = ["BudgetExceeded", "EvaluationError", "Interpreter", "Problem", "check_expression", "check_script",
           "evaluate", "execute"]


class Interpreter:
    """Evaluates one checked expression or script against a context of plain data."""

    def __init__(self, context: dict[str, Any], extra: Mapping[str, Any] | None = None,
                 budget: int = DEFAULT_STEP_BUDGET):
        self.context = context
        self.extra = extra or {}
        self.steps_left = budget
        self.locals: list[dict[str, Any]] = []

    # -- statements -----------------------------------------------------------------------------
    def run(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self._tick()
            if isinstance(stmt, ast.Assign):
                value = self.eval(stmt.value)
                for target in stmt.targets:
                    self._assign(target, value)
            elif isinstance(stmt, ast.AugAssign):
                current = self.eval(_as_load(stmt.target))
                self._assign(stmt.target, self._binary(stmt.op, current, self.eval(stmt.value)))
            elif isinstance(stmt, ast.Delete):
                for target in stmt.targets:
                    self._delete(target)
            elif isinstance(stmt, ast.If):
                self.run(stmt.body if self.eval(stmt.test) else stmt.orelse)
            elif isinstance(stmt, ast.Expr):
                self.eval(stmt.value)

    def _assign(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.context[target.id] = _plain(value)
        elif isinstance(target, ast.Tuple | ast.List):
            values = list(value)
            if len(values) != len(target.elts):
                raise EvaluationError("cannot unpack: wrong number of values")
            for elt, item in zip(target.elts, values, strict=True):
                self._assign(elt, item)
        elif isinstance(target, ast.Subscript):
            container = self.eval(target.value)
            if not isinstance(container, dict | list):
                raise EvaluationError("only dicts and lists can be assigned into")
            container[self.eval(target.slice)] = _plain(value)
        else:
            raise EvaluationError("unsupported assignment target")

    def _delete(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if target.id not in self.context:
                raise EvaluationError(f"name '{target.id}' is not defined")
            del self.context[target.id]
        elif isinstance(target, ast.Subscript):
            del self.eval(target.value)[self.eval(target.slice)]
        elif isinstance(target, ast.Tuple):
            for elt in target.elts:
                self._delete(elt)
        else:
            raise EvaluationError("unsupported del target")

    # -- expressions ----------------------------------------------------------------------------
    def eval(self, node: ast.AST) -> Any:  # noqa: C901, PLR0911, PLR0912 - one branch per node type
        self._tick()
        if isinstance(node, ast.Expression):
            return self.eval(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self._lookup(node.id)
        if isinstance(node, ast.BoolOp):
            return self._bool_op(node)
        if isinstance(node, ast.BinOp):
            return self._binary(node.op, self.eval(node.left), self.eval(node.right))
        if isinstance(node, ast.UnaryOp):
            return UNARY[type(node.op)](self.eval(node.operand))
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            items = [self.eval(elt) for elt in node.elts]
            return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise EvaluationError("** unpacking is not allowed")
            return {self.eval(k): self.eval(v) for k, v in zip(node.keys, node.values, strict=True)}
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        if isinstance(node, ast.Slice):
            parts = (node.lower, node.upper, node.step)
            return slice(*(None if part is None else self.eval(part) for part in parts))
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.DictComp):
            return self._comprehension(node)
        raise EvaluationError(refusal(node))

    def _tick(self) -> None:
        self.steps_left -= 1
        if self.steps_left < 0:
            raise BudgetExceeded("expression exceeded its step budget")

    def _lookup(self, name: str) -> Any:
        if name.startswith("_"):
            raise EvaluationError(f"name '{name}' starts with '_'")
        for scope in reversed(self.locals):
            if name in scope:
                return scope[name]
        if name in self.extra:
            return self.extra[name]
        if name in self.context:
            return self.context[name]
        if name in FUNCTIONS:
            raise EvaluationError(f"function '{name}' may only be called")
        raise EvaluationError(f"name '{name}' is not defined")

    def _bool_op(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for operand in node.values:
            value = self.eval(operand)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value

    def _binary(self, op: ast.operator, left: Any, right: Any) -> Any:
        if type(op) not in BINARY:
            raise EvaluationError(f"operator {type(op).__name__} is not allowed")
        numbers = isinstance(left, int | float) and isinstance(right, int | float)
        if isinstance(op, ast.Add) and not numbers:
            if type(left) is not type(right) or not isinstance(left, str | list | tuple):
                raise EvaluationError("+ needs two numbers, two strings or two lists")
            if len(left) + len(right) > MAX_STRING:
                raise EvaluationError("result too long")
            return left + right
        if not numbers:
            raise EvaluationError(f"{type(op).__name__} needs numbers")
        if isinstance(op, ast.Pow) and (abs(right) > MAX_EXPONENT or abs(left) > 10**6):
            raise EvaluationError("** operands too large")
        try:
            result = BINARY[type(op)](left, right)
        except ZeroDivisionError as exc:
            raise EvaluationError("division by zero") from exc
        return number(result)

    def _compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator)
            try:
                ok = COMPARE[type(op)](left, right)
            except TypeError as exc:
                raise EvaluationError(f"cannot compare {_kind(left)} with {_kind(right)}") from exc
            if not ok:
                return False
            left = right
        return True

    def _subscript(self, node: ast.Subscript) -> Any:
        container = self.eval(node.value)
        key = self.eval(node.slice)
        if not isinstance(container, dict | list | tuple | str):
            raise EvaluationError(f"{_kind(container)} cannot be indexed")
        try:
            return container[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise EvaluationError(f"no item {key!r} in {_kind(container)}") from exc

    def _call(self, node: ast.Call) -> Any:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise EvaluationError("only registered functions may be called")
        if node.func.id == "defined":  # asks about the names in scope, which no plain function can see
            name = self.eval(node.args[0]) if len(node.args) == 1 else None
            if not isinstance(name, str):
                raise EvaluationError('defined() takes one quoted name, e.g. defined("subsided_at")')
            return any(name in scope for scope in self.locals) or name in self.extra or name in self.context
        function: Callable[..., Any] = FUNCTIONS[node.func.id]
        args = [self.eval(arg) for arg in node.args]
        kwargs = {kw.arg: self.eval(kw.value) for kw in node.keywords if kw.arg is not None}
        try:
            result = function(*args, **kwargs)
        except EvaluationError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
            raise EvaluationError(f"{node.func.id}(): {exc}") from exc
        return _plain(result)

    def _comprehension(self, node: ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.DictComp) -> Any:
        results: list[Any] = []
        self._generate(node, node.generators, 0, results)
        if isinstance(node, ast.SetComp):
            return set(results)
        if isinstance(node, ast.DictComp):
            return dict(results)
        return results

    def _generate(self, node: ast.AST, generators: list[ast.comprehension], index: int,
                  results: list[Any]) -> None:
        if index == len(generators):
            if isinstance(node, ast.DictComp):
                results.append((self.eval(node.key), self.eval(node.value)))
            else:
                results.append(self.eval(node.elt))  # type: ignore[attr-defined]
            if len(results) > MAX_SEQUENCE:
                raise EvaluationError("comprehension result too long")
            return
        generator = generators[index]
        iterable = self.eval(generator.iter)
        if not isinstance(iterable, list | tuple | set | dict | str):
            raise EvaluationError(f"cannot iterate over {_kind(iterable)}")
        scope: dict[str, Any] = {}
        self.locals.append(scope)
        try:
            for item in list(iterable):
                self._tick()
                _bind(generator.target, item, scope)
                if all(self.eval(cond) for cond in generator.ifs):
                    self._generate(node, generators, index + 1, results)
        finally:
            self.locals.pop()


def _bind(target: ast.expr, value: Any, scope: dict[str, Any]) -> None:
    if isinstance(target, ast.Name):
        scope[target.id] = value
    elif isinstance(target, ast.Tuple | ast.List):
        values = list(value)
        if len(values) != len(target.elts):
            raise EvaluationError("cannot unpack: wrong number of values")
        for elt, item in zip(target.elts, values, strict=True):
            _bind(elt, item, scope)
    else:
        raise EvaluationError("unsupported loop target")


def _as_load(target: ast.expr) -> ast.expr:
    clone = ast.parse(ast.unparse(target), mode="eval").body
    return clone


def _plain(value: Any, depth: int = 0) -> Any:
    """Refuse anything but plain, bounded data; stops objects and functions leaking into task data."""
    if depth > 32:
        raise EvaluationError("value nested too deeply")
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | complex):
        return number(value)
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise EvaluationError("text too long")
        return value
    if isinstance(value, list | tuple | set | dict):
        if len(value) > MAX_SEQUENCE:
            raise EvaluationError("too many items")
        for item in (value.items() if isinstance(value, dict) else value):
            if isinstance(value, dict):
                _plain(item[0], depth + 1)
                _plain(item[1], depth + 1)
            else:
                _plain(item, depth + 1)
        return value
    raise EvaluationError(f"value of type {type(value).__name__} is not plain data")


def _kind(value: Any) -> str:
    return type(value).__name__


_PARSED: dict[tuple[str, str], ast.AST] = {}


def _parse(text: str, mode: str) -> ast.AST:
    """Parse and check once per distinct text; the cache keeps hot paths from re-checking."""
    key = (mode, text)
    tree = _PARSED.get(key)
    if tree is None:
        problems = check_expression(text) if mode == "eval" else check_script(text)
        if problems:
            raise EvaluationError("; ".join(str(p) for p in problems))
        tree = ast.parse(text.strip() if mode == "eval" else text, mode=mode)
        if len(_PARSED) > 5000:
            _PARSED.clear()
        _PARSED[key] = tree
    return tree


_RUNTIME_ERRORS = (TypeError, KeyError, IndexError, AttributeError, ValueError, OverflowError, RecursionError,
                   ZeroDivisionError, MemoryError)


def evaluate(text: str, context: dict[str, Any], extra: Mapping[str, Any] | None = None,
             budget: int = DEFAULT_STEP_BUDGET) -> Any:
    """Evaluate an expression against `context` (task data) and `extra` (engine-supplied names)."""
    tree = _parse(text, "eval")
    try:
        return _plain(Interpreter(context, extra, budget).eval(tree))
    except _RUNTIME_ERRORS as exc:
        raise EvaluationError(_describe(exc)) from exc


def execute(text: str, context: dict[str, Any], extra: Mapping[str, Any] | None = None,
            budget: int = DEFAULT_STEP_BUDGET) -> None:
    """Run a script, changing `context` in place."""
    tree = _parse(text, "exec")
    assert isinstance(tree, ast.Module)
    try:
        Interpreter(context, extra, budget).run(tree.body)
    except _RUNTIME_ERRORS as exc:
        raise EvaluationError(_describe(exc)) from exc


def _describe(exc: BaseException) -> str:
    messages = {
        KeyError: "no such key", IndexError: "index out of range", ZeroDivisionError: "division by zero",
        RecursionError: "nested too deeply", OverflowError: "number too large", MemoryError: "result too large",
    }
    for kind, text in messages.items():
        if isinstance(exc, kind):
            return f"{text}: {exc!r}"[:300]
    return f"{type(exc).__name__}: {exc}"[:300]
