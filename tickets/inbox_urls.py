"""Routes of the attention inbox: the pages (mounted at /inbox/) and the API (at /api/)."""

from rest_framework.routers import SimpleRouter

from .api_inbox import NotificationViewSet

router = SimpleRouter()
router.register("notifications", NotificationViewSet, basename="notification")

app_name = "inbox_api"
urlpatterns = router.urls
