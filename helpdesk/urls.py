from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from helpdesk.core.views import PasswordResetView, healthz
from sla.api_urls import ticket_urls as sla_ticket_api_urls
from tickets.views.landing import home

admin.site.site_header = "Helpdesk administration"
admin.site.site_title = "Helpdesk admin"

# JSON {"detail": ...} under /api/, the templated pages elsewhere (helpdesk.core.views).
handler400 = "helpdesk.core.views.bad_request"
handler403 = "helpdesk.core.views.permission_denied"
handler404 = "helpdesk.core.views.page_not_found"
handler500 = "helpdesk.core.views.server_error"


def favicon(request):
    """Browsers ask for /favicon.ico on every page, admin included."""
    return redirect(static("core/favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    # Django's own views, with our templates; the login redirect honours only same-site next=.
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    # Before Django's own: the reset request is rate-limited (helpdesk.core.ratelimit).
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/email/", include("tickets.mail.urls")),
    path("admin/", admin.site.urls),
    path("api/kb/", include("knowledgebase.api_urls")),
    path("api/sla/", include("sla.api_urls")),
    path("api/reports/", include("reports.api_urls")),
    path("api/", include(sla_ticket_api_urls)),
    path("api/", include("tickets.api_urls")),
    path("api/", include("tickets.inbox_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The footer links here: a signed-out visitor is sent to sign in and back (was a bare 401).
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("inbox/", include("tickets.views.inbox")),
    path("live/", include("tickets.live")),
    path("kb/", include("knowledgebase.urls")),
    path("sla/", include("sla.urls")),
    path("", include("tickets.urls")),
    path("", include("reports.urls")),
]
