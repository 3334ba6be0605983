#!/usr/bin/env python3
"""Add BPMN diagram interchange (DI) to hand-written BPMN 2.0 files.

Process authors write only the semantic part of a BPMN file (processes, lanes,
flow nodes and sequence flows).  This tool computes a left-to-right layered
layout and writes the ``bpmndi:BPMNDiagram`` sections that bpmn-js (the bpmn.io
modeller/viewer) needs to display the processes.

Usage::

    python tools/bpmn_layout.py processes/*.bpmn          # rewrite files in place
    python tools/bpmn_layout.py in.bpmn -o out.bpmn       # write to another file
    python tools/bpmn_layout.py --check processes/*.bpmn  # verify, write nothing

``--check`` exits with status 1 when a file has no DI or stale DI: a flow node,
sequence/message flow, lane or participant without a shape/edge (or with two in
one plane), a shape/edge/plane for an element that does not exist, or lanes that
are not drawn inside a pool.  Status 2 means a file could not be read or parsed.

What the layout does:

* every existing ``bpmndi:BPMNDiagram`` is dropped and regenerated, one diagram
  per process (or per collaboration), plus one drill-down diagram per embedded
  sub-process, which is drawn collapsed;
* bpmn-js only draws lanes inside a pool, so a process with a ``bpmn:laneSet``
  gets a ``bpmn:collaboration`` ``Collaboration_<process id>`` with a single
  ``bpmn:participant`` ``Participant_<process id>``, inserted before the first
  process.  Collaborations of exactly that shape are treated as generated and
  rebuilt on every run; any other collaboration is reused as written and its
  participants are drawn as stacked pools;
* the column of a node is its longest-path distance from the start events,
  ignoring back edges (found by depth-first search); boundary events sit on the
  bottom border of their host and their targets are at least one column
  further right;
* each lane is a horizontal band, nodes of one column stack vertically inside
  it, and forward edges that skip columns get a free row reserved;
* sequence flows are routed orthogonally (out of the right side, into the left
  side); loops run down into a channel below the band and back up.

Semantic elements, attributes and namespace declarations are kept as written.
The output is deterministic, pretty-printed with two-space indentation, UTF-8
encoded and keeps non-ASCII text as characters.
"""

from __future__ import annotations

import argparse
import heapq
import math
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import chain, count, pairwise
from pathlib import Path

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
DI_NAMESPACES = (("bpmndi", BPMNDI_NS), ("dc", DC_NS), ("di", DI_NS))

ACTIVITY, EVENT, GATEWAY = "activity", "event", "gateway"
CONTAINER_TAGS = ("subProcess", "transaction", "adHocSubProcess")
ACTIVITY_TAGS = (
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    *CONTAINER_TAGS,
)
EVENT_TAGS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
GATEWAY_TAGS = (
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
)
KIND_BY_TAG = {
    **dict.fromkeys(ACTIVITY_TAGS, ACTIVITY),
    **dict.fromkeys(EVENT_TAGS, EVENT),
    **dict.fromkeys(GATEWAY_TAGS, GATEWAY),
}
SIZES = {ACTIVITY: (100, 80), EVENT: (36, 36), GATEWAY: (50, 50)}
DRAWN_TAGS = (*KIND_BY_TAG, "sequenceFlow", "messageFlow", "lane", "participant")

COL_W = 160  # column pitch; the gap between two tasks is 60
ROW_H = 130  # row pitch inside a band; leaves room for labels below events
ORIGIN_X, ORIGIN_Y = 100, 60
POOL_HEADER = LANE_HEADER = 30
CONTENT_PAD = 20
POOL_GAP = 40
EMPTY_POOL_H = 100
EMPTY_POOL_W = 600
BACK_GAP = 12  # vertical distance between loop channels below a band
SIDE_OFFSET = 18  # vertical loop segments run this far from the column boundary
GAP_OFFSETS = (0, 8, -8)  # vertical forward segments of different sources in one gap
BOUNDARY_PITCH = 40  # distance between boundary events on one host
BOUNDARY_DROP = 22  # how far boundary flows drop below the boundary event
LINE_H = 14

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
GENERATED_COLLABORATION = "Collaboration_"
GENERATED_PARTICIPANT = "Participant_"
NAMESPACE_MARKER = "bpmn-layout-namespace-marker"

Point = tuple[int, int]


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def bpmndi(tag: str) -> str:
    return f"{{{BPMNDI_NS}}}{tag}"


def _bpmn_local(element: etree._Element) -> str | None:
    """Local name of a BPMN model element, None for anything else."""
    if not isinstance(element.tag, str):
        return None
    qname = etree.QName(element)
    return qname.localname if qname.namespace == BPMN_NS else None


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom
        )


