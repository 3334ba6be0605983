"""Conditions and timers written for other engines, in our expression language.

A JUEL (`${a == true}`, `#{x}`) or FEEL (`= x > 5`, `a and b`) condition is tokenised and rewritten
word by word (`&&` → and, `eq` → ==, `null` → None, camelCase names as the converted form names its
fields); a bare ISO-8601 timer value becomes a quoted literal. Whatever does not convert cleanly, or
does not pass the expression checker, gives None and stays as it was, listed in the import report.
"""

from __future__ import annotations

import re

from app.engine import checker, import_forms

_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<str>"[^"\\]*"|'[^'\\]*')|(?P<name>[A-Za-z_]\w*)"""
                    r"""|(?P<op>==|!=|<=|>=|&&|\|\||[<>!()+\-*/%,=\[\]]))""")
_WORDS = {"true": "True", "false": "False", "null": "None", "and": "and", "or": "or", "not": "not",
          "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "in": "in"}
_OPS = {"&&": "and", "||": "or", "!": "not", "=": "=="}


def _name(token: str) -> str:
    """A word of a condition in our language: true/false/null, an operator word, or a variable named as
    the converted form names its field (heatScore → heat_score)."""
    if token.lower() in ("true", "false", "null"):
        return _WORDS[token.lower()]
    if token in _WORDS:
        return _WORDS[token]
    return import_forms.field_name(token) or token if token != token.lower() else token


def convert_expression(text: str) -> str | None:
    """A JUEL (`${a == true}`) or FEEL (`= x > 5`, `a and b`) condition in our language, else None."""
    body = (text or "").strip()
    if (body.startswith("${") or body.startswith("#{")) and body.endswith("}"):
        body = body[2:-1]
    elif body.startswith("="):
        body = body[1:]
    out: list[str] = []
    position = 0
    body = body.strip()
    while position < len(body):
        match = _TOKEN.match(body, position)
        if not match or match.end() == position:
            return None
        position = match.end()
        kind, token = match.lastgroup, match.group(match.lastgroup or "")
        if kind == "name":
            if token in ("empty", "execution", "task") or token.startswith("_"):
                return None
            out.append(_name(token))
        elif kind == "op":
            out.append(_OPS.get(token, token))
        else:
            out.append(token)
    result = " ".join(out).replace("( ", "(").replace(" )", ")")
    if not result or checker.check_expression(result):
        return None
    return result


_ISO_LITERAL = re.compile(r"^(R\d*/)?P[0-9YMWDTHS.,]+$|^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:?\d\d)$")


def convert_timer(text: str) -> str | None:
    """A bare ISO-8601 value becomes a quoted literal; `${name}` becomes the name; else None."""
    body = (text or "").strip()
    if re.fullmatch(r"""(['"]).*\1""", body):
        return body
    if _ISO_LITERAL.match(body):
        return f'"{body}"'
    converted = convert_expression(body) if body.startswith(("${", "#{", "=")) else None
    return converted if converted and re.fullmatch(r"[A-Za-z]\w*", converted) else None
