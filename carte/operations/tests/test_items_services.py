"""Risks and issues through their services: raising, the three levels up and down with
notes and notices to the right people, refusals that write nothing, the Owner's decision
(and only theirs, only at the top), a risk becoming an issue with its history, actions,
closing, and the selectors' lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carte.catalogue.choices import Stage
from carte.core.clock import as_of, today
from carte.core.errors import DomainError
from carte.core.models import AuditEntry
from carte.core.testing import no_writes
from carte.lifecycle.models import Closure
from carte.operations.choices import Decision, ItemKind, ItemStatus, NoticeKind
from carte.operations.filters import EscalationFilter
from carte.operations.models import ItemAction, ItemEvent, Notice, RiskIssue
from carte.operations.selectors import items as selectors
from carte.operations.services import items as services
from carte.operations.tests.conftest import Ops

pytestmark = pytest.mark.django_db


def raise_risk(ops: Ops, **data: Any) -> RiskIssue:
    values = {
        "title": "Finance data feed late for month-end pack",
        "description": "The ERP extract arrives after the pack is frozen.",
        "cause": "Finance close moved to working day 5.",
        "effect": "The portfolio status pack shows last month's actuals.",
        "probability": 4,
        "impact": 3,
        "owner": ops.operative_person,
        **data,
    }
    return services.item_create(actor=ops.operative.actor, service=ops.service, data=values)


def at_level(ops: Ops, item: RiskIssue, level: int) -> RiskIssue:
    if level >= 2:
        services.item_escalate(actor=ops.operative.actor, item=item, note="Needs the manager.")
    if level >= 3:
        services.item_escalate(actor=ops.manager.actor, item=item, note="Needs the Owner.")
    return item


def notices_of(persona: Any) -> list[Notice]:
    return list(Notice.objects.filter(recipient=persona.user))


def test_it_raises_a_risk_at_service_operations_with_its_score_and_story(ops: Ops) -> None:
    item = raise_risk(ops)
    assert (item.kind, item.level, item.status, item.score) == ("risk", 1, "open", 12)
    event = ItemEvent.objects.get(item=item)
    assert (event.kind, event.to_level, event.actor) == ("raised", 1, ops.operative.user)
    assert AuditEntry.objects.filter(object_id=item.pk, action="create").exists()
    assert Notice.objects.count() == 0  # raised at level 1: nobody is escalated to


def test_it_refuses_bad_input_naming_the_field_and_writes_nothing(ops: Ops) -> None:
    with no_writes():
        for data, field in (
            ({"title": ""}, "title"),
            ({"probability": 6}, "probability"),
            ({"impact": 0}, "impact"),
            ({"kind": "opportunity"}, "kind"),
            ({"level": 4}, "level"),
        ):
            with pytest.raises(DomainError) as caught:
                raise_risk(ops, **data)
            assert field in caught.value.errors, (data, caught.value.errors)


def test_it_refuses_an_owner_from_another_organisation(ops: Ops, other_org: Any) -> None:
    from carte.organisations.tests.factories import PersonFactory

    stranger = PersonFactory(organisation=other_org)
    with no_writes(), pytest.raises(DomainError) as caught:
        raise_risk(ops, owner=stranger)
    assert caught.value.errors == {"owner": ["No such record in this organisation."]}


def test_only_delivery_management_raises_above_level_one(ops: Ops) -> None:
    with no_writes(), pytest.raises(DomainError) as caught:
        raise_risk(ops, level=2)
    assert "level" in caught.value.errors
    item = services.item_create(
        actor=ops.manager.actor,
        service=ops.service,
        data={"title": "Key analyst leaving in Q3", "probability": 3, "impact": 4, "level": 3},
    )
    assert item.level == 3
    assert [n.kind for n in notices_of(ops.owner)] == [NoticeKind.ESCALATED]


def test_it_escalates_through_the_three_levels_and_tells_each_level(ops: Ops) -> None:
    item = raise_risk(ops)
    first = services.item_escalate(
        actor=ops.operative.actor, item=item, note="Month-end is in three days."
    )
    assert (item.level, first.from_level, first.to_level) == (2, 1, 2)
    assert first.note == "Month-end is in three days."
    manager_notice = Notice.objects.get(recipient=ops.manager.user)
    assert manager_notice.kind == NoticeKind.ESCALATED
    assert manager_notice.body == "Month-end is in three days."
    assert manager_notice.key == f"escalated:item:{item.pk}:event:{first.pk}"
    assert manager_notice.url.endswith(f"/operations/risks/{item.pk}/")
    assert notices_of(ops.owner) == [] and notices_of(ops.operative) == []

    second = services.item_escalate(
        actor=ops.manager.actor, item=item, note="Finance will not move the close."
    )
    assert (item.level, second.to_level) == (3, 3)
    assert [n.body for n in notices_of(ops.owner)] == ["Finance will not move the close."]

    down = services.item_deescalate(
        actor=ops.owner.actor, item=item, note="Agree a workaround with Finance."
    )
    assert (item.level, down.from_level, down.to_level) == (2, 3, 2)
    assert len(notices_of(ops.manager)) == 2
    services.item_deescalate(actor=ops.manager.actor, item=item, note="Operatives: use flash.")
    assert item.level == 1
    assert [n.body for n in notices_of(ops.operative)] == ["Operatives: use flash."]
    item.refresh_from_db()
    assert item.level == 1
    kinds = list(ItemEvent.objects.filter(item=item).order_by("id").values_list("kind", flat=True))
    assert kinds == ["raised", "escalated", "escalated", "deescalated", "deescalated"]


def test_it_refuses_escalation_past_the_top_and_writes_nothing(ops: Ops) -> None:
    item = at_level(ops, raise_risk(ops), 3)
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_escalate(actor=ops.owner.actor, item=item, note="Higher still.")
    assert caught.value.code == "conflict"
    assert "already at service ownership, the top level" in caught.value.message


def test_it_refuses_to_go_below_level_one(ops: Ops) -> None:
    item = raise_risk(ops)
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_deescalate(actor=ops.manager.actor, item=item, note="Lower.")
    assert caught.value.code == "conflict"


def test_every_move_needs_a_note(ops: Ops) -> None:
    item = raise_risk(ops)
    with no_writes(item):
        for call in (services.item_escalate, services.item_make_issue, services.item_close):
            with pytest.raises(DomainError) as caught:
                call(actor=ops.operative.actor, item=item, note="  ")
            assert "note" in caught.value.errors


def test_who_may_move_an_item_between_levels(ops: Ops) -> None:
    item = raise_risk(ops)
    # Staff without a role on the service, viewers and customers may not escalate.
    for persona in (ops.staff, ops.viewer, ops.customer):
        with no_writes(item), pytest.raises(DomainError) as caught:
            services.item_escalate(actor=persona.actor, item=item, note="Up.")
        assert caught.value.code == "forbidden"
    services.item_escalate(actor=ops.operative.actor, item=item, note="Up.")
    # An Operative may not take it to the Owner, nor hand it down from delivery management.
    for call in (services.item_escalate, services.item_deescalate):
        with no_writes(item), pytest.raises(DomainError) as caught:
            call(actor=ops.operative.actor, item=item, note="Again.")
        assert caught.value.code == "forbidden"
    # The Director and a PMO Manager are delivery management.
    services.item_escalate(actor=ops.pmo_manager.actor, item=item, note="To the Owner.")
    # At service ownership only the Owner hands it down; the Director and Manager may not.
    for persona in (ops.director, ops.manager):
        with no_writes(item), pytest.raises(DomainError) as caught:
            services.item_deescalate(actor=persona.actor, item=item, note="Down.")
        assert caught.value.code == "forbidden"
    services.item_deescalate(actor=ops.owner.actor, item=item, note="Down.")
    assert item.level == 2


def test_a_decision_by_anyone_but_the_owner_is_refused(ops: Ops) -> None:
    item = at_level(ops, raise_risk(ops), 3)
    for persona in (ops.director, ops.manager, ops.pmo_manager, ops.operative):
        with no_writes(item), pytest.raises(DomainError) as caught:
            services.item_decide(actor=persona.actor, item=item, decision="accept", note="OK.")
        assert caught.value.code == "forbidden"
        assert "Only the Service Owner" in caught.value.message


def test_a_decision_below_service_ownership_is_refused(ops: Ops) -> None:
    item = at_level(ops, raise_risk(ops), 2)
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_decide(actor=ops.owner.actor, item=item, decision="accept", note="OK.")
    assert caught.value.code == "conflict"
    assert "delivery management" in caught.value.message


def test_the_owner_accepts_or_agrees_the_mitigation(ops: Ops) -> None:
    item = at_level(ops, raise_risk(ops), 3)
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_decide(actor=ops.owner.actor, item=item, decision="mitigate", note="Go.")
    assert "decision" in caught.value.errors  # no open action to agree
    services.action_create(
        actor=ops.manager.actor,
        item=item,
        data={
            "description": "Agree a flash-actuals cut with Finance",
            "owner": ops.manager_person,
            "due_date": today() + dt.timedelta(days=7),
        },
    )
    event = services.item_decide(
        actor=ops.owner.actor, item=item, decision="mitigate", note="Agreed: flash actuals."
    )
    item.refresh_from_db()
    assert (item.decision, item.decision_note, item.decided_by) == (
        Decision.MITIGATE,
        "Agreed: flash actuals.",
        ops.owner.user,
    )
    assert item.status == ItemStatus.OPEN and item.decided_at is not None
    assert event.kind == "decided"
    services.item_decide(actor=ops.owner.actor, item=item, decision="accept", note="Live with it.")
    item.refresh_from_db()
    assert item.decision == Decision.ACCEPT


def test_the_owner_closing_the_service_starts_its_closure(ops: Ops) -> None:
    item = at_level(ops, raise_risk(ops, kind="issue"), 3)
    with no_writes(item, ops.service), pytest.raises(DomainError) as caught:
        services.item_decide(
            actor=ops.owner.actor, item=item, decision="close_service", note="Not viable."
        )
    assert "reason" in caught.value.errors
    services.item_decide(
        actor=ops.owner.actor,
        item=item,
        decision="close_service",
        note="The finance feed cannot be fixed; reporting moves to the ERP.",
        reason="not_best_provider",
    )
    ops.service.refresh_from_db()
    assert ops.service.stage == Stage.CLOSING
    closure = Closure.objects.get(service=ops.service)
    assert closure.reason == "not_best_provider"
    assert closure.explanation.startswith("The finance feed")
    item.refresh_from_db()
    assert (item.decision, item.status) == (Decision.CLOSE_SERVICE, ItemStatus.OPEN)


def test_the_owner_changing_the_service_opens_a_linked_change_request(ops: Ops) -> None:
    changes = pytest.importorskip("carte.operations.services.changes")
    if not hasattr(changes, "change_request_create"):
        pytest.skip("change requests are not written yet")
    from carte.operations.models import ChangeRequest

    item = at_level(ops, raise_risk(ops), 3)
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_decide(actor=ops.owner.actor, item=item, decision="change", note="Change.")
    assert "affects" in caught.value.errors
    services.item_decide(
        actor=ops.owner.actor,
        item=item,
        decision="change",
        note="Move the pack to working day 7.",
        title="Publish the monthly pack on working day 7",
        affects=["catalogue", "handbook"],
    )
    change = ChangeRequest.objects.get(item=item)
    assert change.title == "Publish the monthly pack on working day 7"
    assert change.service_id == ops.service.pk
    assert change.raised_by == ops.owner_person
    item.refresh_from_db()
    assert item.decision == Decision.CHANGE


def test_a_risk_becomes_an_issue_keeping_its_story_and_actions(ops: Ops) -> None:
    item = at_level(ops, raise_risk(ops), 2)
    mitigation = services.action_create(
        actor=ops.operative.actor,
        item=item,
        data={
            "description": "Ask Finance for a flash extract",
            "owner": ops.operative_person,
            "due_date": today(),
        },
    )
    assert mitigation.purpose == "mitigation"
    services.item_make_issue(
        actor=ops.operative.actor, item=item, note="The April pack went out without actuals."
    )
    item.refresh_from_db()
    assert item.kind == ItemKind.ISSUE and item.became_issue_at is not None
    assert item.level == 2
    assert list(item.actions.all()) == [mitigation]
    kinds = list(item.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["raised", "escalated", "became_issue"]
    resolution = services.action_create(
        actor=ops.operative.actor,
        item=item,
        data={
            "description": "Re-issue the April pack",
            "owner": ops.operative_person,
            "due_date": today(),
        },
    )
    assert resolution.purpose == "resolution"
    with no_writes(item), pytest.raises(DomainError):
        services.item_make_issue(actor=ops.operative.actor, item=item, note="Again.")


def test_actions_are_ticked_done_and_reopened(ops: Ops) -> None:
    item = raise_risk(ops)
    action = services.action_create(
        actor=ops.operative.actor,
        item=item,
        data={
            "description": "Book the gate reviewers now",
            "owner": ops.operative_person,
            "due_date": today(),
        },
    )
    with as_of(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)):
        services.action_done(actor=ops.operative.actor, action=action, done=True)
    assert action.done_at == dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    services.action_done(actor=ops.operative.actor, action=action, done=False)
    assert ItemAction.objects.get(pk=action.pk).done_at is None
    with no_writes(), pytest.raises(DomainError) as caught:
        services.action_create(
            actor=ops.operative.actor, item=item, data={"description": "", "owner": None}
        )
    assert "description" in caught.value.errors
    with no_writes(action), pytest.raises(DomainError) as caught:
        services.action_done(actor=ops.staff.actor, action=action, done=True)
    assert caught.value.code == "forbidden"


def test_closing_and_reopening_need_the_people_of_the_level(ops: Ops) -> None:
    item = at_level(ops, raise_risk(ops), 3)
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_close(actor=ops.manager.actor, item=item, note="Done.")
    assert caught.value.code == "forbidden"
    services.item_close(actor=ops.owner.actor, item=item, note="Finance moved the close back.")
    item.refresh_from_db()
    assert item.status == ItemStatus.CLOSED and item.closed_at is not None
    with no_writes(item), pytest.raises(DomainError):
        services.item_escalate(actor=ops.owner.actor, item=item, note="Up.")
    services.item_reopen(actor=ops.owner.actor, item=item, note="It slipped again.")
    assert item.status == ItemStatus.OPEN and item.closed_at is None


def test_only_editors_of_the_service_archive_an_item(ops: Ops) -> None:
    item = raise_risk(ops)
    with no_writes(item), pytest.raises(DomainError):
        services.item_archive(actor=ops.operative.actor, item=item)
    services.item_archive(actor=ops.manager.actor, item=item)
    assert item.archived_at is not None
    services.item_restore(actor=ops.manager.actor, item=item)
    assert item.archived_at is None


def test_updating_recomputes_the_score_and_keeps_kind_and_level(ops: Ops) -> None:
    item = raise_risk(ops)
    services.item_update(actor=ops.operative.actor, item=item, data={"impact": 5})
    item.refresh_from_db()
    assert item.score == 20
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_update(actor=ops.operative.actor, item=item, data={"level": 3})
    assert "level" in caught.value.errors


# ---------------------------------------------------------------- selectors


def test_the_escalations_list_and_mine(ops: Ops) -> None:
    raise_risk(ops, title="Gate reviewers double-booked")  # at level 1: not escalated
    middle = at_level(ops, raise_risk(ops, title="Key analyst leaving in Q3"), 2)
    top = at_level(ops, raise_risk(ops, title="Finance feed late"), 3)
    services.action_create(
        actor=ops.manager.actor,
        item=top,
        data={
            "description": "Escalate to the CFO",
            "owner": ops.manager_person,
            "due_date": today() - dt.timedelta(days=3),
        },
    )
    rows: list[Any] = list(
        selectors.escalations(ops.director.actor, EscalationFilter.model_validate({}))
    )
    assert rows == [top, middle]
    assert (rows[0].overdue_actions, rows[0].open_actions) == (1, 1)
    assert rows[0].level_since >= rows[1].created_at
    mine = EscalationFilter.model_validate({"mine": True})
    assert list(selectors.escalations(ops.manager.actor, mine)) == [middle]
    assert list(selectors.escalations(ops.owner.actor, mine)) == [top]
    assert list(selectors.escalations(ops.director.actor, mine)) == []
    with pytest.raises(DomainError):
        selectors.escalations(ops.customer.actor, EscalationFilter.model_validate({}))


def test_the_section_counts_and_lists_open_items_by_level(ops: Ops) -> None:
    for n in range(7):
        raise_risk(ops, title=f"Risk {n}", probability=1 + n % 5)
    at_level(ops, raise_risk(ops, title="Up one"), 2)
    closed = raise_risk(ops, title="Closed one")
    services.item_close(actor=ops.operative.actor, item=closed, note="Gone.")
    section = selectors.section(ops.manager.actor, ops.service)
    by_level = {row["level"]: row for row in section["levels"]}
    assert [row["level"] for row in section["levels"]] == [3, 2, 1]
    assert (by_level[1]["count"], by_level[2]["count"], by_level[3]["count"]) == (7, 1, 0)
    assert len(by_level[1]["items"]) == selectors.SECTION_TOP
    scores = [i.score for i in by_level[1]["items"]]
    assert scores == sorted(scores, reverse=True)
    assert section["total"] == 8 and section["can_add"] is True


def test_a_step_taken_on_a_stale_copy_is_refused(ops: Ops) -> None:
    item = raise_risk(ops)
    stale = RiskIssue.objects.get(pk=item.pk)
    services.item_escalate(actor=ops.operative.actor, item=item, note="First press.")
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_escalate(actor=ops.manager.actor, item=stale, note="Second press.")
    assert caught.value.code == "conflict" and "just been moved" in caught.value.message


def test_someone_no_longer_a_member_is_not_told(ops: Ops) -> None:
    from carte.organisations.models import Membership
    from carte.organisations.services import membership_archive

    membership_archive(actor=ops.system, membership=Membership.objects.get(user=ops.manager.user))
    item = raise_risk(ops)
    services.item_escalate(actor=ops.operative.actor, item=item, note="Needs the manager.")
    assert notices_of(ops.manager) == []


def test_an_archived_item_makes_no_move_until_restored(ops: Ops) -> None:
    item = raise_risk(ops)
    services.item_archive(actor=ops.manager.actor, item=item)
    with no_writes(item), pytest.raises(DomainError) as caught:
        services.item_escalate(actor=ops.operative.actor, item=item, note="Up.")
    assert caught.value.code == "conflict"
    assert caught.value.message == "This item is archived: restore it before you escalate it."
    services.item_restore(actor=ops.manager.actor, item=item)
    services.item_escalate(actor=ops.operative.actor, item=item, note="Up.")
    assert item.level == 2


def test_each_move_is_audited_with_every_field_it_changed(ops: Ops) -> None:
    item = raise_risk(ops)
    services.item_close(actor=ops.operative.actor, item=item, note="Finance fixed the feed.")
    entry = AuditEntry.objects.filter(object_id=item.pk, changes__has_key="closed_at").get()
    assert set(entry.changes) == {"status", "closed_at"}
    assert entry.changes["status"] == {"before": "open", "after": "closed"}
    event = ItemEvent.objects.get(item=item, kind="closed")
    assert (event.note, event.at.isoformat()) == (
        "Finance fixed the feed.",
        entry.changes["closed_at"]["after"],
    )


def test_the_escalation_table_leaves_each_level_to_its_people() -> None:
    """Every move out of a level needs the right of those who answer for that level."""
    from carte.operations.permissions import ANSWERS_AT

    for move in services.ITEM_MOVES:
        if move.name in ("escalate", "deescalate", "close", "reopen"):
            assert move.right.rule == ANSWERS_AT[move.source.level].rule, move
        assert move.note.startswith("Write a note: "), move
