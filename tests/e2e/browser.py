"""A browser made of the Flask test client and lxml: pages are fetched, read and submitted as a person's
browser would — forms are posted with the fields the page rendered (their names, their offered options,
their CSRF token), links are followed as they appear, and a choice is made by its visible label.

Nothing here knows the database: what a person cannot see on a page, the browser cannot use.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.html import FormElement, HtmlElement

HIDDEN_TAGS = {"script", "style", "template", "noscript"}
TEXT_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
# A 1×1 PNG: what a person attaches as a screenshot.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5b5dc1f0000000049454e44ae426082")


FIRST = "<the first choice offered>"  # choose whatever the page offers first (a body from the profile, say)


class PageError(AssertionError):
    """What a page did that no person should see (a 5xx, a missing field, an option not offered)."""


@dataclass
class Page:
    """One response as the browser holds it."""

    url: str
    status: int
    content_type: str
    body: bytes
    _doc: HtmlElement | None = field(default=None, repr=False)

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")

    @property
    def html(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def doc(self) -> HtmlElement:
        if self._doc is None:
            self._doc = lxml.html.fromstring(self.body or b"<html></html>", base_url="http://localhost" + self.url)
        return self._doc

    @property
    def lang(self) -> str:
        return self.doc.get("lang") or ""

    def text(self, root: HtmlElement | None = None) -> str:
        """What a person reads: text outside scripts and styles, plus placeholders, titles and labels."""
        return " ".join(self.text_pieces(root))

    def text_pieces(self, root: HtmlElement | None = None) -> list[str]:
        pieces: list[str] = []
        for element in (root if root is not None else self.doc).iter():
            if not isinstance(element.tag, str):
                continue
            if element.tag in HIDDEN_TAGS or any(a.tag in HIDDEN_TAGS for a in element.iterancestors()):
                continue
            if element.text and element.text.strip():
                pieces.append(element.text.strip())
            if element.tail and element.tail.strip() and element.getparent() is not None \
                    and element.getparent().tag not in HIDDEN_TAGS:
                pieces.append(element.tail.strip())
            pieces.extend(element.get(a).strip() for a in TEXT_ATTRIBUTES if (element.get(a) or "").strip())
            if element.tag == "input" and element.get("type") in ("submit", "button") \
                    and (element.get("value") or "").strip():
                pieces.append(element.get("value").strip())  # an input button shows its value
        return pieces

    def links(self) -> list[str]:
        """Same-site GET links a person can follow (not static files, not fragments)."""
        found = []
        for anchor in self.doc.iter("a"):
            href = anchor.get("href")
            if not href or href.startswith(("#", "mailto:", "javascript:")):
                continue
            parts = urlsplit(urljoin("http://localhost" + self.url, href))
            if parts.netloc != "localhost" or parts.path.startswith("/static/"):
                continue
            found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        return list(dict.fromkeys(found))

    def link_by_text(self, text: str, within: str | None = None) -> str:
        """The href of the link whose text is `text` (inside the element with data-testid `within`)."""
        root = self.doc.find(f".//*[@data-testid='{within}']") if within else self.doc
        if root is None:
            raise PageError(f"{self.url}: no element data-testid={within}")
        for anchor in root.iter("a"):
            if anchor.text_content().strip() == text:
                return urlsplit(urljoin("http://localhost" + self.url, anchor.get("href"))).path
        raise PageError(f"{self.url}: no link {text!r}")

    def forms(self) -> list[Form]:
        return [Form(self, element) for element in self.doc.forms]

    def form(self, action: str | None = None, *, button: str | None = None) -> Form:
        """The form posting to `action` (a path prefix), or the one with a submit button labelled `button`."""
        for form in self.forms():
            if action is not None and not (form.action or "").startswith(action):
                continue
            if button is not None and button not in form.buttons():
                continue
            return form
        raise PageError(f"{self.url}: no form action={action!r} button={button!r}")

    def has_button(self, text: str) -> bool:
        return any(text in form.buttons() for form in self.forms())

    def errors(self) -> list[str]:
        """Field and form errors the page shows."""
        return [e.text_content().strip() for e in self.doc.find_class("field__error")]

    def testid(self, name: str) -> HtmlElement | None:
        return self.doc.find(f".//*[@data-testid='{name}']")

    def table_rows(self, name: str) -> list[list[str]]:
        """The cells' text of the table with data-testid `name` (body rows only)."""
        table = self.testid(name)
        if table is None:
            return []
        return [[" ".join(cell.text_content().split()) for cell in row.findall("td")]
                for row in table.iter("tr") if row.findall("td")]


