from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import FileResponse, HttpRequest
from django.urls import include, path
from django.views.decorators.cache import cache_control
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cleaninbox.monitoring import views as monitoring

FAVICON = settings.BASE_DIR / "static" / "favicon.ico"


@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> FileResponse:
    """Browsers ask for /favicon.ico whatever the page links to; answer it, not with a 404."""
    return FileResponse(FAVICON.open("rb"), content_type="image/x-icon")


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/", include("inbox.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("drift/", include("mlops.urls")),
    path("models/", include("mlops.loop_urls")),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("metrics", monitoring.metrics_view, name="metrics"),
    path("healthz", monitoring.healthz, name="healthz"),
    path("readyz", monitoring.readyz, name="readyz"),
    path("", include("classifier.urls")),
    path("", include("inbox.urls")),
]

# Under /api/ a missing page is JSON like every other API answer (the schema says so).
handler404 = "cleaninbox.errors.not_found"
