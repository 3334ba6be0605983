"""Outgoing messages: templates and channels. Knows no database and no Flask request.

One folder per notification type under templates/notify/<type>/ with subject.txt and body.txt,
rendered in Jinja's sandbox (author-supplied text is code, docs/security.md §1).
"""
