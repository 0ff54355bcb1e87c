"""The macros page: agents keep their personal macros, managers the tier macros every agent of a tier uses.

Thin views: the user must keep macros at all (``permissions.can_use_macros``, else 403); one
service call per change (``services.save_macro`` / ``delete_macro``, which check who may
change which macro). A refused form goes back (303) to the page it came from with what was
typed kept in the session (``kept_input``), so that page can be reloaded.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.core.models import User

from .. import permissions, services
from ..forms import MacroForm
from ..models import Macro
from ..services.macros import MacroFields
from .kept_input import keep_input, rebind, take_input


def _user(request) -> User:
    user = request.user
    if not isinstance(user, User) or not permissions.can_use_macros(user):
        raise PermissionDenied
    return user


def _fields(data: dict) -> MacroFields:
    return {
        "name": data["name"],
        "tier": data.get("tier"),
        "personal": bool(data.get("personal", True)),
        "kind": data["kind"],
        "body": data["body"],
        "status": data["status"],
        "priority": data["priority"],
        "category": data["category"],
        "assign_to_me": data["assign_to_me"],
    }


def _initial(macro: Macro) -> dict:
    return {
        "name": macro.name,
        "personal": macro.owner_id is not None,
        "tier": macro.tier,
        "kind": macro.kind,
        "body": macro.body,
        "status": macro.status,
        "priority": macro.priority,
        "category": macro.category_id,
        "assign_to_me": macro.assign_to_me,
    }


def _save(request, user: User, where: str, macro_id: int | None) -> HttpResponseRedirect:
    """Bind, call ``save_macro``, and redirect: to the list when saved, back to ``where`` when refused."""
    form = MacroForm(request.POST, shared=permissions.can_manage_shared_macros(user))
    error = ""
    if form.is_valid():
        try:
            macro = services.save_macro(by=user, fields=_fields(form.cleaned_data), macro_id=macro_id)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, f"Macro “{macro.name}” saved.")
            return HttpResponseRedirect(reverse("tickets:macros"), status=303)
    messages.error(request, error or "The macro was not saved: see the form.")
    keep_input(request, where, "macro", request.POST, [error] if error else [])
    return HttpResponseRedirect(where, status=303)


def _kept_form(request, user: User, where: str, initial: dict | None = None) -> MacroForm:
    shared = permissions.can_manage_shared_macros(user)
    kept = take_input(request, where)
    if kept is not None and kept[0] == "macro":
        return rebind(MacroForm(kept[1], shared=shared), kept[2])
    return MacroForm(initial=initial, shared=shared)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def macro_list(request):
    """The macros the user may apply (theirs, their tiers'), which they may change, and a form for a new one."""
    user = _user(request)
    where = reverse("tickets:macros")
    if request.method == "POST":
        return _save(request, user, where, None)
    rows = [(macro, permissions.can_manage_macro(user, macro)) for macro in services.usable_macros(user)]
    context = {"rows": rows, "form": _kept_form(request, user, where)}
    return render(request, "tickets/macro_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def macro_edit(request, macro_id: int):
    user = _user(request)
    macro = services.usable_macros(user).filter(pk=macro_id).first()
    if macro is None or not permissions.can_manage_macro(user, macro):
        raise Http404("No such macro.")
    where = reverse("tickets:macro_edit", args=[macro.pk])
    if request.method == "POST":
        return _save(request, user, where, macro.pk)
    form = _kept_form(request, user, where, initial=_initial(macro))
    return render(request, "tickets/macro_edit.html", {"macro": macro, "form": form})


@require_POST
@login_required
def macro_delete(request, macro_id: int):
    user = _user(request)
    try:
        services.delete_macro(by=user, macro_id=macro_id)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        messages.success(request, "Macro deleted.")
    return HttpResponseRedirect(reverse("tickets:macros"), status=303)


urlpatterns = [
    path("macros/", macro_list, name="macros"),
    path("macros/<int:macro_id>/", macro_edit, name="macro_edit"),
    path("macros/<int:macro_id>/delete/", macro_delete, name="macro_delete"),
]