class Form:
    """A form as the browser would submit it: successful controls, checked against what the page offers."""

    def __init__(self, page: Page, element: FormElement):
        self.page = page
        self.element = element
        self.action = element.get("action") or page.url
        self.method = (element.get("method") or "get").upper()
        self.values: dict[str, list[str]] = {}
        self.files: dict[str, list[tuple[bytes, str]]] = {}
        self._defaults()

    def _controls(self) -> list[HtmlElement]:
        return [e for e in self.element.iter("input", "select", "textarea") if e.get("name")]

    def _defaults(self) -> None:
        for control in self._controls():
            name, kind = control.get("name"), (control.get("type") or "text").lower()
            if control.tag == "select":
                options = list(control.iter("option"))
                chosen = [o.get("value", o.text_content()) for o in options if o.get("selected") is not None]
                options = [o.get("value", o.text_content()) for o in options]
                if chosen or options:
                    self.values.setdefault(name, []).append((chosen or options)[0])
            elif control.tag == "textarea":
                self.values.setdefault(name, []).append(control.text or "")
            elif kind in ("checkbox", "radio"):
                if control.get("checked") is not None:
                    self.values.setdefault(name, []).append(control.get("value", "on"))
            elif kind in ("submit", "button", "file", "reset", "image"):
                continue
            else:
                self.values.setdefault(name, []).append(control.get("value", ""))

    def names(self) -> set[str]:
        return {c.get("name") for c in self._controls()}

    def buttons(self) -> dict[str, tuple[str, str]]:
        """Submit buttons by visible text → (name, value)."""
        found = {}
        for button in self.element.iter("button"):
            if (button.get("type") or "submit") == "submit":
                found[" ".join(button.text_content().split())] = (button.get("name") or "", button.get("value") or "")
        return found

    def options(self, name: str) -> dict[str, str]:
        """Visible label → value of a select, radio group or checkbox group."""
        offered: dict[str, str] = {}
        for control in self._controls():
            if control.get("name") != name:
                continue
            if control.tag == "select":
                offered.update({" ".join(o.text_content().split()): o.get("value", o.text_content())
                                for o in control.iter("option")})
            elif (control.get("type") or "").lower() in ("checkbox", "radio"):
                offered[self._label_of(control)] = control.get("value", "on")
        return offered

    def _label_of(self, control: HtmlElement) -> str:
        ident = control.get("id")
        if ident:
            for label in self.element.iter("label"):
                if label.get("for") == ident:
                    return " ".join(label.text_content().replace("*", " ").split())
        parent = control.getparent()
        return " ".join(parent.text_content().split()) if parent is not None and parent.tag == "label" else ""

    def kind(self, name: str) -> str:
        for control in self._controls():
            if control.get("name") == name:
                return control.tag if control.tag != "input" else (control.get("type") or "text").lower()
        raise PageError(f"{self.page.url}: the form has no field {name!r} (fields: {sorted(self.names())})")

    def fill(self, **values: Any) -> Form:
        """Type or choose values. Choices are given by their visible label (a list for checkboxes);
        `True` ticks a single checkbox; a file field takes `(bytes, filename)` pairs or filenames."""
        for name, value in values.items():
            kind = self.kind(name)
            if kind == "file":
                items = value if isinstance(value, list) else [value]
                self.files[name] = [item if isinstance(item, tuple) else (PNG, item) for item in items]
            elif kind in ("select", "radio", "checkbox"):
                self.values[name] = self._choose(name, kind, value)
            else:
                self.values[name] = [str(value)]
        return self

    def _choose(self, name: str, kind: str, value: Any) -> list[str]:
        offered = self.options(name)
        if kind == "checkbox" and isinstance(value, bool):
            return list(offered.values())[:1] if value else []
        labels = value if isinstance(value, list) else [value]
        chosen = []
        offered_labels = [label for label, code in offered.items() if code]
        labels = [offered_labels[0] if label == FIRST and offered_labels else label for label in labels]
        for label in labels:
            if label not in offered:
                raise PageError(f"{self.page.url}: {name!r} does not offer {label!r} (offers {sorted(offered)})")
            chosen.append(offered[label])
        return chosen

    def typed(self) -> list[str]:
        """Every value the form will send that a person typed (to tell data from interface text)."""
        typed_kinds = ("text", "textarea", "url", "search", "email", "tel", "number", "datetime-local", "date")
        return [v for name, values in self.values.items() if self.kind(name) in typed_kinds for v in values if v]

    def payload(self, button: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {name: list(values) for name, values in self.values.items() if values}
        if button is not None:
            buttons = self.buttons()
            if button not in buttons:
                raise PageError(f"{self.page.url}: no button {button!r} (buttons: {sorted(buttons)})")
            name, value = buttons[button]
            if name:
                data[name] = [value]
        for name, items in self.files.items():
            data[name] = [*(data.get(name) or []), *[(io.BytesIO(content), filename) for content, filename in items]]
        return data


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class Browser:
    """One person's browser: a test client with its own cookies, following redirects as a browser does."""

    def __init__(self, client: Any, username: str = "", display_name: str = ""):
        self.client = client
        self.username = username
        self.display_name = display_name
        self.history: list[Page] = []

    def _page(self, response: Any) -> Page:
        request = response.request
        query = request.query_string.decode() if request.query_string else ""
        url = request.path + (f"?{query}" if query else "")
        page = Page(url, response.status_code, response.headers.get("Content-Type", ""), response.get_data())
        self.history.append(page)
        del self.history[:-20]
        return page

    def get(self, url: str) -> Page:
        return self._page(self.client.get(url, follow_redirects=True, buffered=True))

    def submit(self, form: Form, button: str | None = None) -> Page:
        """Send a form as the browser would (its action, method, fields and the button pressed)."""
        data = form.payload(button)
        target = urljoin("http://localhost" + form.page.url, form.action)
        path = urlsplit(target).path + (f"?{urlsplit(target).query}" if urlsplit(target).query else "")
        if form.method == "GET":
            return self._page(self.client.get(path, query_string=data, follow_redirects=True, buffered=True))
        multipart = (form.element.get("enctype") or "").lower() == "multipart/form-data"
        return self._page(self.client.post(path, data=data, follow_redirects=True, buffered=True,
                                           content_type="multipart/form-data" if multipart else None))

    def login(self, username: str, password: str) -> Page:
        page = self.get("/login")
        form = page.form("/login").fill(username=username, password=password)
        result = self.submit(form)
        if result.url.startswith("/login"):
            raise PageError(f"{username} could not log in: {result.errors() or result.text()[:300]}")
        self.username = username
        return result
