from django.shortcuts import render

from tickets import roles


@roles.role_required(roles.Role.MANAGER)
def dashboard(request):
    """Manager KPI dashboard (figures arrive with the KPI capability)."""
    return render(request, "reports/dashboard.html")
