from django.urls import path

from .views import landing, portal, queues, ticket

app_name = "tickets"

urlpatterns = [
    path("portal/", landing.portal, name="portal"),
    path("queues/", landing.queues, name="queues"),
    path("vendor/", landing.vendor_home, name="vendor_home"),
    *portal.urlpatterns,
    *ticket.urlpatterns,
    *queues.urlpatterns,
]
