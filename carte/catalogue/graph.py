"""Where to draw the dependency graph: a left-to-right layered layout as SVG geometry.

Layers come from the selector (longest path from a service with no upstream); inside a
layer services keep menu order. Drawn on the server, so the graph needs no JavaScript
and stays readable for a few hundred services (the page scrolls).
"""

from __future__ import annotations

from typing import Any, TypedDict

NODE_W = 200
NODE_H = 44
GAP_X = 90
GAP_Y = 16
MARGIN = 20


class Placed(TypedDict):
    id: int
    x: int
    y: int
    node: dict[str, Any]


class Line(TypedDict):
    d: str
    title: str
    in_cycle: bool


class Layout(TypedDict):
    width: int
    height: int
    nodes: list[Placed]
    edges: list[Line]


def _untangle(columns: dict[int, list[dict[str, Any]]], edges: list[dict[str, Any]]) -> None:
    """Fewer crossings: sort each layer by the mean row of the services feeding it (the
    barycentre heuristic), left to right, keeping menu order for services fed by none."""
    upstream: dict[int, list[int]] = {}
    for e in edges:
        upstream.setdefault(e["target"], []).append(e["source"])
    row: dict[int, float] = {}
    for layer in sorted(columns):
        nodes = columns[layer]
        for i, node in enumerate(nodes):
            fed_by = [row[u] for u in upstream.get(node["id"], []) if u in row]
            node["_key"] = sum(fed_by) / len(fed_by) if fed_by else float(i)
        nodes.sort(key=lambda n: n.pop("_key"))
        row.update({n["id"]: float(i) for i, n in enumerate(nodes)})


def layout(graph: dict[str, Any]) -> Layout:
    """Positions for every node and an SVG path for every edge."""
    columns: dict[int, list[dict[str, Any]]] = {}
    for node in graph["nodes"]:
        columns.setdefault(node["layer"], []).append(node)
    _untangle(columns, graph["edges"])
    placed: dict[int, Placed] = {}
    for layer, nodes in columns.items():
        for row, node in enumerate(nodes):
            placed[node["id"]] = {
                "id": node["id"],
                "x": MARGIN + layer * (NODE_W + GAP_X),
                "y": MARGIN + row * (NODE_H + GAP_Y),
                "node": node,
            }
    edges: list[Line] = []
    for e in graph["edges"]:
        a, b = placed.get(e["source"]), placed.get(e["target"])
        if a is None or b is None:
            continue
        x1, y1 = a["x"] + NODE_W, a["y"] + NODE_H // 2
        x2, y2 = b["x"], b["y"] + NODE_H // 2
        bend = max(40, abs(x2 - x1) // 2)
        edges.append(
            {
                "d": f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}",
                "title": f"{a['node']['code']} {e['output']} → {b['node']['code']} {e['input']}",
                "in_cycle": a["node"]["in_cycle"] and b["node"]["in_cycle"],
            }
        )
    width = MARGIN * 2 + max((p["x"] for p in placed.values()), default=0) + NODE_W
    height = MARGIN * 2 + max((p["y"] for p in placed.values()), default=0) + NODE_H
    return {"width": width, "height": height, "nodes": list(placed.values()), "edges": edges}
