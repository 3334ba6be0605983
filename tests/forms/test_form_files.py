"""Attachment (file[]) fields: schema checks, render model, macros, submissions and the upload checks."""

import copy
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from app.forms import (
    FileRefused,
    StoredFiles,
    attachment_schema,
    build_fields,
    check_schema,
    check_submission,
    check_upload,
    clean_filename,
    display_text,
    file_items,
    parse_submission,
    summary,
)
from app.forms.files import ATTACHMENT_ITEMS, DOCX, PPTX, XLSX
from tests.forms import uploads
from tests.forms.conftest import UISCHEMA, _make_form, _make_schema, _valid_data

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"
REF_A = {"id": "11111111-1111-4111-8111-111111111111", "name": "现场截图.png", "size": 2048,
         "content_type": "image/png"}
REF_B = {"id": "22222222-2222-4222-8222-222222222222", "name": "情况说明.pdf", "size": 3 * 1024 * 1024,
         "content_type": "application/pdf"}
STORED = StoredFiles({"attachments": [REF_A, REF_B]}, max_mb=20)


def _form(**extra):
    schema = _make_schema(attachments=attachment_schema("截图及附件", 3, ["image", "pdf"]), **extra)
    return _make_form(schema)


def _problems(schema, uischema=None):
    return check_schema("ut_sample", schema, uischema if uischema is not None else UISCHEMA)


# -- schema checks ------------------------------------------------------------------------------


def test_the_documented_attachment_field_is_accepted():
    prop = attachment_schema("截图及附件", 10, ["image", "pdf", "office", "text"])
    assert _problems(_make_schema(attachments=prop)) == []
    field = _form().by_name["attachments"]
    assert (field.kind, field.max_items) == ("files", 3)


def test_accept_may_be_left_out_and_means_every_category():
    prop = attachment_schema("附件")
    del prop["x-attachments"]["accept"]
    assert _problems(_make_schema(attachments=prop)) == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"x-attachments": {"accept": ["image", "exe"]}}, "x-attachments.accept"),
    ({"x-attachments": {"accept": []}}, "x-attachments.accept"),
    ({"x-attachments": {"accept": ["image", "image"]}}, "x-attachments.accept"),
    ({"x-attachments": {"accept": ["image"], "maxSize": 100}}, "only key is accept"),
    ({"x-attachments": ["image"]}, "only key is accept"),
    ({"maxItems": 0}, "maxItems from 1 to 20"),
    ({"maxItems": 500}, "maxItems from 1 to 20"),
    ({"default": [{"id": "x", "name": "y"}]}, "cannot have a default"),
    ({"items": {"type": "string", "maxLength": 36}}, "attachment reference schema"),
])
def test_bad_attachment_fields_are_refused(change, expected):
    prop = {**attachment_schema("附件"), **change}
    problems = _problems(_make_schema(attachments=prop))
    assert any(expected in problem for problem in problems), problems


def test_items_must_be_the_reference_schema_exactly():
    items = copy.deepcopy(ATTACHMENT_ITEMS)
    items["properties"]["content"] = {"type": "string", "maxLength": 100000}  # file bytes in task data: no
    prop = {**attachment_schema("附件"), "items": items}
    assert any("attachment reference schema" in p for p in _problems(_make_schema(attachments=prop)))
    reordered = {**copy.deepcopy(ATTACHMENT_ITEMS), "required": ["name", "id"]}
    assert _problems(_make_schema(attachments={**attachment_schema("附件"), "items": reordered})) == []


def test_x_attachments_only_on_top_level_arrays():
    problems = _problems(_make_schema(photo={"type": "string", "title": "照片", "maxLength": 36,
                                             "x-attachments": {"accept": ["image"]}}))
    assert any("x-attachments belongs on a top-level array field" in p for p in problems)


def test_ui_schema_cannot_change_the_widget_or_prefill_attachments():
    schema = _make_schema(attachments=attachment_schema("附件"))
    widget = _problems(schema, {**UISCHEMA, "attachments": {"ui:widget": "textarea"}})
    assert any("does not fit a files field" in p for p in widget)
    prefill = _problems(schema, {**UISCHEMA, "ui:prefill": {"attachments": "earlier_files"}})
    assert any("cannot be prefilled" in p for p in prefill)


# -- render model and macros --------------------------------------------------------------------


def _field(fields, name="attachments"):
    return next(field for field in fields if field.name == name)


def test_without_a_post_every_stored_file_of_the_field_is_listed():
    field = _field(build_fields(_form(), files=STORED))
    assert field.widget == "files"
    assert [(item.id, item.name, item.size, item.removed) for item in field.files] == [
        (REF_A["id"], "现场截图.png", "2 KB", False), (REF_B["id"], "情况说明.pdf", "3.0 MB", False)]
    assert field.accept == ".png,.jpg,.jpeg,.gif,.webp,.pdf"
    assert field.hint == "可上传 PNG、JPG、JPEG、GIF、WEBP、PDF;单个文件不超过 20 MB"
    assert field.describedby.endswith("field-attachments-hint")


