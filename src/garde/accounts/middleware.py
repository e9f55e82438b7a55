from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from garde.accounts.models import SecondFactorPolicy

# Pages a user must reach before proving the second factor: otherwise they could never set it up.
OPEN_PREFIXES = ("/account/second-factor/", "/account/logout/", "/i18n/", "/static/", "/status/", "/api/v2/")


class SecondFactorMiddleware:
    """Send users whose role requires a second factor to set it up or prove it before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_prove_second_factor(request):
            return redirect(reverse("second_factor") + f"?next={request.get_full_path()}")
        return self.get_response(request)

    def _must_prove_second_factor(self, request) -> bool:
        user = request.user
        if not user.is_authenticated or request.path.startswith(OPEN_PREFIXES):
            return False
        if user.is_verified():
            return False
        required = SecondFactorPolicy.required_roles()
        if not required:
            return False
        return user.memberships.filter(role__in=required).exists()


class LanguageMiddleware:
    """French unless the person chose otherwise with the language switch (a cookie).

    Django's LocaleMiddleware would follow the browser's Accept-Language; hospital workstations are often
    installed in English, and the people using Garde expect French unless they ask for English.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Cookie"])
        return response
