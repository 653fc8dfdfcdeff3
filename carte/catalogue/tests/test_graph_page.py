"""The dependency graph page: every service inside the drawing, whole names, a legend,
closed and rejected services drawn as such, a text alternative, and a browser check that
the drawing fits its box and zooms."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.urls import reverse

from carte.catalogue.choices import Stage
from carte.catalogue.models import Category, Service
from carte.catalogue.tests.factories import (
    CategoryFactory,
    ServiceFactory,
    ServiceInputFactory,
    ServiceOutputFactory,
    move_stage,
)
from carte.core.testing import assert_constant_queries
from carte.organisations.models import Organisation

LONG_NAME = (
    "Programme coordination, dependency management and cross-portfolio scheduling "
    "for the manufacturing plants of the northern region and their suppliers"
)


def link(source: Service, target: Service) -> None:
    """An output of `source` becomes an input of `target`."""
    ServiceInputFactory(
        service=target,
        name=f"Input of {target.code}",
        source_output=ServiceOutputFactory(service=source, name=f"Output of {source.code}"),
    )


def catalogue(org: Organisation, size: int) -> dict[str, Service]:
    """A catalogue of about `size` services: a chain, a wide fan-out, links that skip
    layers, a loop, and one service linked to nothing."""
    category = CategoryFactory(organisation=org)
    made: dict[str, Any] = {
        f"C{i:02d}": ServiceFactory(
            organisation=org, category=category, code=f"C{i:02d}", stage=Stage.RUNNING
        )
        for i in range(size)
    }
    chain = list(made.values())[: size // 2]
    for before, after in itertools.pairwise(chain):
        link(before, after)
    for fanned in list(made.values())[size // 2 : -1]:
        link(chain[0], fanned)
        link(fanned, chain[-1])  # skips most of the chain's layers
    link(chain[-1], chain[1])  # back up: a loop through the whole chain
    return made


def url(org: Organisation, **params: str) -> str:
    query = "".join(f"?{k}={v}" for k, v in params.items())
    return reverse("dependency_graph", args=[org.slug]) + query


def drawing(html: str) -> ET.Element:
    """The graph's SVG, parsed (it is well-formed XML inside the HTML)."""
    found = re.search(r'<svg id="dependency-graph".*?</svg>', html, re.S)
    assert found, "no drawing on the page"
    return ET.fromstring(found.group(0))


def nodes(svg: ET.Element) -> dict[str, ET.Element]:
    return {g.attrib["data-service"]: g for g in svg.iter("g") if "data-service" in g.attrib}


def classes(element: ET.Element) -> set[str]:
    return set(element.attrib.get("class", "").split())


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", text)]


@pytest.mark.parametrize("size", [4, 40])
def test_it_keeps_every_service_and_link_inside_the_drawing(
    director: Any, org: Organisation, size: int
) -> None:
    made = catalogue(org, size)
    html = director.client.get(url(org)).content.decode()
    svg = drawing(html)
    _, _, width, height = numbers(svg.attrib["viewBox"])
    drawn = nodes(svg)
    assert set(drawn) == set(made) - {f"C{size - 1:02d}"}  # the one linked to nothing
    for code, g in drawn.items():
        x, y = numbers(g.attrib["transform"])
        rect = g.find("rect")
        assert rect is not None
        w, h = float(rect.attrib["width"]), float(rect.attrib["height"])
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height, code
        for text in g.iter("text"):
            assert 0 < float(text.attrib["y"]) < h, f"a line of {code} outside its box"
    paths = [p for p in svg.iter("path") if "graph-edge" in classes(p)]
    chained, fanned = size // 2 - 1, size - size // 2 - 1
    assert len(paths) == chained + 2 * fanned + 1
    for path in paths:
        xy = numbers(path.attrib["d"])
        assert all(0 <= x <= width for x in xy[::2]) and all(0 <= y <= height for y in xy[1::2])
    # The drawing shrinks to the width of its box, whatever the catalogue's size.
    assert re.search(r'class="card-body graph-fit">\s*<svg id="dependency-graph"', html)


