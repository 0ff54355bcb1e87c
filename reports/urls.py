from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/mine/", views.my_figures, name="mine"),
    path("dashboard/tickets/", views.ticket_list, name="tickets"),
    path("dashboard/csv/<slug:table>/", views.dashboard_csv, name="csv"),
    path("survey/<str:token>/", views.survey_by_link, name="survey"),
    path("surveys/<int:pk>/answer/", views.survey_answer, name="survey_answer"),
]
