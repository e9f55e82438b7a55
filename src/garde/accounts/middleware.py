from django.shortcuts import redirect
from django.urls import reverse

from garde.accounts.models import SecondFactorPolicy

# Pages a user must reach before proving the second factor: otherwise they could never set it up.
OPEN_PREFIXES = ("/account/second-factor/", "/account/logout/", "/i18n/", "/static/", "/status/")


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
