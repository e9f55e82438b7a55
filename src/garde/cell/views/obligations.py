"""Regulatory clocks and the drafts of each declaration."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from garde.accounts.roles import Capability as C
from garde.cell import drafts, services
from garde.cell.access import can, crisis_view
from garde.cell.clocks import clock_for, clocks_for
from garde.cell.forms import ObligationDraftForm, ObligationOwnerForm, ObligationSentForm
from garde.cell.models import Obligation


@crisis_view(C.VIEW_CRISIS)
def obligations(request, crisis):
    return render(request, "cell/obligations.html", {"crisis": crisis, "clocks": clocks_for(crisis)})


@crisis_view(C.VIEW_CRISIS)
def obligation(request, crisis, obligation_id):
    item = get_object_or_404(Obligation.objects.select_related("rule", "crisis"), pk=obligation_id, crisis=crisis)
    fields = drafts.fields_for(item)
    may_edit = can(request, C.MANAGE_OBLIGATIONS)
    draft_form = ObligationDraftForm(initial=drafts.initial_draft(item), fields=fields)
    sent_form = ObligationSentForm(initial={"sent_at": timezone.localtime().replace(second=0, microsecond=0)})
    owner_form = ObligationOwnerForm(initial={"owner": item.owner_id}, crisis=crisis)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if "set_owner" in request.POST:
            owner_form = ObligationOwnerForm(request.POST, crisis=crisis)
            if owner_form.is_valid():
                services.set_obligation_owner(item, owner_form.cleaned_data["owner"], request.user)
                return redirect("obligation", crisis.pk, item.pk)
        elif "mark_sent" in request.POST:
            sent_form = ObligationSentForm(request.POST)
            if sent_form.is_valid():
                data = sent_form.cleaned_data
                services.mark_obligation_sent(item, data["sent_at"], data["channel"], data["reference"], request.user)
                messages.success(request, _("Marked as sent."))
                return redirect("obligations", crisis.pk)
        else:
            draft_form = ObligationDraftForm(request.POST, fields=fields)
            if draft_form.is_valid():
                services.save_obligation_draft(item, draft_form.cleaned_data, request.user)
                messages.success(request, _("Draft saved."))
                return redirect("obligation", crisis.pk, item.pk)
    return render(request, "cell/obligation.html", {
        "crisis": crisis,
        "clock": clock_for(item),
        "obligation": item,
        "draft_form": draft_form,
        "sent_form": sent_form,
        "owner_form": owner_form,
        "may_edit": may_edit,
    })


@crisis_view(C.VIEW_CRISIS)
def obligation_text(request, crisis, obligation_id):
    item = get_object_or_404(Obligation.objects.select_related("rule", "crisis"), pk=obligation_id, crisis=crisis)
    return HttpResponse(drafts.as_text(item), content_type="text/plain; charset=utf-8")
