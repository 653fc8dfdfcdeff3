"""Pages of the organisations app: the org home, PMOs, people, customer groups, members,
the activity log, and the user's API tokens."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from carte.core.errors import DomainError
from carte.core.listing import paginate
from carte.core.models import AuditAction, AuditEntry
from carte.core.permissions import ADD, CHANGE, VIEW, can, require
from carte.core.slots import Slot
from carte.core.views import (
    Column,
    FilterField,
    UIResource,
    done,
    filtered,
    is_htmx,
    list_view,
    page_size,
    refusal_status,
    resource_urls,
)
from carte.core.work import my_work
from carte.organisations import framework, selectors, services
from carte.organisations.access import org_view
from carte.organisations.actor import Actor
from carte.organisations.choices import CompetenceLevel, OrgRole, PMOKind
from carte.organisations.filters import (
    AuditFilter,
    CompetenceFilter,
    CustomerGroupFilter,
    MembershipFilter,
    PersonFilter,
    PMOFilter,
)
from carte.organisations.forms import (
    CompetenceForm,
    CompetenceImportForm,
    CustomerGroupForm,
    MemberCreateForm,
    MemberRolesForm,
    PersonForm,
    PMOForm,
)
from carte.organisations.models import PMO, Competence, CustomerGroup, Membership, Person, User


def _pmo_options(actor: Actor) -> list[tuple[Any, str]]:
    return [(p.pk, p.name) for p in selectors.pmo_choices(actor=actor)]


def _group_options(actor: Actor) -> list[tuple[Any, str]]:
    return [(g.pk, g.name) for g in selectors.customer_group_choices(actor=actor)]


PMOS = UIResource(
    name="pmos",
    url_stem="pmo",
    singular="PMO",
    plural="PMOs",
    model=PMO,
    filters=PMOFilter,
    list_selector=selectors.pmo_list,
    get_selector=selectors.pmo_get,
    form=PMOForm,
    create=lambda actor, d: services.pmo_create(actor=actor, **d),
    update=lambda actor, obj, d: services.pmo_update(actor=actor, pmo=obj, data=d),
    archive=lambda actor, obj: services.pmo_archive(actor=actor, pmo=obj),
    restore=lambda actor, obj: services.pmo_restore(actor=actor, pmo=obj),
    columns=[
        Column("Name", "name", order="name", link=True),
        Column("Kind", "get_kind_display", order="kind"),
        Column("Parent", "parent", order="parent"),
        Column("People", "people_count", order="people"),
    ],
    detail_fields=[
        ("Kind", "get_kind_display"),
        ("Parent PMO", "parent"),
        ("Description", "description"),
    ],
    filter_fields=[
        FilterField("kind", "Kind", lambda actor: list(PMOKind.choices)),
        FilterField("parent", "Parent PMO", _pmo_options),
    ],
)

CUSTOMER_GROUPS = UIResource(
    name="customer-groups",
    url_stem="customer_group",
    singular="customer group",
    plural="Customer groups",
    model=CustomerGroup,
    filters=CustomerGroupFilter,
    list_selector=selectors.customer_group_list,
    get_selector=selectors.customer_group_get,
    form=CustomerGroupForm,
    create=lambda actor, d: services.customer_group_create(actor=actor, **d),
    update=lambda actor, obj, d: services.customer_group_update(
        actor=actor, customer_group=obj, data=d
    ),
    archive=lambda actor, obj: services.customer_group_archive(actor=actor, customer_group=obj),
    restore=lambda actor, obj: services.customer_group_restore(actor=actor, customer_group=obj),
    columns=[
        Column("Name", "name", order="name", link=True),
        Column("Description", "description"),
        Column("People", "people_count", order="people"),
    ],
    detail_fields=[("Description", "description")],
)

# The links higher apps add to a person's page (capacity: their competences and load).
PERSON_LINKS = Slot("organisations.person_links")

PEOPLE = UIResource(
    name="people",
    url_stem="person",
    singular="person",
    plural="People",
    model=Person,
    filters=PersonFilter,
    list_selector=selectors.person_list,
    get_selector=selectors.person_get,
    form=PersonForm,
    create=lambda actor, d: services.person_create(actor=actor, **d),
    update=lambda actor, obj, d: services.person_update(actor=actor, person=obj, data=d),
    archive=lambda actor, obj: services.person_archive(actor=actor, person=obj),
    restore=lambda actor, obj: services.person_restore(actor=actor, person=obj),
    links=PERSON_LINKS,
    columns=[
        Column("Name", "name", order="name", link=True),
        Column("E-mail", "email", order="email"),
        Column("Job title", "job_title", order="job_title"),
        Column("PMO", "pmo", order="pmo"),
        Column("Provider", "provider", order="provider"),
    ],
    detail_fields=[
        ("E-mail", "email"),
        ("Job title", "job_title"),
        ("PMO", "pmo"),
        ("External provider", "provider"),
        ("Customer group", "customer_group"),
        ("Login", "user.email"),
    ],
    filter_fields=[
        FilterField("pmo", "PMO", _pmo_options),
        FilterField("customer_group", "Customer group", _group_options),
        FilterField(
            "has_login", "Login", lambda actor: [("true", "Has a login"), ("false", "No login")]
        ),
    ],
)

MEMBERS = UIResource(
    name="members",
    url_stem="member",
    singular="member",
    plural="Members",
    model=Membership,
    filters=MembershipFilter,
    list_selector=selectors.membership_list,
    get_selector=selectors.membership_get,
    form=MemberCreateForm,
    edit_form=MemberRolesForm,
    detail_template="organisations/member_detail.html",
    create=lambda actor, d: services.membership_create(actor=actor, **d),
    update=lambda actor, obj, d: services.membership_update(
        actor=actor, membership=obj, roles=d["roles"]
    ),
    archive=lambda actor, obj: services.membership_archive(actor=actor, membership=obj),
    restore=lambda actor, obj: services.membership_restore(actor=actor, membership=obj),
    columns=[
        Column("E-mail", "user.email", order="email", link=True),
        Column("Name", "user.full_name", order="name"),
        Column("Roles", "role_list", template="organisations/_roles_cell.html"),
    ],
    detail_fields=[("E-mail", "user.email"), ("Name", "user.full_name"), ("Roles", "role_list")],
    filter_fields=[FilterField("role", "Role", lambda actor: list(OrgRole.choices))],
)

RESOURCES = [PMOS, PEOPLE, CUSTOMER_GROUPS, MEMBERS]

# ---------------------------------------------------------------- competence framework


def _competence_groups(actor: Actor) -> list[tuple[Any, str]]:
    return [(g, g) for g in selectors.competence_groups(actor=actor)]


COMPETENCES = UIResource(
    name="competences",
    url_stem="competence",
    singular="competence",
    plural="Competences",
    model=Competence,
    filters=CompetenceFilter,
    list_selector=selectors.competence_list,
    get_selector=selectors.competence_get,
    form=CompetenceForm,
    detail_template="organisations/competence_detail.html",
    create=lambda actor, d: services.competence_create(actor=actor, data=d),
    update=lambda actor, obj, d: services.competence_update(actor=actor, competence=obj, data=d),
    archive=lambda actor, obj: services.competence_archive(actor=actor, competence=obj),
    restore=lambda actor, obj: services.competence_restore(actor=actor, competence=obj),
    columns=[
        Column("Name", "name", order="name", link=True),
        Column("Group", "group", order="group"),
        Column("Description", "description"),
    ],
    detail_fields=[("Group", "group"), ("Description", "description")],
    filter_fields=[FilterField("group", "Group", _competence_groups)],
)
_competence_results = list_view(COMPETENCES)


def competence_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The framework's list (the generic one, `core.views.list_view`, with the framework's
    downloads and import in its header); `?format=xlsx|yaml` downloads the live framework."""
    fmt = request.GET.get("format")
    if fmt in framework.FORMATS:
        return framework.export_response(actor, fmt)
    if is_htmx(request):
        return _competence_results(request, actor)
    # The page itself: the generic list's context, drawn by the framework's own template.
    filters, errors = CompetenceFilter.from_query(request.GET.dict())
    qs, filters = filtered(
        lambda f: selectors.competence_list(actor=actor, filters=f), filters, errors
    )
    page = paginate(qs, page_size(request), request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    group = filters.group or ""
    context = {
        "resource": COMPETENCES,
        "page": page,
        "rows": [
            (obj, [(c, getattr(obj, c.attr)) for c in COMPETENCES.columns])
            for obj in page.object_list
        ],
        "filters": filters,
        "filter_errors": errors,
        "filter_fields": [
            (COMPETENCES.filter_fields[0], _competence_groups(actor), group),
        ],
        "query": query.urlencode(),
        "ordering": filters.ordering or "",
        "can_add": can(actor, ADD, Competence),
        "add_url": COMPETENCES.url("create", actor),
        "import_url": reverse("competence_import", args=[actor.organisation.slug]),
    }
    return render(request, "organisations/competence_list.html", context)


@require_http_methods(["GET", "POST"])
def competence_import(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Upload the framework as .xlsx or YAML: all or nothing, with every problem by row
    and column (`organisations.framework`); a dry run reports what it would do."""
    require(actor, ADD, Competence)
    require(actor, CHANGE, Competence)
    posted = request.method == "POST"
    form = CompetenceImportForm(
        request.POST if posted else None, request.FILES if posted else None, actor=actor
    )
    report = None
    status = 200
    list_url = COMPETENCES.url("list", actor)
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size is not None and upload.size > framework.MAX_BYTES:
                    raise DomainError.field("file", framework.TOO_LARGE)
                report = framework.import_framework(
                    actor=actor,
                    source=upload,
                    name=upload.name or "",
                    dry_run=form.cleaned_data["dry_run"],
                )
            except DomainError as exc:
                status = refusal_status(exc)
                form.show(exc)
            else:
                if report.applied:
                    return done(
                        request,
                        list_url,
                        f"Framework imported: {len(report.created)} added, "
                        f"{len(report.updated)} updated, {report.unchanged} unchanged.",
                    )
        if form.errors or (report is not None and report.problems):
            status = 422
    context = {
        "form": form,
        "report": report,
        "list_url": list_url,
        "levels": CompetenceLevel.labels,
        "max_mb": framework.MAX_BYTES // (1024 * 1024),
    }
    return render(request, "organisations/competence_import.html", context, status=status)


def competence_urls() -> list[Any]:
    """The framework's pages: the generic ones (`resource_urls`) but its list, which
    offers the downloads, and its import."""
    from django.urls import path

    generic = [p for p in resource_urls(COMPETENCES, org_view) if p.name != "competence_list"]
    return [
        path("competences/", org_view(competence_list), name="competence_list"),
        path("competences/import/", org_view(competence_import), name="competence_import"),
        *generic,
    ]


# The first few items of each kind of work on the home page (My work shows them all).
HOME_WORK_LIMIT = 5


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the organisation they used last, or let them pick one."""
    orgs = list(selectors.organisations_for(cast(User, request.user)))
    last = request.session.get("org")
    if any(o.slug == last for o in orgs):
        return redirect("org_home", org=last)
    if len(orgs) == 1:
        return redirect("org_home", org=orgs[0].slug)
    return render(request, "organisations/choose.html", {"organisations": orgs})


@org_view
def org_home(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The person's home: what waits for them (My work, the first few of each kind), then
    the organisation at a glance: its PMOs, people, groups, members and recent changes."""
    pmos = list(selectors.pmo_list(actor=actor))
    counts = {
        "pmos": len(pmos),
        "people": selectors.person_list(actor=actor).count(),
        "customer_groups": selectors.customer_group_list(actor=actor).count(),
    }
    members = (
        selectors.membership_list(actor=actor).count() if can(actor, VIEW, Membership) else None
    )
    recent = None
    if can(actor, VIEW, AuditEntry):
        recent = list(selectors.audit_list(actor=actor)[:8])
    role_labels = dict(OrgRole.choices)
    work = my_work(actor, limit=HOME_WORK_LIMIT)
    return render(
        request,
        "organisations/org_home.html",
        {
            "sections": work,
            "work_total": sum(s.count for s in work),
            "limit": HOME_WORK_LIMIT,
            "counts": counts,
            "members": members,
            "recent": recent,
            "roles": [role_labels[r] for r in sorted(actor.roles)],
            "pmo_tree": pmo_tree(pmos),
        },
    )


def pmo_tree(pmos: list[PMO]) -> list[tuple[PMO, int]]:
    """PMOs in reporting order, each with its depth under the top-level PMOs."""
    children: dict[int | None, list[PMO]] = {}
    known = {p.pk for p in pmos}
    for p in pmos:
        parent = p.parent_id if p.parent_id in known else None
        children.setdefault(parent, []).append(p)
    ordered: list[tuple[PMO, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for p in children.get(parent, []):
            ordered.append((p, depth))
            walk(p.pk, depth + 1)

    walk(None, 0)
    return ordered


@org_view
def activity(request: HttpRequest, actor: Actor) -> HttpResponse:
    filters, errors = AuditFilter.from_query(request.GET.dict())
    qs = selectors.audit_list(actor=actor, filters=filters)
    page = Paginator(qs, settings.CARTE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    models_ = [
        ("pmo", "PMOs"),
        ("person", "People"),
        ("customergroup", "Customer groups"),
        ("membership", "Members"),
        ("competence", "Competences"),
        ("organisation", "Organisation"),
    ]
    return render(
        request,
        "organisations/activity.html",
        {
            "page": page,
            "filters": filters,
            "filter_errors": errors,
            "query": query.urlencode(),
            "actions": AuditAction.choices,
            "models": models_,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's personal API tokens: create (shown once) and revoke."""
    user = cast(User, request.user)
    new_token = None
    error = None
    if request.method == "POST":
        org = None
        slug = request.POST.get("organisation") or ""
        if slug:
            org = selectors.organisations_for(user).filter(slug=slug).first()
        try:
            if slug and org is None:
                raise DomainError.field(
                    "organisation", "You are not a member of this organisation."
                )
            _, new_token = services.token_create(
                user=user,
                name=request.POST.get("name", ""),
                organisation=org,
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Token created. Copy it now: it will not be shown again.")
    return render(
        request,
        "organisations/tokens.html",
        {
            "tokens": selectors.tokens_of(user),
            "new_token": new_token,
            "error": error,
            "organisations": selectors.organisations_for(user),
            "name_value": request.POST.get("name", "") if error else "",
        },
        status=422 if error else 200,
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = services.token_revoke(user=cast(User, request.user), token_id=pk)
    except DomainError:
        messages.error(request, "No such token.")
    else:
        messages.success(request, f"Token “{token.name}” revoked.")
    return HttpResponseRedirect(reverse("tokens"))


def org_urls() -> list[Any]:
    from django.urls import path

    patterns: list[Any] = [
        path("", org_home, name="org_home"),
        path("activity/", activity, name="activity"),
    ]
    for resource in RESOURCES:
        patterns += resource_urls(resource, org_view)
    return patterns + competence_urls()