def test_a_post_lists_its_own_ids_keeps_remove_ticks_and_drops_unknown_ids():
    raw = {"attachments": [REF_B["id"], "forged"], "attachments.remove": [REF_B["id"]]}
    field = _field(build_fields(_form(), raw=raw, errors={"attachments": ["附件无效"]}, files=STORED))
    assert [(item.id, item.removed) for item in field.files] == [(REF_B["id"], True)]
    assert field.errors == ["附件无效"]


def test_read_only_attachments_show_their_files_from_the_context():
    prop = {**attachment_schema("前序材料"), "readOnly": True}
    form = _make_form(_make_schema(earlier=prop))
    field = _field(build_fields(form, context={"earlier": [REF_A]}), "earlier")
    assert (field.widget, field.value, [item.name for item in field.files]) == ("readonly", "现场截图.png",
                                                                               ["现场截图.png"])


@pytest.fixture
def macros():
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True)
    env.globals["url_for"] = lambda endpoint, **values: f"/attachments/{values['public_id']}"
    return env.get_template("forms/_fields.html").module


def test_macros_render_links_hidden_ids_remove_boxes_and_a_multiple_file_input(macros):
    hostile = {**REF_A, "name": "<img src=x onerror=alert(1)>.png"}
    fields = build_fields(_form(), raw={"attachments": [hostile["id"]], "attachments.remove": []},
                          files=StoredFiles({"attachments": [hostile]}, 20))
    html = str(macros.render_field(_field(fields)))
    assert f'<input type="hidden" name="attachments" value="{REF_A["id"]}">' in html
    assert f'<a href="/attachments/{REF_A["id"]}">&lt;img src=x onerror=alert(1)&gt;.png</a>' in html
    assert f'name="attachments.remove" value="{REF_A["id"]}"' in html and "删除" in html
    assert '<input type="file" id="field-attachments" name="attachments" multiple accept=".png,' in html
    assert "<img" not in html


def test_attachment_links_macro_lists_download_links(macros):
    html = str(macros.attachment_links(file_items([REF_A, REF_B])))
    link = f'<a href="/attachments/{REF_B["id"]}">情况说明.pdf</a>'
    assert f'{link} <span class="attachments__size">(3.0 MB)</span>' in html


# -- submissions --------------------------------------------------------------------------------


def test_posted_ids_become_the_servers_refs_minus_removed_ones():
    formdata = {"attachments": [REF_A["id"], REF_B["id"]], "attachments.remove": [REF_A["id"]]}
    submission = parse_submission(_form(), formdata, files=STORED)
    assert submission.data["attachments"] == [REF_B]
    assert submission.raw["attachments"] == [REF_A["id"], REF_B["id"]]
    assert submission.raw["attachments.remove"] == [REF_A["id"]]
    assert "attachments" not in submission.errors


def test_an_id_the_server_did_not_issue_for_the_field_is_an_error():
    forged = parse_submission(_form(), {"attachments": ["33333333-3333-4333-8333-333333333333"]}, files=STORED)
    assert forged.errors["attachments"] == ["附件无效或不属于本任务,请重新上传"]
    assert "attachments" not in forged.data
    other_field = StoredFiles({"screenshots": [REF_A]})
    assert parse_submission(_form(), {"attachments": [REF_A["id"]]}, files=other_field).errors["attachments"]


def test_too_many_files_and_required_files(valid_data, options):
    form = _make_form(_make_schema(attachments={**attachment_schema("附件", 1)}))
    too_many = parse_submission(form, {"attachments": [REF_A["id"], REF_B["id"]]}, files=STORED)
    assert too_many.errors["attachments"] == ["最多 1 项"]
    schema = _make_schema(attachments=attachment_schema("附件"))
    schema["required"] = [*schema["required"], "attachments"]
    formdata = {"title": "t", "is_false_info": "false", "source_type": "self_monitoring", "confirmed_level": "2",
                "discovered_at": "2026-11-25T09:30"}
    missing = check_submission(_make_form(schema), formdata, {"proposed_level": 2}, options, files=STORED)
    assert missing.errors == {"attachments": ["此项为必填项"]}
    given = check_submission(_make_form(schema), {**formdata, "attachments": [REF_A["id"]]}, {"proposed_level": 2},
                             options, files=STORED)
    assert given.errors == {} and given.data["attachments"] == [REF_A]


