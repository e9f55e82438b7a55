"""Re-integration: the cell exports the registers and records the main system's identifiers."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from garde.accounts.models import record_access
from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.frontdesk import reintegration
from garde.frontdesk.forms import ReentryForm
from garde.frontdesk.models import ExportBatch

REGISTER_LABELS = {"patients": _lazy("Patients"), "appointments": _lazy("Appointments"),
                   "documents": _lazy("Documents brought in"), "payments": _lazy("Payments")}


def _page(request, crisis, reentry_form):
    pending = reintegration.pending_counts(crisis)
    reentered = reintegration.reentry_counts(crisis)
    return render(request, "frontdesk/export.html", {
        "crisis": crisis,
        "registers": [(REGISTER_LABELS[name], pending[name], *reentered[name]) for name in REGISTER_LABELS],
        "batches": ExportBatch.objects.filter(crisis=crisis).select_related("created_by"),
        "reentry_form": reentry_form,
    })


@crisis_view(C.EXPORT_FRONTDESK)
def export_page(request, crisis):
    return _page(request, crisis, ReentryForm())


@require_POST
@crisis_view(C.EXPORT_FRONTDESK)
def export_new(request, crisis):
    full = request.POST.get("full") == "1"
    batch = reintegration.export(crisis, request.user, full=full)
    if batch is None:
        messages.info(request, _("Nothing new to export since the last export."))
        return redirect("frontdesk_export", crisis.pk)
    record_access(request.user, "frontdesk_export", f"{crisis.pk} export {batch.number}", reason=str(batch.counts))
    messages.success(request, _("Export %(n)d created.") % {"n": batch.number})
    return redirect("frontdesk_export", crisis.pk)


@crisis_view(C.EXPORT_FRONTDESK)
def export_download(request, crisis, batch_id):
    batch = get_object_or_404(ExportBatch, pk=batch_id, crisis=crisis)
    record_access(request.user, "frontdesk_export_download", f"{crisis.pk} export {batch.number}")
    response = HttpResponse(reintegration.read_archive(batch), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{batch.filename}"'
    return response


@require_POST
@crisis_view(C.EXPORT_FRONTDESK)
def reentered(request, crisis):
    form = ReentryForm(request.POST)
    if form.is_valid():
        try:
            marked = reintegration.mark_reentered(crisis, form.cleaned_data["lines"], request.user)
        except reintegration.UnknownReference as unknown:
            form.add_error("lines", _("No record has the reference “%(ref)s”: nothing was recorded.") % {
                "ref": unknown.args[0]})
        else:
            messages.success(request, ngettext("%(n)d record marked as re-entered.",
                                               "%(n)d records marked as re-entered.", len(marked)) % {"n": len(marked)})
            return redirect("frontdesk_export", crisis.pk)
    return _page(request, crisis, form)
