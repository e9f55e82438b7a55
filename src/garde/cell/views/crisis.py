from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from garde.accounts.roles import Capability as C
from garde.accounts.roles import capabilities_of, role_can
from garde.cell import services
from garde.cell.access import crisis_view
from garde.cell.clocks import clocks_for
from garde.cell.forms import CrisisForm, MemberForm, NewCrisisForm
from garde.cell.models import Action, Crisis, LogEntry, Membership

DASHBOARD_LOG_ENTRIES = 10


@login_required
def home(request):
    memberships = Membership.objects.filter(user=request.user).select_related("crisis").order_by("-crisis__t0")
    rows = [(membership, _entry_page(membership)) for membership in memberships]
    return render(request, "cell/home.html", {"rows": rows})


def _entry_page(membership: Membership) -> str:
    """Where a member starts: the cell's dashboard, or the front desk for agents who only work there."""
    if role_can(membership.role, C.VIEW_CRISIS):
        return reverse("dashboard", args=[membership.crisis_id])
    return reverse("frontdesk", args=[membership.crisis_id])


@login_required
def crisis_new(request):
    # Opening a crisis is for Garde's administrators (staff accounts): they set up the cell.
    if not request.user.is_staff:
        raise PermissionDenied
    form = NewCrisisForm(request.POST or None, initial={"t0": timezone.localtime().replace(second=0, microsecond=0)})
    if request.method == "POST" and form.is_valid():
        crisis = services.open_crisis(form.save(commit=False), request.user, form.cleaned_data["my_role"])
        return redirect("dashboard", crisis.pk)
    return render(request, "cell/crisis_form.html", {"form": form, "creating": True})


def _dashboard_context(crisis: Crisis) -> dict:
    return {
        "crisis": crisis,
        "clocks": clocks_for(crisis),
        "entries": LogEntry.objects.filter(crisis=crisis).order_by("-seq")[:DASHBOARD_LOG_ENTRIES],
        "open_actions": Action.objects.filter(crisis=crisis, status__in=[Action.Status.TODO, Action.Status.DOING])
        .select_related("owner")
        .order_by("priority", "due_at")[:15],
        "now": timezone.now(),
    }


@crisis_view(C.VIEW_CRISIS)
def dashboard(request, crisis):
    return render(request, "cell/dashboard.html", _dashboard_context(crisis))


@crisis_view(C.VIEW_CRISIS)
def dashboard_live(request, crisis):
    """The refreshing part of the dashboard (htmx polls it)."""
    return render(request, "cell/dashboard.html#live", _dashboard_context(crisis))


@crisis_view(C.EDIT_CRISIS)
def crisis_edit(request, crisis):
    before = services.snapshot(crisis)
    form = CrisisForm(request.POST or None, instance=crisis)
    if request.method == "POST" and form.is_valid():
        services.update_crisis(form.save(commit=False), before, request.user)
        messages.success(request, _("Crisis updated."))
        return redirect("dashboard", crisis.pk)
    return render(request, "cell/crisis_form.html", {"form": form, "crisis": crisis})


@crisis_view(C.MANAGE_MEMBERS)
def members(request, crisis):
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.set_membership(crisis, form.cleaned_data["username"], form.cleaned_data["role"], request.user)
        messages.success(request, _("Member saved."))
        return redirect("members", crisis.pk)
    memberships = crisis.memberships.select_related("user").order_by("role", "user__username")
    rows = [(m, sorted(c.label for c in capabilities_of(m.role))) for m in memberships]
    return render(request, "cell/members.html", {"crisis": crisis, "form": form, "rows": rows})


@require_POST
@crisis_view(C.MANAGE_MEMBERS)
def member_remove(request, crisis, membership_id):
    membership = get_object_or_404(Membership, pk=membership_id, crisis=crisis)
    if membership.user == request.user:
        messages.error(request, _("You cannot remove yourself from the cell."))
    else:
        services.remove_membership(membership, request.user)
    return redirect("members", crisis.pk)
