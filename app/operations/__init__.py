"""Use cases: one function per use case, each one transaction (`db.transaction()`).

Web, API, CLI and worker call these same functions. Read-only helpers (lists, lookups) live next to
the use cases of their noun and open no transaction. Nothing here commits directly or imports
SpiffWorkflow; the engine is reached through `app.engine`.
"""
