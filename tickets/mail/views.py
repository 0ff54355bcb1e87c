"""The signed-in person's preferences page: e-mail, time zone, and what the in-app inbox holds."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from helpdesk.core.models import User

from .. import permissions
from .forms import PreferencesForm


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Turn non-essential notification e-mail on or off (essential mail is always sent) and choose a time zone."""
    assert isinstance(request.user, User)  # login_required ran first
    # Not ``request.POST or None``: unticking the only box posts an empty form, which must still save.
    form = PreferencesForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your preferences are saved.")
            return redirect("mail:preferences")
        status = 400
    else:
        status = 200
    context = {"form": form, "in_app": permissions.is_staff_reader(request.user), "now": timezone.now()}
    return render(request, "email/preferences_page.html", context, status=status)
