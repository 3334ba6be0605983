"""Hardened parsing and the deploy checks of BPMN and DMN files; spec serialisation per process.

`compile_bundle` takes the raw bytes of a set of files and either returns one `CompiledProcess`
per executable process, or raises `DefinitionError` listing every problem with file, element id
and reason. Nothing here touches a database: the caller stores what comes back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from app.engine import dmn_checks, lint, process_info, spec_checks, xml_checks
from app.engine.process_info import TaskInfo, file_hash

__all__ = ["CompiledProcess", "DefinitionError", "Problem", "TaskInfo", "compile_bundle", "file_hash", "kind_of",
           "normalise_dmn_cells", "parse_xml", "xml_problem"]
from app.engine.specs import CleanBusinessRuleTask, ProcessParser
from app.engine.state import dump_spec

MAX_FILE_BYTES = 2 * 1024 * 1024
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
)
FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}\.(bpmn|dmn)$")
_OPERATOR_CELL = re.compile(r"^\s*(not\s+in\b|in\b|[<>]=?|==|!=)")


@dataclass(frozen=True)
class Problem:
    """One reason a file is refused: `reason` in English for logs and tests, `code` and `args` for the
    owner's message in their language (app.operations.problem_text)."""

    file: str
    element: str | None
    reason: str
    code: str = field(default="", compare=False)
    args: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        where = f"{self.file}" + (f" · {self.element}" if self.element else "")
        return f"{where}: {self.reason}"


