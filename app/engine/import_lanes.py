"""Lanes from other modellers' candidate groups: the roles of a task's lane, created when needed.

A task whose candidate groups are `a,b` goes into a lane whose roles are `a,b`: its own lane gets those
roles when it has none, otherwise a lane of that name is created (with a pool around the process and
shapes in the diagram, so the modeller shows it; the owner then moves the tasks into place).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from app.engine.import_xml import B, lane_roles, set_property

DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
LANE_HEIGHT = 150


def place_in_lanes(root: Any, process: Any, groups: dict[str, list[Any]], labels: dict[str, str]
                   ) -> list[tuple[Any, bool, str]]:
    """Put every task of each candidate group in a lane with those roles: (lane, created?, roles)."""
    done: list[tuple[Any, bool, str]] = []
    lane_of = {ref.text: lane for lane in process.iter(f"{B}lane") for ref in lane.findall(f"{B}flowNodeRef")}
    created: dict[str, Any] = {}
    for roles, tasks in sorted(groups.items()):
        for task in tasks:
            lane = lane_of.get(task.get("id"))
            if lane is not None and not lane_roles(lane):
                set_property(lane, "roles", roles)
                done.append((lane, False, roles))
            elif lane is None:
                if roles not in created:
                    name = "、".join(labels.get(role, role) for role in roles.split(","))
                    created[roles] = _new_lane(process, roles, name)
                    done.append((created[roles], True, roles))
                ref = etree.SubElement(created[roles], f"{B}flowNodeRef")
                ref.text = task.get("id")
    if created:
        _draw_lanes(root, process, list(created.values()))
    return done


def _new_lane(process: Any, roles: str, name: str) -> Any:
    lane_set = process.find(f"{B}laneSet")
    if lane_set is None:
        lane_set = etree.Element(f"{B}laneSet", id=f"LaneSet_{process.get('id')}")
        leading = [c for c in process if isinstance(c.tag, str) and etree.QName(c).localname in (
            "documentation", "extensionElements", "auditing", "monitoring", "property")]
        process.insert(process.index(leading[-1]) + 1 if leading else 0, lane_set)
    number = len(lane_set.findall(f"{B}lane")) + 1
    lane = etree.SubElement(lane_set, f"{B}lane", id=f"Lane_{process.get('id')}_{number}", name=name)
    set_property(lane, "roles", roles)
    return lane


def _draw_lanes(root: Any, process: Any, lanes: list[Any]) -> None:
    plane = next(root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNPlane"), None)
    if plane is None:
        return
    participant_shape = _participant_shape(root, process, plane)
    bounds = participant_shape.find(f"{DC}Bounds")
    x, y = float(bounds.get("x")), float(bounds.get("y"))
    width, height = float(bounds.get("width")), float(bounds.get("height"))
    existing = [lane for lane in process.iter(f"{B}lane") if lane not in lanes]
    if existing:  # new lanes below the ones already drawn
        top = y + height
        bounds.set("height", str(height + LANE_HEIGHT * len(lanes)))
        bands = [(top + LANE_HEIGHT * i, LANE_HEIGHT) for i in range(len(lanes))]
    else:
        band = max(height / len(lanes), 80.0)
        bounds.set("height", str(band * len(lanes)))
        bands = [(y + band * i, band) for i in range(len(lanes))]
    for lane, (top, band_height) in zip(lanes, bands, strict=True):
        shape = etree.SubElement(plane, f"{DI}BPMNShape", id=f"{lane.get('id')}_di", bpmnElement=lane.get("id"),
                                 isHorizontal="true")
        etree.SubElement(shape, f"{DC}Bounds", x=str(x + 30), y=str(top), width=str(width - 30),
                         height=str(band_height))
        plane.insert(plane.index(participant_shape) + 1, shape)


def _participant_shape(root: Any, process: Any, plane: Any) -> Any:
    """The pool's shape around the process, created (with its collaboration) when there is none."""
    participant = next((p for p in root.iter(f"{B}participant") if p.get("processRef") == process.get("id")), None)
    if participant is None:
        collaboration = next(root.iter(f"{B}collaboration"), None)
        if collaboration is None:
            collaboration = etree.Element(f"{B}collaboration", id=f"Collaboration_{process.get('id')}")
            root.insert(root.index(process), collaboration)
        participant = etree.SubElement(collaboration, f"{B}participant", id=f"Participant_{process.get('id')}",
                                       name=process.get("name") or process.get("id"), processRef=process.get("id"))
        if plane.get("bpmnElement") == process.get("id"):
            plane.set("bpmnElement", collaboration.get("id"))
    shape = next((s for s in plane if s.get("bpmnElement") == participant.get("id")), None)
    if shape is not None:
        return shape
    left, top, right, bottom = _extent(plane)
    shape = etree.Element(f"{DI}BPMNShape", id=f"{participant.get('id')}_di", bpmnElement=participant.get("id"),
                          isHorizontal="true")
    etree.SubElement(shape, f"{DC}Bounds", x=str(left - 60), y=str(top - 40), width=str(right - left + 100),
                     height=str(bottom - top + 80))
    plane.insert(0, shape)
    return shape


def _extent(plane: Any) -> tuple[float, float, float, float]:
    xs: list[float] = []
    ys: list[float] = []
    for bounds in plane.iter(f"{DC}Bounds"):
        x, y = float(bounds.get("x", 0)), float(bounds.get("y", 0))
        xs += [x, x + float(bounds.get("width", 0))]
        ys += [y, y + float(bounds.get("height", 0))]
    for point in plane.iter(f"{DI}waypoint"):
        xs.append(float(point.get("x", 0)))
        ys.append(float(point.get("y", 0)))
    return (min(xs, default=0), min(ys, default=0), max(xs, default=400), max(ys, default=200))
