"""Form plumbing: Tabler classes and accessible descriptions on every widget."""

from __future__ import annotations

from typing import Any

from django import forms


class StyledFormMixin:
    """Gives each widget its Tabler class and marks the ones in error."""

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
            # Django links the widget to its help and error text (aria-describedby, ids
            # "<id>_helptext" and "<id>_error"); the form template uses the same ids.
