from django.urls import path

from mlops import loop_views

app_name = "models"

urlpatterns = [path("", loop_views.models_page, name="page")]
