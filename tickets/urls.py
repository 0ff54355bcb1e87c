from django.urls import path

from . import views

app_name = "tickets"

urlpatterns = [
    path("portal/", views.portal, name="portal"),
    path("queues/", views.queues, name="queues"),
    path("vendor/", views.vendor_home, name="vendor_home"),
]
