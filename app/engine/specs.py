"""Our few changes to SpiffWorkflow's task specs and parser, each correcting a library behaviour.

- Business rule tasks remove the decision's output variables before merging a new result, and
  always leave every output defined (a list under COLLECT), so re-grading never sees stale rows
  (domain.md §11.1: SpiffWorkflow deep-merges lists).
- Timer events read the application clock (app.clock), so a controlled clock moves them too.
- DMN files are read whatever prefix names their namespace, one decision at a time (a file may hold
  several), and the DMN 1.2 schema SpiffWorkflow ships (which does not compile) is not applied.
- Service tasks whose operator is asynchronous (`kind="async"`, e.g. `call_system`) request the call
  and wait (STARTED) until the application resumes them with the answer (runner.resume_service).
"""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from typing import Any, ClassVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.dmn.parser.DMNParser import DMNParser
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.dmn.specs.model import HitPolicy
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import BusinessRuleTaskParser, ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask, ServiceTask
from SpiffWorkflow.util.deep_merge import DeepMerge

from app import clock
from app.engine import services


class CleanBusinessRuleTask(BusinessRuleTask):
    """A business rule task whose outputs replace, never merge with, earlier values."""

    def _run_hook(self, my_task: Any) -> bool:
        table = self.dmnEngine.decision_table
        names = [output.name or output.label for output in table.outputs]
        for name in names:
            my_task.data.pop(name, None)
        result = self.dmnEngine.result(my_task)
        if table.hit_policy == HitPolicy.COLLECT.value:
            for name in names:
                result.setdefault(name, [])
        else:
            for name in names:
                result.setdefault(name, None)
        my_task.data = DeepMerge.merge(my_task.data, result)
        # Skip BusinessRuleTaskMixin._run_hook (it would merge again); run what comes after it.
        return super(BusinessRuleTaskMixin, self)._run_hook(my_task)


class CleanBusinessRuleTaskParser(BusinessRuleTaskParser):
    """Creates CleanBusinessRuleTask instead of the stock class."""

    def create_task(self) -> CleanBusinessRuleTask:
        decision_ref = self.get_decision_ref(self.node)
        extensions = self.parse_extensions()
        return CleanBusinessRuleTask(
            self.spec,
            self.bpmn_id,
            dmnEngine=self.process_parser.parser.get_engine(decision_ref, self.node),
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )


class WaitingServiceTask(ServiceTask):
    """A service task that, for an asynchronous operator, requests the call and waits for its answer."""

    def _execute(self, task: Any) -> bool | None:
        operator = services.OPERATORS.get(self.operation_name)
        if operator is None or operator.kind != "async":
            return super()._execute(task)
        task.workflow.script_engine.call_service(task, operation_name=self.operation_name,
                                                 operation_params=self.evaluate_params(task))
        return None  # STARTED: the application completes the task when the answer arrives

    def is_waiting(self, task: Any) -> bool:
        """Does `task` (of this spec) wait for the answer of an asynchronous call?"""
        operator = services.OPERATORS.get(self.operation_name)
        return operator is not None and operator.kind == "async"


class ProcessParser(SpiffBpmnParser):
    """SpiffBpmnParser with our task spec overrides."""

    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, tuple[type, type]]] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("businessRuleTask"): (CleanBusinessRuleTaskParser, CleanBusinessRuleTask),
        full_tag("serviceTask"): (ServiceTaskParser, WaitingServiceTask),
    }

    def add_dmn_xml(self, node: Any, filename: str | None = None) -> None:
        """Add every decision of a DMN document, its namespace found from the root element itself."""
        namespace = etree.QName(node).namespace
        namespaces = {**self.namespaces, "dmn": namespace}
        schema = self.dmn_schemas.get(namespace)
        validator = _dmn_validator(schema) if self.validator and schema is not None else None
        if validator is not None:
            validator.validate(node, filename)
        for decision in node.findall(f"{{{namespace}}}decision"):
            single = etree.Element(node.tag, dict(node.attrib), nsmap=node.nsmap)
            single.append(deepcopy(decision))
            dmn_parser = DMNParser(self, single, namespaces, filename=filename)
            self.dmn_parsers[dmn_parser.bpmn_id] = dmn_parser
            self.dmn_parsers_by_name[dmn_parser.get_name()] = dmn_parser


_VALIDATORS: dict[str, BpmnValidator | None] = {}


def _dmn_validator(schema: str) -> BpmnValidator | None:
    """The validator of a DMN XSD SpiffWorkflow ships, None if it does not compile (its DMN 1.2 schema
    refers to a DMNDI file it does not ship)."""
    if schema not in _VALIDATORS:
        try:
            _VALIDATORS[schema] = BpmnValidator(schema)
        except etree.XMLSchemaParseError:
            _VALIDATORS[schema] = None
    return _VALIDATORS[schema]


class _ClockDatetime(datetime):
    """`datetime` whose now() is app.clock.now(); installed only in SpiffWorkflow's timer module."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        current = clock.now()
        return current.astimezone(tz) if tz is not None else current


spiff_timer.datetime = _ClockDatetime
