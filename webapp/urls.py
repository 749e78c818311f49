from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from webapp import views
from webapp.health import healthz

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("me/", views.my_work, name="my_work"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/token/", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(("annotations.urls", "annotations"), namespace="annotations")),
    path("", include(("studies.urls", "studies"), namespace="studies")),
    path("", include(("webapp.jobs.urls", "jobs"), namespace="jobs")),
    path("", include(("ml.urls", "ml"), namespace="ml")),
]

handler404 = "webapp.errors.not_found"
handler500 = "webapp.errors.server_error"
