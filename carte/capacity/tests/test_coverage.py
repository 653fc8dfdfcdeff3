"""The coverage engine: hand-made cases with known answers, and random small cases
checked against brute force (every whole assignment in hundredths) and against a plain
augmenting-path max-flow."""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Mapping, Sequence

import pytest

from carte.capacity.coverage import Month, Staff, cover, cover_month

Person = tuple[int, float, Mapping[int, int]]


def by_competence(
    result: object,
) -> dict[int, tuple[float, float, float, float]]:
    return {
        c: (cc.demand, cc.supply, cc.covered, cc.shortfall)
        for c, cc in result.competences.items()  # type: ignore[attr-defined]
    }


def test_it_counts_a_person_once_across_competences() -> None:
    # Ann (1 FTE) holds both competences; each needs 1 FTE: only 1 can be covered.
    result = cover_month({(1, 2): 1, (2, 2): 1}, [(7, 1, {1: 3, 2: 3})])
    assert result.demand == 2
    assert result.covered == 1
    assert result.shortfall == 1
    assert sum(c.supply for c in result.competences.values()) == 1
    assert result.assignments is not None
    assert sum(f for _, _, f in result.assignments) == 1


def test_it_routes_people_to_where_only_they_can_help() -> None:
    # Bo only knows competence 1; Ann knows both: Ann must go to 2, Bo to 1.
    result = cover_month({(1, 2): 1, (2, 2): 1}, [(1, 1, {1: 3, 2: 3}), (2, 1, {1: 3})])
    assert result.covered == 2
    assert sorted(result.assignments or []) == [(1, 2, 1.0), (2, 1, 1.0)]
    assert by_competence(result) == {1: (1, 1, 1, 0), 2: (1, 1, 1, 0)}


def test_it_requires_the_level_needed() -> None:
    result = cover_month({(1, 4): 0.5}, [(1, 1, {1: 3})])
    assert by_competence(result)[1] == (0.5, 0, 0, 0.5)
    result = cover_month({(1, 3): 0.5}, [(1, 1, {1: 3})])
    assert by_competence(result)[1] == (0.5, 1, 0.5, 0)


def test_a_higher_level_covers_a_lower_need() -> None:
    # An expert (4) covers the level-2 need; the working-level person cannot do the 4.
    result = cover_month({(1, 2): 0.5, (1, 4): 0.5}, [(1, 0.5, {1: 4}), (2, 0.5, {1: 2})])
    assert result.covered == 1
    assert sorted(result.assignments or []) == [(1, 1, 0.5), (2, 1, 0.5)]


def test_leftover_time_is_shared_between_what_one_can_cover() -> None:
    # Nothing needed of either: Ann's 0.8 shows as 0.4 of supply in each.
    result = cover_month({}, [(1, 0.8, {1: 1, 2: 5})])
    assert by_competence(result) == {1: (0, 0.4, 0, 0), 2: (0, 0.4, 0, 0)}
    assert result.spare == {1: 0.8}


def test_no_people_or_no_needs() -> None:
    assert cover_month({(3, 1): 2}, []).shortfall == 2
    assert cover_month({}, []).competences == {}


def test_months_are_answered_each_with_its_own_time() -> None:
    staff = [Staff(1, {1: 3}), Staff(2, {1: 3, 2: 2})]
    months = [
        Month("Jan", {(1, 3): 1, (2, 2): 1}, [1, 1]),
        Month("Feb", {(1, 3): 1, (2, 2): 1}, [0, 1]),  # person 1 on leave
        Month("Mar", {(1, 3): 1}, [0.5, 0.25]),
    ]
    jan, feb, mar = cover(months, staff)
    assert (jan.key, jan.covered, jan.shortfall) == ("Jan", 2, 0)
    assert (feb.covered, feb.shortfall) == (1, 1)
    assert (mar.covered, mar.shortfall) == (0.75, 0.25)


def test_people_with_the_same_reach_merge_and_split_back() -> None:
    # Three people alike (they reach the same needs, at different levels above them).
    people: list[Person] = [(i, 0.4, {1: 3 + i % 2}) for i in range(3)]
    result = cover_month({(1, 2): 1}, people)
    assert result.covered == 1
    given = {p: f for p, _, f in result.assignments or []}
    assert sum(given.values()) == 1
    assert all(f <= 0.4 for f in given.values())
    assert result.spare is not None and sum(result.spare.values()) == pytest.approx(0.2)


# --- against brute force -------------------------------------------------------------


def brute_force(
    needs: Mapping[tuple[int, int], int], people: Sequence[tuple[int, int, dict[int, int]]]
) -> int:
    """The most hundredths coverable, trying every whole assignment."""
    nodes = list(needs)
    edges = [
        (p, n)
        for p, (_, _, levels) in enumerate(people)
        for n, (c, level) in enumerate(nodes)
        if levels.get(c, 0) >= level
    ]
    best = 0
    ranges = [range(min(people[p][1], needs[nodes[n]]) + 1) for p, n in edges]
    for flows in itertools.product(*ranges):
        used = [0] * len(people)
        got = [0] * len(nodes)
        for (p, n), f in zip(edges, flows, strict=True):
            used[p] += f
            got[n] += f
        if all(used[p] <= people[p][1] for p in range(len(people))) and all(
            got[n] <= needs[nodes[n]] for n in range(len(nodes))
        ):
            best = max(best, sum(flows))
    return best


