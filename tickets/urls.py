from django.urls import path

from .views import portal, queues, saved_views, search, ticket

app_name = "tickets"

urlpatterns = [
    path("portal/", portal.my_tickets, name="portal"),
    path("queues/", queues.queue_home, name="queues"),
    path("vendor/", queues.vendor_home, name="vendor_home"),
    *portal.urlpatterns,
    *ticket.urlpatterns,
    *queues.urlpatterns,
    *saved_views.urlpatterns,
    *search.urlpatterns,
]
