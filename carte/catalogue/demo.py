"""The demo catalogues of `northwind` and `riverside`, written through the catalogue services.

The content is declarative (one `Svc` per service, plus categories, symptoms and shared
artefacts per organisation); `load_catalogue_demo` walks it in a few passes:

1. categories, symptoms and the Centre of Excellence's shared artefacts;
2. each service with its levels, SIPOC rows (all but the inputs), needs, roles, symptom
   and artefact links;
3. the inputs, once every output exists, so an input can name another service's output
   (a dependency, M-5) in any order of declaration;
4. the demo stages, reached through the lifecycle's transitions (`carte.lifecycle.demo`;
   going live publishes a service), and a second version of a few.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from carte.catalogue import services
from carte.catalogue.choices import (
    ArtefactKind,
    DeliveryMode,
    PricingBasis,
    ProviderKind,
    Rationale,
    Scope,
    ServiceRoleKind,
    Stage,
    SupplierKind,
)
from carte.catalogue.models import Category, Service, ServiceOutput, Supplier, Symptom
from carte.organisations.actor import Actor
from carte.organisations.models import PMO, CustomerGroup, Person

HOURLY_RATE = Decimal(85)  # EUR per hour of PMO effort, for the levels' prices
LEVEL_NAMES = {"L": "Light touch", "S": "Standard", "I": "Intensive"}
OFFICE_HOURS = "Mon-Fri 08:00-17:00 CET"

E, F, C, X = Rationale.EFFECTIVE, Rationale.EFFICIENT, Rationale.CONTROL, Rationale.ECONOMICAL
PRJ, PRG, MUL, POR, ORG = (
    Scope.PROJECT,
    Scope.PROGRAMME,
    Scope.MULTIPLE,
    Scope.PORTFOLIO,
    Scope.ORGANISATION,
)
ROLE, SYSTEM, GROUP, EXTERNAL = (
    SupplierKind.ROLE,
    SupplierKind.SYSTEM,
    SupplierKind.CUSTOMER_GROUP,
    SupplierKind.EXTERNAL,
)
FREE, FIXED, UNIT, SHARE = (
    PricingBasis.FREE,
    PricingBasis.FIXED_FEE,
    PricingBasis.PER_UNIT,
    PricingBasis.COST_SHARE,
)

Level = tuple[str, float, str]  # L/S/I, effort hours, what the customer gets
Input = tuple[str, str, str]  # name, quality criteria, supplier name or "@CODE/output name"
Output = tuple[str, str, tuple[str, ...]]  # name, quality criteria, receiving groups


@dataclass(frozen=True)
class Svc:
    """One service of a demo catalogue, with every part it holds."""

    code: str
    name: str
    category: str  # key of the organisation's categories
    summary: str
    description: str
    outcome: str
    rationale: tuple[str, ...]
    note: str
    scopes: tuple[str, ...]
    pmos: tuple[str, ...]  # PMO keys
    pricing: tuple[str, str]  # basis, price unit; the price is the Standard level's
    levels: tuple[Level, ...]
    suppliers: tuple[tuple[str, str], ...]  # kind, name
    trigger: Input
    steps: tuple[tuple[str, str], ...]  # name, performed by
    outputs: tuple[Output, ...]
    owner: str
    symptoms: tuple[tuple[str, int], ...]  # symptom key, weight 1-5
    competences: tuple[tuple[str, int, float], ...]  # competence, level 1-4, FTE
    governance: tuple[tuple[str, bool], ...]  # prerequisite, in place
    inputs: tuple[Input, ...] = ()
    operatives: tuple[str, ...] = ()
    managers: tuple[tuple[str, str], ...] = ()  # PMO key -> person, over the default
    shared: tuple[str, ...] = ()  # keys of shared artefacts the service uses
    own: tuple[tuple[str, str, str], ...] = ()  # name, kind, url path of its own artefacts
    stage: str = Stage.RUNNING
    mode: str = DeliveryMode.IN_HOUSE
    hours: str = OFFICE_HOURS


@dataclass(frozen=True)
class Catalogue:
    """The demo catalogue of one organisation."""

    intranet: str  # base URL of artefact links
    pmos: dict[str, str]  # PMO key -> name
    coe: str  # key of the PMO that shares artefacts
    managers: dict[str, str]  # PMO key -> default Service Manager (person name)
    categories: tuple[tuple[str, str, str], ...]  # key, name, description
    symptoms: dict[str, str]  # key -> statement
    artefacts: tuple[tuple[str, str, str, str, str], ...]  # key, name, kind, desc, path
    services: tuple[Svc, ...]
    # A second version: code, changed fields, added symptom link, publishing note.
    revisions: tuple[tuple[str, dict[str, str], tuple[str, int], str], ...] = ()
    provider: str = ""


# ------------------------------------------------------------------------- the loader


def _money(hours: float) -> Decimal:
    return (Decimal(str(hours)) * HOURLY_RATE).quantize(Decimal(1))


def _create_service(
    actor: Actor,
    spec: Catalogue,
    svc: Svc,
    categories: dict[str, Category],
    symptoms: dict[str, Symptom],
    pmos: dict[str, PMO],
    groups: dict[str, CustomerGroup],
    artefacts: dict[str, object],
    people: dict[str, Person],
) -> tuple[Service, dict[str, Supplier], dict[str, ServiceOutput]]:
    """Create one service and every part but its inputs."""
    basis, unit = svc.pricing
    standard = next((h for k, h, _ in svc.levels if k == "S"), svc.levels[0][1])
    outsourced = svc.mode != DeliveryMode.IN_HOUSE
    service = services.service_create(
        actor=actor,
        delivering_pmos=[pmos[k] for k in svc.pmos],
        code=svc.code,
        name=svc.name,
        category=categories[svc.category],
        summary=svc.summary,
        description=svc.description,
        outcome=svc.outcome,
        rationale=list(svc.rationale),
        rationale_note=svc.note,
        scopes=list(svc.scopes),
        delivery_mode=svc.mode,
        provider_kind=ProviderKind.EXTERNAL if outsourced else "",
        provider_name=spec.provider if outsourced else "",
        hours=svc.hours,
        pricing_basis=basis,
        price=None if basis == FREE else _money(standard),
        currency="" if basis == FREE else "EUR",
        price_unit="" if basis == FREE else unit,
    )

    def add(part: str, /, **data: object) -> object:
        return services.part_create(actor=actor, service=service, kind=part, data=data)

    # Positions are given, which spares each ordered part a query for the last one.
    for pos, (key, hours, what) in enumerate(svc.levels, 1):
        price = None if basis == FREE else _money(hours)
        add(
            "levels",
            name=LEVEL_NAMES[key],
            position=pos,
            description=what,
            effort_hours=Decimal(str(hours)),
            price=price,
        )
    suppliers: dict[str, Supplier] = {}
    for pos, (kind, name) in enumerate(svc.suppliers, 1):
        group = groups.get(name) if kind == GROUP else None
        supplier = add("suppliers", kind=kind, name=name, customer_group=group, position=pos)
        assert isinstance(supplier, Supplier)
        suppliers[name] = supplier
    for pos, (name, performer) in enumerate(svc.steps, 1):
        add("steps", name=name, performer=performer, position=pos)
    outputs: dict[str, ServiceOutput] = {}
    for pos, (name, criteria, receivers) in enumerate(svc.outputs, 1):
        out = add(
            "outputs",
            name=name,
            position=pos,
            quality_criteria=criteria,
            customers=[groups[g] for g in receivers],
        )
        assert isinstance(out, ServiceOutput)
        outputs[name] = out
    served = dict.fromkeys(g for _, _, receivers in svc.outputs for g in receivers)
    for group_name in served:
        add("customers", customer_group=groups[group_name])
    for competence, level, fte in svc.competences:
        add("competences", competence=competence, level=level, fte=Decimal(str(fte)))
    for item, in_place in svc.governance:
        add("governance", item=item, in_place=in_place)
    for key, weight in svc.symptoms:
        add("symptoms", symptom=symptoms[key], weight=weight)
    for key in svc.shared:
        add("artefacts", artefact=artefacts[key])
    for name, kind, path in svc.own:
        services.artefact_create(
            actor=actor, name=name, kind=kind, owner_service=service, url=spec.intranet + path
        )
    add("roles", role=ServiceRoleKind.OWNER, person=people[svc.owner])
    overrides = dict(svc.managers)
    for key in svc.pmos:
        manager = people[overrides.get(key, spec.managers[key])]
        add("roles", role=ServiceRoleKind.MANAGER, person=manager, pmo=pmos[key])
    for name in svc.operatives:
        add("roles", role=ServiceRoleKind.OPERATIVE, person=people[name])
    return service, suppliers, outputs


def load_catalogue_demo(*, actor: Actor) -> dict[str, Service]:
    """Load the demo catalogue of the actor's organisation (the system actor); the
    services by code. An organisation without a demo catalogue gets nothing."""
    spec = CATALOGUES.get(actor.organisation.slug)
    if spec is None:
        return {}
    org = actor.organisation
    people = {p.name: p for p in Person.objects.filter(organisation=org)}
    pmos = {k: PMO.objects.get(organisation=org, name=name) for k, name in spec.pmos.items()}
    groups = {g.name: g for g in CustomerGroup.objects.filter(organisation=org)}
    categories = {
        key: services.category_create(actor=actor, name=name, description=desc)
        for key, name, desc in spec.categories
    }
    symptoms = {
        key: services.symptom_create(actor=actor, statement=statement)
        for key, statement in spec.symptoms.items()
    }
    artefacts: dict[str, object] = {
        key: services.artefact_create(
            actor=actor,
            name=name,
            kind=kind,
            description=desc,
            owner_pmo=pmos[spec.coe],
            url=spec.intranet + path,
        )
        for key, name, kind, desc, path in spec.artefacts
    }

    made: dict[str, tuple[Service, dict[str, Supplier], dict[str, ServiceOutput]]] = {}
    for svc in spec.services:
        made[svc.code] = _create_service(
            actor, spec, svc, categories, symptoms, pmos, groups, artefacts, people
        )

    for svc in spec.services:  # inputs last: a source output may be declared later
        service, suppliers, _ = made[svc.code]
        for pos, (name, criteria, source) in enumerate((svc.trigger, *svc.inputs), 1):
            data: dict[str, object] = {
                "name": name,
                "quality_criteria": criteria,
                "is_trigger": pos == 1,
                "position": pos,
            }
            if source.startswith("@"):
                code, _, output = source[1:].partition("/")
                data["source_output"] = made[code][2][output]
            else:
                data["supplier"] = suppliers[source]
            services.part_create(actor=actor, service=service, kind="inputs", data=data)

    by_code = {code: service for code, (service, _, _) in made.items()}
    # Each service reaches its stage through the lifecycle's transitions (going live
    # publishes it), dated over the last months.
    from carte.lifecycle.demo import load_lifecycle_demo  # the lifecycle builds on this

    load_lifecycle_demo(
        actor=actor, stages={svc.code: svc.stage for svc in spec.services}, by_code=by_code
    )
    for code, changes, (symptom, weight), note in spec.revisions:
        service = by_code[code]
        services.service_update(actor=actor, service=service, data=dict(changes))
        services.part_create(
            actor=actor,
            service=service,
            kind="symptoms",
            data={"symptom": symptoms[symptom], "weight": weight},
        )
        services.service_publish(actor=actor, service=service, note=note)
    from carte.operations.demo import load_operations_demo  # operations build on this

    load_operations_demo(actor=actor, by_code=by_code)
    return by_code


# ------------------------------------------------------------------------- the content

ALL_NW = ("Finance", "HR", "Procurement", "Operations", "IT")
OPS_IT = ("Operations", "IT")
OPS_IT_FIN = ("Operations", "IT", "Finance")
PM = "Project managers"
SPONSORS = "Project sponsors"
PPM = "Portfolio management tool"
MERIDIAN = "Meridian Project Services"


NORTHWIND_SYMPTOMS = {
    "budget": "Projects keep overrunning their budgets",
    "blind": "Leadership cannot see which projects are in trouble",
    "late": "Projects routinely finish later than promised",
    "overload": "We start more projects than we have people for",
    "benefits": "Nobody can say whether finished projects paid off",
    "repeat": "The same mistakes come back project after project",
    "adhoc": "Every project manager runs projects in their own way",
    "surprise": "Risks are first heard of when they have already happened",
    "scope": "Scope keeps growing without anyone deciding it should",
    "paperwork": "Project managers spend more time on reports than on delivery",
    "decisions": "Steering meetings end without clear decisions",
    "adoption": "New systems and ways of working are not taken up after go-live",
    "skills": "We do not have enough experienced project managers",
    "suppliers": "Contractors on our projects miss their commitments",
}

NORTHWIND_ARTEFACTS = (
    (
        "status",
        "Project status report template",
        ArtefactKind.TEMPLATE,
        "One page per project: RAG by dimension, milestones, top risks and asks.",
        "templates/status-report",
    ),
    (
        "gate",
        "Stage gate checklist",
        ArtefactKind.TEMPLATE,
        "The evidence each gate expects, from idea to closure.",
        "templates/stage-gate-checklist",
    ),
    (
        "raid",
        "RAID log template",
        ArtefactKind.TEMPLATE,
        "Risks, assumptions, issues and dependencies in one register with owners and dates.",
        "templates/raid-log",
    ),
    (
        "handbook",
        "Northwind project management handbook",
        ArtefactKind.DOCUMENT,
        "The group's way of running projects: roles, stages, controls and tailoring rules.",
        "methods/handbook",
    ),
    (
        "case",
        "Business case template",
        ArtefactKind.TEMPLATE,
        "Options, costs, benefits and risks laid out the same way for every proposal.",
        "templates/business-case",
    ),
    (
        "ppm",
        "Portfolio management tool",
        ArtefactKind.TOOL,
        "The group's project and portfolio system: plans, RAID, status and resources.",
        "tools/ppm",
    ),
)


def _levels(
    light: str, standard: str, intensive: str, hours: tuple[float, ...]
) -> tuple[Level, ...]:
    """Three doses of a service, lightest first."""
    return (("L", hours[0], light), ("S", hours[1], standard), ("I", hours[2], intensive))


NORTHWIND_SERVICES = (
    # ------------------------------------------------------------ Governance and assurance
    Svc(
        code="GOV-01",
        name="Governance secretariat",
        category="gov",
        summary="Agendas, papers, minutes and a decision log for portfolio and programme boards.",
        description=(
            "The PMO runs the secretariat of the investment committee and the programme "
            "boards: it plans the forward agenda, collects and checks papers, takes the "
            "minutes and keeps the decision and action logs up to date."
        ),
        outcome="Boards meet with complete papers and every decision can be traced later.",
        rationale=(F, C),
        note="One secretariat for all boards costs less than each sponsor's office doing it.",
        scopes=(PRG, POR),
        pmos=("epmo",),
        pricing=(FREE, ""),
        levels=_levels(
            "Forward agenda and decision log only.",
            "Full secretariat for one board: papers, minutes and actions.",
            "Secretariat plus pre-briefing of the chair and follow-up of overdue actions.",
            (4, 12, 24),
        ),
        suppliers=((ROLE, "Board chairs"), (ROLE, PM), (ROLE, "Stage-gate reviewers")),
        trigger=("Board meeting scheduled", "Date, chair and quorum confirmed.", "Board chairs"),
        inputs=(
            ("Board papers", "Submitted five working days ahead, on the template.", PM),
            (
                "Gate decisions to record",
                "Signed by the gate chair.",
                "@GOV-02/Gate decision record",
            ),
        ),
        steps=(
            ("Plan the forward agenda", "PMO analyst"),
            ("Collect and check papers", "PMO analyst"),
            ("Minute the meeting", "Board secretary"),
            ("Chase actions to closure", "Board secretary"),
        ),
        outputs=(
            (
                "Board pack",
                "Complete and sent three working days ahead.",
                ("Finance", "Operations"),
            ),
            ("Decision and action log", "Updated within two days of each meeting.", ALL_NW),
        ),
        owner="Priya Raman",
        operatives=("Grace Liu",),
        symptoms=(("decisions", 5), ("blind", 2)),
        competences=(("Meeting facilitation", 2, 0.3), ("Minute taking", 3, 0.4)),
        governance=(
            ("Terms of reference for each board", True),
            ("Delegated authority limits", True),
        ),
        shared=("gate",),
    ),
    Svc(
        code="GOV-02",
        name="Stage-gate reviews",
        category="gov",
        summary="Independent check that a project is ready to pass to its next stage.",
        description=(
            "Before each gate the PMO reviews the project's evidence against the gate "
            "checklist, talks to the project manager and sponsor, and gives the gate chair "
            "a short recommendation: proceed, proceed with conditions, or stop."
        ),
        outcome="Only projects that are ready move on, and money is released stage by stage.",
        rationale=(C, E),
        note="Gate decisions need a reviewer who does not report to the project.",
        scopes=(PRJ, PRG),
        pmos=("epmo", "mfg", "it"),
        pricing=(FREE, ""),
        levels=_levels(
            "Desk review of the gate evidence with a written recommendation.",
            "Desk review plus interviews with the project manager and sponsor.",
            "Full review panel with a specialist for technical or safety-critical projects.",
            (6, 14, 32),
        ),
        suppliers=((ROLE, PM), (ROLE, SPONSORS)),
        trigger=("Gate review request", "Gate named, date proposed, sponsor aware.", PM),
        inputs=(
            ("Gate evidence", "Checklist items complete or explained.", PM),
            ("Latest status pack", "No older than one month.", "@REP-01/Portfolio status pack"),
            (
                "Readiness for go-live",
                "Readiness scored by the business areas affected.",
                "@CHG-03/Change readiness assessment",
            ),
        ),
        steps=(
            ("Confirm scope and date of the review", "Service Manager"),
            ("Review the evidence against the checklist", "Gate reviewer"),
            ("Interview the project manager and sponsor", "Gate reviewer"),
            ("Write the recommendation", "Gate reviewer"),
            ("Record the gate decision", "Gate chair"),
        ),
        outputs=(
            ("Gate recommendation", "Clear proceed / conditions / stop, with reasons.", OPS_IT),
            (
                "Gate decision record",
                "Decision, conditions and owner of each condition.",
                OPS_IT_FIN,
            ),
        ),
        owner="Hannah Okafor",
        operatives=("Sofia Marin", "Oliver Grant"),
        symptoms=(("decisions", 4), ("budget", 3), ("blind", 3)),
        competences=(("Project assurance", 3, 0.8), ("Stage-gate method", 3, 0.4)),
        governance=(("Gate model approved by the investment committee", True),),
        shared=("gate", "handbook"),
    ),
    Svc(
        code="GOV-03",
        name="Project health checks and audits",
        category="gov",
        summary="A quick, independent look at how a project is really doing, and why.",
        description=(
            "A short review of a project's plan, controls, team and risks, on request or "
            "on a rolling schedule, ending in a health rating and a handful of practical "
            "recommendations. Audits follow the same method with a wider evidence check."
        ),
        outcome="Trouble is found while it can still be fixed at a reasonable cost.",
        rationale=(E, C),
        note="Reviewers from outside the project see what the team has stopped noticing.",
        scopes=(PRJ, PRG),
        pmos=("epmo", "mfg"),
        pricing=(UNIT, "per review"),
        levels=_levels(
            "Two-hour self-assessment facilitated by a reviewer.",
            "Three-day health check with interviews and a written report.",
            "Full audit of controls and evidence, with a follow-up visit after three months.",
            (6, 24, 60),
        ),
        suppliers=((ROLE, SPONSORS), (ROLE, PM)),
        trigger=("Health check request", "Sponsor agrees to the review and its timing.", SPONSORS),
        inputs=(
            ("Project plan and controls", "Current versions in the portfolio tool.", PM),
            (
                "Risk and issue register",
                "Reviewed in the last month.",
                "@GOV-04/Risk and issue register",
            ),
            ("Status history", "Last three status packs.", "@REP-01/Portfolio status pack"),
        ),
        steps=(
            ("Agree the scope with the sponsor", "Service Manager"),
            ("Review documents and data", "Health check reviewer"),
            ("Interview the team and stakeholders", "Health check reviewer"),
            ("Rate health and write recommendations", "Health check reviewer"),
            ("Present findings to the sponsor", "Service Manager"),
        ),
        outputs=(
            ("Health check report", "Rating per area, evidence and at most seven actions.", OPS_IT),
            ("Improvement actions", "Each with an owner and a date.", OPS_IT),
        ),
        owner="Hannah Okafor",
        operatives=("Nadia Haddad", "Sofia Marin"),
        symptoms=(("blind", 4), ("budget", 3), ("late", 3), ("repeat", 2)),
        competences=(("Project assurance", 4, 0.6), ("Interviewing", 3, 0.3)),
        governance=(("Sponsors accept reviews of their projects", True),),
        shared=("raid",),
        own=(("Health check questionnaire", ArtefactKind.TEMPLATE, "assurance/health-check"),),
    ),
    Svc(
        code="GOV-04",
        name="Risk and issue management support",
        category="gov",
        summary="Help teams find, assess and act on risks and issues, and roll them up.",
        description=(
            "Specialists facilitate risk workshops, keep project RAID logs in shape and "
            "consolidate the significant risks and issues into a portfolio view. Risk "
            "analysts from Meridian Project Services add quantitative analysis on demand."
        ),
        outcome="Fewer surprises: significant risks have owners and responses in time.",
        rationale=(E, F),
        note="Shared specialists run better workshops than each team learning on its own.",
        scopes=(PRJ, PRG, POR),
        pmos=("epmo", "mfg", "it"),
        pricing=(UNIT, "per workshop"),
        levels=_levels(
            "Monthly review of the RAID log with the project manager.",
            "Risk workshop each stage plus monthly log review.",
            "Quantitative schedule and cost risk analysis by a Meridian analyst.",
            (3, 10, 40),
        ),
        suppliers=((ROLE, PM), (EXTERNAL, MERIDIAN)),
        trigger=("New project or new stage", "Project registered in the portfolio tool.", PM),
        inputs=(("Project RAID log", "On the RAID template, owners named.", PM),),
        steps=(
            ("Run the risk identification workshop", "Risk facilitator"),
            ("Assess and score risks", "Risk analyst"),
            ("Agree responses and owners", "Project manager"),
            ("Consolidate into the portfolio register", "Risk analyst"),
        ),
        outputs=(
            ("Risk and issue register", "Each entry scored, owned and reviewed monthly.", OPS_IT),
            ("Portfolio risk summary", "Top ten risks with trend.", ("Finance", "Operations")),
        ),
        owner="Tomasz Nowak",
        operatives=("Chris Doyle", "Sofia Marin"),
        symptoms=(("surprise", 5), ("budget", 2), ("late", 2)),
        competences=(("Risk management", 4, 1.0), ("Quantitative risk analysis", 3, 0.3)),
        governance=(("Group risk appetite statement", True), ("Risk scoring matrix agreed", True)),
        shared=("raid", "ppm"),
        mode=DeliveryMode.HYBRID,
    ),
    Svc(
        code="GOV-05",
        name="Change control",
        category="gov",
        summary="Assess and decide requested changes to scope, time and cost, and log them.",
        description=(
            "Change requests are logged, their impact on plan, cost and benefits is "
            "assessed with the team, and the right authority decides. The change log "
            "feeds the schedule and cost baselines so they stay honest."
        ),
        outcome="Scope only grows when someone with authority has agreed to pay for it.",
        rationale=(C,),
        note="Independent logging keeps the baseline from drifting quietly.",
        scopes=(PRJ, PRG),
        pmos=("mfg", "it"),
        pricing=(FREE, ""),
        levels=(
            ("L", 2, "Change log kept for the project; the team assesses impact."),
            ("S", 6, "Log plus impact assessment and preparation of the decision."),
        ),
        suppliers=((ROLE, PM), (GROUP, "Operations"), (GROUP, "IT")),
        trigger=("Change request", "Reason, requester and urgency given.", PM),
        steps=(
            ("Log the request", "Project support officer"),
            ("Assess impact on scope, time, cost and benefits", "Project controller"),
            ("Decide at the right level of authority", "Sponsor or change board"),
            ("Update baselines and inform the team", "Project support officer"),
        ),
        outputs=(
            ("Change decision log", "Every request with decision, date and approver.", OPS_IT_FIN),
        ),
        owner="Tomasz Nowak",
        operatives=("Sofia Marin", "Nadia Haddad"),
        symptoms=(("scope", 5), ("budget", 3)),
        competences=(("Change control", 3, 0.5),),
        governance=(("Change authority levels agreed", False),),
        shared=("raid",),
    ),
    Svc(
        code="GOV-06",
        name="Supplier and contract oversight",
        category="gov",
        summary="Keep an eye on project contractors against their contracts and milestones.",
        description=(
            "Together with Procurement the PMO tracks the delivery and invoices of "
            "contractors on capital and IT projects, and flags slipping milestones or "
            "spend ahead of commitments before they become disputes."
        ),
        outcome="Contractors deliver what was bought, and problems are raised early.",
        rationale=(C, X),
        note="A joint view of contract and progress saves money on every large contract.",
        scopes=(PRJ, MUL),
        pmos=("mfg",),
        pricing=(SHARE, "per contract per year"),
        levels=(
            ("S", 20, "Quarterly supplier performance review for one contract."),
            ("I", 48, "Monthly reviews and support in contract change negotiations."),
        ),
        suppliers=((GROUP, "Procurement"), (ROLE, PM)),
        trigger=(
            "Contract awarded",
            "Signed contract with milestones and price schedule.",
            "Procurement",
        ),
        inputs=(
            ("Cost forecast", "Commitments and actuals per contract.", "@PLN-02/Cost forecast"),
        ),
        steps=(
            ("Set up the contract milestones for tracking", "Project controller"),
            ("Compare progress and invoices with the contract", "Project controller"),
            ("Raise concerns with Procurement and the sponsor", "Service Manager"),
        ),
        outputs=(
            (
                "Supplier performance summary",
                "Milestones, invoices and open claims per contract.",
                ("Procurement", "Finance"),
            ),
        ),
        owner="Tomasz Nowak",
        operatives=("Ben Carter",),
        symptoms=(("suppliers", 5), ("budget", 2)),
        competences=(("Contract management", 3, 0.4),),
        governance=(("Procurement agrees to share contract data", True),),
        stage=Stage.CLOSING,
        own=(("Supplier performance scorecard", ArtefactKind.TOOL, "suppliers/scorecard"),),
    ),
    # ------------------------------------------------------------ Portfolio management
    Svc(
        code="POR-01",
        name="Portfolio intake and demand management",
        category="por",
        summary="One front door for new project ideas, shaped into comparable proposals.",
        description=(
            "Ideas for projects come in through one form. The PMO checks they are complete, "
            "helps the proposer with a business case of the right size and gets a cost "
            "estimate, so the portfolio board can compare like with like."
        ),
        outcome="Every proposal is visible and judged on the same basis.",
        rationale=(C, F),
        note="A single intake stops projects from starting through the back door.",
        scopes=(POR,),
        pmos=("epmo",),
        pricing=(FREE, ""),
        levels=_levels(
            "Completeness check of the idea form.",
            "Help writing a proportionate business case.",
            "Full business case support with options analysis for large proposals.",
            (2, 8, 24),
        ),
        suppliers=((GROUP, "Operations"), (GROUP, "IT"), (GROUP, "Finance")),
        trigger=("Project idea", "Idea form with problem, sponsor and rough size.", "Operations"),
        inputs=(("Cost estimate", "Range estimate with its basis.", "@PLN-03/Cost estimate"),),
        steps=(
            ("Register the idea", "Portfolio analyst"),
            ("Check completeness and fit with strategy", "Portfolio analyst"),
            ("Support the business case", "Portfolio analyst"),
            ("Submit to the portfolio board", "Service Manager"),
        ),
        outputs=(
            ("Assessed proposal", "Business case, estimate and strategic fit score.", ("Finance",)),
            (
                "Registered business case",
                "Benefits with owners, measures and baselines.",
                ("Finance", "Operations"),
            ),
        ),
        owner="Hannah Okafor",
        operatives=("Oliver Grant",),
        symptoms=(("overload", 4), ("benefits", 2)),
        competences=(("Business case writing", 3, 0.5), ("Portfolio analysis", 3, 0.3)),
        governance=(("Investment thresholds published", True),),
        shared=("case", "ppm"),
    ),
    Svc(
        code="POR-02",
        name="Portfolio prioritisation and balancing",
        category="por",
        summary="Rank projects against strategy and capacity, and keep the portfolio balanced.",
        description=(
            "Each quarter the PMO scores proposals and running projects against the "
            "agreed criteria, checks the result against people and budget available, and "
            "prepares scenarios for the portfolio board to choose from."
        ),
        outcome="The group works on the projects that matter most and can actually staff them.",
        rationale=(E, C),
        note="Only a group-level view can trade projects off across divisions.",
        scopes=(POR, ORG),
        pmos=("epmo",),
        pricing=(FREE, ""),
        levels=(
            ("S", 40, "Quarterly ranking and one recommended scenario."),
            ("I", 90, "Quarterly ranking with several scenarios and board workshop."),
        ),
        suppliers=((ROLE, "Portfolio board"),),
        trigger=(
            "Quarterly planning cycle",
            "Calendar date set by the portfolio board.",
            "Portfolio board",
        ),
        inputs=(
            ("Assessed proposals", "All complete by the cut-off.", "@POR-01/Assessed proposal"),
            (
                "Capacity forecast",
                "Next four quarters by skill.",
                "@RES-01/Capacity and demand forecast",
            ),
            (
                "Benefits delivered so far",
                "Per running project.",
                "@CHG-01/Benefits realisation report",
            ),
        ),
        steps=(
            ("Score proposals and projects", "Portfolio analyst"),
            ("Check against capacity and budget", "Portfolio analyst"),
            ("Build scenarios", "Portfolio lead"),
            ("Facilitate the board decision", "PMO Director"),
        ),
        outputs=(
            (
                "Prioritised portfolio",
                "Ranked list with start windows, approved by the board.",
                ALL_NW,
            ),
        ),
        owner="Priya Raman",
        operatives=("Oliver Grant",),
        symptoms=(("overload", 5), ("benefits", 2), ("late", 2)),
        competences=(("Portfolio management", 4, 0.5), ("Multi-criteria analysis", 3, 0.2)),
        governance=(("Prioritisation criteria agreed by the executive", True),),
        shared=("ppm",),
    ),
    Svc(
        code="POR-03",
        name="Executive advice and strategic planning support",
        category="por",
        summary="Portfolio insight and options for the executive team and the strategy cycle.",
        description=(
            "The Enterprise PMO briefs the executive on what the portfolio can deliver, "
            "where it is at risk and what trade-offs a new strategic initiative would force, "
            "and joins the yearly strategy planning."
        ),
        outcome="Strategic decisions are made knowing what the portfolio can take.",
        rationale=(E,),
        note="The PMO holds the only joined-up picture of change across the group.",
        scopes=(ORG,),
        pmos=("epmo",),
        pricing=(FREE, ""),
        levels=(
            ("L", 4, "Monthly portfolio briefing note."),
            ("S", 16, "Briefing plus attendance at executive and strategy sessions."),
        ),
        suppliers=((ROLE, "Executive team"),),
        trigger=("Executive request", "Question and deadline stated.", "Executive team"),
        inputs=(
            ("Status pack", "Current month.", "@REP-01/Portfolio status pack"),
            ("Prioritised portfolio", "As approved.", "@POR-02/Prioritised portfolio"),
            (
                "Dependency map",
                "Critical links highlighted.",
                "@POR-04/Cross-project dependency map",
            ),
        ),
        steps=(
            ("Frame the question", "PMO Director"),
            ("Analyse the portfolio", "Portfolio analyst"),
            ("Brief the executive", "PMO Director"),
        ),
        outputs=(
            ("Executive briefing", "Answers the question on two pages.", ("Finance", "Operations")),
        ),
        owner="Priya Raman",
        symptoms=(("blind", 3), ("overload", 3)),
        competences=(("Strategic advice", 4, 0.2),),
        governance=(("PMO Director sits on the executive committee", False),),
        stage=Stage.APPROVED_FOR_SETUP,
    ),
    Svc(
        code="POR-04",
        name="Programme coordination and dependency management",
        category="por",
        summary="Map and manage the links between projects that share people, assets or dates.",
        description=(
            "For plant upgrades and digital programmes the PMO keeps a map of "
            "dependencies between projects, runs a fortnightly coordination meeting and "
            "escalates clashes before they hit a schedule."
        ),
        outcome="Projects do not block each other by surprise.",
        rationale=(E, C),
        note="No single project manager can see the links between projects.",
        scopes=(PRG, MUL),
        pmos=("mfg", "it"),
        pricing=(FIXED, "per programme per month"),
        levels=_levels(
            "Dependency map updated monthly.",
            "Map plus fortnightly coordination meeting.",
            "Dedicated programme coordinator embedded in the programme.",
            (6, 16, 60),
        ),
        suppliers=((ROLE, "Programme managers"),),
        trigger=("Programme mobilised", "Programme brief approved.", "Programme managers"),
        inputs=(
            ("Project schedules", "Baselined, with key milestones.", "@PLN-01/Baselined schedule"),
            ("Prioritised portfolio", "Current quarter.", "@POR-02/Prioritised portfolio"),
        ),
        steps=(
            ("Collect milestones and hand-offs", "Programme coordinator"),
            ("Map dependencies", "Programme coordinator"),
            ("Run the coordination meeting", "Service Manager"),
            ("Escalate clashes", "Service Manager"),
        ),
        outputs=(
            ("Cross-project dependency map", "Every dependency has two owners and a date.", OPS_IT),
        ),
        owner="Hannah Okafor",
        operatives=("Lucas Petit", "Sofia Marin"),
        managers=(("mfg", "Tomasz Nowak"),),
        symptoms=(("late", 4), ("surprise", 2)),
        competences=(("Programme management", 3, 0.6),),
        governance=(("Programme boards in place", True),),
    ),
    # ------------------------------------------------------------ Planning and control
    Svc(
        code="PLN-01",
        name="Schedule planning support",
        category="pln",
        summary="Build and baseline realistic project schedules, and keep them current.",
        description=(
            "Planners help project teams break down the work, build a logic-linked "
            "schedule in the portfolio tool, set the baseline and update progress. For "
            "shutdown and capital projects Meridian schedulers add capacity."
        ),
        outcome="Dates that teams believe in, and early warning when they slip.",
        rationale=(F, E),
        note="Specialist planners are faster and more accurate than occasional planners.",
        scopes=(PRJ, PRG),
        pmos=("mfg", "it"),
        pricing=(UNIT, "per project per month"),
        levels=_levels(
            "Schedule review and tips for the project manager.",
            "Planner builds the baseline and updates it monthly.",
            "Dedicated planner, weekly updates and critical path analysis.",
            (4, 16, 64),
        ),
        suppliers=((ROLE, PM), (EXTERNAL, MERIDIAN)),
        trigger=("Planning request", "Scope and key dates known.", PM),
        inputs=(
            (
                "Approved changes",
                "Decided changes with time impact.",
                "@GOV-05/Change decision log",
            ),
            ("Work breakdown", "Agreed with the team.", PM),
        ),
        steps=(
            ("Break down the work", "Planner"),
            ("Build the logic-linked schedule", "Planner"),
            ("Review with the team and baseline", "Project manager"),
            ("Update progress and forecast", "Planner"),
        ),
        outputs=(("Baselined schedule", "Logic-linked, no open ends, baseline set.", OPS_IT),),
        owner="Tomasz Nowak",
        operatives=("Lucas Petit", "Fatima Zahra"),
        symptoms=(("late", 5), ("blind", 2)),
        competences=(("Planning and scheduling", 4, 1.5),),
        governance=(("Scheduling standard issued", True),),
        shared=("ppm",),
        own=(("Scheduling standard", ArtefactKind.PROCEDURE, "planning/scheduling-standard"),),
        mode=DeliveryMode.HYBRID,
    ),
    Svc(
        code="PLN-02",
        name="Cost tracking and forecasting",
        category="pln",
        summary="Track project spend against budget and forecast the cost at completion.",
        description=(
            "Project controllers reconcile actuals from the finance system with "
            "commitments, forecast the cost at completion each month and explain "
            "variances to the project manager and the finance business partner."
        ),
        outcome="Overspends are visible months before the money runs out.",
        rationale=(C, F),
        note="Controllers who know both finance and projects close the month faster.",
        scopes=(PRJ, MUL),
        pmos=("mfg",),
        pricing=(UNIT, "per project per month"),
        levels=_levels(
            "Monthly actuals against budget.",
            "Monthly forecast at completion with variance notes.",
            "Earned value analysis and weekly cost reporting.",
            (2, 6, 16),
        ),
        suppliers=((SYSTEM, "Finance system"), (ROLE, PM)),
        trigger=("Month-end close", "Finance ledger closed.", "Finance system"),
        inputs=(
            ("Cost estimate", "Approved budget baseline.", "@PLN-03/Cost estimate"),
            ("Approved changes", "With cost impact.", "@GOV-05/Change decision log"),
        ),
        steps=(
            ("Reconcile actuals and commitments", "Project controller"),
            ("Forecast cost at completion", "Project controller"),
            ("Explain variances", "Project controller"),
        ),
        outputs=(
            (
                "Cost forecast",
                "Reconciled with the ledger, variance over 5% explained.",
                ("Finance", "Operations"),
            ),
        ),
        owner="Tomasz Nowak",
        operatives=("Ben Carter", "Nadia Haddad"),
        symptoms=(("budget", 5), ("blind", 2)),
        competences=(("Project cost control", 3, 1.0),),
        governance=(("Project cost codes in the finance system", True),),
    ),
    Svc(
        code="PLN-03",
        name="Estimating support",
        category="pln",
        summary="Range estimates of cost and effort based on past projects.",
        description=(
            "Cost engineers estimate proposals and stages from historical data and "
            "expert judgement, and state the range and assumptions so decision makers "
            "know how firm the number is."
        ),
        outcome="Budgets rest on evidence rather than optimism.",
        rationale=(E, X),
        note="Historical data sits with the PMO, not with individual projects.",
        scopes=(PRJ,),
        pmos=("mfg",),
        pricing=(UNIT, "per estimate"),
        levels=_levels(
            "Top-down range estimate.",
            "Bottom-up estimate with assumptions and range.",
            "Estimate with independent challenge and risk allowance.",
            (4, 16, 40),
        ),
        suppliers=((ROLE, PM), (ROLE, "Proposers")),
        trigger=("Estimate request", "Scope description at the right level.", "Proposers"),
        steps=(
            ("Clarify scope and assumptions", "Cost engineer"),
            ("Estimate from history and experts", "Cost engineer"),
            ("Add risk allowance and range", "Cost engineer"),
        ),
        outputs=(
            (
                "Cost estimate",
                "Range, confidence and assumptions stated.",
                ("Finance", "Operations"),
            ),
        ),
        owner="Tomasz Nowak",
        operatives=("Ben Carter",),
        symptoms=(("budget", 4),),
        competences=(("Cost estimating", 4, 0.5),),
        governance=(("Historical cost database", False),),
    ),
    Svc(
        code="PLN-04",
        name="Project recovery support",
        category="pln",
        summary="Experienced help to bring a failing project back under control.",
        description=(
            "When a health check finds a project in serious trouble, a recovery manager "
            "from Meridian Project Services works alongside the team to re-plan, reset "
            "expectations with the sponsor and get delivery moving again."
        ),
        outcome="Troubled projects recover or are stopped quickly, not left to drift.",
        rationale=(E,),
        note="Recovery skills are rare; buying them in when needed is cheaper than keeping them.",
        scopes=(PRJ,),
        pmos=("epmo",),
        pricing=(UNIT, "per week"),
        levels=(
            ("S", 20, "Recovery manager two and a half days a week."),
            ("I", 40, "Recovery manager full time."),
        ),
        suppliers=((EXTERNAL, MERIDIAN), (ROLE, SPONSORS)),
        trigger=("Recovery request", "Sponsor asks after a red health check.", SPONSORS),
        inputs=(
            ("Health check findings", "Less than a month old.", "@GOV-03/Health check report"),
        ),
        steps=(
            ("Diagnose causes", "Recovery manager"),
            ("Re-plan with the team", "Recovery manager"),
            ("Agree the reset with the sponsor", "Service Owner"),
        ),
        outputs=(("Recovery plan", "Realistic plan the sponsor has signed.", OPS_IT),),
        owner="Hannah Okafor",
        operatives=("Chris Doyle",),
        symptoms=(("late", 3), ("budget", 3)),
        competences=(("Project recovery", 4, 0.5),),
        governance=(("Framework contract with Meridian", True),),
        stage=Stage.PILOT,
        mode=DeliveryMode.OUTSOURCED,
    ),
    # ------------------------------------------------------------ Reporting and information
    Svc(
        code="REP-01",
        name="Portfolio status reporting",
        category="rep",
        summary="A monthly status pack of every project, consolidated from the portfolio tool.",
        description=(
            "Project managers update status in the portfolio tool; the PMO checks the "
            "updates, challenges optimistic ratings and assembles a monthly pack with "
            "schedule, cost, risk and supplier positions for leaders at every level."
        ),
        outcome="Leaders know which projects need their attention, every month.",
        rationale=(F, C),
        note="One consolidation is cheaper than each board chasing its own numbers.",
        scopes=(POR, MUL),
        pmos=("epmo", "mfg", "it"),
        pricing=(FREE, ""),
        levels=_levels(
            "Monthly one-page portfolio summary.",
            "Monthly pack with a page per project and trends.",
            "Fortnightly pack plus an analyst at the divisional board.",
            (6, 20, 40),
        ),
        suppliers=((ROLE, PM), (SYSTEM, PPM)),
        trigger=("Reporting cycle opens", "Calendar date, five working days before boards.", PPM),
        inputs=(
            ("Project status updates", "Updated by the cut-off, ratings explained.", PM),
            ("Schedule position", "From baselined schedules.", "@PLN-01/Baselined schedule"),
            ("Cost position", "Forecast at completion.", "@PLN-02/Cost forecast"),
            ("Risk position", "Top risks and issues.", "@GOV-04/Portfolio risk summary"),
            (
                "Portfolio tool extract",
                "Complete for all live projects.",
                "@REP-04/Portfolio tool data extract",
            ),
            ("Supplier position", "Large contracts only.", "@GOV-06/Supplier performance summary"),
        ),
        steps=(
            ("Remind project managers of the cut-off", "PMO analyst"),
            ("Check and challenge status updates", "PMO analyst"),
            ("Assemble the pack", "PMO analyst"),
            ("Review and issue", "Service Manager"),
        ),
        outputs=(
            (
                "Portfolio status pack",
                "Issued by working day five, every live project in it.",
                ALL_NW,
            ),
        ),
        owner="Hannah Okafor",
        operatives=("Grace Liu", "Sofia Marin"),
        symptoms=(("blind", 5), ("paperwork", 3), ("late", 2), ("budget", 2)),
        competences=(("Portfolio reporting", 3, 1.0), ("Data analysis", 2, 0.5)),
        governance=(
            ("Reporting calendar agreed with boards", True),
            ("RAG definitions agreed", True),
        ),
        shared=("status", "ppm"),
    ),
    Svc(
        code="REP-02",
        name="Executive portfolio dashboard",
        category="rep",
        summary="A live dashboard of the portfolio for the executive team.",
        description=(
            "A self-service dashboard fed from the portfolio tool showing health, "
            "spend, milestones and benefits across the group, so executives no longer "
            "wait for the monthly pack."
        ),
        outcome="Executives can check the portfolio themselves at any time.",
        rationale=(F,),
        note="Automating the pack frees analyst time for challenge and insight.",
        scopes=(POR, ORG),
        pmos=("epmo", "it"),
        pricing=(FREE, ""),
        levels=(
            ("S", 8, "Standard dashboard refreshed nightly."),
            ("I", 24, "Dashboard plus custom views for each division."),
        ),
        suppliers=((SYSTEM, PPM),),
        trigger=("Nightly refresh", "Portfolio tool data complete.", PPM),
        inputs=(
            ("Status pack data", "Current month.", "@REP-01/Portfolio status pack"),
            ("Benefits data", "Latest benefits report.", "@CHG-01/Benefits realisation report"),
        ),
        steps=(
            ("Load and check data", "Tooling administrator"),
            ("Refresh the dashboard", "Tooling administrator"),
            ("Check for anomalies", "PMO analyst"),
        ),
        outputs=(
            (
                "Portfolio dashboard",
                "Refreshed by 07:00, data errors flagged.",
                ("Finance", "Operations", "IT"),
            ),
        ),
        owner="Priya Raman",
        operatives=("Ethan Walsh",),
        symptoms=(("blind", 4), ("paperwork", 2)),
        competences=(("Dashboard design", 3, 0.3),),
        governance=(("Data ownership agreed", False),),
        stage=Stage.DESIGN,
    ),
    Svc(
        code="REP-03",
        name="Project records and archive management",
        category="rep",
        summary="Keep project records complete, findable and retained as policy requires.",
        description=(
            "The PMO sets up the project's document structure, checks that key records "
            "are filed at each gate and archives the project file at closure with the "
            "right retention period."
        ),
        outcome="Anyone can find the decisions and documents of a past project.",
        rationale=(C, F),
        note="Records policy applies to every project; one service keeps it simple.",
        scopes=(PRJ, ORG),
        pmos=("coe",),
        pricing=(FREE, ""),
        levels=(
            ("L", 2, "Standard folder structure and closure archiving."),
            ("S", 6, "Plus a records check at each gate."),
        ),
        suppliers=((ROLE, PM),),
        trigger=("Project closure", "Closure approved at the final gate.", PM),
        inputs=(
            (
                "Board decisions",
                "Decision log entries for the project.",
                "@GOV-01/Decision and action log",
            ),
            ("Post-project review", "Final version.", "@CAP-06/Post-project review report"),
        ),
        steps=(
            ("Check records against the list", "Records officer"),
            ("Archive with retention", "Records officer"),
            ("Confirm closure of the file", "Service Manager"),
        ),
        outputs=(
            ("Archived project file", "Complete against the records list, retention set.", ALL_NW),
        ),
        owner="Maria Rossi",
        operatives=("Elena Popescu",),
        symptoms=(("repeat", 2),),
        competences=(("Records management", 3, 0.3),),
        governance=(("Records retention schedule", True),),
    ),
    Svc(
        code="REP-04",
        name="Project tool administration",
        category="rep",
        summary="Run the portfolio management tool: accounts, set-up, data quality and help.",
        description=(
            "The Digital & IT PMO administers the portfolio tool: new projects and users, "
            "templates and fields, data quality checks and first-line help for project "
            "teams, plus the monthly data extract used for reporting."
        ),
        outcome="Project data is in one place and can be trusted.",
        rationale=(F, C),
        note="One administration team is cheaper than local spreadsheets everywhere.",
        scopes=(ORG,),
        pmos=("it",),
        pricing=(FIXED, "per user per month"),
        levels=(
            ("S", 0.2, "Account, standard set-up and help desk."),
            ("I", 0.5, "Plus custom fields, reports and training for the team."),
        ),
        suppliers=((SYSTEM, PPM), (ROLE, "Centre of Excellence")),
        trigger=("Access or set-up request", "Approved by the project manager.", PPM),
        inputs=(("Standard templates", "Current approved versions.", "@CAP-02/Template library"),),
        steps=(
            ("Create projects and accounts", "Tooling administrator"),
            ("Configure templates and fields", "Tooling administrator"),
            ("Run data quality checks", "Tooling administrator"),
            ("Produce the monthly extract", "Tooling administrator"),
        ),
        outputs=(
            ("Portfolio tool data extract", "All live projects, checked for gaps.", ("IT",)),
            ("Configured project workspace", "Ready within two working days.", OPS_IT),
        ),
        owner="Hannah Okafor",
        operatives=("Ethan Walsh", "Sofia Marin"),
        symptoms=(("paperwork", 3), ("blind", 2)),
        competences=(("Portfolio tool administration", 4, 1.0),),
        governance=(("Tool licences funded", True),),
        shared=("ppm",),
        hours="Mon-Fri 07:30-18:00 CET",
    ),
    # ------------------------------------------------------------ Capability and methods
    Svc(
        code="CAP-01",
        name="Methodology and standards",
        category="cap",
        summary="The group's way of running projects, kept short, current and tailored.",
        description=(
            "The Centre of Excellence owns the project management handbook: stages, "
            "roles, controls and how to scale them to project size. It revises the "
            "handbook twice a year from lessons learned and user feedback."
        ),
        outcome="Projects are run in a recognisable, proportionate way across the group.",
        rationale=(E, C),
        note="A common method only works if one team looks after it.",
        scopes=(ORG,),
        pmos=("coe",),
        pricing=(FREE, ""),
        levels=(
            ("L", 2, "Access to the handbook and its change notes."),
            ("S", 8, "Tailoring session for a project or programme."),
        ),
        suppliers=((ROLE, PM), (ROLE, "Centre of Excellence")),
        trigger=(
            "Method revision cycle",
            "Twice a year, or after a major lesson.",
            "Centre of Excellence",
        ),
        inputs=(
            ("Lessons learned digest", "Themes with evidence.", "@CAP-05/Lessons learned digest"),
        ),
        steps=(
            ("Collect feedback and lessons", "Methods lead"),
            ("Draft changes", "Methods lead"),
            ("Consult practitioners", "Methods lead"),
            ("Approve and publish", "Service Owner"),
        ),
        outputs=(
            ("Project management handbook", "Approved, versioned, change notes published.", ALL_NW),
        ),
        owner="Maria Rossi",
        operatives=("Kwame Mensah",),
        symptoms=(("adhoc", 5), ("repeat", 3)),
        competences=(("Method design", 4, 0.5),),
        governance=(("Executive mandate for a common method", True),),
        shared=("handbook",),
    ),
    Svc(
        code="CAP-02",
        name="Templates and toolkit",
        category="cap",
        summary="Ready-to-use templates and guides for every stage of a project.",
        description=(
            "A library of templates, examples and short guides matching the handbook, "
            "from the business case to the closure report, kept in step with the method "
            "and loaded into the portfolio tool."
        ),
        outcome="Teams start from good examples instead of a blank page.",
        rationale=(F,),
        note="Building a template once saves every project the effort.",
        scopes=(ORG,),
        pmos=("coe",),
        pricing=(FREE, ""),
        levels=(
            ("L", 1, "Self-service library."),
            ("S", 4, "Help adapting templates to a project."),
        ),
        suppliers=((ROLE, "Centre of Excellence"),),
        trigger=("Handbook revision", "New handbook version approved.", "Centre of Excellence"),
        inputs=(("Handbook", "Approved version.", "@CAP-01/Project management handbook"),),
        steps=(
            ("Update templates to the method", "Methods lead"),
            ("Test with a pilot project", "PM coach"),
            ("Publish to the library", "Training coordinator"),
        ),
        outputs=(("Template library", "Every template matches the current handbook.", ALL_NW),),
        owner="Maria Rossi",
        operatives=("Elena Popescu", "Sofia Marin"),
        symptoms=(("adhoc", 4), ("paperwork", 2)),
        competences=(("Template design", 3, 0.3),),
        governance=(("Intranet library space", True),),
        shared=("status", "gate", "raid", "case"),
    ),
    Svc(
        code="CAP-03",
        name="Project management training",
        category="cap",
        summary="Courses from project basics to advanced practice, tied to our method.",
        description=(
            "A curriculum of classroom and online courses for project managers, team "
            "members and sponsors, built on the handbook, with certification support "
            "for practitioners."
        ),
        outcome="People who run projects have the skills the method assumes.",
        rationale=(E, X),
        note="Group-wide courses cost less per head than ad hoc external training.",
        scopes=(ORG,),
        pmos=("coe",),
        pricing=(UNIT, "per participant per course day"),
        levels=_levels(
            "Online introduction (half a day).",
            "Two-day practitioner course.",
            "Five-day programme with certification coaching.",
            (1, 3, 8),
        ),
        suppliers=((GROUP, "HR"), (ROLE, "Centre of Excellence")),
        trigger=("Training request", "Approved by the participant's line manager.", "HR"),
        inputs=(("Handbook", "Current version.", "@CAP-01/Project management handbook"),),
        steps=(
            ("Assess the learning need", "Training coordinator"),
            ("Deliver the course", "PM trainer"),
            ("Assess and record completion", "Training coordinator"),
        ),
        outputs=(
            (
                "Training and certification record",
                "Recorded within a week in the HR system.",
                ("HR",),
            ),
        ),
        owner="Maria Rossi",
        operatives=("Elena Popescu", "Kwame Mensah"),
        symptoms=(("skills", 5), ("adhoc", 3)),
        competences=(("Training delivery", 3, 0.8),),
        governance=(("Training budget agreed with HR", True),),
        shared=("handbook",),
    ),
    Svc(
        code="CAP-04",
        name="Coaching and mentoring for project managers",
        category="cap",
        summary="One-to-one coaching from an experienced practitioner.",
        description=(
            "Project managers get regular sessions with a coach to work through real "
            "problems on their projects, often after a health check or when taking on a "
            "bigger role."
        ),
        outcome="Project managers grow faster and handle difficult projects better.",
        rationale=(E,),
        note="Coaching turns health check findings into lasting habits.",
        scopes=(PRJ,),
        pmos=("coe",),
        pricing=(UNIT, "per session"),
        levels=(("S", 1.5, "Monthly session for six months."), ("I", 3, "Fortnightly sessions.")),
        suppliers=((ROLE, PM),),
        trigger=("Coaching request", "Goals agreed with the line manager.", PM),
        inputs=(("Health check findings", "If a review was done.", "@GOV-03/Health check report"),),
        steps=(
            ("Agree coaching goals", "PM coach"),
            ("Hold sessions", "PM coach"),
            ("Review progress", "PM coach"),
        ),
        outputs=(
            (
                "Coaching plan and progress notes",
                "Shared with the coachee only.",
                ("Operations", "IT"),
            ),
        ),
        owner="Maria Rossi",
        operatives=("Kwame Mensah",),
        symptoms=(("skills", 4), ("repeat", 2)),
        competences=(("Coaching", 4, 0.4),),
        governance=(("Coaching code of conduct", True),),
        stage=Stage.SIGNED_OFF,
    ),
    Svc(
        code="CAP-05",
        name="Lessons learned",
        category="cap",
        summary="Capture lessons from projects and make sure the next project uses them.",
        description=(
            "The PMO runs short lessons sessions, files lessons in a searchable log and "
            "publishes a quarterly digest of recurring themes, which feeds changes to "
            "the handbook."
        ),
        outcome="The group stops paying twice for the same mistake.",
        rationale=(E,),
        note="Lessons only travel between projects through someone who sees them all.",
        scopes=(ORG, MUL),
        pmos=("coe", "mfg"),
        pricing=(FREE, ""),
        levels=(("L", 2, "Lessons form and log."), ("S", 6, "Facilitated lessons session.")),
        suppliers=((ROLE, PM),),
        trigger=("Stage end or closure", "Gate or closure date reached.", PM),
        inputs=(("Post-project review", "Final version.", "@CAP-06/Post-project review report"),),
        steps=(
            ("Run the lessons session", "PM coach"),
            ("File lessons in the log", "Training coordinator"),
            ("Analyse themes", "Methods lead"),
            ("Publish the digest", "Methods lead"),
        ),
        outputs=(("Lessons learned digest", "Quarterly, themes with actions.", ALL_NW),),
        owner="Hannah Okafor",
        operatives=("Kwame Mensah", "Sofia Marin"),
        symptoms=(("repeat", 5),),
        competences=(("Facilitation", 3, 0.3),),
        governance=(("Lessons log in the portfolio tool", False),),
        own=(("Lessons learned capture form", ArtefactKind.TEMPLATE, "lessons/capture-form"),),
    ),
    Svc(
        code="CAP-06",
        name="Post-project reviews",
        category="cap",
        summary="Review finished projects against their case: delivery, cost and benefits.",
        description=(
            "Six months after closure the PMO compares what a project delivered with "
            "what its business case promised and reports to the sponsor and the "
            "portfolio board."
        ),
        outcome="The board learns which kinds of investment pay off.",
        rationale=(C, E),
        note="Reviews need someone independent of the project team.",
        scopes=(PRJ,),
        pmos=("epmo",),
        pricing=(FREE, ""),
        levels=(
            ("S", 12, "Review with report."),
            ("I", 30, "Review with workshops and site visits."),
        ),
        suppliers=((ROLE, SPONSORS),),
        trigger=("Six months after closure", "Closure date recorded.", SPONSORS),
        inputs=(
            (
                "Benefits achieved",
                "Measured against baselines.",
                "@CHG-01/Benefits realisation report",
            ),
        ),
        steps=(
            ("Collect evidence", "Portfolio analyst"),
            ("Interview sponsor and users", "Portfolio analyst"),
            ("Write the review", "Portfolio analyst"),
        ),
        outputs=(
            (
                "Post-project review report",
                "Compares promised and achieved outcomes.",
                ("Finance", "Operations"),
            ),
        ),
        owner="Priya Raman",
        operatives=("Amara Singh",),
        symptoms=(("benefits", 4), ("repeat", 3)),
        competences=(("Evaluation", 3, 0.3),),
        governance=(("Closure reports include benefit baselines", False),),
        stage=Stage.CLOSED,
        own=(
            ("Post-project review agenda", ArtefactKind.TEMPLATE, "reviews/agenda"),
            ("Review facilitation guide", ArtefactKind.DOCUMENT, "reviews/facilitation-guide"),
        ),
    ),
    # ------------------------------------------------------------ Resource management
    Svc(
        code="RES-01",
        name="Resource capacity planning",
        category="res",
        summary="Match demand for project people with who is available, by skill.",
        description=(
            "The PMO collects resource requests from projects and availability from line "
            "managers, shows the gaps by skill and quarter, and proposes moves or hiring "
            "before the portfolio board commits to new work."
        ),
        outcome="The group commits only to work it can staff.",
        rationale=(E, C),
        note="Only a cross-divisional view shows where people are double-booked.",
        scopes=(POR, ORG),
        pmos=("epmo", "mfg"),
        pricing=(FREE, ""),
        levels=(
            ("L", 4, "Quarterly capacity snapshot."),
            ("S", 12, "Monthly forecast by skill with gap analysis."),
            ("I", 30, "Scenario modelling for the quarterly planning cycle."),
        ),
        suppliers=((ROLE, "Line managers"), (ROLE, PM)),
        trigger=("Monthly resource cycle", "Requests submitted by the cut-off.", PM),
        inputs=(
            ("Availability", "Absences and other work declared.", "Line managers"),
            ("Project manager skills", "Current profiles.", "@RES-02/PM skills profile"),
        ),
        steps=(
            ("Collect requests and availability", "Resource analyst"),
            ("Compare demand and capacity", "Resource analyst"),
            ("Propose solutions for gaps", "Service Manager"),
        ),
        outputs=(
            (
                "Capacity and demand forecast",
                "Four quarters, by skill, gaps flagged.",
                ("HR", "Operations", "IT"),
            ),
        ),
        owner="Hannah Okafor",
        operatives=("Oliver Grant", "Sofia Marin"),
        symptoms=(("overload", 5), ("late", 3)),
        competences=(("Resource planning", 3, 0.6),),
        governance=(("Line managers declare availability", False),),
        own=(("Capacity planning workbook", ArtefactKind.TOOL, "resources/capacity-workbook"),),
        stage=Stage.TRANSITION,
    ),
    Svc(
        code="RES-02",
        name="Project manager recruitment and career paths",
        category="res",
        summary="Help hire, assess and develop project managers along a clear career path.",
        description=(
            "With HR the PMO defines project management job levels, joins interview "
            "panels and keeps a skills profile of the project manager pool."
        ),
        outcome="The group attracts and keeps capable project managers.",
        rationale=(E,),
        note="Project managers are judged best by experienced practitioners.",
        scopes=(ORG,),
        pmos=("coe",),
        pricing=(FREE, ""),
        levels=(
            ("S", 6, "Interview panel support."),
            ("I", 20, "Assessment centre for senior roles."),
        ),
        suppliers=((GROUP, "HR"),),
        trigger=("Vacancy or career review", "Approved vacancy or annual review.", "HR"),
        inputs=(("Training records", "Current.", "@CAP-03/Training and certification record"),),
        steps=(
            ("Define the role level", "Methods lead"),
            ("Assess candidates", "PM coach"),
            ("Update the skills profile", "Training coordinator"),
        ),
        outputs=(("PM skills profile", "Every project manager assessed within a year.", ("HR",)),),
        owner="Maria Rossi",
        operatives=("Kwame Mensah",),
        symptoms=(("skills", 5),),
        competences=(("Competence assessment", 3, 0.2),),
        governance=(("Job family agreed with HR", False),),
        stage=Stage.PROPOSED,
    ),
    # ------------------------------------------------------------ Change and benefits
    Svc(
        code="CHG-01",
        name="Benefits tracking",
        category="chg",
        summary="Follow each project's promised benefits until they are delivered.",
        description=(
            "Benefits from approved business cases are given owners, measures and "
            "baselines; the PMO collects measurements each quarter and reports what has "
            "been realised against plan, well beyond project closure."
        ),
        outcome="The group knows what its investments return.",
        rationale=(C, E),
        note="Benefits outlive projects; only a permanent function can track them.",
        scopes=(POR, PRG),
        pmos=("epmo",),
        pricing=(FREE, ""),
        levels=_levels(
            "Benefits register kept up to date.",
            "Quarterly measurement and report.",
            "Benefits workshops and realisation planning with the business.",
            (2, 8, 24),
        ),
        suppliers=((GROUP, "Finance"), (ROLE, "Benefit owners")),
        trigger=("Business case approved", "Benefits with owners and measures.", "Benefit owners"),
        inputs=(
            ("Registered business case", "Baselines included.", "@POR-01/Registered business case"),
            ("Financial actuals", "Savings validated by Finance.", "Finance"),
        ),
        steps=(
            ("Register benefits and owners", "Benefits manager"),
            ("Collect measurements", "Benefits manager"),
            ("Validate with Finance", "Finance business partner"),
            ("Report realisation", "Benefits manager"),
        ),
        outputs=(
            (
                "Benefits realisation report",
                "Quarterly, validated figures only.",
                ("Finance", "Operations"),
            ),
        ),
        owner="Priya Raman",
        operatives=("Amara Singh",),
        symptoms=(("benefits", 5), ("overload", 2)),
        competences=(("Benefits management", 4, 0.6),),
        governance=(("Benefit owners named in every case", True),),
        shared=("case",),
    ),
    Svc(
        code="CHG-02",
        name="Stakeholder engagement and communications",
        category="chg",
        summary="Plan who needs to hear what about a project, and make sure they do.",
        description=(
            "The PMO helps teams map stakeholders, plan engagement and write clear "
            "messages, and runs the channels (intranet news, plant briefings) that "
            "reach staff on the shop floor."
        ),
        outcome="People affected by a project know what is coming and why.",
        rationale=(E,),
        note="Shared channels and templates reach more people for less effort.",
        scopes=(PRJ, PRG),
        pmos=("mfg", "it"),
        pricing=(UNIT, "per month"),
        levels=_levels(
            "Stakeholder map template and review.",
            "Engagement plan and monthly communications.",
            "Dedicated communications lead for a programme.",
            (2, 10, 40),
        ),
        suppliers=((ROLE, PM), (GROUP, "HR")),
        trigger=("Engagement request", "Project approved to start.", PM),
        steps=(
            ("Map stakeholders", "Engagement lead"),
            ("Plan engagement", "Engagement lead"),
            ("Deliver communications", "Engagement lead"),
        ),
        outputs=(
            (
                "Stakeholder map and engagement plan",
                "Each group, its concerns and channels.",
                OPS_IT,
            ),
        ),
        owner="Hannah Okafor",
        operatives=("Sofia Marin",),
        symptoms=(("adoption", 4), ("decisions", 2)),
        competences=(("Stakeholder engagement", 3, 0.6),),
        governance=(("Internal communications guidelines", True),),
    ),
    Svc(
        code="CHG-03",
        name="Business change and adoption support",
        category="chg",
        summary="Prepare teams for new systems and processes, and check they are ready.",
        description=(
            "Change analysts assess the impact of a project on each team, plan training "
            "and support, and score readiness before go-live so the gate can decide "
            "with facts."
        ),
        outcome="New ways of working are used, not just installed.",
        rationale=(E,),
        note="Adoption is planned once across projects hitting the same teams.",
        scopes=(PRJ, PRG),
        pmos=("mfg", "it"),
        pricing=(UNIT, "per month"),
        levels=(
            ("S", 16, "Impact assessment and readiness check."),
            ("I", 60, "Embedded change analyst."),
        ),
        suppliers=((ROLE, PM), (GROUP, "Operations")),
        trigger=("Change impact request", "Go-live date planned.", PM),
        inputs=(("Stakeholder map", "Current.", "@CHG-02/Stakeholder map and engagement plan"),),
        steps=(
            ("Assess impact per team", "Change analyst"),
            ("Plan training and support", "Change analyst"),
            ("Score readiness", "Change analyst"),
        ),
        outputs=(("Change readiness assessment", "Scored by each affected team.", OPS_IT),),
        owner="Hannah Okafor",
        operatives=("Sofia Marin",),
        managers=(("mfg", "Tomasz Nowak"),),
        symptoms=(("adoption", 5),),
        competences=(("Change management", 3, 0.5),),
        governance=(("Business owners accept readiness scoring", False),),
        stage=Stage.PILOT,
    ),
)

RIVERSIDE_CLINICAL = ("Clinical Services", "Nursing")
RIVERSIDE_BOARD = ("Finance", "Clinical Services", "Estates & Facilities")
PROGRAMME_LEADS = "Programme and project leads"

RIVERSIDE_SERVICES = (
    Svc(
        code="TGV-01",
        name="Transformation board secretariat",
        category="gov",
        summary="Papers, minutes and decisions for the trust's transformation board.",
        description=(
            "The PMO prepares the monthly transformation board: agenda, papers checked "
            "for completeness, minutes and a decision log shared with every programme."
        ),
        outcome="The board decides on complete information and its decisions are followed up.",
        rationale=(F, C),
        note="One secretariat keeps the board's record consistent.",
        scopes=(POR,),
        pmos=("tpmo",),
        pricing=(FREE, ""),
        levels=(("S", 10, "Monthly board secretariat."), ("I", 20, "Plus extraordinary boards.")),
        suppliers=((ROLE, PROGRAMME_LEADS),),
        trigger=("Board date set", "Annual board calendar.", PROGRAMME_LEADS),
        inputs=(
            ("Programme highlight reports", "Current month.", "@TRP-01/Programme highlight report"),
        ),
        steps=(
            ("Plan the agenda", "PMO manager"),
            ("Collect and check papers", "Programme support officer"),
            ("Minute decisions and actions", "Programme support officer"),
        ),
        outputs=(("Board decision log", "Updated within two days.", RIVERSIDE_BOARD),),
        owner="Dr Helen Carter",
        operatives=("Chloe Evans",),
        symptoms=(("decisions", 5),),
        competences=(("Board secretariat", 3, 0.3),),
        governance=(("Board terms of reference", True),),
        shared=("highlight",),
    ),
    Svc(
        code="TRP-01",
        name="Programme reporting",
        category="gov",
        summary="A monthly highlight report for each transformation programme.",
        description=(
            "Programme leads update progress, risks and benefits; the PMO checks the "
            "figures and turns them into a short highlight report for the board and the "
            "clinical divisions."
        ),
        outcome="The board sees which programmes are on track and which need help.",
        rationale=(F, C),
        note="A common report lets the board compare programmes fairly.",
        scopes=(PRG, POR),
        pmos=("tpmo",),
        pricing=(FREE, ""),
        levels=(
            ("L", 4, "Quarterly summary."),
            ("S", 12, "Monthly highlight report per programme."),
        ),
        suppliers=((ROLE, PROGRAMME_LEADS),),
        trigger=("Monthly reporting cut-off", "Fifth working day.", PROGRAMME_LEADS),
        inputs=(
            ("Programme updates", "Submitted by the cut-off.", PROGRAMME_LEADS),
            ("Benefits position", "Latest quarter.", "@TBN-01/Benefits tracker"),
            ("Risk position", "Top programme risks.", "@TRK-01/Programme risk register"),
        ),
        steps=(
            ("Collect updates", "Programme support officer"),
            ("Check and challenge", "PMO manager"),
            ("Publish highlight reports", "Programme support officer"),
        ),
        outputs=(("Programme highlight report", "One page, RAG explained.", RIVERSIDE_BOARD),),
        owner="Imran Shah",
        operatives=("Chloe Evans", "Tom Bradley"),
        symptoms=(("blind", 5), ("benefits", 2)),
        competences=(("Programme reporting", 3, 0.6),),
        governance=(("RAG definitions agreed", True),),
        shared=("highlight",),
    ),
    Svc(
        code="TRK-01",
        name="Programme risk and issue support",
        category="gov",
        summary="Keep programme risks and issues owned, scored and reviewed.",
        description=(
            "The PMO facilitates risk reviews with programme teams, keeps the programme "
            "risk registers and escalates risks to patient safety or finance to the board."
        ),
        outcome="Risks to patients, money and dates are managed before they land.",
        rationale=(E, C),
        note="A single register links programme risks to the trust's risk framework.",
        scopes=(PRG,),
        pmos=("tpmo",),
        pricing=(FREE, ""),
        levels=(
            ("L", 2, "Monthly register review."),
            ("S", 8, "Facilitated risk workshop each quarter."),
        ),
        suppliers=((ROLE, PROGRAMME_LEADS),),
        trigger=("Programme starts", "Programme mandate approved.", PROGRAMME_LEADS),
        steps=(
            ("Facilitate the risk review", "PMO manager"),
            ("Update the register", "Project manager"),
            ("Escalate significant risks", "PMO manager"),
        ),
        outputs=(
            (
                "Programme risk register",
                "Scored on the trust matrix, owners named.",
                RIVERSIDE_BOARD,
            ),
        ),
        owner="Imran Shah",
        operatives=("Tom Bradley",),
        symptoms=(("surprise", 5),),
        competences=(("Risk management", 3, 0.3),),
        governance=(("Trust risk matrix", True),),
        shared=("raid",),
    ),
    Svc(
        code="TBC-01",
        name="Business case support",
        category="ben",
        summary="Help clinical and corporate teams write business cases the board can approve.",
        description=(
            "The PMO guides authors through the trust's business case format, checks "
            "costs with Finance and makes sure benefits are measurable before the case "
            "goes to the board."
        ),
        outcome="Good ideas are not lost to weak cases, and weak ideas do not get through.",
        rationale=(E,),
        note="Authors write a case rarely; the PMO sees many and knows what works.",
        scopes=(PRJ,),
        pmos=("tpmo",),
        pricing=(FREE, ""),
        levels=(
            ("L", 3, "Review of a draft case."),
            ("S", 12, "Support from outline to final case."),
        ),
        suppliers=((GROUP, "Clinical Services"), (GROUP, "Finance")),
        trigger=("Case request", "Idea with a named sponsor.", "Clinical Services"),
        inputs=(
            (
                "Clinical engagement evidence",
                "Clinicians consulted.",
                "@TEN-01/Clinical stakeholder plan",
            ),
        ),
        steps=(
            ("Shape the options", "PMO manager"),
            ("Check costs with Finance", "Programme support officer"),
            ("Define benefit measures", "PMO manager"),
        ),
        outputs=(
            (
                "Approved business case",
                "Costs validated, benefits measurable.",
                ("Finance", "Clinical Services"),
            ),
        ),
        owner="Dr Helen Carter",
        operatives=("Chloe Evans",),
        symptoms=(("benefits", 3), ("decisions", 2)),
        competences=(("Business case writing", 3, 0.4),),
        governance=(("Scheme of delegation", True),),
        shared=("case",),
    ),
    Svc(
        code="TBN-01",
        name="Benefits tracking",
        category="ben",
        summary="Track the financial and patient benefits each programme promised.",
        description=(
            "Benefits from approved cases are logged with owners and measures; the PMO "
            "collects the data each quarter, including patient outcome measures, and "
            "reports progress to the board."
        ),
        outcome="The trust knows which changes improved care and saved money.",
        rationale=(C, E),
        note="Benefits are tracked after projects end, so the PMO keeps them.",
        scopes=(POR,),
        pmos=("tpmo",),
        pricing=(FREE, ""),
        levels=(
            ("S", 8, "Quarterly benefits tracker."),
            ("I", 20, "Benefits reviews with clinical leads."),
        ),
        suppliers=((ROLE, "Benefit owners"),),
        trigger=("Case approved", "Benefits with owners.", "Benefit owners"),
        inputs=(("Approved business case", "Final version.", "@TBC-01/Approved business case"),),
        steps=(
            ("Log benefits and owners", "Programme support officer"),
            ("Collect measures", "Programme support officer"),
            ("Report progress", "PMO manager"),
        ),
        outputs=(("Benefits tracker", "Quarterly, validated by Finance.", RIVERSIDE_BOARD),),
        owner="Imran Shah",
        operatives=("Chloe Evans",),
        symptoms=(("benefits", 5),),
        competences=(("Benefits management", 3, 0.4),),
        governance=(("Benefit owners named", False),),
    ),
    Svc(
        code="TEN-01",
        name="Clinical change stakeholder engagement",
        category="cap",
        summary="Involve clinicians and nurses early in changes that affect their work.",
        description=(
            "The PMO maps clinical stakeholders, arranges engagement sessions on wards "
            "and in departments and records what was heard, so changes are designed "
            "with the people who will work with them."
        ),
        outcome="Clinical staff support the changes because they shaped them.",
        rationale=(E,),
        note="Clinicians' time is scarce; one coordinated approach asks less of them.",
        scopes=(PRJ, PRG),
        pmos=("tpmo",),
        pricing=(FREE, ""),
        levels=(
            ("S", 10, "Stakeholder map and engagement plan."),
            ("I", 30, "Facilitated sessions."),
        ),
        suppliers=((GROUP, "Clinical Services"), (GROUP, "Nursing")),
        trigger=(
            "Change affecting clinical staff",
            "Areas affected identified.",
            "Clinical Services",
        ),
        steps=(
            ("Map clinical stakeholders", "Project manager"),
            ("Run engagement sessions", "Project manager"),
            ("Record and feed back", "Programme support officer"),
        ),
        outputs=(
            ("Clinical stakeholder plan", "Each area and staff group covered.", RIVERSIDE_CLINICAL),
        ),
        owner="Dr Helen Carter",
        operatives=("Tom Bradley",),
        symptoms=(("adoption", 5),),
        competences=(("Clinical engagement", 3, 0.3),),
        governance=(("Clinical lead for each programme", False),),
        stage=Stage.PILOT,
    ),
    Svc(
        code="TTR-01",
        name="Project management training",
        category="cap",
        summary="Practical project skills for clinical and corporate staff leading change.",
        description=(
            "Short courses for staff who lead improvement projects alongside their day "
            "job: planning, risks, benefits and reporting the trust's way."
        ),
        outcome="Change leads across the trust share the basics of running a project.",
        rationale=(E, X),
        note="In-house courses fit shift patterns and cost less than external ones.",
        scopes=(ORG,),
        pmos=("tpmo",),
        pricing=(UNIT, "per participant"),
        levels=(("L", 2, "Half-day introduction."), ("S", 6, "Two-day course.")),
        suppliers=((GROUP, "Nursing"),),
        trigger=("Training request", "Manager's approval.", "Nursing"),
        steps=(
            ("Plan the course calendar", "Programme support officer"),
            ("Deliver courses", "PMO manager"),
            ("Record attendance", "Programme support officer"),
        ),
        outputs=(("Training record", "Attendance recorded within a week.", RIVERSIDE_CLINICAL),),
        owner="Imran Shah",
        operatives=("Tom Bradley", "Chloe Evans"),
        symptoms=(("skills", 5),),
        competences=(("Training delivery", 3, 0.2),),
        governance=(("Study leave policy covers the course", True),),
        stage=Stage.DESIGN,
    ),
)

CATALOGUES: dict[str, Catalogue] = {
    "northwind": Catalogue(
        intranet="https://intranet.northwind.example/pmo/",
        pmos={
            "epmo": "Enterprise PMO",
            "mfg": "Manufacturing Operations PMO",
            "it": "Digital & IT PMO",
            "coe": "Project Management Centre of Excellence",
        },
        coe="coe",
        managers={
            "epmo": "Grace Liu",
            "mfg": "Daniel Brooks",
            "it": "Yuki Tanaka",
            "coe": "Maria Rossi",
        },
        categories=(
            ("gov", "Governance and assurance", "Boards, gates, reviews and controls."),
            ("por", "Portfolio management", "Choosing and balancing the right projects."),
            ("pln", "Planning and control", "Schedules, costs and estimates."),
            ("rep", "Reporting and information", "Status, dashboards, records and tools."),
            ("cap", "Capability and methods", "Method, templates, training and learning."),
            ("res", "Resource management", "People for projects, now and next year."),
            ("chg", "Change and benefits", "Benefits, stakeholders and adoption."),
        ),
        symptoms=NORTHWIND_SYMPTOMS,
        artefacts=NORTHWIND_ARTEFACTS,
        services=NORTHWIND_SERVICES,
        revisions=(
            (
                "REP-01",
                {"hours": "Mon-Fri 08:00-18:00 CET; pack issued by working day five"},
                ("decisions", 2),
                "Longer hours; now also helps boards decide.",
            ),
            (
                "GOV-03",
                {"summary": "An independent look at how a project is really doing, and why."},
                ("surprise", 3),
                "Summary reworded; linked to early risk warning.",
            ),
        ),
        provider=MERIDIAN,
    ),
    "riverside": Catalogue(
        intranet="https://intranet.riverside.example/transformation/",
        pmos={"tpmo": "Transformation PMO"},
        coe="tpmo",
        managers={"tpmo": "Imran Shah"},
        categories=(
            ("gov", "Governance and reporting", "Board support, reporting and risks."),
            ("ben", "Business cases and benefits", "From the case to the benefits."),
            ("cap", "Engagement and capability", "Clinical engagement and skills."),
        ),
        symptoms={
            "blind": "The board cannot tell which programmes are off track",
            "benefits": "Savings and care improvements promised in cases are never checked",
            "decisions": "Board papers arrive late and decisions are deferred",
            "surprise": "Programme risks reach the board only once they are incidents",
            "adoption": "Clinical staff resist changes designed without them",
            "skills": "Staff leading change have never run a project before",
        },
        artefacts=(
            (
                "highlight",
                "Programme highlight report template",
                ArtefactKind.TEMPLATE,
                "Progress, RAG, risks and benefits on one page.",
                "templates/highlight-report",
            ),
            (
                "raid",
                "Programme RAID log",
                ArtefactKind.TEMPLATE,
                "Risks, assumptions, issues and dependencies on the trust matrix.",
                "templates/raid-log",
            ),
            (
                "case",
                "Trust business case template",
                ArtefactKind.TEMPLATE,
                "The trust's five-case format for change proposals.",
                "templates/business-case",
            ),
        ),
        services=RIVERSIDE_SERVICES,
        revisions=(
            (
                "TRP-01",
                {"summary": "A monthly one-page highlight report for each programme."},
                ("surprise", 2),
                "Summary clarified; linked to risk escalation.",
            ),
        ),
    ),
}
