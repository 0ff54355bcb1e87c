"""A light Bootstrap 5 field renderer for hot pages (lists rendered on every queue view).

crispy-forms renders each field through several templates; on pages shown thousands of
times a day (the queue filters) this tag does the same markup in one small template.
"""

from django import forms, template

register = template.Library()


def _widget_class(widget: forms.Widget) -> str:
    if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        return "form-check-input"
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


@register.inclusion_tag("_field.html")
def field(bound_field):
    """Label, widget (with its Bootstrap class and aria-invalid on error), help text and errors."""
    widget = bound_field.field.widget
    attrs = {"class": _widget_class(widget)}
    if bound_field.errors:
        attrs["class"] += " is-invalid"
        attrs["aria-invalid"] = "true"
    if bound_field.help_text:
        attrs["aria-describedby"] = f"{bound_field.auto_id}_help"
    multiple = isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect)
    return {
        "field": bound_field,
        "widget_html": None if multiple else bound_field.as_widget(attrs=attrs),
        "multiple": multiple,
        "choice_class": attrs["class"],
    }