def _text_size(text: str, max_w: int, max_lines: int) -> tuple[int, int]:
    """Rough size of a label: CJK characters are twice as wide as Latin ones."""
    width = sum(12 if unicodedata.east_asian_width(ch) in "WF" else 6 for ch in text)
    lines = min(max_lines, max(1, math.ceil(width / max_w)))
    return min(max_w, max(width, 12)), lines * LINE_H


def _simplify(points: list[Point]) -> list[Point]:
    """Drop repeated points and the middle one of three collinear points."""
    out: list[Point] = []
    for point in points:
        if out and out[-1] == point:
            continue
        if len(out) >= 2 and (out[-2][0] == out[-1][0] == point[0] or out[-2][1] == out[-1][1] == point[1]):
            out[-1] = point
            continue
        out.append(point)
    return out if len(out) >= 2 else [points[0], points[-1]]


# --------------------------------------------------------------------------- graph


@dataclass
class Flow:
    fid: str
    source: str
    target: str
    name: str


@dataclass
class Graph:
    """Flow nodes and sequence flows of one process or sub-process."""

    tags: dict[str, str] = field(default_factory=dict)  # id -> local tag, document order
    names: dict[str, str] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)
    host: dict[str, str] = field(default_factory=dict)  # boundary event -> host
    attached: dict[str, list[str]] = field(default_factory=dict)  # host -> boundary events

    @property
    def nodes(self) -> list[str]:
        """Flow nodes that occupy a grid cell (everything but boundary events)."""
        return [node for node in self.tags if node not in self.host]

    def kind(self, node: str) -> str:
        return KIND_BY_TAG[self.tags[node]]

    def has_outside_label(self, node: str) -> bool:
        return self.kind(node) != ACTIVITY and bool(self.names[node])


def build_graph(container: etree._Element) -> Graph:
    graph = Graph()
    attached_to: dict[str, str] = {}
    flows: list[Flow] = []
    for child in container:
        tag = _bpmn_local(child)
        cid = child.get("id") if tag else None
        if not cid:
            continue
        if tag in KIND_BY_TAG:
            graph.tags[cid] = tag
            graph.names[cid] = _clean(child.get("name"))
            if tag == "boundaryEvent" and child.get("attachedToRef"):
                attached_to[cid] = child.get("attachedToRef")
        elif tag == "sequenceFlow":
            flows.append(Flow(cid, child.get("sourceRef"), child.get("targetRef"), _clean(child.get("name"))))
    graph.order = {node: index for index, node in enumerate(graph.tags)}
    for event, host in attached_to.items():
        if host in graph.tags and host not in attached_to:
            graph.host[event] = host
            graph.attached.setdefault(host, []).append(event)
    graph.flows = [flow for flow in flows if flow.source in graph.tags and flow.target in graph.tags]
    return graph


def ranking_edges(graph: Graph) -> dict[str, list[tuple[str, str, int]]]:
    """Successors as (target, flow id, length); host -> boundary event has length 0."""
    adjacency: dict[str, list[tuple[str, str, int]]] = {node: [] for node in graph.tags}
    for flow in graph.flows:
        if flow.target not in graph.host:
            adjacency[flow.source].append((flow.target, flow.fid, 1))
    for event, host in graph.host.items():
        adjacency[host].append((event, "", 0))
    return adjacency


def find_back_edges(graph: Graph, adjacency: dict[str, list[tuple[str, str, int]]]) -> set[str]:
    """Flows that close a cycle, found by an iterative depth-first search."""
    has_incoming = {target for edges in adjacency.values() for target, _, _ in edges}
    starts = [node for node, tag in graph.tags.items() if tag == "startEvent"]
    roots = chain(starts, [node for node in graph.tags if node not in has_incoming], graph.tags)
    on_stack: dict[str, bool] = {}
    back: set[str] = set()
    for root in roots:
        if root in on_stack:
            continue
        on_stack[root] = True
        stack = [(root, iter(adjacency[root]))]
        while stack:
            node, successors = stack[-1]
            target, fid, _ = next(successors, (None, "", 0))
            if target is None:
                on_stack[node] = False
                stack.pop()
            elif target not in on_stack:
                on_stack[target] = True
                stack.append((target, iter(adjacency[target])))
            elif on_stack[target] and fid:
                back.add(fid)
    return back


def compute_ranks(
    graph: Graph, adjacency: dict[str, list[tuple[str, str, int]]], back: set[str]
) -> dict[str, int]:
    """Longest path from the sources over the acyclic part of the graph."""
    indegree = dict.fromkeys(graph.tags, 0)
    for edges in adjacency.values():
        for target, fid, _ in edges:
            if fid not in back:
                indegree[target] += 1
    ready = [(graph.order[node], node) for node, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    rank = dict.fromkeys(graph.tags, 0)
    while ready:
        _, node = heapq.heappop(ready)
        for target, fid, length in adjacency[node]:
            if fid in back:
                continue
            rank[target] = max(rank[target], rank[node] + length)
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, (graph.order[target], target))
    return rank


