"""Form plumbing every page shares: the base forms and the Tabler class of each widget.

A form knows the actor (its choices of related rows come from the actor's organisation),
validates only its own fields, and shows a service's refusal next to the fields it names
(`show`). Fields in error are marked by Django itself (`aria-invalid="true"`) and styled
by the stylesheet from that attribute, so no form restyles itself after validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from django import forms
from django.db.models import Model, QuerySet

from carte.core.errors import NON_FIELD_ERRORS, DomainError

M = TypeVar("M", bound=Any)


def widget_class(widget: forms.Widget) -> str:
    """The Tabler class of a widget."""
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput | forms.RadioSelect):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


class ActorForm:
    """What every page form has: the actor, Tabler classes, and `show(refusal)`.

    `FIELD_NAMES` maps the name a service gives a field (`owner_id`, a payload key) to the
    form's field, when they differ; a refusal naming no field of the form goes on top."""

    FIELD_NAMES: ClassVar[dict[str, str]] = {}
    fields: dict[str, forms.Field]

    if TYPE_CHECKING:

        def add_error(self, field: str | None, error: Any) -> None: ...

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        self.actor = actor
        super().__init__(*args, **kwargs)
        self.setup()
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", widget_class(field.widget))

    def setup(self) -> None:
        """Subclasses add their fields and the actor's choices here."""

    def choose(self, name: str, rows: QuerySet[Any]) -> None:
        """Offer `rows` (a selector's) in the model choice field `name`."""
        field = self.fields[name]
        if not isinstance(field, forms.ModelChoiceField):
            raise TypeError(f"{name} is not a choice of rows.")
        field.queryset = rows

    def field_for(self, name: str) -> str | None:
        name = self.FIELD_NAMES.get(name, name).removesuffix("_id")
        name = self.FIELD_NAMES.get(name, name)
        return name if name in self.fields else None

    def show(self, exc: DomainError) -> None:
        """A service's refusal, next to the fields it names, the rest on top."""
        if not exc.errors:
            self.add_error(None, exc.message)
            return
        for name, messages in exc.errors.items():
            target = None if name == NON_FIELD_ERRORS else self.field_for(name)
            for message in messages:
                self.add_error(target, message)


class CarteForm(ActorForm, forms.Form):
    """A page's form that is not one model's."""


class CarteModelForm(ActorForm, forms.ModelForm[M]):
    """A page's form of one model. It validates its own fields and renders; constraints
    and uniqueness are checked once, by the service, which names the field of each error."""

    def _post_clean(self) -> None:
        pass


def _pk_of(value: Any) -> Any:
    """A row's key as the widgets show it; any other value as it is."""
    return str(value.pk) if isinstance(value, Model) else value


class ObjectChoiceField(forms.TypedChoiceField):
    """A choice among rows already loaded (a selector's list), so several fields share one
    query and validating asks the database nothing."""

    def __init__(self, objects: Iterable[Model], *, blank: str = "—", **kwargs: Any) -> None:
        self.objects = {str(o.pk): o for o in objects}
        super().__init__(
            choices=[("", blank), *((k, str(o)) for k, o in self.objects.items())],
            coerce=self.objects.__getitem__,
            empty_value=None,
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        return _pk_of(value)


class ObjectMultipleChoiceField(forms.TypedMultipleChoiceField):
    """Several rows among those already loaded, as `ObjectChoiceField` chooses one."""

    def __init__(self, objects: Iterable[Model], **kwargs: Any) -> None:
        self.objects = {str(o.pk): o for o in objects}
        super().__init__(
            choices=[(k, str(o)) for k, o in self.objects.items()],
            coerce=self.objects.__getitem__,
            **kwargs,
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple | set):
            return [_pk_of(v) for v in value]
        return _pk_of(value)
