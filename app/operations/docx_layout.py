"""The layout of GB/T 9704-2012 official documents (党政机关公文格式) with python-docx.

A4, margins giving the 156 × 225 mm type area, 22 lines of 28 characters in 三号仿宋, the red 版头
(issuing body + 文件), 发文字号 and red rule, the title in 二号小标宋, headings in 黑体 / 楷体, the
signature and date, the 抄送/印发 block and page numbers "— 1 —" in the footer.

Fonts are named for East-Asian text (`w:eastAsia`), with their usual substitutes declared in the font
table (仿宋_GB2312 → 仿宋, 方正小标宋简体 → 宋体 …): Word on the reader's PC uses the named font or its
substitute, and a server without them (LibreOffice) falls back to any CJK font it has.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree

from app import clock

FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
LATIN = "Times New Roman"
SUBSTITUTES = {FANGSONG: "仿宋", XIAOBIAOSONG: "宋体", KAITI: "楷体", HEITI: "SimHei", SONGTI: "SimSun"}

SIZE_BODY = Pt(16)  # 三号
SIZE_TITLE = Pt(22)  # 二号
SIZE_MASTHEAD = Pt(36)  # 版头: large enough to read as the issuing body's mark
SIZE_NOTE = Pt(14)  # 四号: 抄送/印发 and page numbers
LINE = Pt(28.9)  # 225 mm / 22 lines
RED = RGBColor(0xFF, 0x00, 0x00)
# XML 1.0 refuses these characters; text from forms may carry them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: object) -> str:
    """Text safe for a document: control characters removed."""
    return _CONTROL.sub("", str(text))


def date_cn(value: datetime | None) -> str:
    """A date as documents write it: 2026年11月25日 (Asia/Shanghai)."""
    if value is None:
        return ""
    local = clock.local(value)
    return f"{local.year}年{local.month}月{local.day}日"


def time_cn(value: datetime | None) -> str:
    """A time as documents write it: 2026年11月25日 09:30."""
    return f"{date_cn(value)} {clock.local(value).strftime('%H:%M')}" if value else ""


@dataclass
class Letter:
    """What the layout needs besides the body: masthead, reference, title, addressee, signature, copies."""

    issuer: str
    masthead: str
    reference: str
    title: str
    addressee: str = ""
    signed: datetime | None = None
    copies: Sequence[str] = field(default_factory=tuple)
    printer: str = ""


def _fonts(run: object, east_asia: str, size: Pt | None = None, bold: bool = False,
           color: RGBColor | None = None) -> None:
    font = run.font  # type: ignore[attr-defined]
    font.name = LATIN
    font.size = size or SIZE_BODY
    font.bold = bold
    if color is not None:
        font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()  # type: ignore[attr-defined]
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def _spacing(paragraph: object, exact: Pt = LINE) -> None:
    fmt = paragraph.paragraph_format  # type: ignore[attr-defined]
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = exact
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _border(paragraph: object, side: str, size: int, color: str = "FF0000") -> None:
    ppr = paragraph._p.get_or_add_pPr()  # type: ignore[attr-defined]
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), color)
    borders.append(line)


class OfficialDocument:
    """A document being written in the official layout; `save()` gives the .docx bytes."""

    def __init__(self, letter: Letter):
        self.letter = letter
        self.doc = Document()
        self._page()
        self._styles()
        self._font_table()
        self._footer()
        self._head()

    # -- page, styles, fonts ----------------------------------------------------------------------

    def _page(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.footer_distance = Mm(28) - Pt(14)  # the page number sits 7 mm below the type area
        self.doc.core_properties.title = clean(self.letter.title)
        self.doc.core_properties.author = clean(self.letter.issuer)

    def _styles(self) -> None:
        normal = self.doc.styles["Normal"]
        normal.font.name = LATIN
        normal.font.size = SIZE_BODY
        fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), FANGSONG)
        normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        normal.paragraph_format.line_spacing = LINE
        normal.paragraph_format.space_after = Pt(0)

    def _font_table(self) -> None:
        """Declare each East-Asian font with its substitute (w:altName) and the GB2312 charset."""
        for rel in self.doc.part.rels.values():
            if rel.reltype != RT.FONT_TABLE:
                continue
            part = rel.target_part
            root = etree.fromstring(part.blob)
            for name, alternative in SUBSTITUTES.items():
                node = etree.SubElement(root, qn("w:font"))
                node.set(qn("w:name"), name)
                etree.SubElement(node, qn("w:altName")).set(qn("w:val"), alternative)
                etree.SubElement(node, qn("w:charset")).set(qn("w:val"), "86")
                etree.SubElement(node, qn("w:family")).set(qn("w:val"), "modern")
            part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    def _footer(self) -> None:
        paragraph = self.doc.sections[0].footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _fonts(paragraph.add_run("— "), SONGTI, SIZE_NOTE)
        for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
            run = paragraph.add_run()
            _fonts(run, SONGTI, SIZE_NOTE)
            if kind:
                char = OxmlElement("w:fldChar")
                char.set(qn("w:fldCharType"), kind)
                run._element.append(char)
            elif text == "PAGE":
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = " PAGE "
                run._element.append(instr)
            else:
                run.text = text
        _fonts(paragraph.add_run(" —"), SONGTI, SIZE_NOTE)

    # -- the parts of a document --------------------------------------------------------------------

    def _head(self) -> None:
        masthead = self.doc.paragraphs[0] if self.doc.paragraphs else self.doc.add_paragraph()
        masthead.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _spacing(masthead, Pt(48))
        _fonts(masthead.add_run(clean(self.letter.masthead)), XIAOBIAOSONG, SIZE_MASTHEAD, color=RED)
        self.blank()
        reference = self.doc.add_paragraph()
        reference.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _spacing(reference)
        _fonts(reference.add_run(clean(self.letter.reference)), FANGSONG)
        _border(reference, "bottom", 18)  # the red rule under the reference
        self.blank()
        title = self.doc.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _spacing(title, Pt(36))
        _fonts(title.add_run(clean(self.letter.title)), XIAOBIAOSONG, SIZE_TITLE)
        self.blank()
        if self.letter.addressee:
            self.line(f"{self.letter.addressee}:", indent=False)

    def blank(self) -> None:
        """An empty line of body height."""
        _spacing(self.doc.add_paragraph())

    def line(self, text: str, indent: bool = True, font: str = FANGSONG, align: object = None) -> None:
        """A body paragraph in 三号 (indented two characters unless `indent` is False)."""
        paragraph = self.doc.add_paragraph()
        _spacing(paragraph)
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(32)
        if align is not None:
            paragraph.alignment = align
        _fonts(paragraph.add_run(clean(text)), font)

    def text(self, text: str) -> None:
        """Several paragraphs, one per line of `text` (blank lines dropped)."""
        for part in clean(text).splitlines():
            if part.strip():
                self.line(part.strip())

    def heading(self, text: str, level: int = 1) -> None:
        """一、… in 黑体 (level 1) or (一)… in 楷体 (level 2)."""
        self.line(text, font=HEITI if level == 1 else KAITI)

    def table(self, header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float] = ()) -> None:
        """A bordered table in 四号仿宋, header row bold; `widths` in mm."""
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for row_index, values in enumerate([header, *rows]):
            cells = table.rows[0].cells if row_index == 0 else table.add_row().cells
            for col, value in enumerate(values):
                paragraph = cells[col].paragraphs[0]
                _spacing(paragraph, Pt(20))
                _fonts(paragraph.add_run(clean(value if value not in (None, "") else "—")),
                       HEITI if row_index == 0 else FANGSONG, SIZE_NOTE)
                if widths:
                    cells[col].width = Mm(widths[col])

    def signature(self) -> None:
        """The issuing body and the date, right-aligned four characters from the edge."""
        self.blank()
        for text in (self.letter.issuer, date_cn(self.letter.signed)):
            paragraph = self.doc.add_paragraph()
            _spacing(paragraph)
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            paragraph.paragraph_format.right_indent = Pt(64)
            _fonts(paragraph.add_run(clean(text)), FANGSONG)

    def _colophon(self) -> None:
        """抄送 and 印发 between rules, at the end of the document (版记)."""
        self.blank()
        if self.letter.copies:
            copies = self.doc.add_paragraph()
            _spacing(copies)
            copies.paragraph_format.left_indent = Pt(14)
            _fonts(copies.add_run(clean(f"抄送:{'、'.join(self.letter.copies)}。")), FANGSONG, SIZE_NOTE)
            _border(copies, "top", 8, "000000")
            _border(copies, "bottom", 4, "000000")
        printed = self.doc.add_paragraph()
        _spacing(printed)
        printed.paragraph_format.left_indent = Pt(14)
        _fonts(printed.add_run(clean(f"{self.letter.printer}\u3000\u3000{date_cn(self.letter.signed)}印发")),
               FANGSONG, SIZE_NOTE)
        if not self.letter.copies:
            _border(printed, "top", 8, "000000")
        _border(printed, "bottom", 8, "000000")

    def save(self) -> bytes:
        """The finished document (signature and 版记 added) as .docx bytes."""
        self.signature()
        self._colophon()
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()
