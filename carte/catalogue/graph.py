"""Where to draw the dependency graph: a top-to-bottom layered layout as SVG geometry.

Layers come from the selector (longest path from a service with no upstream); inside a
layer the barycentre heuristic orders services to cut crossings. Layers run down the
page rather than across it: a long chain of services then makes the drawing taller, which
the page scrolls, instead of wider than the screen. Services linked to no other one are
listed beside the drawing, not drawn. Drawn on the server, so the graph needs no
JavaScript; every name is shown whole, wrapped over as many lines as it needs.

We keep this small layout (Sugiyama's method: layers, virtual nodes for long links,
barycentre ordering) rather than a library: grandalf does the same but is little
maintained and would bring its own layering, and networkx's multipartite layout does no
crossing reduction, which is the part that matters here.
"""

from __future__ import annotations

import itertools
import textwrap
from typing import Any, TypedDict

from carte.catalogue.choices import Stage

NODE_W = 200
PAD_X = 10
PAD_Y = 8
CODE_LINE = 16  # the code's line, 12px bold
NAME_LINE = 14  # each line of the name or the stage, 11px
# Characters of an 11px sans-serif name that fit in NODE_W - 2 * PAD_X (180px) with room to
# spare: ~6.3px a character measured in Chromium, and upper-case letters run wider.
CHARS_PER_LINE = 26
GAP_X = 24  # between services of a layer
VIRTUAL_W = 8  # the slot of a long link in a layer it crosses
VIRTUAL_GAP = 6  # beside such a slot
GAP_Y = 56  # between layers, where the links bend
MARGIN = 16

IN_SERVICE = frozenset({Stage.RUNNING, Stage.CLOSING})
ENDED = frozenset({Stage.CLOSED, Stage.REJECTED})


class TextLine(TypedDict):
    y: int
    text: str
    css: str


class Placed(TypedDict):
    id: int
    x: int
    y: int
    height: int
    node: dict[str, Any]
    kind: str  # "live", "planned" or "ended": how the legend names it
    stage_label: str  # empty for a running service, which is the usual case
    lines: list[TextLine]
    title: str


class Line(TypedDict):
    d: str
    title: str
    in_cycle: bool
    ended: bool
    source: Placed
    target: Placed
    output: str
    input: str


class Layout(TypedDict):
    width: int
    height: int
    nodes: list[Placed]
    edges: list[Line]
    unlinked: list[dict[str, Any]]
    ended_count: int


def kind_of(stage: str) -> str:
    """How the drawing shows a service at this stage: in service, not yet, or no more."""
    if stage in ENDED:
        return "ended"
    return "live" if stage in IN_SERVICE else "planned"


def stage_label(stage: str) -> str:
    """The stage's label, or nothing for a running service (the usual case)."""
    if stage == Stage.RUNNING or stage not in Stage.values:
        return ""
    return str(Stage(stage).label)


def _lines(node: dict[str, Any]) -> list[TextLine]:
    """The code, the whole name wrapped, and the stage when the service is not running."""
    y = PAD_Y + 12
    lines: list[TextLine] = [{"y": y, "text": node["code"], "css": "graph-code"}]
    y += CODE_LINE - 12
    name = textwrap.wrap(node["name"], CHARS_PER_LINE, break_on_hyphens=True) or [""]
    for text in name:
        y += NAME_LINE
        lines.append({"y": y, "text": text, "css": "graph-name"})
    label = stage_label(node["stage"])
    if label:
        y += NAME_LINE
        lines.append({"y": y, "text": label, "css": "graph-stage"})
    return lines


def _untangle(layers: list[list[int]], links: list[tuple[int, int]]) -> None:
    """Fewer crossings: sort each layer by the mean position of its neighbours in the
    layer before (the barycentre heuristic), sweeping down, up and down again; a service
    with no neighbour there keeps its place."""
    up: dict[int, list[int]] = {}
    down: dict[int, list[int]] = {}
    for source, target in links:
        up.setdefault(target, []).append(source)
        down.setdefault(source, []).append(target)
    pos = {item: float(i) for layer in layers for i, item in enumerate(layer)}

    def sweep(order: list[list[int]], neighbours: dict[int, list[int]]) -> None:
        for layer in order[1:]:
            keys: dict[int, float] = {}
            for i, item in enumerate(layer):
                near = [pos[n] for n in neighbours.get(item, []) if n in pos]
                keys[item] = sum(near) / len(near) if near else float(i)
            layer.sort(key=keys.__getitem__)
            pos.update({item: float(i) for i, item in enumerate(layer)})

    sweep(layers, up)
    sweep(layers[::-1], down)
    sweep(layers, up)


def _gap(a: int, b: int) -> int:
    return GAP_X if a >= 0 and b >= 0 else VIRTUAL_GAP