class DefinitionError(Exception):
    """The files cannot be deployed; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class CompiledProcess:
    """One executable process, ready to store as a version."""

    process_id: str
    name: str
    spec_json: str
    files: list[str]
    content_hash: str
    tasks: dict[str, TaskInfo] = field(default_factory=dict)
    forms: set[str] = field(default_factory=set)
    message_starts: list[str] = field(default_factory=list)
    timer_start: bool = False
    schedule: str | None = None  # monthly | quarterly | yearly | daily, for processes started by a timer
    generated_forms: dict[str, dict[str, Any]] = field(default_factory=dict)  # forms made for tasks without one


def parse_xml(content: bytes, filename: str) -> etree._Element:
    """Parse untrusted XML with entities, DTDs, network and XInclude off (docs/security.md §2)."""
    if len(content) > MAX_FILE_BYTES:
        raise DefinitionError([Problem(filename, None, f"file larger than {MAX_FILE_BYTES // 1024} kB",
                                        "file_too_large", {"limit": MAX_FILE_BYTES // 1024})])
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError([Problem(filename, None, f"malformed XML: {exc}", "malformed_xml",
                                        {"detail": str(exc)})]) from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DefinitionError([Problem(filename, None, "DOCTYPE declarations are not allowed", "doctype")])
    if next(root.iter(f"{{{XINCLUDE_NS}}}*"), None) is not None:
        raise DefinitionError([Problem(filename, None, "XInclude is not allowed", "xinclude")])
    return root


def xml_problem(content: bytes, filename: str) -> str | None:
    """Why a BPMN/DMN upload is refused before it is stored (hostile or not BPMN/DMN), or None."""
    try:
        root = parse_xml(content, filename)
    except DefinitionError as exc:
        return "; ".join(problem.reason for problem in exc.problems)
    expected = "dmn" if filename.endswith(".dmn") else "bpmn"
    if kind_of(root) != expected:
        return f"the root element is not a {expected.upper()} definitions element"
    return None


def kind_of(root: etree._Element) -> str | None:
    """'bpmn', 'dmn' or None for the root element of a parsed file."""
    namespace = etree.QName(root).namespace
    if namespace == BPMN_NS:
        return "bpmn"
    if namespace in DMN_NAMESPACES:
        return "dmn"
    return None


def compile_bundle(files: Mapping[str, bytes], *, known_roles: Iterable[str] | None = None,
                   known_forms: Iterable[str] | None = None, form_hashes: Mapping[str, str] | None = None,
                   run_lint: bool = True) -> dict[str, CompiledProcess]:
    """Parse, check and serialise every executable process in `files`; raise on any problem.

    Every check runs in one pass: a file SpiffWorkflow's parser stops at is still checked by our
    own rules, and the other files go on, so the owner sees every problem at once.
    """
    problems: list[Problem] = []
    roots = _parse_all(files, problems)
    parser = ProcessParser(validator=VALIDATOR)
    file_of_process, file_of_decision, broken = _add_to_parser(parser, roots, problems)
    for name, root in roots.items():
        if kind_of(root) == "dmn":
            problems.extend(Problem(name, element, reason, code, args)
                            for element, code, args, reason in dmn_checks.check_dmn(root))
        elif run_lint:
            problems.extend(Problem(name, element, reason, code, args)
                            for element, code, args, reason in lint.check_xml(root) + xml_checks.check_unreached(root))
        if kind_of(root) == "bpmn":
            problems.extend(_not_executable(name, root))
    seen = {(p.file, p.reason) for p in problems}
    problems.extend(Problem(name, element, reason, code, args) for name, element, code, args, reason
                    in dmn_checks.check_parsed(parser.dmn_parsers, file_of_decision) if (name, reason) not in seen)
    lanes = {name: process_info.lane_roles(root) for name, root in roots.items() if kind_of(root) == "bpmn"}
    ends = {element for root in roots.values() if kind_of(root) == "bpmn" for element in lint.implicit_ends(root)}
    compiled: dict[str, CompiledProcess] = {}
    for process_id, filename in sorted(file_of_process.items()):
        if filename in broken or not _is_executable(roots[filename], process_id):
            continue
        result = _compile_process(parser, process_id, filename, file_of_process, file_of_decision, problems, ends)
        if result is None:
            continue
        process, specs = result
        # Embedded sub-processes are specs of their own: they belong to the file that holds them.
        spec_files = {pid: file_of_process.get(pid) or getattr(spec, "file", None) or filename
                      for pid, spec in specs.items()}
        problems.extend(Problem(*found) for found in
                        spec_checks.check_specs(specs, spec_files, lanes, known_roles, known_forms, run_lint))
        process.tasks = process_info.task_infos(specs, lanes, spec_files)
        process.forms = {f for t in process.tasks.values() for f in (t.form, t.ui_form) if f}
        process.content_hash = process_info.closure_hash(process, files, form_hashes or {})
        if process.timer_start and process.schedule not in process_info.SCHEDULES:
            problems.append(Problem(filename, process_id, "a process started by a timer needs spiffworkflow:property "
                                    f"name=\"schedule\" on its start event ({', '.join(process_info.SCHEDULES)})",
                                    "timer_schedule", {"choices": ", ".join(process_info.SCHEDULES)}))
        compiled[process_id] = process
    if problems:
        raise DefinitionError(_unique(problems))
    return compiled


def _unique(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str | None, str]] = set()
    kept = []
    for problem in problems:
        key = (problem.file, problem.element, problem.reason)
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def _not_executable(filename: str, root: etree._Element) -> list[Problem]:
    """A process marked isExecutable="false" (bpmn.io's default) is reported, never silently left out."""
    return [Problem(filename, process.get("id"), "the process is marked isExecutable=\"false\" and would not run",
                    "not_executable", {"process": process.get("name") or process.get("id")})
            for process in root.iter(f"{{{BPMN_NS}}}process")
            if (process.get("isExecutable") or "").strip().lower() == "false"]


def _parse_all(files: Mapping[str, bytes], problems: list[Problem]) -> dict[str, etree._Element]:
    roots: dict[str, etree._Element] = {}
    for name, content in sorted(files.items()):
        if not FILE_NAME.match(name):
            problems.append(Problem(name, None, "file names must match [A-Za-z0-9_.-] and end in .bpmn or .dmn",
                                    "file_name"))
            continue
        try:
            root = parse_xml(content, name)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        kind = kind_of(root)
        expected = name.rsplit(".", 1)[1]
        if kind != expected:
            problems.append(Problem(name, None, f"root element is not a {expected.upper()} definitions element",
                                    "wrong_root", {"kind": expected.upper()}))
            continue
        roots[name] = root
    return roots


def _add_to_parser(parser: ProcessParser, roots: dict[str, etree._Element], problems: list[Problem]
                   ) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Add every file to SpiffWorkflow's parser: (process → file, decision → file, files it refused)."""
    file_of_process: dict[str, str] = {}
    file_of_decision: dict[str, str] = {}
    broken: set[str] = set()
    for name, root in roots.items():
        try:
            if kind_of(root) == "dmn":
                normalise_dmn_cells(root)
                before = set(parser.dmn_parsers)
                parser.add_dmn_xml(root, filename=name)
                for decision_id in set(parser.dmn_parsers) - before:
                    file_of_decision[decision_id] = name
            else:
                before = set(parser.process_parsers)
                parser.add_bpmn_xml(root, filename=name)
                for process_id in set(parser.process_parsers) - before:
                    file_of_process[process_id] = name
        except ValidationException as exc:
            broken.add(name)
            problems.append(Problem(name, exc.id or _element_named(root, str(exc)), _validation_reason(exc),
                                    "parser", {"detail": _validation_reason(exc)}))
        except (SpiffWorkflowException, etree.LxmlError, ValueError, KeyError, AttributeError, IndexError,
                TypeError) as exc:
            broken.add(name)
            problems.append(Problem(name, _element_named(root, str(exc)), str(exc) or type(exc).__name__,
                                    "parser", {"detail": str(exc) or type(exc).__name__}))
    duplicates = [pid for pid in file_of_process if pid in file_of_decision]
    problems.extend(Problem(file_of_process[d], d, "id used by both a process and a decision", "duplicate_id")
                    for d in duplicates)
    return file_of_process, file_of_decision, broken


def _element_named(root: etree._Element, message: str) -> str | None:
    """The id of an element a parser message quotes, so the problem can be marked on the diagram."""
    ids = {element.get("id") for element in root.iter() if isinstance(element.tag, str) and element.get("id")}
    for quoted in re.findall(r"""['"]([A-Za-z_][\w.-]*)['"]""", message):
        if quoted in ids:
            return quoted
    return None


def _validation_reason(exc: ValidationException) -> str:
    reason = str(exc)
    line = getattr(exc, "line_number", "")
    return f"{reason} (line {line})" if line else reason


def normalise_dmn_cells(root: etree._Element) -> None:
    """Rewrite input cells that start with an operator to `? op …` so no text is glued together.

    SpiffWorkflow joins such a cell straight onto the input expression (`x` + `in (…)` → `xin (…)`);
    with a `?` it evaluates the input on its own and binds it (domain.md §11.1).
    """
    for entry in root.iter():
        if etree.QName(entry).localname != "inputEntry":
            continue
        for text_node in entry:
            if etree.QName(text_node).localname == "text" and text_node.text:
                cell = text_node.text.strip()
                if "?" not in cell and _OPERATOR_CELL.match(cell):
                    text_node.text = f"? {cell}"


def _is_executable(root: etree._Element, process_id: str) -> bool:
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == process_id:
            return process.get("isExecutable", "true").lower() != "false"
    return False


def _compile_process(parser: ProcessParser, process_id: str, filename: str, file_of_process: dict[str, str],
                     file_of_decision: dict[str, str], problems: list[Problem], ends: set[str]
                     ) -> tuple[CompiledProcess, dict[str, Any]] | None:
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        problems.append(Problem(exc.file_name or filename, exc.id or None, _validation_reason(exc), "parser",
                                {"detail": _validation_reason(exc)}))
        return None
    except SpiffWorkflowException as exc:
        problems.append(Problem(filename, process_id, str(exc), "parser", {"detail": str(exc)}))
        return None
    specs = {process_id: spec, **subprocess_specs}
    generated = spec_checks.give_generated_forms(specs)
    _connect_implicit_ends(specs, ends)
    files = sorted({file_of_process[p] for p in specs if p in file_of_process}
                   | {file_of_decision[d] for d in _decisions(specs) if d in file_of_decision})
    process = CompiledProcess(
        process_id=process_id,
        name=spec.description or process_id,
        spec_json=dump_spec(spec, subprocess_specs),
        files=files,
        content_hash="",
        message_starts=process_info.message_starts(spec),
        timer_start=process_info.has_timer_start(spec),
        schedule=process_info.start_schedule(spec),
        generated_forms={spec_checks.GENERATED_FORM: spec_checks.GENERATED_SCHEMA} if generated else {},
    )
    return process, specs


def _connect_implicit_ends(specs: dict[str, Any], ends: set[str]) -> None:
    """A path ending at an activity or event without an end event ends its process there, as an end
    event would (SpiffWorkflow otherwise never marks the workflow completed)."""
    for spec in specs.values():
        for task_spec in list(spec.task_specs.values()):
            if task_spec.bpmn_id in ends and task_spec.name == task_spec.bpmn_id and not task_spec.outputs:
                task_spec.connect(spec.end)


def _decisions(specs: dict[str, Any]) -> set[str]:
    found = set()
    for spec in specs.values():
        for task_spec in spec.task_specs.values():
            if isinstance(task_spec, CleanBusinessRuleTask):
                found.add(task_spec.extensions.get("calledDecisionId"))
    return {d for d in found if d}


