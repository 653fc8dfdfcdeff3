"""Forms of task lists: a list for the set-up or the closure, its tasks, and the lines of
a Centre of Excellence's template."""

from __future__ import annotations

from typing import Any

from django import forms

from carte.core.forms import CarteForm
from carte.lifecycle import selectors
from carte.lifecycle.choices import TaskStatus
from carte.lifecycle.forms.base import LifecycleForm, date_widget
from carte.lifecycle.models import Task
from carte.organisations import selectors as org_selectors


class TaskListForm(LifecycleForm):
    def setup(self) -> None:
        self.fields["purpose"] = forms.ChoiceField(
            choices=selectors.task_list_purposes(self.service)
        )
        self.fields["template"] = forms.ModelChoiceField(
            queryset=selectors.task_templates(self.actor),
            required=False,
            help_text="A Centre of Excellence's template: its tasks are copied in.",
        )
        self.fields["name"] = forms.CharField(
            max_length=200, required=False, help_text="Named after the service if left empty."
        )


class TaskForm(LifecycleForm):
    def __init__(self, *args: Any, instance: Task | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": instance.title,
                "assignee": instance.assignee,
                "due_on": instance.due_on,
                "status": instance.status,
            }
        super().__init__(*args, **kwargs)

    def setup(self) -> None:
        self.fields["title"] = forms.CharField(max_length=200)
        self.fields["assignee"] = forms.ModelChoiceField(
            queryset=org_selectors.person_choices(actor=self.actor),
            required=False,
        )
        self.fields["due_on"] = forms.DateField(label="Due", required=False, widget=date_widget())
        self.fields["status"] = forms.ChoiceField(choices=TaskStatus.choices, initial="todo")


class TemplateTaskForm(CarteForm):
    """A line of a Centre of Excellence's task-list template."""

    title = forms.CharField(max_length=200)
    due_after_days = forms.IntegerField(
        label="Due after (days)",
        min_value=0,
        initial=0,
        help_text="Days after the list is created.",
    )