def layout(graph: dict[str, Any]) -> Layout:
    """Positions and text lines for every linked service, an SVG path for every link, and
    a box that holds them all.

    A link that crosses layers passes through a narrow slot of its own in each (a
    "virtual node", as in Sugiyama's method) so it runs between services, not behind them.
    """
    linked = {e["source"] for e in graph["edges"]} | {e["target"] for e in graph["edges"]}
    nodes = {n["id"]: n for n in graph["nodes"] if n["id"] in linked}
    rank = {layer: i for i, layer in enumerate(sorted({n["layer"] for n in nodes.values()}))}
    layers: list[list[int]] = [[] for _ in rank]
    for node in nodes.values():
        layers[rank[node["layer"]]].append(node["id"])
    routes: list[tuple[dict[str, Any], list[int]]] = []
    links: list[tuple[int, int]] = []
    virtual = 0
    for e in graph["edges"]:
        if e["source"] not in nodes or e["target"] not in nodes:
            continue
        chain = [e["source"]]
        for r in range(rank[nodes[e["source"]]["layer"]] + 1, rank[nodes[e["target"]]["layer"]]):
            virtual -= 1
            layers[r].append(virtual)
            chain.append(virtual)
        chain.append(e["target"])
        routes.append((e, chain[1:-1]))
        links += list(itertools.pairwise(chain))
    _untangle(layers, links)

    lines = {pk: _lines(node) for pk, node in nodes.items()}
    heights = {pk: text[-1]["y"] + PAD_Y + 2 for pk, text in lines.items()}
    tops: list[int] = []
    bottoms: list[int] = []
    y = MARGIN
    for layer in layers:
        tops.append(y)
        y += max(heights.get(item, 0) for item in layer)
        bottoms.append(y)
        y += GAP_Y
    height = y - GAP_Y + MARGIN if nodes else 2 * MARGIN

    def row_width(layer: list[int]) -> int:
        widths = sum(NODE_W if item >= 0 else VIRTUAL_W for item in layer)
        return widths + sum(_gap(a, b) for a, b in itertools.pairwise(layer))

    full_width = max((row_width(layer) for layer in layers), default=0)
    x_of: dict[int, int] = {}
    row_of: dict[int, int] = {}
    for r, layer in enumerate(layers):
        x = MARGIN + (full_width - row_width(layer)) // 2  # each layer centred
        for i, item in enumerate(layer):
            if i:
                x += _gap(layer[i - 1], item)
            x_of[item], row_of[item] = x, r
            x += NODE_W if item >= 0 else VIRTUAL_W

    placed: dict[int, Placed] = {}
    for layer in layers:
        for pk in (item for item in layer if item >= 0):
            node = nodes[pk]
            label = stage_label(node["stage"])
            placed[pk] = {
                "id": pk,
                "x": x_of[pk],
                "y": tops[row_of[pk]],
                "height": heights[pk],
                "node": node,
                "kind": kind_of(node["stage"]),
                "stage_label": label,
                "lines": lines[pk],
                "title": f"{node['code']} {node['name']} ({node['category']})"
                + (f", {label.lower()}" if label else ""),
            }

    edges: list[Line] = []
    for e, through in routes:
        a, b = placed[e["source"]], placed[e["target"]]
        x, y = a["x"] + NODE_W // 2, a["y"] + a["height"]
        x2, y2 = b["x"] + NODE_W // 2, b["y"]
        d = f"M{x},{y}"
        for v in through:
            vx = x_of[v] + VIRTUAL_W // 2
            bend = (tops[row_of[v]] - y) // 2
            d += f" C{x},{y + bend} {vx},{tops[row_of[v]] - bend} {vx},{tops[row_of[v]]}"
            x, y = vx, bottoms[row_of[v]]
            d += f" L{x},{y}"
        # Control points stay inside the box, so the curve (inside their hull) does too; a
        # link back up a loop bends out below its source and above its target.
        bend = max(GAP_Y // 2, (y2 - y) // 2)
        d += f" C{x},{min(y + bend, height - 2)} {x2},{max(y2 - bend, 2)} {x2},{y2}"
        edges.append(
            {
                "d": d,
                "title": f"{a['node']['name']} ({a['node']['code']}): its “{e['output']}” is "
                f"the “{e['input']}” of {b['node']['name']} ({b['node']['code']})",
                "in_cycle": a["node"]["in_cycle"] and b["node"]["in_cycle"],
                "ended": a["kind"] == "ended" or b["kind"] == "ended",
                "source": a,
                "target": b,
                "output": e["output"],
                "input": e["input"],
            }
        )
    return {
        "width": 2 * MARGIN + full_width,
        "height": height,
        "nodes": list(placed.values()),
        "edges": edges,
        "unlinked": [
            {**n, "stage_label": stage_label(n["stage"])}
            for n in graph["nodes"]
            if n["id"] not in linked
        ],
        "ended_count": sum(1 for n in graph["nodes"] if kind_of(n["stage"]) == "ended"),
    }