def test_it_writes_names_whole(director: Any, org: Organisation) -> None:
    long = ServiceFactory(organisation=org, code="POR-04", name=LONG_NAME)
    link(ServiceFactory(organisation=org, code="GOV-01"), long)

    svg = drawing(director.client.get(url(org)).content.decode())

    g = nodes(svg)["POR-04"]
    lines = [t.text or "" for t in g.iter("text") if "graph-name" in classes(t)]
    assert len(lines) > 1 and " ".join(lines) == LONG_NAME
    anchor = next(a for a in svg.iter("a") if g in list(a))
    assert LONG_NAME in anchor.attrib["aria-label"]
    title = anchor.find("title")
    assert title is not None and LONG_NAME in (title.text or "")


def test_it_explains_its_marks_in_a_legend(director: Any, org: Organisation) -> None:
    catalogue(org, 6)
    html = director.client.get(url(org)).content.decode()

    legend = re.search(r'data-testid="graph-legend">(.*?)</ul>', html, re.S)
    assert legend
    text = re.sub(r"<[^>]+>", " ", legend.group(1))
    for meaning in ("In service", "Not yet in service", "Closed or rejected", "circular"):
        assert meaning in text
    # Every kind of mark the drawing uses has a swatch of the same look in the legend.
    svg = drawing(html)
    used = {c for g in nodes(svg).values() for c in classes(g)} | {
        c for p in svg.iter("path") for c in classes(p) if "graph-edge" in classes(p)
    }
    for mark in used - {"graph-node"}:
        assert "graph-swatch" in legend.group(1) and mark in legend.group(1), mark


def test_it_draws_closed_and_rejected_services_as_such(director: Any, org: Organisation) -> None:
    running = ServiceFactory(organisation=org, code="RUN", stage=Stage.RUNNING)
    closed = ServiceFactory(organisation=org, code="OLD", stage=Stage.CLOSED)
    rejected = ServiceFactory(organisation=org, code="NO", stage=Stage.REJECTED)
    pilot = ServiceFactory(organisation=org, code="NEW", stage=Stage.PILOT)
    link(closed, running)
    link(running, rejected)
    link(running, pilot)

    svg = drawing(director.client.get(url(org)).content.decode())

    drawn = nodes(svg)

    def stage_text(code: str) -> list[str]:
        return [t.text or "" for t in drawn[code].iter("text") if "graph-stage" in classes(t)]

    assert "graph-ended" in classes(drawn["OLD"]) and stage_text("OLD") == ["Closed"]
    assert "graph-ended" in classes(drawn["NO"]) and stage_text("NO") == ["Rejected"]
    assert "graph-planned" in classes(drawn["NEW"]) and stage_text("NEW") == ["Pilot"]
    assert "graph-live" in classes(drawn["RUN"]) and stage_text("RUN") == []
    edges = {
        p.findtext("title") or "": classes(p)
        for p in svg.iter("path")
        if "graph-edge" in classes(p)
    }

    def look(source: Service, target: Service) -> set[str]:
        return next(
            css
            for title, css in edges.items()
            if title.startswith(f"{source.name} ({source.code})")
            and title.endswith(f"{target.name} ({target.code})")
        )

    assert "graph-ended" in look(closed, running) and "graph-ended" in look(running, rejected)
    assert "graph-ended" not in look(running, pilot)


def test_the_dependencies_tab_marks_closed_services(director: Any, org: Organisation) -> None:
    running = ServiceFactory(organisation=org, code="RUN", stage=Stage.RUNNING)
    closed = ServiceFactory(organisation=org, code="OLD", stage=Stage.CLOSED)
    link(closed, running)
    page = reverse("service_detail", args=[org.slug, running.pk]) + "?tab=dependencies"

    html = director.client.get(page).content.decode()

    upstream = html.split("Upstream")[1].split("Downstream")[0]
    assert (
        closed.name in upstream and '<span class="badge bg-secondary-lt">Closed</span>' in upstream
    )


