"""JSON Schema forms for user tasks: load and check schemas, parse and validate posts, build render models.

Belongs here: everything between a posted form and typed task data, plus the render model the
`templates/forms/_fields.html` macros show. Forbidden: flask, sqlalchemy, SpiffWorkflow, app.models,
app.operations, app.web; the only app import is the expression evaluator. See docs/forms.md.
"""

from app.forms.checks import check_schema
from app.forms.data import FORM_FILE_NAME, blanks, context_sources, declared_data, field_index, sources_of
from app.forms.display import FileItem, context_items, display_text, file_items, summary
from app.forms.durations import cycle_words, duration_words, keep_spelling
from app.forms.fields import FieldDef, choices, match_choice
from app.forms.files import (
    CONTENT_TYPES,
    CheckedFile,
    FileRefused,
    StoredFiles,
    accepted_categories,
    attachment_refs,
    attachment_schema,
    check_upload,
    clean_filename,
)
from app.forms.messages import message
from app.forms.render import Field, build_fields, form_errors
from app.forms.schema import FormSchemaError, FormSpec, load_json
from app.forms.submit import Submission, add_row, check_submission, parse_submission
from app.forms.translate import localize, localize_fields
from app.forms.translate import text as form_text
from app.forms.validate import validate

__all__ = [
    "CONTENT_TYPES",
    "FORM_FILE_NAME",
    "CheckedFile",
    "Field",
    "FieldDef",
    "FileItem",
    "FileRefused",
    "FormSchemaError",
    "FormSpec",
    "StoredFiles",
    "Submission",
    "accepted_categories",
    "add_row",
    "attachment_refs",
    "attachment_schema",
    "blanks",
    "build_fields",
    "check_schema",
    "check_submission",
    "check_upload",
    "choices",
    "clean_filename",
    "context_items",
    "context_sources",
    "cycle_words",
    "declared_data",
    "display_text",
    "duration_words",
    "field_index",
    "file_items",
    "form_errors",
    "form_text",
    "keep_spelling",
    "load_json",
    "localize",
    "localize_fields",
    "match_choice",
    "message",
    "parse_submission",
    "sources_of",
    "summary",
    "validate",
]
