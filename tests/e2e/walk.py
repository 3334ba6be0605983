"""Work a process instance to its end through the pages, and look at every page on the way as everyone.

A `Walk` owns one browser per person (the demo accounts of `make run`). Each round it looks at the
pages of every person (their worklists, inbox, lists and whatever those link to, depth-first within the
site), gathers what is wrong with each page (checks.page_problems), then lets the person who finds the
next task in their own worklist open it, claim it if needed, fill it from the scenario's answers — by
field name and by the visible label of each choice — and submit it. When nobody has anything to do, the
controlled clock moves to the instance's next timer and the worker fires it.

The walk reads the database only for what a person could not see on a page anyway: whether the instance
has ended, when its next timer is due, and the facts that decide which deadlines apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import HumanTask, Incident, InstanceStatus, ProcessInstance, TaskStatus
from app.operations import timer_firing
from tests.e2e.browser import Browser, Page, PageError
from tests.e2e.checks import DataSeen, page_problems

Answer = dict[str, Any] | Callable[["Walk", Page], dict[str, Any]]
# Who looks first for a task in their worklist (the person whose job it most plainly is).
PREFERENCE = ["monitor", "office", "leader", "deputy", "section", "section2", "publicity", "spokesperson",
              "commentator", "party", "coordinator", "risk", "owner", "publisher", "admin"]
ROOTS = ["/tasks", "/tasks?view=group", "/inbox", "/instances", "/ledger/", "/alerts"]
SKIP = re.compile(r"^/(static/|logout|lang/)")
MAX_PAGES_PER_PERSON = 400


@dataclass
class Facts:
    """What the scenario decided that changes which deadlines apply."""

    confirmed: bool = False
    press_conference: bool = False
    dispatched: bool = False
    subsided: bool = False


@dataclass
class Walk:
    people: dict[str, Browser]
    answers: dict[str, list[Answer]]
    clock: Any
    data: DataSeen = field(default_factory=DataSeen)
    problems: list[str] = field(default_factory=list)
    instance_ids: list[str] = field(default_factory=list)
    facts: Facts = field(default_factory=Facts)
    done: list[tuple[str, str]] = field(default_factory=list)  # (person, task spec id) in order
    seen_stable: dict[str, set[str]] = field(default_factory=dict)
    visible: dict[str, dict[str, str]] = field(default_factory=dict)  # person → task url → row text
    hold: set[str] = field(default_factory=set)  # spec ids left open on purpose (to let a deadline pass)
    prefer: dict[str, str] = field(default_factory=dict)  # spec id → the person who should take it first
    crawl: bool = True
    follow_new: bool = True  # follow instances whose tasks appear in worklists (a lead's incident)
    _open_urls: set[str] = field(default_factory=set)
    _allowed: set[str] = field(default_factory=set)
    _stages: set[Any] = field(default_factory=set)
    _number: str | None = None
    _levels: set[int] = field(default_factory=set)

    # -- starting ---------------------------------------------------------------------------------

    def start(self, person: str, url: str, button: str) -> Page:
        """Press a start button (登记新舆情, 新建风险评估 …) on a page, as `person`; returns the page it leads to."""
        browser = self.people[person]
        page = browser.get(url)
        result = browser.submit(page.form(button=button), button)
        self._expect_ok(result, f"{person} pressed {button}")
        self.follow(result)
        return result

    def follow(self, page: Page) -> None:
        """Remember the instance a task page or instance page belongs to."""
        for link in page.links():
            match = re.fullmatch(r"/instances/([0-9a-f-]{36})", link)
            public_id = match.group(1) if match else self._incident_instance(link)
            if public_id and public_id not in self.instance_ids:
                self.instance_ids.append(public_id)
                return

    @staticmethod
    def _incident_instance(link: str) -> str | None:
        """The instance of an incident page's link (task pages link to the incident, not the instance)."""
        match = re.fullmatch(r"/incidents/(YQ-[^/?]+)", link)
        if match is None:
            return None
        return db.session.scalar(select(ProcessInstance.public_id).join(Incident, Incident.instance_id ==
                                                                         ProcessInstance.id)
                                 .where(Incident.number == match.group(1)))

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, max_rounds: int = 200, until: Callable[[Walk], bool] | None = None) -> None:
        """Work until every followed instance has ended (or `until` says stop)."""
        for _round in range(max_rounds):
            self.look()
            if until is not None and until(self):
                return
            if self.step():
                continue
            if self.all_ended():
                return
            if not self.advance_clock():
                open_names = [t.spec_id for t in self.open_tasks()]
                raise AssertionError(f"nobody can work the open tasks {open_names} and no timer is due")
        raise AssertionError("the walk did not end")

    def look(self) -> None:
        """Every person looks at their pages; what is wrong is gathered, what is workable is noted.

        The whole site is walked once per stage of the incident — which tasks are open, its level and
        status, its deadlines — so a daily round that only repeats the day before is not walked again.
        """
        open_tasks = self.open_tasks()
        self._open_urls = {f"/tasks/{task.public_id}" for task in open_tasks}
        self._allowed = self.allowed_deadlines()
        incident = self.incident()
        self._number = incident.number if incident else None
        stage = (tuple(sorted(t.spec_id for t in open_tasks)), incident and (incident.level, incident.status),
                 incident and tuple(sorted((k, bool(v.get("done_at")), bool(v.get("missed")))
                                           for k, v in (incident.deadlines or {}).items())))
        walk_site = self.crawl and stage not in self._stages
        self._stages.add(stage)
        for name, browser in self.people.items():
            self.visible[name] = self._worklist(browser)
            if walk_site:
                self._crawl(name, browser)
        if self.follow_new:
            self._follow_new_work()

    def _follow_new_work(self) -> None:
        """A task of an instance not followed yet (the incident a lead became, the scheduled monthly
        analysis) shows in someone's worklist: open it and follow its instance from then on."""
        for name, rows in self.visible.items():
            for url in rows:
                if url not in self._open_urls:
                    page = self.people[name].get(url)
                    self._check(page)
                    self.follow(page)
                    self._open_urls = {f"/tasks/{task.public_id}" for task in self.open_tasks()}

    def _worklist(self, browser: Browser) -> dict[str, str]:
        rows: dict[str, str] = {}
        for url in ("/tasks", "/tasks?view=group"):
            page = browser.get(url)
            self._check(page)
            table = page.testid("worklist")
            if table is None:
                continue
            for row in table.iter("tr"):
                for anchor in row.iter("a"):
                    href = anchor.get("href") or ""
                    if re.fullmatch(r"/tasks/[0-9a-f-]{36}", href):
                        rows[href] = " ".join(row.text_content().split())
        return rows

    def _crawl(self, name: str, browser: Browser) -> None:
        stable = self.seen_stable.setdefault(name, set())
        queue = list(ROOTS)
        seen: set[str] = set()
        for page in browser.history[-2:]:  # the worklists just read: follow their links, do not fetch again
            if page.url in ROOTS and page.status == 200:
                seen.add(page.url)
                queue.extend(page.links())
        while queue and len(seen) < MAX_PAGES_PER_PERSON:
            url = queue.pop(0)
            if url in seen or SKIP.match(url) or (url in stable and not self._bound(url)):
                continue
            seen.add(url)
            page = browser.get(url)
            self._check(page)
            if not self._bound(url):
                stable.add(url)
            if page.is_html and page.status == 200:
                queue.extend(link for link in page.links() if link not in seen)

    def _bound(self, url: str) -> bool:
        """Does this page change as the incident moves on (so it is looked at again every round)?

        Lists, the incident's own pages and its open tasks do; a finished task, a file or a diagram's XML
        does not, and neither does a page about something else: those are looked at once per person.
        """
        path = url.split("?", maxsplit=1)[0]
        if path in ("/tasks", "/inbox", "/instances", "/ledger/", "/alerts", "/"):
            return True
        if path in self._open_urls or path.startswith(("/ledger/YQ-", "/incidents/YQ-")):
            return True
        return any(path == f"/instances/{i}" for i in self.instance_ids)

    def _check(self, page: Page) -> None:
        # Deadline rows are judged only on pages about this walk's incident, whose shaping it knows.
        mine = self._number is not None and self._number in page.html
        for problem in page_problems(page, self.data, self._allowed if mine else None):
            if problem not in self.problems:
                self.problems.append(problem)

    def report(self) -> str:
        """The problems found, one line per kind of problem with the pages it was seen on."""
        grouped: dict[str, list[str]] = {}
        for problem in self.problems:
            url, _, what = problem.partition(": ")
            grouped.setdefault(what, []).append(url)
        return "\n".join(f"{what}  [{len(urls)}× e.g. {urls[0]}]" for what, urls in sorted(grouped.items()))

    # -- working a task ---------------------------------------------------------------------------

    def open_tasks(self) -> list[HumanTask]:
        ids = [self.instance(pid).id for pid in self.instance_ids]
        return list(db.session.scalars(select(HumanTask).where(
            HumanTask.instance_id.in_(ids), HumanTask.status == TaskStatus.OPEN).order_by(HumanTask.id)))

    def step(self) -> bool:
        """Let the right person work the oldest open task someone can find; False when there is none."""
        for task in self.open_tasks():
            if task.spec_id in self.hold:
                continue
            url = f"/tasks/{task.public_id}"
            person = self._who(task, url)
            if person is None:
                continue
            self.work(person, url, task.spec_id)
            return True
        return False

    def _who(self, task: HumanTask, url: str) -> str | None:
        order = sorted(self.people, key=lambda n: PREFERENCE.index(n) if n in PREFERENCE else len(PREFERENCE))
        if task.spec_id in self.prefer:
            order.insert(0, self.prefer[task.spec_id])
        for name in order:
            if url in self.visible.get(name, {}):
                return name
        return None

    def work(self, person: str, url: str, spec_id: str) -> Page:
        """Open a task from the worklist as `person`, claim it if it is not theirs yet, fill and submit it."""
        browser = self.people[person]
        page = browser.get(url)
        self._check(page)
        if page.has_button("签收"):
            page = browser.submit(page.form(button="签收"), "签收")
            self._expect_ok(page, f"{person} claimed {spec_id}")
        form = page.form(button="提交")
        occurrence = sum(1 for _p, s in self.done if s == spec_id)
        answers = self.answers.get(spec_id)
        if not answers:
            raise AssertionError(f"the scenario has no answers for {spec_id} ({person} has it open at {url})")
        answer = answers[min(occurrence, len(answers) - 1)]
        values = answer(self, page) if callable(answer) else dict(answer)
        form.fill(**values)
        self.data.add(form.typed())
        result = browser.submit(form, "提交")
        if result.status != 200 or (result.url == url and result.errors()):
            raise PageError(f"{person} could not submit {spec_id}: HTTP {result.status} {result.errors()}")
        self.done.append((person, spec_id))
        self._note(spec_id, form)
        self.follow(result)
        self._allowed = self.allowed_deadlines()
        self._check(result)
        return result

    def _note(self, spec_id: str, form: Any) -> None:
        values = form.values
        if spec_id in ("ut_confirm_level", "ut_leader_confirm"):
            self.facts.confirmed = True
        if values.get("need_press_conference") == ["true"]:
            self.facts.press_conference = True
        if spec_id == "ut_dispatch":
            self.facts.dispatched = True
        if spec_id == "ut_confirm_subsided" and values.get("subsided_decision") == ["confirm"]:
            self.facts.subsided = True

    def _expect_ok(self, page: Page, what: str) -> None:
        if page.status >= 400:
            raise PageError(f"{what}: HTTP {page.status} at {page.url}: {page.errors() or page.text()[:300]}")

    # -- time -------------------------------------------------------------------------------------

    def advance_clock(self) -> bool:
        """Move the clock a minute past the earliest due timer of the followed instances and fire it."""
        due = [i.next_timer_at for i in map(self.instance, self.instance_ids)
               if i.next_timer_at is not None and i.status in (InstanceStatus.WAITING, InstanceStatus.RUNNING)]
        if not due:
            return False
        target = min(due) + timedelta(minutes=1)
        if target > self.clock():
            self.clock.set(target)
        timer_firing.fire_due_timers()
        return True

    def pass_time(self, delta: timedelta) -> None:
        """Let time pass (timers that fall due meanwhile fire, as the worker would)."""
        self.clock.advance(delta)
        timer_firing.fire_due_timers()

    # -- what the database knows ------------------------------------------------------------------

    def instance(self, public_id: str) -> ProcessInstance:
        instance = db.session.scalar(select(ProcessInstance).where(ProcessInstance.public_id == public_id))
        db.session.refresh(instance)
        return instance

    def all_ended(self) -> bool:
        return all(self.instance(pid).status in (InstanceStatus.COMPLETED, InstanceStatus.TERMINATED)
                   for pid in self.instance_ids)

    def incident(self) -> Incident | None:
        for pid in self.instance_ids:
            incident = db.session.scalar(select(Incident).where(Incident.instance_id == self.instance(pid).id))
            if incident is not None:
                db.session.refresh(incident)
                return incident
        return None

    def allowed_deadlines(self) -> set[str]:
        """The deadlines that apply to the incident as the scenario has shaped it so far."""
        incident = self.incident()
        allowed = {"report", "first_release"}  # watched from the quick report on (the proposed level's time)
        if incident is not None and incident.level:
            self._levels.add(incident.level)
        if self._levels & {3, 4}:  # met or missed at Ⅲ/Ⅳ, it stays on the record after an upgrade
            allowed.add("national")
        if self._levels & {1, 2}:  # the report to superiors of Ⅰ/Ⅱ, kept once met or missed (decision 151)
            allowed.add("external_report")
        expected = any((self.instance(pid).data or {}).get("press_conference_default") for pid in self.instance_ids)
        if self.facts.press_conference or expected or (incident is not None and incident.press_conf_at):
            allowed.add("press_conference")  # decided in the consultation, or expected at its level by default
        if self.facts.dispatched:
            allowed.add("dispatch")
        if self.facts.subsided:
            allowed.add("summary")
        return allowed