def augmenting_max_flow(
    needs: Mapping[tuple[int, int], int], people: Sequence[tuple[int, int, dict[int, int]]]
) -> int:
    """Edmonds-Karp on source -> people -> needs -> sink (an oracle for the tests only)."""
    nodes = list(needs)
    n = 2 + len(people) + len(nodes)
    source, sink = 0, n - 1
    cap = [[0] * n for _ in range(n)]
    for p, (_, free, levels) in enumerate(people):
        cap[source][1 + p] = free
        for j, (c, level) in enumerate(nodes):
            if levels.get(c, 0) >= level:
                cap[1 + p][1 + len(people) + j] = 10**9
    for j, key in enumerate(nodes):
        cap[1 + len(people) + j][sink] = needs[key]
    total = 0
    while True:
        parent = [-1] * n
        parent[source] = source
        queue = deque([source])
        while queue and parent[sink] < 0:
            u = queue.popleft()
            for v in range(n):
                if parent[v] < 0 and cap[u][v] > 0:
                    parent[v] = u
                    queue.append(v)
        if parent[sink] < 0:
            return total
        push, v = 10**9, sink
        while v != source:
            push = min(push, cap[parent[v]][v])
            v = parent[v]
        v = sink
        while v != source:
            cap[parent[v]][v] -= push
            cap[v][parent[v]] += push
            v = parent[v]
        total += push


def random_case(
    rng: random.Random, people: int, competences: int, most: int
) -> tuple[dict[tuple[int, int], int], list[tuple[int, int, dict[int, int]]]]:
    needs: dict[tuple[int, int], int] = {}
    for _ in range(rng.randint(1, 3)):
        key = (rng.randint(1, competences), rng.randint(1, 5))
        needs[key] = needs.get(key, 0) + rng.randint(1, most)
    staff = []
    for p in range(people):
        held = rng.sample(range(1, competences + 1), rng.randint(0, competences))
        staff.append((p + 1, rng.randint(0, most), {c: rng.randint(1, 5) for c in held}))
    return needs, staff


def check(
    needs: dict[tuple[int, int], int], staff: list[tuple[int, int, dict[int, int]]], best: int
) -> None:
    """The engine's answer (in FTE, from hundredths) is the maximum and is a real
    assignment: within each person's time, each need, and each person's levels."""
    result = cover_month(
        {k: v / 100 for k, v in needs.items()}, [(p, f / 100, lv) for p, f, lv in staff]
    )
    assert round(result.covered * 100) == best
    assert result.assignments is not None and result.spare is not None
    free = {p: f for p, f, _ in staff}
    levels = {p: lv for p, _, lv in staff}
    used: dict[int, int] = {}
    per_competence: dict[int, int] = {}
    for p, c, f in result.assignments:
        used[p] = used.get(p, 0) + round(f * 100)
        per_competence[c] = per_competence.get(c, 0) + round(f * 100)
        assert levels[p].get(c, 0) >= min(level for cc, level in needs if cc == c)
    assert all(used[p] <= free[p] for p in used)
    for p, left in result.spare.items():
        assert round(left * 100) == free[p] - used.get(p, 0)
    for c, cc in result.competences.items():
        assert round(cc.covered * 100) == per_competence.get(c, 0)
        assert cc.covered <= cc.demand + 1e-9
        assert cc.supply >= cc.covered - 1e-9
    # Each person counted once: the supplies add up to no more than the people's time.
    total_supply = sum(cc.supply for cc in result.competences.values())
    assert total_supply <= sum(free.values()) / 100 + 0.01 * len(result.competences)


def test_it_matches_brute_force_on_small_random_cases() -> None:
    rng = random.Random(20261208)
    for _ in range(150):
        needs, staff = random_case(rng, people=rng.randint(1, 3), competences=2, most=2)
        check(needs, staff, brute_force(needs, staff))


def test_it_matches_an_augmenting_path_max_flow_on_larger_random_cases() -> None:
    rng = random.Random(14)
    for _ in range(60):
        needs, staff = random_case(rng, people=rng.randint(3, 12), competences=4, most=150)
        check(needs, staff, augmenting_max_flow(needs, staff))


def test_several_months_agree_with_each_month_alone() -> None:
    rng = random.Random(7)
    staff_rows = [
        (p, {c: rng.randint(1, 5) for c in rng.sample(range(1, 5), rng.randint(1, 3))})
        for p in range(1, 15)
    ]
    staff = [Staff(p, lv) for p, lv in staff_rows]
    months = []
    for m in range(6):
        needs = {
            (rng.randint(1, 4), rng.randint(1, 5)): rng.randint(10, 120) / 100 for _ in range(4)
        }
        months.append(Month(m, needs, [rng.randint(0, 100) / 100 for _ in staff]))
    together = cover(months, staff)
    for month, answer in zip(months, together, strict=True):
        alone = cover_month(
            month.needs, [(s.id, f, s.levels) for s, f in zip(staff, month.free, strict=True)]
        )
        assert answer.covered == alone.covered
        assert answer.demand == alone.demand
