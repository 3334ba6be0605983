"""The only package that imports SpiffWorkflow; it knows no Flask and no database.

It parses and checks diagrams (definitions), runs every diagram expression through the allow-list
evaluator, advances instances under a step budget (runner) and (de)serialises state (state). It
returns plain dataclasses; storing them is the operations layer's job.
"""
