"""Form plumbing: Tabler classes and accessible descriptions on every widget."""

from __future__ import annotations

from typing import Any

from django import forms


class StyledFormMixin:
    """Gives each widget its Tabler class, and links it to its help and error text."""

    fields: dict[str, forms.Field]

    def style_widgets(self, bound_errors: Any) -> None:
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if bound_errors and name in bound_errors:
                css += " is-invalid"
                widget.attrs["aria-invalid"] = "true"
            widget.attrs["class"] = css
            described = []
            if field.help_text:
                described.append(f"id_{name}-help")
            if bound_errors and name in bound_errors:
                described.append(f"id_{name}-error")
            if described:
                widget.attrs["aria-describedby"] = " ".join(described)
