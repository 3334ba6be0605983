"""Background work: the registry of named jobs and the two runners that execute them.

Jobs take ids and plain data, call one operation each and are safe to run twice. The embedded
runner is a thread in the web process, held by a database lease; the Celery runner carries only
job ids over Redis and a periodic sweep re-sends what the broker lost. Nothing here holds state
the database does not also hold.
"""
