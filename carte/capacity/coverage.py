"""Coverage: how much of the demand for competences people's free time can meet, month by
month, each person's time counted once across every competence (issue 14).

Pure computation over plain data (no ORM): the selectors read the rows and hand them over.

The question of a month is a max-flow. People send their free FTE to needs (a competence
at a level, with the FTE demanded); a person may cover a need when their level in its
competence is at or above the level needed. The most FTE that can be covered is the
maximum flow; it is solved as a linear program by HiGHS (`highspy`), a network LP whose
optimal vertex is whole in hundredths of FTE, the unit everything here is counted in.

Two exact reductions keep the LP small whatever the number of people:

- People with the same eligibility merge into one class whose capacity is the sum of
  theirs (exact for max-flow: the cut capacities are the same). Eligibility is written
  per competence as how many of its needed levels a person reaches, so two people with
  different levels that reach the same needs merge.
- The needs of one competence are nested (whoever covers level 4 covers level 2), so a
  class sends its time to the highest level it reaches and a chain of arcs carries it
  down to the lower levels: one column per class and competence, not one per level.

Every month has the same classes and arcs; only capacities and demands change. The model
is built once and solved month after month with new bounds, HiGHS starting each solve
from the previous month's optimal basis.

What a month reports per competence:
- demand: the FTE needed, all levels together;
- covered: what the assignment covers; shortfall = demand - covered;
- supply: covered, plus the free time left over of people able to cover it (at or above
  the lowest level needed that month, or at any level when it is not needed), a person's
  leftover shared evenly between the competences they are able to cover; so a person's
  FTE is counted once in total, and the supplies add up to no more than the people's time.
Where several optimal assignments exist, which competence is covered is the solver's
choice; the total covered is the maximum whatever the choice.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar

import highspy
import numpy as np
import numpy.typing as npt

_QUIET = threading.Lock()


def _new_highs() -> Any:
    """A HiGHS instance, made without its banner: its constructor prints one to the
    process's standard output (C++ `printf`, before any option can be set), which would
    land in the CLI's tables and the server's output. Standard output is pointed at
    /dev/null for the construction only."""
    with _QUIET:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                # highspy ships no types for its Highs class.
                return highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)


K = TypeVar("K", bound=Hashable)

Number = Decimal | float | int
NeedKey = tuple[int, int]  # (competence id, level needed)


def hundredths(fte: Number) -> int:
    """An FTE as whole hundredths (0.35 -> 35), the unit of every computation here."""
    return round(Decimal(str(fte)) * 100) if not isinstance(fte, int) else fte * 100


def fte(amount: float | int) -> float:
    """Hundredths back to an FTE, to the hundredth (35 -> 0.35)."""
    return round(float(amount) / 100, 2)


@dataclass(frozen=True)
class Staff:
    """A person as coverage sees them: an id and their level in each competence."""

    id: int
    levels: Mapping[int, int]


@dataclass(frozen=True)
class Month(Generic[K]):
    """One month's question: its key (a date, a label), the needs summed per
    (competence, level) in FTE, and each person's free FTE that month (aligned with the
    staff list given to `cover`; after their other work)."""

    key: K
    needs: Mapping[NeedKey, Number]
    free: Sequence[Number]


@dataclass
class CompetenceCover:
    """One competence in one month (FTE, to the hundredth)."""

    competence: int
    demand: float
    supply: float
    covered: float

    @property
    def shortfall(self) -> float:
        return round(max(self.demand - self.covered, 0.0), 2)


@dataclass
class MonthCover(Generic[K]):
    """The answer for one month. `assignments` (person id, competence id, FTE) and `spare`
    (person id: free FTE left) are filled when asked for (`detail=True`)."""

    key: K
    competences: dict[int, CompetenceCover]
    assignments: list[tuple[int, int, float]] | None = None
    spare: dict[int, float] | None = field(default=None)

    @property
    def demand(self) -> float:
        return round(sum(c.demand for c in self.competences.values()), 2)

    @property
    def covered(self) -> float:
        return round(sum(c.covered for c in self.competences.values()), 2)

    @property
    def shortfall(self) -> float:
        return round(sum(c.shortfall for c in self.competences.values()), 2)


def cover_month(
    needs: Mapping[NeedKey, Number],
    people: Sequence[tuple[int, Number, Mapping[int, int]]],
    *,
    detail: bool = True,
) -> MonthCover[None]:
    """One month on its own: needs per (competence, level) and people as (id, free FTE,
    {competence: level})."""
    staff = [Staff(pid, levels) for pid, _, levels in people]
    month = Month(None, needs, [free for _, free, _ in people])
    return cover([month], staff, detail=detail)[0]


class _Model:
    """The LP of a structure (the nodes, and the classes with what each reaches), kept
    hot between calls: solving a month sets its bounds and starts from the basis of the
    last month solved. Answers are remembered per month's bounds, so a month asked again
    with the same capacities and demands is not solved again."""

    def __init__(self, nodes: list[NeedKey], classes: list[tuple[tuple[int, int], ...]]) -> None:
        self.lock = threading.Lock()
        self.memo: dict[bytes, tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]] = {}
        levels: dict[int, list[int]] = {}
        for c, level in nodes:
            levels.setdefault(c, []).append(level)
        node_of = {key: i for i, key in enumerate(nodes)}
        n_classes, n_nodes = len(classes), len(nodes)
        # Columns. x: a class to the highest node it reaches of a competence.
        col_start = [0]
        index: list[int] = []
        value: list[float] = []
        x_class: list[int] = []
        x_comp: list[int] = []
        for g, sig in enumerate(classes):
            for c, t in sig:
                if t >= 1:
                    index += [g, n_classes + node_of[(c, levels[c][t - 1])]]
                    value += [1.0, 1.0]
                    col_start.append(len(index))
                    x_class.append(g)
                    x_comp.append(c)
        self.n_x = len(x_class)
        # y: down the chain of a competence, from a level needed to the one below it.
        for c, chain in levels.items():
            for j in range(1, len(chain)):
                index += [
                    n_classes + node_of[(c, chain[j])],
                    n_classes + node_of[(c, chain[j - 1])],
                ]
                value += [-1.0, 1.0]
                col_start.append(len(index))
        # z: what is covered at a node (bounded by the month's demand).
        self.z_start = len(col_start) - 1
        for i in range(n_nodes):
            index.append(n_classes + i)
            value.append(-1.0)
            col_start.append(len(index))
        n_cols = len(col_start) - 1
        self.x_class = np.array(x_class, dtype=np.int64)
        self.x_competence = np.array(x_comp, dtype=np.int64)
        self.n_classes, self.n_nodes = n_classes, n_nodes
        self.class_rows = np.arange(n_classes, dtype=np.int32)
        self.z_cols = np.arange(self.z_start, n_cols, dtype=np.int32)
        self.no_lower = np.full(n_classes, -highspy.kHighsInf)

        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = n_classes + n_nodes
        lp.sense_ = highspy.ObjSense.kMaximize
        cost = np.zeros(n_cols)
        cost[self.z_start :] = 1.0
        lp.col_cost_ = cost
        lp.col_lower_ = np.zeros(n_cols)
        upper = np.full(n_cols, inf)
        upper[self.z_start :] = 0.0
        lp.col_upper_ = upper
        lp.row_lower_ = np.concatenate([self.no_lower, np.zeros(n_nodes)])
        lp.row_upper_ = np.zeros(n_classes + n_nodes)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.array(col_start, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(value, dtype=np.float64)
        highs: Any = _new_highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("solver", "simplex")
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("presolve", "off")
        # From scratch the primal simplex is fast on this LP (the dual one slow: the LP
        # is very degenerate); from the last month's basis, the dual one is.
        highs.setOptionValue("simplex_strategy", 4)
        highs.passModel(lp)
        self.highs = highs

    def solve(
        self, capacity: npt.NDArray[np.int64], demand: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The flow of each x column and what each node covers (hundredths)."""
        key = capacity.tobytes() + b"|" + demand.tobytes()
        with self.lock:
            found = self.memo.get(key)
            if found is not None:
                return found[0].astype(np.float64), found[1].astype(np.float64)
            highs: Any = self.highs
            highs.changeRowsBounds(
                self.n_classes, self.class_rows, self.no_lower, capacity.astype(np.float64)
            )
            highs.changeColsBounds(
                self.n_nodes, self.z_cols, np.zeros(self.n_nodes), demand.astype(np.float64)
            )
            highs.run()
            status = highs.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                # Should the warm start fail, solve from scratch once more.
                highs.clearSolver()
                highs.setOptionValue("simplex_strategy", 4)
                highs.run()
                status = highs.getModelStatus()
                if status != highspy.HighsModelStatus.kOptimal:
                    raise RuntimeError(
                        f"Coverage LP not solved: {highs.modelStatusToString(status)}"
                    )
            highs.setOptionValue("simplex_strategy", 1)
            values = np.asarray(highs.getSolution().col_value)
            # The network LP's vertices are whole: round away the solver's last digits.
            x = np.rint(values[: self.n_x])
            z = np.rint(values[self.z_start :])
            if len(self.memo) >= MEMO_MONTHS:
                self.memo.clear()
            self.memo[key] = (x.astype(np.int32), z.astype(np.int32))
            return x, z