# --------------------------------------------------------------------------- lanes


@dataclass
class LaneInfo:
    element: etree._Element
    depth: int
    first: int  # index of the first leaf band covered by the lane
    last: int = -1


def _has_lanes(process: etree._Element) -> bool:
    return process.find(f"{bpmn('laneSet')}/{bpmn('lane')}") is not None


def collect_lanes(container: etree._Element) -> tuple[list[LaneInfo], list[etree._Element]]:
    """All lanes (pre-order, with nesting depth) and the leaf lanes, top to bottom."""
    lanes: list[LaneInfo] = []
    leaves: list[etree._Element] = []
    lane_set = container.find(bpmn("laneSet"))
    if lane_set is not None:
        _walk_lanes(lane_set, 0, lanes, leaves)
    return lanes, leaves


def _walk_lanes(lane_set, depth: int, lanes: list[LaneInfo], leaves: list[etree._Element]) -> None:
    for lane in lane_set.findall(bpmn("lane")):
        info = LaneInfo(lane, depth, len(leaves))
        lanes.append(info)
        children = lane.find(bpmn("childLaneSet"))
        if children is not None and children.find(bpmn("lane")) is not None:
            _walk_lanes(children, depth + 1, lanes, leaves)
        else:
            leaves.append(lane)
        info.last = len(leaves) - 1


def _lane_refs(lane: etree._Element) -> list[str]:
    return [_clean(ref.text) for ref in lane.findall(bpmn("flowNodeRef"))]


def assign_bands(
    graph: Graph, lanes: list[LaneInfo], leaves: list[etree._Element]
) -> tuple[dict[str, int], int]:
    """Band index per node: its innermost lane; nodes outside every lane share an extra band."""
    lane_band: dict[str, int] = {}
    for index, lane in enumerate(leaves):
        for ref in _lane_refs(lane):
            lane_band.setdefault(ref, index)
    for info in lanes:
        for ref in _lane_refs(info.element):
            lane_band.setdefault(ref, info.first)
    band = {node: lane_band.get(node, len(leaves)) if leaves else 0 for node in graph.nodes}
    for event, host in graph.host.items():
        band[event] = band[host]
    return band, max(len(leaves), max(band.values(), default=0) + 1)


# --------------------------------------------------------------------------- grid


@dataclass
class Grid:
    left: int  # x of the left boundary of column 0
    tops: list[int]
    heights: list[int]
    rows: list[int]

    def col_x(self, col: int) -> int:
        """x of the boundary on the left of a column."""
        return self.left + col * COL_W

    def row_y(self, band: int, slot: int) -> int:
        """y of the centre line of a row."""
        return self.tops[band] + slot * ROW_H + ROW_H // 2

    @property
    def height(self) -> int:
        return sum(self.heights)


def assign_slots(graph: Graph, rank: dict[str, int], band: dict[str, int], back: set[str]) -> dict[str, int]:
    """Row of each node inside its (band, column) cell, ordered by the rows of its predecessors."""
    preds: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for flow in graph.flows:
        if flow.fid not in back and flow.target not in graph.host:
            bonus = 0.5 if flow.source in graph.host else 0.0  # exception paths go below
            preds[flow.target].append((graph.host.get(flow.source, flow.source), bonus))
    groups: dict[tuple[int, int], list[str]] = defaultdict(list)
    for node in graph.nodes:
        groups[(rank[node], band[node])].append(node)
    slot: dict[str, int] = {}

    def preference(node: str) -> tuple[float, int]:
        rows = [slot[p] + bonus for p, bonus in preds[node] if p in slot and band[p] == band[node]]
        return (sum(rows) / len(rows) if rows else 0.0), graph.order[node]

    for key in sorted(groups):
        slot.update((node, index) for index, node in enumerate(sorted(groups[key], key=preference)))
    for event, host in graph.host.items():
        slot[event] = slot[host]
    return slot


