"""A form renderer that writes the common widgets in Python instead of through templates.

Django renders every widget, and every ``<option>`` of a select, through a template
include. On the queue page that is most of the response time: a handful of selects with a
few dozen options each cost more than the SQL. This renderer produces the same HTML for the
plain widgets (inputs, selects, textareas) directly and hands every other template, or any
of these when a project template overrides it, to the normal template renderer.
"""

from __future__ import annotations

from pathlib import Path

import django.forms
from django.forms.renderers import DjangoTemplates
from django.utils.functional import cached_property
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

WIDGETS = "django/forms/widgets/"
INPUT_TEMPLATES = {
    f"{WIDGETS}{name}.html"
    for name in (
        [
            "input",
            "checkbox",
            "color",
            "date",
            "datetime",
            "email",
            "file",
            "hidden",
            "number",
            "password",
            "search",
            "tel",
            "text",
            "time",
            "url",
        ]
    )
}
BUILT_IN_DIR = Path(django.forms.__file__).parent / "templates"


def _text(value) -> str:
    """What ``{{ value|stringformat:'s' }}`` prints: escaped unless already marked safe."""
    return str(conditional_escape(value))


def _attrs(attrs: dict) -> str:
    """The built-in ``attrs.html``: ``True`` gives a bare attribute, ``False`` leaves it out."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_text(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _select(widget: dict) -> str:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            value, attrs, label = _text(option["value"]), _attrs(option["attrs"]), _text(option["label"])
            parts.append(f'\n  <option value="{value}"{attrs}>{label}</option>\n')
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _textarea(widget: dict) -> str:
    body = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{body}</textarea>'


WRITERS = dict.fromkeys(INPUT_TEMPLATES, _input) | {
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}textarea.html": _textarea,
}


class FastWidgetRenderer(DjangoTemplates):
    """Django's template renderer with the plain widgets written in Python (same HTML)."""

    @cached_property
    def writers(self) -> dict:
        # A project or app that overrides one of these templates gets its template, not ours.
        writers = {}
        for name, writer in WRITERS.items():
            origin = Path(self.get_template(name).origin.name)
            if origin.is_relative_to(BUILT_IN_DIR):
                writers[name] = writer
        return writers

    def render(self, template_name, context, request=None):
        writer = self.writers.get(template_name)
        if writer is None or "widget" not in context:
            return super().render(template_name, context, request)
        return mark_safe(writer(context["widget"]).strip())  # noqa: S308 - every part is escaped above
