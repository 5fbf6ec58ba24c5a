from django.urls import path
from rest_framework.routers import DefaultRouter

from inbox.api.views import EmailViewSet, IntentListView

app_name = "api"

router = DefaultRouter()
router.register("emails", EmailViewSet, basename="email")

urlpatterns = [
    path("intents/", IntentListView.as_view(), name="intents"),
    *router.urls,
]
