"""The managers' SLA pages (mounted at /sla/)."""

from django.urls import path

from . import views

app_name = "sla"

urlpatterns = [
    path("", views.policy_list, name="policies"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<int:pk>/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("policies/<int:pk>/move/", views.policy_move, name="policy_move"),
    path("calendars/", views.calendar_list, name="calendars"),
    path("calendars/new/", views.calendar_new, name="calendar_new"),
    path("calendars/<int:pk>/", views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
]