def _free_slot(occupied: set[tuple[int, int, int]], band: int, cols: range, prefer: int) -> int:
    for slot in chain([prefer], count()):
        if all((band, col, slot) not in occupied for col in cols):
            return slot
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Layout:
    """Positions of everything inside one process or sub-process."""

    graph: Graph
    rank: dict[str, int]
    band: dict[str, int]
    slot: dict[str, int]
    back: set[str]
    cells: set[tuple[int, int, int]]  # (band, column, row) taken by nodes
    channels: dict[str, int] = field(default_factory=dict)  # flow -> reserved row
    back_y: dict[str, int] = field(default_factory=dict)  # loop flow -> channel y
    lanes: list[LaneInfo] = field(default_factory=list)
    grid: Grid | None = None
    boxes: dict[str, Box] = field(default_factory=dict)
    gap_offsets: dict[tuple[int, str], int] = field(default_factory=dict)

    @property
    def right(self) -> int:
        return self.grid.col_x(max(self.rank.values(), default=0) + 1) + CONTENT_PAD

    def clear_below(self, node: str, to_band: int | None = None) -> bool:
        """True when no node sits below ``node`` in its column, down to the bottom of ``to_band``."""
        band, col = self.band[node], self.rank[node]
        to_band = band if to_band is None else to_band
        for current in range(band, to_band + 1):
            first = self.slot[node] + 1 if current == band else 0
            if any((current, col, row) in self.cells for row in range(first, self.grid.rows[current])):
                return False
        return to_band >= band

    def bottom_free(self, node: str, to_band: int | None = None) -> bool:
        """True when an edge may leave or enter through the bottom of ``node``."""
        graph = self.graph
        return (
            not graph.has_outside_label(node)
            and node not in graph.attached
            and self.clear_below(node, to_band)
        )

    def gap_x(self, col: int, owner: str) -> int:
        """x of a vertical segment left of ``col``; segments of different owners get their own x."""
        key = (col, owner)
        if key not in self.gap_offsets:
            used = sum(1 for gap, _ in self.gap_offsets if gap == col)
            self.gap_offsets[key] = GAP_OFFSETS[used % len(GAP_OFFSETS)]
        return self.grid.col_x(col) + self.gap_offsets[key]


def reserve_channels(layout: Layout) -> set[tuple[int, int, int]]:
    """Reserve a free row for every forward flow that skips columns; returns all taken cells."""
    graph, rank, band, slot = layout.graph, layout.rank, layout.band, layout.slot
    occupied = set(layout.cells)
    for flow in graph.flows:
        if flow.fid in layout.back or flow.target in graph.host:
            continue
        source = graph.host.get(flow.source, flow.source)
        cols = range(rank[source] + 1, rank[flow.target])
        if not cols:
            continue
        prefer = slot[source] + (1 if flow.source in graph.host else 0)
        row = _free_slot(occupied, band[source], cols, prefer)
        occupied.update((band[source], col, row) for col in cols)
        layout.channels[flow.fid] = row
    return occupied


def build_grid(layout: Layout, left: int, top: int, bands: int, occupied: set[tuple[int, int, int]]) -> Grid:
    """Stack the bands; each grows to fit its rows plus one channel per loop leaving it."""
    loops: dict[int, list[str]] = defaultdict(list)
    for flow in layout.graph.flows:
        if flow.fid in layout.back:
            loops[layout.band[flow.source]].append(flow.fid)
    grid = Grid(left, [], [], [])
    y = top
    for band in range(bands):
        rows = max((row + 1 for b, _, row in occupied if b == band), default=1)
        channels = loops.get(band, [])
        for index, fid in enumerate(channels):
            layout.back_y[fid] = y + rows * ROW_H + BACK_GAP * (index + 1)
        height = rows * ROW_H + (BACK_GAP * (len(channels) + 1) if channels else 0)
        grid.tops.append(y)
        grid.heights.append(height)
        grid.rows.append(rows)
        y += height
    return grid


