"""The words forms show to people, in Chinese (default) and English, in one table each."""

from __future__ import annotations

from typing import Any

DEFAULT_LOCALE = "zh_CN"

MESSAGES: dict[str, dict[str, str]] = {
    "zh_CN": {
        "required": "此项为必填项",
        "maxLength": "最多 {limit} 个字符",
        "minLength": "至少 {limit} 个字符",
        "minimum": "不能小于 {limit}",
        "maximum": "不能大于 {limit}",
        "exclusiveMinimum": "必须大于 {limit}",
        "exclusiveMaximum": "必须小于 {limit}",
        "maxItems": "最多 {limit} 项",
        "minItems": "至少 {limit} 项",
        "uniqueItems": "不能有重复项",
        "additionalProperties": "不允许的字段",
        "choice": "请选择有效的选项",
        "date-time": "请输入有效的日期时间",
        "date": "请输入有效的日期",
        "url": "请输入以 http:// 或 https:// 开头的链接",
        "pattern": "格式不正确",
        "integer": "请输入整数",
        "boolean": "请选择“是”或“否”",
        "string": "请输入文字",
        "array": "请至少选择或填写一项",
        "invalid": "格式不正确",
        "too_large": "提交的内容过多，请精简后再提交",
        "yes": "是",
        "no": "否",
        "select": "请选择",
        "empty": "—",
        "row": "{label} 第 {n} 行 {column}",
        "item": "{label} 第 {n} 项",
    },
    "en": {
        "required": "This field is required",
        "maxLength": "At most {limit} characters",
        "minLength": "At least {limit} characters",
        "minimum": "Must not be less than {limit}",
        "maximum": "Must not be greater than {limit}",
        "exclusiveMinimum": "Must be greater than {limit}",
        "exclusiveMaximum": "Must be less than {limit}",
        "maxItems": "At most {limit} items",
        "minItems": "At least {limit} items",
        "uniqueItems": "Items must not repeat",
        "additionalProperties": "Field not allowed",
        "choice": "Please choose a valid option",
        "date-time": "Please enter a valid date and time",
        "date": "Please enter a valid date",
        "url": "Please enter a link starting with http:// or https://",
        "pattern": "Invalid format",
        "integer": "Please enter a whole number",
        "boolean": "Please choose yes or no",
        "string": "Please enter text",
        "array": "Please choose or fill in at least one item",
        "invalid": "Invalid value",
        "too_large": "The submission is too large; please shorten it",
        "yes": "Yes",
        "no": "No",
        "select": "Please choose",
        "empty": "—",
        "row": "{label} row {n} {column}",
        "item": "{label} item {n}",
    },
}


def normalize_locale(locale: str | None) -> str:
    """Map a locale such as `en_US` or `zh-Hans` onto one of the message tables."""
    return "en" if isinstance(locale, str) and locale.lower().startswith("en") else DEFAULT_LOCALE


def message(key: str, locale: str | None = DEFAULT_LOCALE, **params: Any) -> str:
    """The message `key` in `locale`, formatted with `params`."""
    table = MESSAGES[normalize_locale(locale)]
    return table.get(key, table["invalid"]).format(**params)
