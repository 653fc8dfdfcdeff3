"""Lifecycle pages: the board under /o/<org>/lifecycle/, a service's panel and its forms
under /o/<org>/catalogue/services/<id>/lifecycle/."""

from __future__ import annotations

from django.urls import path

from carte.lifecycle import views, views_steps, views_templates

app_name = "lifecycle"

S = "catalogue/services/<id:pk>/lifecycle"

urlpatterns = [
    path("lifecycle/", views.board, name="board"),
    path("lifecycle/templates/", views_templates.templates, name="templates"),
    path(
        "lifecycle/templates/<id:template_pk>/tasks/new/",
        views_templates.template_task_add,
        name="template_task_create",
    ),
    path(
        "lifecycle/templates/tasks/<id:item>/archive/",
        views_templates.template_task_archive,
        name="template_task_archive",
    ),
    path(f"{S}/", views.service_lifecycle, name="service"),
    path(f"{S}/moves/<slug:move>/", views.move_form, name="move"),
    path(f"{S}/attachments/<id:item>/", views.attachment, name="attachment"),
    path(f"{S}/notes/new/", views_steps.note_add, name="note"),
    path(f"{S}/criteria/new/", views_steps.criterion_edit, name="criterion_create"),
    path(f"{S}/criteria/<id:item>/edit/", views_steps.criterion_edit, name="criterion_update"),
    path(
        f"{S}/criteria/<id:item>/archive/",
        views_steps.criterion_archive,
        name="criterion_archive",
    ),
    path(f"{S}/task-lists/new/", views_steps.task_list_create, name="task_list_create"),
    path(f"{S}/task-lists/<id:list_pk>/tasks/new/", views_steps.task_edit, name="task_create"),
    path(f"{S}/tasks/<id:item>/edit/", views_steps.task_edit, name="task_update"),
    path(f"{S}/tasks/<id:item>/status/", views_steps.task_status, name="task_status"),
    path(f"{S}/tasks/<id:item>/archive/", views_steps.task_archive, name="task_archive"),
    path(f"{S}/pilot-result/", views_steps.pilot_result, name="pilot_result"),
    path(f"{S}/pilot-result/confirm/", views_steps.pilot_confirm, name="pilot_confirm"),
    path(f"{S}/results/<id:item>/waive/", views_steps.waive, name="waive"),
    path(f"{S}/readiness/", views_steps.readiness, name="readiness"),
    path(f"{S}/phases/<id:item>/edit/", views_steps.phase_update, name="phase_update"),
    path(f"{S}/phases/<id:item>/done/", views_steps.phase_done, name="phase_done"),
    path(f"{S}/supporting/new/", views_steps.supporting_create, name="supporting_create"),
    path(
        f"{S}/artefacts/<id:item>/decide/",
        views_steps.artefact_decide,
        name="artefact_decide",
    ),
    path(f"{S}/start-from/", views_steps.start_from, name="start_from"),
]
