"""The words forms show to people, in Chinese (default) and English, in one table each."""

from __future__ import annotations

import json
from pathlib import Path
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
        "too_large": "提交的内容过多,请精简后再提交",
        "yes": "是",
        "no": "否",
        "select": "请选择",
        "empty": "—",
        "list_separator": "、",
        "row_cell": "{column}:{value}",
        "row_separator": ";",
        "row": "{label} 第 {n} 行 {column}",
        "item": "{label} 第 {n} 项",
        "file_type": "“{name}”的文件类型不允许,只能上传 {allowed}",
        "file_empty": "“{name}”是空文件",
        "file_content": "“{name}”的内容与其扩展名不符或无法识别,已拒绝",
        "file_archive": "“{name}”不是有效的 Office 文档(压缩包和异常文件不能上传)",
        "file_macro": "“{name}”含有宏,不能上传;请另存为不含宏的文档",
        "file_markup": "“{name}”含有网页或脚本内容,不能上传",
        "file_too_large": "“{name}”超过 {limit} MB,不能上传",
        "file_limit": "本任务的附件数量已达上限,请先删除不需要的附件",
        "attachment": "附件无效或不属于本任务,请重新上传",
        "files_hint": "可上传 {types};单个文件不超过 {limit} MB",
        "remove_file": "删除",
        "remove_file_label": "删除附件“{name}”",
        "add_row": "添加一行",
        "remove_row": "删除本行",
        "row_actions": "操作",
        "duration": "请输入有效的时长",
        "duration-cycle": "请输入有效的提醒周期",
        "duration_positive": "请输入大于 0 的整数",
        "duration_max": "时长不能超过 {limit} 天",
        "cycle_times": "提醒次数须为 1 到 {limit} 之间的整数",
        "unit_minutes": "分钟",
        "unit_hours": "小时",
        "unit_days": "天",
        "unit_minutes_one": "分钟",
        "unit_hours_one": "小时",
        "unit_days_one": "天",
        "amount": "{n}{unit}",
        "amount_join": "",
        "cycle_text": "每{every},最多{times}次",
        "cycle_every": "每",
        "cycle_between": "提醒一次,最多",
        "cycle_after": "次",
        "unit_label": "{label}的单位",
        "cycle_every_label": "{label}的提醒间隔",
        "cycle_times_label": "{label}的最多提醒次数",
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
        "list_separator": ", ",
        "row_cell": "{column}: {value}",
        "row_separator": "; ",
        "row": "{label} row {n} {column}",
        "item": "{label} item {n}",
        "file_type": "“{name}”: this file type is not allowed; allowed are {allowed}",
        "file_empty": "“{name}” is empty",
        "file_content": "“{name}”: the content does not match its extension or is not recognised; refused",
        "file_archive": "“{name}” is not a valid Office document (archives and unusual files are refused)",
        "file_macro": "“{name}” contains macros; please save it as a document without macros",
        "file_markup": "“{name}” contains web page or script content and cannot be uploaded",
        "file_too_large": "“{name}” is larger than {limit} MB",
        "file_limit": "This task has reached its number of attachments; remove the ones not needed first",
        "attachment": "Invalid attachment or not one of this task; please upload it again",
        "files_hint": "Allowed: {types}; at most {limit} MB per file",
        "remove_file": "Remove",
        "remove_file_label": "Remove attachment “{name}”",
        "add_row": "Add a row",
        "remove_row": "Remove this row",
        "row_actions": "Actions",
        "duration": "Please enter a valid length of time",
        "duration-cycle": "Please enter a valid reminder cycle",
        "duration_positive": "Please enter a whole number greater than 0",
        "duration_max": "At most {limit} days",
        "cycle_times": "The number of reminders must be a whole number from 1 to {limit}",
        "unit_minutes": "minutes",
        "unit_hours": "hours",
        "unit_days": "days",
        "unit_minutes_one": "minute",
        "unit_hours_one": "hour",
        "unit_days_one": "day",
        "amount": "{n} {unit}",
        "amount_join": " ",
        "cycle_text": "every {every}, at most {times} times",
        "cycle_every": "Every",
        "cycle_between": "a reminder, at most",
        "cycle_after": "times",
        "unit_label": "{label}: unit",
        "cycle_every_label": "{label}: remind every",
        "cycle_times_label": "{label}: at most how many reminders",
    },
}


def read_catalogue(directory: Path, locale: str, strip_keys: bool = False) -> dict[str, str]:
    """A translation catalogue `directory/<locale>.json` ({"中文": "translation"}), entries without a
    translation left out; {} for Chinese (the source language) and for a language without a file."""
    path = directory / f"{locale}.json"
    if locale == DEFAULT_LOCALE or not path.is_file():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {(source.strip() if strip_keys else source): text for source, text in entries.items()
            if isinstance(text, str) and text.strip()}


def normalize_locale(locale: str | None) -> str:
    """Map a locale such as `en_US` or `zh-Hans` onto one of the message tables."""
    return "en" if isinstance(locale, str) and locale.lower().startswith("en") else DEFAULT_LOCALE


def message(key: str, locale: str | None = DEFAULT_LOCALE, **params: Any) -> str:
    """The message `key` in `locale`, formatted with `params`."""
    table = MESSAGES[normalize_locale(locale)]
    return table.get(key, table["invalid"]).format(**params)
