"""Decisions and actions of the cell."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from garde.accounts.roles import Capability as C
from garde.cell import services
from garde.cell.access import crisis_view
from garde.cell.forms import ActionForm, ActionStatusForm, DecisionForm
from garde.cell.models import Action, ActionTemplate, Decision


@crisis_view(C.VIEW_CRISIS)
def decisions(request, crisis):
    items = Decision.objects.filter(crisis=crisis).order_by("-decided_at")
    form = DecisionForm(initial={"decided_at": timezone.localtime().replace(second=0, microsecond=0)})
    return render(request, "cell/decisions.html", {"crisis": crisis, "decisions": items, "form": form})


@crisis_view(C.RECORD_DECISION)
def decision_add(request, crisis):
    form = DecisionForm(request.POST or None, initial={"decided_at": timezone.localtime().replace(second=0, microsecond=0)})
    if request.method == "POST" and form.is_valid():
        decision = form.save(commit=False)
        decision.crisis = crisis
        services.record_decision(decision, request.user)
        messages.success(request, _("Decision recorded."))
        return redirect("decisions", crisis.pk)
    return render(request, "cell/decision_form.html", {"crisis": crisis, "form": form})


@crisis_view(C.VIEW_CRISIS)
def actions(request, crisis):
    items = Action.objects.filter(crisis=crisis).select_related("owner")
    return render(request, "cell/actions.html", {
        "crisis": crisis,
        "actions": items,
        "statuses": Action.Status.choices,
        "checklist_size": ActionTemplate.objects.filter(active=True).count(),
    })


@crisis_view(C.MANAGE_ACTIONS)
def action_add(request, crisis):
    form = ActionForm(request.POST or None, crisis=crisis)
    if request.method == "POST" and form.is_valid():
        action = form.save(commit=False)
        action.crisis = crisis
        services.create_action(action, request.user)
        messages.success(request, _("Action created."))
        return redirect("actions", crisis.pk)
    return render(request, "cell/action_form.html", {"crisis": crisis, "form": form})


@require_POST
@crisis_view(C.MANAGE_ACTIONS)
def action_status(request, crisis, action_id):
    action = get_object_or_404(Action, pk=action_id, crisis=crisis)
    form = ActionStatusForm(request.POST)
    if form.is_valid():
        services.set_action_status(action, form.cleaned_data["status"], request.user)
    else:
        messages.error(request, _("Unknown status."))
    return redirect("actions", crisis.pk)


@require_POST
@crisis_view(C.MANAGE_ACTIONS)
def checklist(request, crisis):
    created = services.create_first_hour_checklist(crisis, request.user)
    if created:
        messages.success(request, ngettext("%(n)d checklist action created.", "%(n)d checklist actions created.", created) % {"n": created})
    else:
        messages.info(request, _("The crisis already has every action of the checklist."))
    return redirect("actions", crisis.pk)
