from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from garde.accounts import views as account_views

urlpatterns = [
    path("", include("garde.cell.urls")),
    path("", include("garde.systems.urls")),
    path("", include("garde.continuity.urls")),
    path("", include("garde.frontdesk.urls")),
    path("", include("garde.breach.urls")),
    path("account/login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/second-factor/", account_views.second_factor, name="second_factor"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
