"""The filters of the dashboard, its CSV, ticket lists and API: one form checks them all."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from tickets.models import Category, Channel, Priority, Tier

from .kpis import PERIOD_CHOICES, TICKET_LISTS, Period, Scope, make_period

TIER_CHOICES = [("", "All tiers"), *[(t.value, t.label) for t in Tier if t]]


class FilterForm(forms.Form):
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False, initial="30d")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    tier = forms.TypedChoiceField(choices=TIER_CHOICES, coerce=int, required=False, empty_value=None)
    category = forms.ModelChoiceField(Category.objects.all(), required=False, empty_label="All categories")
    agent = forms.ModelChoiceField(
        get_user_model().objects.filter(tier_memberships__isnull=False).distinct().order_by("username"),
        required=False,
        empty_label="All agents",
    )
    channel = forms.ChoiceField(choices=[("", "All channels"), *Channel.choices], required=False)
    priority = forms.TypedChoiceField(
        choices=[("", "All priorities"), *Priority.choices], coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, personal: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if personal:
            del self.fields["agent"]
        for field in self.fields.values():
            if not isinstance(field.widget, forms.RadioSelect):
                select = isinstance(field.widget, forms.Select)
                css = "form-select form-select-sm" if select else "form-control form-control-sm"
                field.widget.attrs.setdefault("class", css)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        try:
            data["period_obj"] = make_period(data.get("period") or "30d", data.get("start"), data.get("end"))
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        return data

    def scope(self, *, agent_id: int | None = None) -> Scope:
        data = self.cleaned_data
        agent = data.get("agent")
        return Scope(
            tier=data.get("tier"),
            category_id=data["category"].pk if data.get("category") else None,
            assignee_id=agent_id if agent_id is not None else (agent.pk if agent else None),
            channel=data.get("channel") or None,
            priority=data.get("priority"),
        )

    def get_period(self) -> Period:
        return self.cleaned_data["period_obj"]


def parse_filters(query, *, personal_agent_id: int | None = None) -> tuple[Scope, Period]:
    """(scope, period) from a query string; ``ValidationError`` with the field errors (400 in the API)."""
    form = FilterForm(query, personal=personal_agent_id is not None)
    if not form.is_valid():
        raise ValidationError({k: [str(m) for m in v] for k, v in form.errors.items()})
    return form.scope(agent_id=personal_agent_id), form.get_period()


def parse_list_key(query) -> str:
    key = query.get("figure") or "created"
    if key not in TICKET_LISTS:
        raise ValidationError({"figure": [f"Unknown figure “{key}”."]})
    return key


class SurveyForm(forms.Form):
    score = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(1, 6)], coerce=int, widget=forms.RadioSelect, label="Your rating (1-5)"
    )
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
