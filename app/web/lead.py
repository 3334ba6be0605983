"""The lead itself (link, platform, metrics, screenshots) beside the grading proposal on the tasks that
confirm a level; screenshots are shown through the incident page's inline preview (`incidents.preview`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app import forms
from app.models import HumanTask
from app.operations import tasks
from app.operations.attachments import PREVIEW_TYPES
from app.operations.vocabulary import level_name

METRICS = ("views", "reposts", "comments", "likes")
ABOUT = ("source_type", "author", "occurred_at", "discovered_at")


@dataclass
class LeadCard:
    """What the card shows; texts are labels, never codes."""

    proposed: str = ""
    basis: str = ""
    platform: str = ""
    url: str = ""
    about: list[tuple[str, str]] = field(default_factory=list)
    metrics: list[tuple[str, str]] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    summary: str = ""


def lead_card(item: HumanTask, form: forms.FormSpec, options: dict[str, Any], locale: str) -> LeadCard | None:
    """The card for a task whose form shows the proposed level (确认定级, the leader's confirmation, regrading)."""
    if not any(entry.get("key") == "proposed_level" for entry in form.uischema.get("ui:context", [])):
        return None
    data = item.context or {}
    fields = tasks.process_fields(item)

    def text(key: str) -> str:
        value = data.get(key)
        return "" if value in (None, "", []) else forms.display_text(fields.get(key), value, options, locale)

    def title(key: str) -> str:
        return fields[key].title if key in fields else key

    url = data.get("url") if isinstance(data.get("url"), str) else ""
    refs = forms.attachment_refs(data.get("attachments"))
    platform = text("platform")
    if data.get("platform_other"):
        platform = f"{platform}({text('platform_other')})" if platform else text("platform_other")
    return LeadCard(
        proposed=level_name(data.get("proposed_level"), locale) or "",
        basis=str(data.get("grade_basis") or ""),
        platform=platform, url=url if url.lower().startswith(("http://", "https://")) else "",
        about=[(title(key), text(key)) for key in ABOUT if text(key)],
        metrics=[(title(key), text(key)) for key in METRICS if text(key)],
        images=[ref for ref in refs if ref.get("content_type") in PREVIEW_TYPES],
        files=[ref for ref in refs if ref.get("content_type") not in PREVIEW_TYPES],
        summary=str(data.get("summary") or "")[:2000])
