"""The signed-in user's e-mail preferences page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .forms import MailPreferencesForm


@login_required
def preferences(request):
    """Turn non-essential notification e-mail on or off (essential mail is always sent)."""
    # Not ``request.POST or None``: unticking the only box posts an empty form, which must still save.
    form = MailPreferencesForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your e-mail preferences are saved.")
        return redirect("mail:preferences")
    return render(request, "email/preferences_page.html", {"form": form})
