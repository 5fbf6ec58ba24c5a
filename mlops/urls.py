from django.urls import path

from mlops import views

app_name = "mlops"

urlpatterns = [
    path("", views.drift_page, name="drift"),
    path("runs/<int:run_id>/<str:name>.png", views.drift_image, name="drift-image"),
]
