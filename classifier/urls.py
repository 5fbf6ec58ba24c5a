from django.urls import path

from classifier import api, views

app_name = "classifier"

urlpatterns = [
    path("emails/<int:pk>/explanation/", views.explanation, name="explanation"),
    path("emails/<int:pk>/explanation/flag/", views.flag, name="explanation-flag"),
    path("api/emails/<int:pk>/explanation/", api.ExplanationView.as_view(), name="api-explanation"),
    path("api/emails/<int:pk>/explanation/flags/", api.ExplanationFlagView.as_view(),
         name="api-explanation-flags"),
]  # fmt: skip
