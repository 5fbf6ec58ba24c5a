from django.urls import path
from rest_framework.routers import DefaultRouter

from inbox.api.deliveries import DeliveryViewSet
from inbox.api.views import EmailViewSet, IntentListView

app_name = "api"

router = DefaultRouter()
router.register("emails", EmailViewSet, basename="email")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("intents/", IntentListView.as_view(), name="intents"),
    *router.urls,
]
