"""The fast widget renderer writes exactly the HTML of Django's widget templates."""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.core.form_renderer import FastWidgetRenderer

FAST = FastWidgetRenderer()
TEMPLATES = DjangoTemplates()

GROUPED = [("", "None"), ("Hardware", [("1", 'Laptop <15">'), ("2", "Dock & hub")]), ("3", mark_safe("<b>Bold</b>"))]


class Zoo(forms.Form):
    text = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": 'Say "hi" & <go>'}))
    email = forms.EmailField(required=False)
    number = forms.IntegerField(required=False, min_value=0)
    password = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    flag = forms.BooleanField(required=False)
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    body = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3, "disabled": True}))
    choice = forms.ChoiceField(required=False, choices=GROUPED)
    many = forms.MultipleChoiceField(required=False, choices=GROUPED)
    upload = forms.FileField(required=False, widget=forms.FileInput)


def render_all(form, renderer) -> dict[str, str]:
    form.renderer = renderer
    return {name: str(form[name].as_widget()) for name in form.fields}


def assert_same(data=None, initial=None) -> None:
    fast = render_all(Zoo(data, initial=initial), FAST)
    slow = render_all(Zoo(data, initial=initial), TEMPLATES)
    assert fast == slow


def test_unbound_form_renders_identically():
    assert_same()


def test_bound_form_with_selections_and_errors_renders_identically():
    assert_same(
        {
            "text": "<script>alert(1)</script>",
            "number": "-4",
            "flag": "on",
            "choice": "2",
            "many": ["1", "3"],
            "body": "line 1\n</textarea><b>",
            "password": "p&ss",
        }
    )


def test_initial_values_render_identically():
    assert_same(initial={"text": mark_safe("<i>ok</i>"), "choice": "3", "date": "2026-01-02", "hidden": 7})


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30), st.lists(st.sampled_from(["", "1", "2", "3", "x"]), max_size=3))
def test_any_text_renders_identically(text, body, many):
    assert_same({"text": text, "body": body, "hidden": text, "many": many, "choice": many[0] if many else ""})


def test_only_the_plain_widgets_take_the_fast_path():
    assert "django/forms/widgets/select.html" in FAST.writers
    assert "django/forms/widgets/clearable_file_input.html" not in FAST.writers
    radio = forms.RadioSelect(choices=[("a", "<A>")])
    assert radio.render("r", "a", renderer=FAST) == radio.render("r", "a", renderer=TEMPLATES)