def place_boxes(layout: Layout) -> None:
    graph, grid = layout.graph, layout.grid
    for node in graph.nodes:
        width, height = SIZES[graph.kind(node)]
        cx = grid.col_x(layout.rank[node]) + COL_W // 2
        cy = grid.row_y(layout.band[node], layout.slot[node])
        layout.boxes[node] = Box(cx - width // 2, cy - height // 2, width, height)
    for host, events in graph.attached.items():
        host_box = layout.boxes[host]
        pitch = min(BOUNDARY_PITCH, host_box.w // max(len(events) - 1, 1))
        for index, event in enumerate(events):
            x = host_box.cx + (2 * index - len(events) + 1) * pitch // 2
            layout.boxes[event] = Box(x - 18, host_box.bottom - 18, 36, 36)


def layout_container(container: etree._Element, x: int, top: int, in_pool: bool) -> Layout:
    """Lay out a process (inside a pool when ``in_pool``) or a sub-process."""
    graph = build_graph(container)
    lanes, leaves = collect_lanes(container) if in_pool else ([], [])
    adjacency = ranking_edges(graph)
    back = find_back_edges(graph, adjacency)
    rank = compute_ranks(graph, adjacency, back)
    band, bands = assign_bands(graph, lanes, leaves)
    slot = assign_slots(graph, rank, band, back)
    cells = {(band[node], rank[node], slot[node]) for node in graph.nodes}
    layout = Layout(graph, rank, band, slot, back, cells, lanes=lanes)
    occupied = reserve_channels(layout)
    if in_pool:
        levels = max((info.depth + 1 for info in lanes), default=0)
        x += POOL_HEADER + LANE_HEADER * levels + CONTENT_PAD
    layout.grid = build_grid(layout, x, top, bands, occupied)
    place_boxes(layout)
    return layout


# --------------------------------------------------------------------------- routing


def route(layout: Layout, flow: Flow) -> list[Point]:
    if flow.fid in layout.back:
        return _simplify(_loop_exit(layout, flow) + _loop_entry(layout, flow))
    if flow.source in layout.graph.host:
        return _simplify(_boundary_route(layout, flow))
    source = layout.boxes[flow.source]
    return _simplify(_forward(layout, flow, [(source.right, source.cy)], layout.rank[flow.source]))


def _forward(layout: Layout, flow: Flow, head: list[Point], source_col: int) -> list[Point]:
    """Continue ``head`` to the right, through a reserved row if columns are skipped."""
    target = layout.boxes[flow.target]
    points, y = list(head), head[-1][1]
    channel = layout.channels.get(flow.fid)
    if channel is not None:
        y_channel = layout.grid.row_y(layout.band[flow.source], channel)
        x_out = (
            layout.gap_x(source_col + 1, flow.source) if y_channel != y else layout.grid.col_x(source_col + 1)
        )
        points += [(x_out, y), (x_out, y_channel)]
        y = y_channel
    col = layout.rank[flow.target]
    x_in = layout.gap_x(col, flow.source) if target.cy != y else layout.grid.col_x(col)
    return [*points, (x_in, y), (x_in, target.cy), (target.x, target.cy)]


def _boundary_route(layout: Layout, flow: Flow) -> list[Point]:
    """Leave the boundary event downwards, then go right to the target."""
    event, target = layout.boxes[flow.source], layout.boxes[flow.target]
    host = layout.graph.host[flow.source]
    col = layout.rank[host]
    direct = (
        layout.rank[flow.target] == col + 1
        and layout.band[flow.target] == layout.band[host]
        and target.cy > event.bottom
        and layout.clear_below(host)
    )
    if direct:
        return [(event.cx, event.bottom), (event.cx, target.cy), (target.x, target.cy)]
    drop = (event.cx, event.bottom + BOUNDARY_DROP)
    return _forward(layout, flow, [(event.cx, event.bottom), drop], col)


def _loop_exit(layout: Layout, flow: Flow) -> list[Point]:
    """From the source down to the loop channel below its band."""
    box, y_channel = layout.boxes[flow.source], layout.back_y[flow.fid]
    host = layout.graph.host.get(flow.source)
    if host is not None:
        if layout.clear_below(host):
            return [(box.cx, box.bottom), (box.cx, y_channel)]
        x = layout.grid.col_x(layout.rank[host] + 1) - SIDE_OFFSET
        y = box.bottom + BOUNDARY_DROP
        return [(box.cx, box.bottom), (box.cx, y), (x, y), (x, y_channel)]
    if layout.bottom_free(flow.source):
        x = box.cx + (box.w // 4 if layout.graph.kind(flow.source) == ACTIVITY else 0)
        return [(x, box.bottom), (x, y_channel)]
    x = layout.grid.col_x(layout.rank[flow.source] + 1) - SIDE_OFFSET
    return [(box.right, box.cy), (x, box.cy), (x, y_channel)]


def _loop_entry(layout: Layout, flow: Flow) -> list[Point]:
    """From the loop channel up into the bottom (or the left side) of the target."""
    box, y_channel = layout.boxes[flow.target], layout.back_y[flow.fid]
    if flow.target not in layout.graph.host and layout.bottom_free(flow.target, layout.band[flow.source]):
        x = box.cx - (box.w // 4 if layout.graph.kind(flow.target) == ACTIVITY else 0)
        return [(x, y_channel), (x, box.bottom)]
    x = layout.grid.col_x(layout.rank[flow.target]) + SIDE_OFFSET
    return [(x, y_channel), (x, box.cy), (box.x, box.cy)]


def message_route(source: Box, target: Box) -> list[Point]:
    """Vertical message flow between pools (or nodes in different pools)."""
    if source.cy <= target.cy:
        start, end = (source.cx, source.bottom), (target.cx, target.y)
    else:
        start, end = (source.cx, source.y), (target.cx, target.bottom)
    middle = (start[1] + end[1]) // 2
    return _simplify([start, (start[0], middle), (end[0], middle), end])


# --------------------------------------------------------------------------- DI output


def _node_label(layout: Layout, node: str) -> Box | None:
    graph, box = layout.graph, layout.boxes[node]
    if not graph.has_outside_label(node):
        return None
    if node in graph.host:  # beside the event, under the host, clear of the outgoing flow
        width, height = _text_size(graph.names[node], 60, 2)
        last = graph.attached[graph.host[node]][-1] == node  # the others put it on their left
        return Box(box.right + 2 if last else box.x - 2 - width, box.y + 22, width, height)
    width, height = _text_size(graph.names[node], 90, 3)
    return Box(box.cx - width // 2, box.bottom + 5, width, height)


def _flow_label(name: str, points: list[Point], obstacles: list[Box]) -> Box | None:
    """The first label position that covers no shape and no other label."""
    if not name:
        return None
    width, height = _text_size(name, 80, 3)
    spots = list(_label_spots(points, width, height))
    return next((box for box in spots if not any(box.overlaps(other) for other in obstacles)), spots[0])


def _label_spots(points: list[Point], width: int, height: int):
    """Right of a vertical segment (the last one first, near its end), else above the first segment."""
    verticals = [(p, q) for p, q in pairwise(points) if p[0] == q[0]]
    for (x, y_from), (_, y_to) in reversed(verticals):
        length = abs(y_to - y_from)
        sign = 1 if y_to > y_from else -1
        for reach in range(min(ROW_H // 2, length // 2), length - height // 2, height + 4):
            centre = y_to - sign * reach
            yield Box(x + 4, centre - height // 2, width, height)
    x0, y0 = points[0]
    yield Box(x0 + 4, y0 - 4 - height, width, height)


def _add_bounds(parent: etree._Element, box: Box) -> None:
    attrs = {"x": str(box.x), "y": str(box.y), "width": str(box.w), "height": str(box.h)}
    etree.SubElement(parent, f"{{{DC_NS}}}Bounds", attrib=attrs)


def _add_label(parent: etree._Element, box: Box | None) -> None:
    if box is not None:
        _add_bounds(etree.SubElement(parent, bpmndi("BPMNLabel")), box)


def add_shape(
    plane, element_id: str, box: Box, extra: dict[str, str] | None = None, label: Box | None = None
):
    attrs = {"id": f"{element_id}_di", "bpmnElement": element_id, **(extra or {})}
    shape = etree.SubElement(plane, bpmndi("BPMNShape"), attrib=attrs)
    _add_bounds(shape, box)
    _add_label(shape, label)
    return shape


def add_edge(plane, element_id: str, points: list[Point], label: Box | None = None):
    edge = etree.SubElement(
        plane, bpmndi("BPMNEdge"), attrib={"id": f"{element_id}_di", "bpmnElement": element_id}
    )
    for x, y in points:
        etree.SubElement(edge, f"{{{DI_NS}}}waypoint", attrib={"x": str(x), "y": str(y)})
    _add_label(edge, label)
    return edge


def _shape_extra(tag: str) -> dict[str, str]:
    if tag == "exclusiveGateway":
        return {"isMarkerVisible": "true"}
    if tag in CONTAINER_TAGS:
        return {"isExpanded": "false"}
    return {}


def emit_contents(plane: etree._Element, layout: Layout) -> None:
    """Shapes for the flow nodes (boundary events after their hosts), then the edges."""
    graph = layout.graph
    obstacles = list(layout.boxes.values())
    for node in [*graph.nodes, *graph.host]:
        label = _node_label(layout, node)
        add_shape(plane, node, layout.boxes[node], _shape_extra(graph.tags[node]), label)
        obstacles += [label] if label else []
    for flow in graph.flows:
        points = route(layout, flow)
        label = _flow_label(flow.name, points, obstacles)
        add_edge(plane, flow.fid, points, label)
        obstacles += [label] if label else []


def emit_lanes(plane: etree._Element, layout: Layout, pool: Box) -> None:
    grid = layout.grid
    for info in layout.lanes:
        if not info.element.get("id"):
            continue
        x = pool.x + POOL_HEADER + LANE_HEADER * info.depth
        height = sum(grid.heights[info.first : info.last + 1])
        add_shape(
            plane,
            info.element.get("id"),
            Box(x, grid.tops[info.first], pool.right - x, height),
            {"isHorizontal": "true"},
        )


def add_diagram(root: etree._Element, element_id: str) -> etree._Element:
    """A new BPMNDiagram/BPMNPlane, placed after the root elements (before any relationship)."""
    diagram = etree.Element(bpmndi("BPMNDiagram"), attrib={"id": f"BPMNDiagram_{element_id}"})
    etree.SubElement(
        diagram, bpmndi("BPMNPlane"), attrib={"id": f"BPMNPlane_{element_id}", "bpmnElement": element_id}
    )
    relationship = root.find(bpmn("relationship"))
    if relationship is None:
        root.append(diagram)
    else:
        relationship.addprevious(diagram)
    return diagram[0]


def draw_process(root: etree._Element, process: etree._Element) -> None:
    plane = add_diagram(root, process.get("id"))
    emit_contents(plane, layout_container(process, ORIGIN_X, ORIGIN_Y, in_pool=False))


def draw_collaboration(root: etree._Element, collaboration: etree._Element, processes: dict) -> None:
    """One pool per participant, stacked top to bottom, then the message flows."""
    plane = add_diagram(root, collaboration.get("id"))
    pools: list[tuple[etree._Element, Layout | None, int, int]] = []
    y = ORIGIN_Y
    for participant in collaboration.findall(bpmn("participant")):
        process = processes.get(participant.get("processRef"))
        layout = layout_container(process, ORIGIN_X, y, in_pool=True) if process is not None else None
        height = layout.grid.height if layout else EMPTY_POOL_H
        pools.append((participant, layout, y, height))
        y += height + POOL_GAP
    right = max((layout.right for _, layout, _, _ in pools if layout), default=ORIGIN_X + EMPTY_POOL_W)
    boxes: dict[str, Box] = {}
    for participant, layout, top, height in pools:
        pool = Box(ORIGIN_X, top, right - ORIGIN_X, height)
        boxes[participant.get("id")] = pool
        add_shape(plane, participant.get("id"), pool, {"isHorizontal": "true"})
        if layout is not None:
            emit_lanes(plane, layout, pool)
            emit_contents(plane, layout)
            boxes.update(layout.boxes)
    for flow in collaboration.findall(bpmn("messageFlow")):
        source, target = boxes.get(flow.get("sourceRef")), boxes.get(flow.get("targetRef"))
        if flow.get("id") and source and target:
            add_edge(plane, flow.get("id"), message_route(source, target))


# --------------------------------------------------------------------------- document


def _free_prefix(prefix: str, nsmap: dict) -> str:
    while prefix in nsmap:
        prefix += "_"
    return prefix


def _ensure_di_namespaces(tree: etree._ElementTree) -> etree._ElementTree:
    """Declare the DI namespaces on the root, leaving every existing declaration as written.

    lxml cannot add a declaration to an existing element, so the missing ones are spliced
    into the serialized root tag (found through a marker attribute) and the document is
    parsed again; the DOCTYPE, comments and unexpanded entity references survive.
    """
    root = tree.getroot()
    nsmap = dict(root.nsmap)
    declarations = ""
    for prefix, uri in DI_NAMESPACES:
        if uri not in nsmap.values():
            free = _free_prefix(prefix, nsmap)
            nsmap[free] = uri
            declarations += f' xmlns:{free}="{uri}"'
    if not declarations:
        return tree
    root.set(NAMESPACE_MARKER, "1")
    data = etree.tostring(tree, encoding="UTF-8")
    data = data.replace(f' {NAMESPACE_MARKER}="1"'.encode(), declarations.encode(), 1)
    return etree.fromstring(data, make_parser()).getroottree()


def _is_generated(collaboration: etree._Element) -> bool:
    children = [child for child in collaboration if isinstance(child.tag, str)]
    if len(children) != 1 or children[0].tag != bpmn("participant"):
        return False
    pid = children[0].get("processRef")
    return bool(pid) and (
        collaboration.get("id") == GENERATED_COLLABORATION + pid
        and children[0].get("id") == GENERATED_PARTICIPANT + pid
    )


def _remove_previous_output(root: etree._Element) -> None:
    for element in root.findall(bpmndi("BPMNDiagram")):
        root.remove(element)
    for element in root.findall(bpmn("collaboration")):
        if _is_generated(element):
            root.remove(element)


def _create_collaboration(root: etree._Element, process: etree._Element) -> etree._Element:
    pid = process.get("id")
    collaboration = etree.Element(bpmn("collaboration"), attrib={"id": GENERATED_COLLABORATION + pid})
    attrs = {"id": GENERATED_PARTICIPANT + pid}
    if process.get("name"):
        attrs["name"] = process.get("name")
    attrs["processRef"] = pid
    etree.SubElement(collaboration, bpmn("participant"), attrib=attrs)
    root.find(bpmn("process")).addprevious(collaboration)
    return collaboration


def _plan_owners(root: etree._Element, processes: list[etree._Element]) -> list[etree._Element]:
    """The element each diagram plane shows: a collaboration or a process, in document order."""
    pooled: dict[str, etree._Element] = {}
    collaborations = root.findall(bpmn("collaboration"))
    for collaboration in collaborations:
        for participant in collaboration.findall(bpmn("participant")):
            pooled.setdefault(participant.get("processRef"), collaboration)
    owners: dict[str, etree._Element] = {}
    for process in processes:
        owner = pooled.get(process.get("id"))
        if owner is None:
            owner = _create_collaboration(root, process) if _has_lanes(process) else process
        owners.setdefault(owner.get("id"), owner)
    for collaboration in collaborations:
        owners.setdefault(collaboration.get("id"), collaboration)
    return [owner for key, owner in owners.items() if key]


def layout_tree(tree: etree._ElementTree) -> etree._ElementTree:
    """Replace the diagram interchange of a parsed BPMN document; returns the document to write."""
    tree = _ensure_di_namespaces(tree)
    root = tree.getroot()
    _remove_previous_output(root)
    processes = [process for process in root.findall(bpmn("process")) if process.get("id")]
    by_id = {process.get("id"): process for process in processes}
    for owner in _plan_owners(root, processes):
        if owner.tag == bpmn("process"):
            draw_process(root, owner)
        else:
            draw_collaboration(root, owner, by_id)
    for process in processes:
        for container in process.iter(*(bpmn(tag) for tag in CONTAINER_TAGS)):
            if container.get("id"):
                plane = add_diagram(root, container.get("id"))
                emit_contents(plane, layout_container(container, ORIGIN_X, ORIGIN_Y, in_pool=False))
    return tree


# --------------------------------------------------------------------------- check


def find_problems(root: etree._Element) -> list[str]:
    """Why the DI of a document is missing or stale; empty when it is complete."""
    planes = root.findall(f"{bpmndi('BPMNDiagram')}/{bpmndi('BPMNPlane')}")
    if not planes:
        return ["no diagram interchange (bpmndi:BPMNDiagram)"]
    ids = {el.get("id") for el in root.iter() if _bpmn_local(el) and el.get("id")}
    drawn: set[str] = set()
    problems: list[str] = []
    for plane in planes:
        problems += _plane_problems(plane, ids, drawn)
    for element in root.iter(*(bpmn(tag) for tag in DRAWN_TAGS)):
        if element.get("id") and element.get("id") not in drawn:
            problems.append(f"{_bpmn_local(element)} {element.get('id')} has no shape or edge")
    pooled = {participant.get("processRef") for participant in root.iter(bpmn("participant"))}
    for process in root.findall(bpmn("process")):
        if _has_lanes(process) and process.get("id") not in pooled:
            problems.append(f"process {process.get('id')} has lanes but no pool (participant)")
    return problems


def _plane_problems(plane: etree._Element, ids: set[str], drawn: set[str]) -> list[str]:
    problems = []
    if plane.get("bpmnElement") not in ids:
        problems.append(f"plane {plane.get('id')} shows missing element {plane.get('bpmnElement')}")
    refs = Counter(
        child.get("bpmnElement") for child in plane if child.tag in (bpmndi("BPMNShape"), bpmndi("BPMNEdge"))
    )
    for ref, number in sorted(refs.items(), key=lambda item: str(item[0])):
        if ref not in ids:
            problems.append(f"shape or edge for missing element {ref}")
        elif number > 1:
            problems.append(f"{ref} has {number} shapes or edges in plane {plane.get('id')}")
    drawn.update(ref for ref in refs if ref)
    return problems


# --------------------------------------------------------------------------- CLI


def make_parser() -> etree.XMLParser:
    """A parser that never expands entities, loads DTDs or touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)


def parse_file(path: Path) -> etree._ElementTree:
    tree = etree.parse(str(path), make_parser())
    if tree.getroot().tag != bpmn("definitions"):
        raise ValueError("root element is not bpmn:definitions")
    if next(tree.getroot().iter(etree.Entity), None) is not None:
        raise ValueError("entity references are not supported (they are never expanded)")
    return tree


def serialize(tree: etree._ElementTree) -> bytes:
    return XML_DECLARATION + etree.tostring(tree, encoding="UTF-8", xml_declaration=False, pretty_print=True)


def process_file(path: Path, output: Path | None, check: bool) -> int:
    try:
        tree = parse_file(path)
    except (OSError, ValueError, etree.XMLSyntaxError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    if check:
        problems = find_problems(tree.getroot())
        for problem in problems:
            print(f"{path}: {problem}")
        return 1 if problems else 0
    data = serialize(layout_tree(tree))
    target = output or path
    if not target.exists() or target.read_bytes() != data:
        target.write_bytes(data)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Add BPMN DI (a diagram layout) to hand-written BPMN files.")
    parser.add_argument("files", nargs="+", type=Path, help="BPMN files, rewritten in place")
    parser.add_argument("-o", "--output", type=Path, help="write the result here (one input file only)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a file lacks DI or its DI is stale")
    args = parser.parse_args(argv)
    if args.output and (len(args.files) != 1 or args.check):
        parser.error("-o/--output needs exactly one input file and no --check")
    return max(process_file(path, args.output, args.check) for path in args.files)


if __name__ == "__main__":
    sys.exit(main())
