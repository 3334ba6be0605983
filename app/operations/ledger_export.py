"""The ledger list as files: CSV (UTF-8 with a BOM, for Excel) and an Excel workbook (.xlsx) with real date cells.

Both have the same columns, filters and rows; they are Chinese whoever exports them (a record kept by the
bureau, decision 102). Labels instead of codes; 结束时间 stands next to 状态, which says whether the incident
was closed (已结案), terminated (已终止) or not started (不予启动) at that time. The workbook is written by
openpyxl in write-only mode (rows go to a temporary file as they are read, so a long period does not sit in
memory), times as Excel date cells in Asia/Shanghai, the header row frozen and each column wide enough to read.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from flask_babel import force_locale
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app import clock
from app.extensions import db
from app.models import Incident
from app.operations import deadlines, labels, ledger_filter
from app.operations.ledger_filter import LedgerFilter
from app.operations.vocabulary import level_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
COLUMNS = ("编号", "标题", "状态", "结束时间", "等级", "建议等级", "线索来源", "发布平台", "承办科室", "首发时间",
           "发现时间", "快报时间", "首次发布时间", "发布会时间", "平息时间", "升级次数", "虚假不实信息", "超时环节")
WIDTHS = (14, 40, 9, 17, 24, 24, 12, 12, 16, 17, 17, 17, 17, 17, 17, 9, 12, 30)
CHUNK = 64 * 1024
# XML 1.0 (and so every .xlsx) refuses these; a cell holding one would break the whole file.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def incidents_for_export(f: LedgerFilter) -> Iterator[Incident]:
    """Every incident the filter selects, oldest discovery first, read in batches (exports of long periods)."""
    return iter(db.session.scalars(ledger_filter.filtered(f).order_by(Incident.discovered_at, Incident.id)
                                   .execution_options(yield_per=500)))


def _rows(f: LedgerFilter) -> Iterator[list[str | int | datetime | None]]:
    """The cells of each exported incident, in the order of COLUMNS: texts, times, the number of upgrades.

    Call it inside `force_locale("zh_CN")`: statuses and deadline names are translatable labels.
    """
    names = labels.unit_names()
    choices = {field: labels.field_labels(field) for field in ("source_type", "platform")}
    for incident in incidents_for_export(f):
        facts = labels.incident_facts(incident, names=names, choices=choices)
        missed = [str(row.label) for row in deadlines.deadline_rows(incident, names) if row.missed]
        yield [incident.number, incident.title, facts["status"], incident.closed_at,
               level_name(incident.level) or "", level_name(incident.proposed_level) or "",
               facts["source_type"], facts["platform"], facts["lead_unit"],
               incident.occurred_at, incident.discovered_at, incident.reported_at, incident.first_release_at,
               incident.press_conf_at, incident.subsided_at,
               incident.upgrades, "是" if incident.is_false_info else "否", "、".join(missed)]


def csv_cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): text starting with = + - @ gets a leading quote."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_value(value: str | int | datetime | None) -> str | int:
    if isinstance(value, datetime):
        return clock.local(value).strftime("%Y-%m-%d %H:%M")  # as Excel reads a time (Asia/Shanghai, no offset)
    if isinstance(value, int):
        return value
    return csv_cell(value or "")


def export_csv(f: LedgerFilter) -> str:
    """The filtered ledger as CSV with a BOM, so Excel opens the Chinese text correctly."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    with force_locale("zh_CN"):
        for row in _rows(f):
            writer.writerow([_csv_value(value) for value in row])
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: str | int | datetime | None) -> WriteOnlyCell | int | None:
    if isinstance(value, datetime):
        return _time(sheet, value)
    if isinstance(value, int):
        return value
    return _text(sheet, value)


def _text(sheet: Any, value: Any) -> WriteOnlyCell:
    """A text cell: control characters dropped, and typed as text, so `=`, `+`, `＝` … never start a formula."""
    cell = WriteOnlyCell(sheet, value=_CONTROL.sub("", str(value or ""))[:32000])
    cell.data_type = "s"
    return cell


def _time(sheet: Any, value: datetime | None) -> WriteOnlyCell | None:
    if value is None:
        return None
    cell = WriteOnlyCell(sheet, value=clock.local(value).replace(tzinfo=None))  # Excel has no time zones
    cell.number_format = DATE_FORMAT
    return cell


def _header(sheet: Any) -> list[WriteOnlyCell]:
    cells = []
    for title in COLUMNS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cells.append(cell)
    return cells


def write_xlsx(f: LedgerFilter, out: IO[bytes]) -> None:
    """Write the filtered ledger as a workbook to `out` (an empty period gives the header row alone)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("舆情台账")
    sheet.freeze_panes = "A2"
    for index, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append(_header(sheet))
    with force_locale("zh_CN"):
        for row in _rows(f):
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(out)


def export_xlsx(f: LedgerFilter) -> Iterator[bytes]:
    """The workbook in chunks for a streamed response; it is written to a temporary file first."""
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - closed by the generator
    write_xlsx(f, spool)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(CHUNK):
                yield block

    return chunks()
