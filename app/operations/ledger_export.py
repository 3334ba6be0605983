"""The ledger list as an Excel workbook (.xlsx): the CSV export's rows and filters, with real date cells.

Written by openpyxl in write-only mode (rows go to a temporary file as they are read, so a long period
does not sit in memory); Chinese headers, labels instead of codes, times as Excel date cells in
Asia/Shanghai, the header row frozen and each column wide enough to read.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app import clock
from app.operations import deadlines, labels, ledger
from app.operations.ledger import CSV_COLUMNS, LedgerFilter
from app.operations.vocabulary import level_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
WIDTHS = (14, 40, 9, 24, 24, 12, 12, 16, 17, 17, 17, 17, 17, 17, 17, 9, 12, 30)
CHUNK = 64 * 1024
# XML 1.0 (and so every .xlsx) refuses these; a cell holding one would break the whole file.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


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
    for title in CSV_COLUMNS:
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
    names = labels.unit_names()
    choices = {field: labels.field_labels(field) for field in ("source_type", "platform")}
    for incident in ledger.incidents_for_export(f):
        facts = labels.incident_facts(incident, names=names, choices=choices)
        missed = [row.label for row in deadlines.deadline_rows(incident, names) if row.missed]
        sheet.append([
            _text(sheet, incident.number), _text(sheet, incident.title), _text(sheet, facts["status"]),
            _text(sheet, level_name(incident.level)), _text(sheet, level_name(incident.proposed_level)),
            _text(sheet, facts["source_type"]), _text(sheet, facts["platform"]), _text(sheet, facts["lead_unit"]),
            *(_time(sheet, t) for t in (incident.occurred_at, incident.discovered_at, incident.reported_at,
                                        incident.first_release_at, incident.press_conf_at, incident.subsided_at,
                                        incident.closed_at)),
            incident.upgrades, _text(sheet, "是" if incident.is_false_info else "否"), _text(sheet, "、".join(missed)),
        ])
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
