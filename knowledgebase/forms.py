"""HTML forms of the knowledge base. They check the shape of input only; ``services`` holds the rules."""

from __future__ import annotations

from django import forms

from .models import Article, Category, Visibility
from .services import MAX_TAGS, clean_tags


class ArticleForm(forms.Form):
    title = forms.CharField(max_length=200, label="Title", help_text="What a requester would type, e.g. “VPN drops”.")
    summary = forms.CharField(
        max_length=300,
        label="Summary",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or two sentences shown in search results and suggestions.",
    )
    body = forms.CharField(label="Body", widget=forms.Textarea(attrs={"rows": 14}), help_text="Markdown.")
    tags = forms.CharField(
        required=False, label="Tags", help_text=f"Comma-separated, at most {MAX_TAGS} (e.g. vpn, remote work)."
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, label="Category", empty_label="(no category)"
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.PUBLIC, widget=forms.RadioSelect, label="Who may read it?"
    )
    is_known_error = forms.BooleanField(
        required=False, label="This is a known error", help_text="A fault we know about, with a workaround."
    )
    workaround = forms.CharField(
        required=False,
        label="Workaround",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown; required for a known error.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)  # declared above
        category.queryset = Category.objects.order_by("position", "name")

    @classmethod
    def for_article(cls, article: Article) -> ArticleForm:
        return cls(
            initial={
                "title": article.title,
                "summary": article.summary,
                "body": article.body,
                "tags": ", ".join(article.tags),
                "category": article.category_id,
                "visibility": article.visibility,
                "is_known_error": article.is_known_error,
                "workaround": article.workaround,
            }
        )

    def clean_tags(self) -> list[str]:
        return clean_tags(self.cleaned_data.get("tags") or "")


class SendBackForm(forms.Form):
    note = forms.CharField(
        label="What should change?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The author sees this note on the article's page.",
    )


class ArchiveForm(forms.Form):
    note = forms.CharField(required=False, label="Why archive it?", widget=forms.Textarea(attrs={"rows": 2}))


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda value: value == "yes", label="Was this helpful?"
    )
    comment = forms.CharField(
        required=False,
        max_length=1000,
        label="Anything to add? (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class LinkForm(forms.Form):
    article = forms.IntegerField(min_value=1, label="Article number", help_text="As in /kb/articles/<number>/.")


class ImageForm(forms.Form):
    image = forms.FileField(
        label="Add an image",
        help_text="A PNG, JPEG, GIF or WebP picture (a screenshot). Then paste the line shown below it into the body.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
