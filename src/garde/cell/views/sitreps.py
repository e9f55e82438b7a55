"""Situation reports: drafts that the cell edits, then numbered and frozen on publication."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from garde.accounts.roles import Capability as C
from garde.cell import services
from garde.cell.access import can, crisis_view
from garde.cell.forms import SitRepForm
from garde.cell.models import ImmutableError, SitRep
from garde.printing import pdf_response


@crisis_view(C.VIEW_CRISIS)
def sitreps(request, crisis):
    items = SitRep.objects.filter(crisis=crisis).order_by("status", "-number", "-updated_at")
    return render(request, "cell/sitreps.html", {"crisis": crisis, "sitreps": items})


@require_POST
@crisis_view(C.EDIT_SITREP)
def sitrep_new(request, crisis):
    draft = services.new_draft_from(crisis, request.user)
    return redirect("sitrep_edit", crisis.pk, draft.pk)


@crisis_view(C.EDIT_SITREP)
def sitrep_edit(request, crisis, sitrep_id):
    sitrep = get_object_or_404(SitRep, pk=sitrep_id, crisis=crisis)
    if sitrep.is_published:
        messages.error(request, _("A published situation report is frozen: start a new draft instead."))
        return redirect("sitrep", crisis.pk, sitrep.pk)
    form = SitRepForm(request.POST or None, instance=sitrep)
    if request.method == "POST" and form.is_valid():
        services.save_sitrep_draft(form.save(commit=False))
        messages.success(request, _("Draft saved."))
        return redirect("sitrep", crisis.pk, sitrep.pk)
    return render(request, "cell/sitrep_form.html", {"crisis": crisis, "form": form, "sitrep": sitrep})


@crisis_view(C.VIEW_CRISIS)
def sitrep(request, crisis, sitrep_id):
    item = get_object_or_404(SitRep, pk=sitrep_id, crisis=crisis)
    return render(request, "cell/sitrep.html", {"crisis": crisis, "sitrep": item})


@require_POST
@crisis_view(C.PUBLISH_SITREP)
def sitrep_publish(request, crisis, sitrep_id):
    item = get_object_or_404(SitRep, pk=sitrep_id, crisis=crisis)
    if not item.situation.strip():
        messages.error(request, _("Write the situation before publishing."))
        return redirect("sitrep_edit", crisis.pk, item.pk)
    try:
        published = services.publish_sitrep(item, request.user)
    except ImmutableError as exc:
        messages.error(request, str(exc))
        return redirect("sitrep", crisis.pk, item.pk)
    messages.success(request, _("Situation report no. %(n)d published.") % {"n": published.number})
    return redirect("sitrep", crisis.pk, item.pk)


@crisis_view(C.VIEW_CRISIS)
def sitrep_pdf(request, crisis, sitrep_id):
    item = get_object_or_404(SitRep, pk=sitrep_id, crisis=crisis)
    if not item.is_published and not can(request, C.EDIT_SITREP):
        raise PermissionDenied
    name = f"point-situation-{item.number or 'brouillon'}.pdf"
    return pdf_response("cell/print/sitrep.html", {"crisis": crisis, "sitrep": item}, name, request)