# Models kept hot (a few structures: organisations, filters), and answers per model.
MODELS = 8
MEMO_MONTHS = 96  # months of answers per model (a flow in hundredths per arc each)
_models: OrderedDict[tuple[object, ...], _Model] = OrderedDict()
_models_lock = threading.Lock()


def forget() -> None:
    """Drop the models kept hot and their answers (the benchmark's first request)."""
    with _models_lock:
        _models.clear()


def _model(nodes: list[NeedKey], classes: list[tuple[tuple[int, int], ...]]) -> _Model:
    key = (tuple(nodes), tuple(classes))
    with _models_lock:
        model = _models.get(key)
        if model is not None:
            _models.move_to_end(key)
            return model
    model = _Model(nodes, classes)
    with _models_lock:
        _models[key] = model
        while len(_models) > MODELS:
            _models.popitem(last=False)
    return model


class _Network:
    """One call's question: the competences and nodes, people grouped in classes, each
    class's free time per month, and the model that answers it."""

    def __init__(
        self, months: Sequence[Month[K]], staff: Sequence[Staff], nodes: Iterable[NeedKey] = ()
    ) -> None:
        # Needs in hundredths per month; the levels needed of each competence (any month).
        # (The same needs are often given for every month: converted once.)
        converted: dict[int, dict[NeedKey, int]] = {}
        self.needs = []
        for m in months:
            found = converted.get(id(m.needs))
            if found is None:
                found = converted[id(m.needs)] = {
                    key: h for key, v in m.needs.items() if (h := hundredths(v)) > 0
                }
            self.needs.append(found)
        needed: dict[int, set[int]] = {}
        for c, level in nodes:
            needed.setdefault(c, set()).add(level)
        for month_needs in self.needs:
            for c, level in month_needs:
                needed.setdefault(c, set()).add(level)
        held = {c for s in staff for c, level in s.levels.items() if level >= 1}
        self.competences = sorted(held | set(needed))
        self.cindex = {c: i for i, c in enumerate(self.competences)}
        self.levels = {c: sorted(needed.get(c, ())) for c in self.competences}
        # The LP's nodes: one per (competence, level needed).
        self.nodes: list[NeedKey] = [
            (c, level) for c in self.competences for level in self.levels[c]
        ]
        self.node_comp = np.array([self.cindex[c] for c, _ in self.nodes], dtype=np.int64)

        # Classes: people reaching the same needs (per competence: how many of its needed
        # levels they reach). A competence held below every level needed is left out; one
        # not needed at all is kept (reach 0), since holding it makes one able to cover it.
        reach = {
            c: [sum(1 for need in levels if need <= level) for level in range(6)]
            for c, levels in self.levels.items()
            if levels
        }
        # What a (competence, level) held gives the signature: (competence, reach), or None.
        gives: dict[tuple[int, int], tuple[int, int] | None] = {}
        for c in self.competences:
            for level in range(1, 6):
                if c not in reach:
                    gives[(c, level)] = (c, 0)
                else:
                    t = reach[c][level]
                    gives[(c, level)] = (c, t) if t else None
        signatures: dict[tuple[tuple[int, int], ...], int] = {}
        member_class = np.empty(len(staff), dtype=np.int64)
        get = gives.get
        for p, s in enumerate(staff):
            sig = tuple(sorted(filter(None, map(get, s.levels.items()))))
            member_class[p] = signatures.setdefault(sig, len(signatures))
        self.member_class = member_class
        # People by class, in the order their time is taken (`_given`).
        self.order = np.argsort(member_class, kind="stable")
        self.classes = list(signatures)
        self.n_classes = len(self.classes)

        # Entries (class, competence, reach), for sharing leftovers out.
        entries = [(g, self.cindex[c], t) for g, sig in enumerate(self.classes) for c, t in sig]
        self.e_class = np.array([e[0] for e in entries], dtype=np.int64)
        self.e_comp = np.array([e[1] for e in entries], dtype=np.int64)
        self.e_reach = np.array([e[2] for e in entries], dtype=np.int64)

        # Free time per person and per class, month by month, in hundredths.
        free = np.zeros((len(months), len(staff)), dtype=np.int64)
        for mi, m in enumerate(months):
            free[mi] = np.rint(np.asarray(m.free, dtype=np.float64) * 100)
        self.free = free
        capacity = np.zeros((len(months), self.n_classes), dtype=np.int64)
        for mi in range(len(months)):
            capacity[mi] = np.bincount(member_class, weights=free[mi], minlength=self.n_classes)
        self.capacity = capacity
        has_arcs = any(t >= 1 for sig in self.classes for _, t in sig)
        self.model = _model(self.nodes, self.classes) if self.nodes and has_arcs else None
        if self.model is not None:
            # Map the model's x columns (by competence id) to this call's indexes.
            self.x_class = self.model.x_class
            self.x_comp = np.array(
                [self.cindex[int(c)] for c in self.model.x_competence], dtype=np.int64
            )
        else:
            self.x_class = self.x_comp = np.zeros(0, dtype=np.int64)

    @property
    def members(self) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for p, g in enumerate(self.member_class.tolist()):
            found.setdefault(g, []).append(p)
        return found

    def solve(self, mi: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Month `mi`: the flow of each x column and what each node covers (hundredths)."""
        demand = np.array([self.needs[mi].get(node, 0) for node in self.nodes], dtype=np.int64)
        if self.model is None:
            return np.zeros(0), np.zeros(len(self.nodes))
        return self.model.solve(self.capacity[mi], demand)


def cover(
    months: Sequence[Month[K]],
    staff: Sequence[Staff],
    *,
    detail: bool = False,
    spare: bool = False,
    nodes: Iterable[NeedKey] = (),
) -> list[MonthCover[K]]:
    """Coverage of each month (see the module's docstring): demand, supply, covered and
    shortfall per competence; with `spare` the time each person has left, and with
    `detail` that and who covers what. `nodes` adds (competence, level) needs to the
    structure even where no month asks for them, so that a later call with fewer needs
    reuses the model of an earlier one."""
    net = _Network(months, staff, nodes)
    n_comp = len(net.competences)
    answers: list[MonthCover[K]] = []
    for mi, month in enumerate(months):
        x, z = net.solve(mi)
        demand = np.zeros(n_comp)
        # The lowest level needed of each competence this month (its index), -1: none.
        lowest = np.full(n_comp, -1, dtype=np.int64)
        for (c, level), amount in net.needs[mi].items():
            ci = net.cindex[c]
            demand[ci] += amount
            j = net.levels[c].index(level)
            if lowest[ci] < 0 or j < lowest[ci]:
                lowest[ci] = j
        covered = np.bincount(net.node_comp, weights=z, minlength=n_comp)
        used = np.bincount(net.x_class, weights=x, minlength=net.n_classes)
        left = net.capacity[mi] - used
        # A class's leftover, shared evenly by the competences it is able to cover.
        able = net.e_reach > lowest[net.e_comp]
        count = np.bincount(net.e_class, weights=able, minlength=net.n_classes)
        share = np.where(able, left[net.e_class] / np.maximum(count[net.e_class], 1), 0.0)
        supply = covered + np.bincount(net.e_comp, weights=share, minlength=n_comp)
        competences = {
            c: CompetenceCover(
                competence=c,
                demand=fte(demand[i]),
                supply=fte(supply[i]),
                covered=fte(covered[i]),
            )
            for i, c in enumerate(net.competences)
        }
        answer = MonthCover(month.key, competences)
        if detail or spare:
            given = _given(net, mi, used)
            answer.spare = {
                s.id: fte(v) for s, v in zip(staff, (net.free[mi] - given).tolist(), strict=True)
            }
            if detail:
                answer.assignments = _assignments(net, mi, x, staff)
        answers.append(answer)
    return answers


def _given(net: _Network, mi: int, used: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """What each person gives of their time in month `mi`: a class's time used is taken
    from its people one after another, in the order given (any split is as good: they
    reach the same needs)."""
    free = net.free[mi]
    order = net.order
    sorted_free = free[order]
    before = np.cumsum(sorted_free) - sorted_free
    classes = net.member_class[order]
    # The time of the class's earlier people: minus what comes before the class.
    start = np.searchsorted(classes, np.arange(net.n_classes))
    offset = np.where(start < len(order), before[np.minimum(start, len(order) - 1)], 0)
    earlier = before - offset[classes]
    taken = np.clip(np.rint(used)[classes] - earlier, 0, sorted_free).astype(np.int64)
    given = np.zeros(len(free), dtype=np.int64)
    given[order] = taken
    return given


def _assignments(
    net: _Network, mi: int, x: npt.NDArray[np.float64], staff: Sequence[Staff]
) -> list[tuple[int, int, float]]:
    """Who covers what in month `mi`: each class's flows handed to its people in the
    order `_given` takes their time."""
    left = net.free[mi].tolist()
    members = net.members
    assignments: list[tuple[int, int, float]] = []
    flows: dict[int, list[tuple[int, int]]] = {}
    for col in np.flatnonzero(x > 0).tolist():
        flows.setdefault(int(net.x_class[col]), []).append(
            (net.competences[int(net.x_comp[col])], int(x[col]))
        )
    for g, outs in flows.items():
        queue = [p for p in members[g] if left[p] > 0]
        for c, amount in outs:
            while amount > 0 and queue:
                p = queue[0]
                given = min(amount, left[p])
                left[p] -= given
                amount -= given
                assignments.append((staff[p].id, c, fte(given)))
                if left[p] == 0:
                    queue.pop(0)
    return assignments
