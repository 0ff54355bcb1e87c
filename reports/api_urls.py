from django.urls import path

from . import api

urlpatterns = [
    path("figures/", api.FiguresView.as_view(), name="reports-api-figures"),
    path("figures/<slug:key>/", api.FigureView.as_view(), name="reports-api-figure"),
    path("tables/<slug:name>/", api.TableView.as_view(), name="reports-api-table"),
    path("me/", api.MyFiguresView.as_view(), name="reports-api-me"),
]