def test_it_lists_the_links_as_text(director: Any, org: Organisation) -> None:
    made = catalogue(org, 5)
    html = director.client.get(url(org)).content.decode()

    svg = drawing(html)
    assert svg.attrib["aria-describedby"] == "graph-desc"
    listed = html.split('id="graph-list"')[1].split("</details>")[0]
    items = re.findall(r"<li>(.*?)</li>", listed, re.S)
    assert len(items) == len([p for p in svg.iter("path") if "graph-edge" in classes(p)])
    first, second = made["C00"], made["C01"]
    assert any(
        first.name in item and second.name in item and f"Output of {first.code}" in item
        for item in items
    )
    unlinked = made["C04"]
    assert unlinked.code not in nodes(svg)
    assert f">{unlinked.name}</a>" in html.split("Not linked to any other service")[1]


def test_it_opens_at_full_size(director: Any, org: Organisation) -> None:
    catalogue(org, 4)
    fitted = director.client.get(url(org)).content.decode()
    full = director.client.get(url(org, size="full")).content.decode()

    assert 'href="?size=full">Full size</a>' in fitted
    assert 'class="card-body graph-scroll"' in full and "Fit to the page" in full
    assert drawing(full).attrib["width"] == drawing(fitted).attrib["width"]


def test_the_page_runs_the_same_queries_at_two_sizes(director: Any, org: Organisation) -> None:
    category = CategoryFactory(organisation=org)

    def add(n: int) -> None:
        chain = ServiceFactory.create_batch(n, organisation=org, category=category)
        for before, after in itertools.pairwise(chain):
            link(before, after)
        move_stage(chain[0], Stage.CLOSED)

    add(3)
    assert_constant_queries(lambda: director.client.get(url(org)), lambda: add(30))


# ---------------------------------------------------------------- in a browser


@pytest.fixture
def wide(transactional_db: None) -> tuple[Organisation, str]:
    """A catalogue wider than any screen when drawn at full size: one service feeding
    fourteen, one with a long name, and a closed one; made before the browser starts."""
    from carte.organisations.choices import OrgRole
    from carte.organisations.tests.factories import MembershipFactory, OrganisationFactory

    org = OrganisationFactory(slug="wide")
    membership = MembershipFactory(
        organisation=org, user__email="director@wide.example", roles=[OrgRole.DIRECTOR]
    )
    category: Category = CategoryFactory(organisation=org)
    hub = ServiceFactory(organisation=org, category=category, code="HUB", name=LONG_NAME)
    for i in range(14):
        stage = Stage.CLOSED if i == 3 else Stage.RUNNING
        link(hub, ServiceFactory(organisation=org, category=category, stage=stage))
    return org, membership.user.email


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_drawing_fits_its_box_and_zooms(
    wide: tuple[Organisation, str], page: Any, live_server: Any, width: int
) -> None:
    from carte.conftest import log_in, screenshot, watch

    org, email = wide
    problems = watch(page)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, email)
    page.goto(url(org))

    box = page.locator(".graph-fit").bounding_box()
    rects = page.locator("#dependency-graph g.graph-node rect")
    assert rects.count() == 15
    for i in range(rects.count()):
        r = rects.nth(i).bounding_box()
        assert box["x"] <= r["x"] and r["x"] + r["width"] <= box["x"] + box["width"] + 0.5
    # Each wrapped line of a name stays inside its service's box in the real font.
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('#dependency-graph g.graph-node')].flatMap(g => {
            const w = g.querySelector('rect').width.baseVal.value;
            return [...g.querySelectorAll('text')]
              .filter(t => t.getBBox().x + t.getBBox().width > w)
              .map(t => t.textContent);
        })"""
    )
    assert overflowing == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"dependency-graph-{width}.png")

    before = page.locator("#dependency-graph").bounding_box()["width"]
    page.get_by_role("button", name="Zoom in").click()
    assert page.locator("#dependency-graph").bounding_box()["width"] > before
    page.get_by_role("link", name="Full size").click()
    assert page.locator(".graph-scroll #dependency-graph").bounding_box()["width"] > before
    assert problems == []
