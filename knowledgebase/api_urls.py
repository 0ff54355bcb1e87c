"""REST API routes of the knowledge base (mounted at /api/kb/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import ArticleViewSet, DeflectionView, SearchView, SuggestionsView

app_name = "knowledgebase_api"

router = SimpleRouter()
router.register("articles", ArticleViewSet, basename="article")

urlpatterns = [
    path("search/", SearchView.as_view(), name="search"),
    path("suggestions/", SuggestionsView.as_view(), name="suggestions"),
    path("deflections/", DeflectionView.as_view(), name="deflections"),
    *router.urls,
]
