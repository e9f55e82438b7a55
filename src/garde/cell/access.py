"""Access checks: every crisis view names the capability it needs (see accounts.roles.MATRIX)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from garde.accounts.roles import Capability, role_can
from garde.cell.models import Crisis, Membership


def crisis_view(capability: Capability):
    """Load the crisis of the URL, check the user's role in it, and pass the crisis to the view.

    A user who is not a member, or whose role lacks the capability, gets 403 and nothing of the content.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, crisis_id, *args, **kwargs):
            crisis = get_object_or_404(Crisis, pk=crisis_id)
            membership = Membership.objects.filter(crisis=crisis, user=request.user).first()
            if membership is None or not role_can(membership.role, capability):
                raise PermissionDenied
            request.membership = membership
            return view(request, crisis, *args, **kwargs)

        wrapper.capability = capability
        return wrapper

    return decorator


def can(request, capability: Capability) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and role_can(membership.role, capability)
