"""Issue 13, what only a browser shows on the lifecycle pages: the board is one row of
stages at desktop width and scrolls sideways inside its own box on a phone, never the
page; the set-up decision asks a Service Manager only beside a PMO once it is ticked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from carte.catalogue.models import Service
from carte.catalogue.tests.factories import ServiceFactory
from carte.conftest import log_in, screenshot, watch
from carte.lifecycle.selectors import BOARD_STAGES
from carte.lifecycle.tests.conftest import World

pytestmark = pytest.mark.browser


@pytest.fixture
def busy_board(transactional_db: None, world: World) -> World:
    """Two services in every stage of the board, one of them long in its stage; made before
    the browser starts."""
    long_ago = timezone.now() - dt.timedelta(days=200)
    for i, stage in enumerate(BOARD_STAGES):
        for n in range(2):
            service = ServiceFactory(
                organisation=world.org,
                code=f"S{i:02d}-{n}",
                name=f"Service of the {stage.replace('_', ' ')} stage number {n}",
            )
            Service.objects.filter(pk=service.pk)._move_stage(stage, long_ago)
    return world


def board_layout(page: Any) -> dict[str, Any]:
    return dict(
        page.evaluate(
            """() => {
              const box = document.querySelector('.lifecycle-board-scroll');
              const tops = [...document.querySelectorAll('.board-column')]
                .map(c => Math.round(c.getBoundingClientRect().top));
              return {rows: new Set(tops).size, columns: tops.length,
                      boxScroll: box.scrollWidth, boxWidth: box.clientWidth,
                      pageScroll: document.documentElement.scrollWidth,
                      viewport: window.innerWidth};
            }"""
        )
    )


def test_the_board_is_one_row_that_scrolls_inside_its_box_on_a_phone(
    busy_board: World, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    problems = watch(page)
    log_in(page, busy_board.director.user.email)
    for width in (1280, 1440):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/o/acme/lifecycle/")
        expect(page.get_by_test_id("stuck").first).to_contain_text("In this stage for 200 days")
        layout = board_layout(page)
        assert layout["columns"] == len(BOARD_STAGES)
        assert layout["rows"] == 1, layout
        assert layout["boxScroll"] <= layout["boxWidth"], layout  # all in view at desktop
    screenshot(page, "lifecycle-board-desktop.png")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/o/acme/lifecycle/")
    layout = board_layout(page)
    assert layout["rows"] == 1, layout
    assert layout["pageScroll"] <= layout["viewport"], layout  # the page does not scroll
    assert layout["boxScroll"] > layout["boxWidth"], layout  # the board does, in its box
    screenshot(page, "lifecycle-board-phone.png")
    assert problems == []


def test_the_decision_asks_a_manager_only_beside_a_ticked_pmo(
    transactional_db: None, world: World, page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    problems = watch(page)
    log_in(page, world.director.user.email)
    page.goto(f"/o/acme/catalogue/services/{world.service.pk}/lifecycle/moves/approve/")
    form = page.get_by_test_id("move-form")
    group = form.get_by_label("Service Manager for Group PMO")
    coe = form.get_by_label("Service Manager for Centre of Excellence")
    expect(group).to_be_hidden()
    expect(coe).to_be_hidden()
    form.get_by_label("Group PMO", exact=True).check()
    expect(group).to_be_visible()
    expect(coe).to_be_hidden()
    form.get_by_label("Group PMO", exact=True).uncheck()
    expect(group).to_be_hidden()
    assert problems == []