def test_display_text_and_summary_show_file_names():
    form = _form()
    data = _valid_data(attachments=[REF_A, REF_B])
    assert display_text(form.by_name["attachments"], [REF_A, REF_B]) == "现场截图.png、情况说明.pdf"
    assert ("截图及附件", "现场截图.png、情况说明.pdf") in summary(form, data)
    linked = dict(summary(form, data, files=lambda items: "|".join(item.id for item in items)))
    assert linked["截图及附件"] == f"{REF_A['id']}|{REF_B['id']}"


# -- upload checks ------------------------------------------------------------------------------

ALL = ("image", "pdf", "office", "text")


@pytest.mark.parametrize(("name", "content", "content_type"), [
    ("截图.png", uploads.PNG, "image/png"),
    ("照片.JPG", uploads.JPEG, "image/jpeg"),
    ("动图.gif", uploads.GIF, "image/gif"),
    ("图.webp", uploads.WEBP, "image/webp"),
    ("报告.pdf", uploads.PDF, "application/pdf"),
    ("说明.docx", uploads.docx(), DOCX),
    ("统计.xlsx", uploads.xlsx(), XLSX),
    ("汇报.pptx", uploads.pptx(), PPTX),
    ("旧文档.doc", uploads.doc(), "application/msword"),
    ("旧表格.xls", uploads.xls(), "application/vnd.ms-excel"),
    ("统计.xls", uploads.xlsx(), XLSX),  # a new workbook under the old extension: stored as what it is
    ("摘要.txt", uploads.TEXT_UTF8, "text/plain"),
    ("摘要gbk.txt", uploads.TEXT_GB18030, "text/plain"),
    ("数据.csv", uploads.CSV, "text/csv"),
    ("截图.jpg", uploads.PNG, "image/png"),  # a PNG saved as .jpg is still an image
])
def test_allowed_files_pass_by_name_and_content(name, content, content_type):
    checked = check_upload(name, content, ALL)
    assert (checked.filename, checked.content_type) == (name, content_type)


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("page.html", uploads.HTML, "文件类型不允许"),
    ("截图.png", uploads.HTML, "网页或脚本"),
    ("notes.txt", uploads.HTML, "网页或脚本"),
    ("logo.svg", uploads.SVG, "文件类型不允许"),
    ("logo.png", uploads.SVG, "网页或脚本"),
    ("setup.exe", uploads.EXE, "文件类型不允许"),
    ("报告.pdf", uploads.EXE, "内容与其扩展名不符"),
    ("报告.doc", uploads.ELF, "内容与其扩展名不符"),
    ("run.sh", b"#!/bin/sh\nrm -rf /\n", "文件类型不允许"),
    ("资料.zip", uploads.plain_zip(), "文件类型不允许"),
    ("资料.docx", uploads.plain_zip(), "不是有效的 Office 文档"),
    ("炸弹.docx", uploads.zip_bomb_docx(), "不是有效的 Office 文档"),
    ("宏.docx", uploads.docm(), "含有宏"),
    ("宏.docm", uploads.docm(), "文件类型不允许"),
    ("安装包.doc", uploads.msi(), "内容与其扩展名不符"),
    ("截图.pdf", uploads.PNG, "内容与其扩展名不符"),
    ("空.png", b"", "空文件"),
    ("binary.txt", b"abc\x01\x02def", "内容与其扩展名不符"),
    ("报告.pdf.exe", uploads.PDF, "文件类型不允许"),
    ("README", uploads.TEXT_UTF8, "文件类型不允许"),
])
def test_refused_files_say_why(name, content, reason):
    with pytest.raises(FileRefused) as refused:
        check_upload(name, content, ALL)
    assert reason in str(refused.value)


def test_a_field_accepts_only_its_categories():
    with pytest.raises(FileRefused) as refused:
        check_upload("报告.pdf", uploads.PDF, ("image",))
    assert "只能上传 PNG、JPG、JPEG、GIF、WEBP" in str(refused.value)
    assert check_upload("报告.pdf", uploads.PDF, ("image", "pdf")).category == "pdf"


@pytest.mark.parametrize(("given", "cleaned"), [
    ("C:\\Users\\张三\\Desktop\\现场截图.png", "现场截图.png"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("报告\u202egpj.exe", "报告gpj.exe"),  # the right-to-left override would show it as "exe.jpg"
    ("a\x00b\r\nc.pdf", "abc.pdf"),
    ('what"<is>:this?.pdf', "what__is__this_.pdf"),
    ("  舆情   截图 .png ", "舆情 截图.png"),
    (".png", "附件.png"),
    ("", "附件"),
    ("名" * 300 + ".docx", "名" * 115 + ".docx"),
])
def test_filenames_are_cleaned_and_chinese_is_kept(given, cleaned):
    assert clean_filename(given) == cleaned
    assert len(clean_filename(given)) <= 120
