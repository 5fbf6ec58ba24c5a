from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.home, name="home"),
    path("folders/<str:key>/", views.folder, name="folder"),
    path("folders/<str:key>/rows/", views.folder_rows, name="folder-rows"),
    path("emails/<int:pk>/", views.email_detail, name="email"),
    path("emails/<int:pk>/intent/", views.correct, name="correct"),
    path("emails/<int:pk>/handled/", views.handled, name="handled"),
    path("relabel/", views.relabel, name="relabel"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:pk>/retry/", views.retry_delivery, name="retry-delivery"),
    path("overview/", views.overview, name="overview"),
    path("overview/reports/<str:version>/<str:name>.png", views.report_image, name="report-image"),
]
