"""What a refused form held, kept in the session for the next page (Post/Redirect/Get).

A refused submission redirects (303) to a page that answers GET, instead of answering the POST
with the form again: a reload or Enter in the address bar then shows that page, where an
error page at a POST-only action URL gave the browser's bare "405". The page takes the input
out of the session once (a reload shows it as it is). Files cannot be kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.http import QueryDict

SESSION_KEY = "tickets.kept_input"


def keep_input(request, where: str, form: str, data, errors: Iterable[str] = ()) -> None:
    """Keep ``data`` (a QueryDict, without the CSRF token) of ``form`` refused at ``where`` for the next page.

    ``errors`` are the refusal's messages beyond the form's own field errors, which the page
    finds again by validating the input. One slot per session: the latest refusal wins.
    """
    typed = {key: data.getlist(key) for key in data if key != "csrfmiddlewaretoken"}
    request.session[SESSION_KEY] = {"where": where, "form": form, "data": typed, "errors": list(errors)}


def take_input(request, where: str) -> tuple[str, QueryDict, list[str]] | None:
    """``(form, data, errors)`` kept for ``where``, or None; whatever was kept is gone after this call."""
    kept = request.session.pop(SESSION_KEY, None)
    if not isinstance(kept, dict) or kept.get("where") != where:
        return None
    data = QueryDict(mutable=True)
    for key, values in (kept.get("data") or {}).items():
        data.setlist(key, [str(value) for value in values])
    return str(kept.get("form", "")), data, [str(error) for error in kept.get("errors") or ()]


def rebind(form, errors: Iterable[str]):
    """A kept form bound again: its field errors as when refused, plus the refusal's ``errors``."""
    form.is_valid()
    for message in errors:
        form.add_error(None, message)
    return form
