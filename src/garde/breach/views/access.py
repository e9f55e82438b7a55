"""Access to a breach file: the capability of the crisis view, the breach of the URL, the key, the reason.

Pages that show persons need a reason, asked once and kept in the session for a short while; every page and
export still writes its own line in the access log with that reason.
"""

from datetime import timedelta
from functools import wraps

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from garde.accounts.models import record_access
from garde.accounts.roles import Capability
from garde.breach import crypto
from garde.breach.forms import ReasonForm
from garde.breach.models import Breach
from garde.cell.access import crisis_view

REASON_MINUTES = 30


def breach_view(capability: Capability, needs_key: bool = False):
    def decorator(view):
        @crisis_view(capability)
        @wraps(view)
        def wrapper(request, crisis, breach_id, *args, **kwargs):
            breach = get_object_or_404(Breach, pk=breach_id, crisis=crisis)
            try:
                if needs_key:
                    crypto.check_key()
                return view(request, crisis, breach, *args, **kwargs)
            except crypto.BreachKeyError as error:
                return render(request, "breach/key_missing.html",
                              {"crisis": crisis, "breach": breach, "problem": str(error)}, status=503)

        return wrapper

    return decorator


def _session_key(breach: Breach) -> str:
    return f"breach-reason-{breach.pk}"


def current_reason(request, breach: Breach) -> str | None:
    stored = request.session.get(_session_key(breach))
    if not stored:
        return None
    given = parse_datetime(stored.get("at", ""))
    if given is None or timezone.now() - given > timedelta(minutes=REASON_MINUTES):
        return None
    return stored["reason"]


def set_reason(request, breach: Breach, reason: str) -> None:
    request.session[_session_key(breach)] = {"reason": reason, "at": timezone.now().isoformat()}


def with_reason(request, crisis, breach: Breach, action: str, target: str):
    """The reason for this access, logged; or the page asking for one (nothing of the persons shown)."""
    reason = current_reason(request, breach)
    if reason is None:
        form = ReasonForm()
        return None, render(request, "breach/reason.html",
                            {"crisis": crisis, "breach": breach, "form": form, "next": request.get_full_path()})
    record_access(request.user, action, f"breach {breach.number}: {target}", reason)
    return reason, None
