"""Top-level URLs: account pages, /o/<org>/ pages, and the API under /api/v1/."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from carte.capacity.api import router as capacity_router
from carte.catalogue.api import router as catalogue_router
from carte.catalogue.api_transfer import router as transfer_router
from carte.core.api import build_api
from carte.core.jobs.api import router as jobs_router
from carte.core.views_misc import healthz
from carte.lifecycle.api import router as lifecycle_router
from carte.operations.api import router as operations_router
from carte.organisations.access import TokenAuth
from carte.organisations.api import router as organisations_router
from carte.organisations.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from carte.organisations.views import home, token_revoke, tokens

api = build_api(auth=TokenAuth())
api.add_router("/", organisations_router)
api.add_router("/", catalogue_router)
api.add_router("/", transfer_router)
api.add_router("/", lifecycle_router)
api.add_router("/", operations_router)
api.add_router("/", capacity_router)
api.add_router("/", jobs_router)

# Errors under /api/v1/ are problem+json; pages keep their HTML error pages.
handler400 = "carte.core.api.bad_request_handler"
handler404 = "carte.core.api.not_found_handler"
handler500 = "carte.core.api.server_error_handler"

urlpatterns = [
    path("", home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's own password views, with Carte's forms (Tabler; the service writes) and
    # templates; the reset e-mail goes through the mail settings, its link from
    # CARTE_BASE_URL.
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(form_class=PasswordChangeForm),
        name="password_change",
    ),
    path(
        "account/password/changed/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            form_class=PasswordResetForm,
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=SetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/tokens/", tokens, name="tokens"),
    path("account/tokens/<id:pk>/revoke/", token_revoke, name="token_revoke"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("", include("carte.operations.urls_public")),
    path("o/<slug:org>/", include("carte.organisations.urls")),
    path("o/<slug:org>/", include("carte.catalogue.urls")),
    path("o/<slug:org>/", include("carte.lifecycle.urls")),
    path("o/<slug:org>/", include("carte.operations.urls")),
    path("o/<slug:org>/", include("carte.capacity.urls")),
]
