"""Paper documents brought in by patients: what, from whom, where the paper is, and an optional scan."""

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from garde.accounts.models import record_access
from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.frontdesk import documents as register
from garde.frontdesk.forms import DocumentForm
from garde.frontdesk.models import PaperDocument
from garde.frontdesk.views import picked_patient

PER_PAGE = 100


@crisis_view(C.USE_FRONTDESK)
def documents(request, crisis):
    items = PaperDocument.objects.filter(crisis=crisis).select_related("patient", "received_by")
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    record_access(request.user, "frontdesk_documents", f"page {page.number} ({len(page.object_list)})")
    return render(request, "frontdesk/documents.html", {"crisis": crisis, "page": page})


@crisis_view(C.USE_FRONTDESK)
def document_new(request, crisis):
    patient = picked_patient(request, crisis)
    if patient is None:
        return render(request, "frontdesk/pick_patient.html", {
            "crisis": crisis, "next": "document", "title": _("Record a document brought in")})
    record_access(request.user, "frontdesk_patient", patient.downtime_id)
    form = DocumentForm(request.POST or None, request.FILES or None, crisis=crisis, initial={"patient": patient.pk})
    if request.method == "POST" and form.is_valid():
        document = form.save(commit=False)
        document.crisis = crisis
        register.receive(document, request.user, scan=form.cleaned_data.get("scan"))
        messages.success(request, _("Document %(ref)s recorded: keep the paper at “%(where)s”.") % {
            "ref": document, "where": document.location})
        return redirect("frontdesk_patient", crisis.pk, patient.pk)
    return render(request, "frontdesk/document_form.html", {"crisis": crisis, "form": form, "patient": patient})


@crisis_view(C.USE_FRONTDESK)
def document_scan(request, crisis, document_id):
    document = get_object_or_404(PaperDocument, pk=document_id, crisis=crisis)
    if not document.scan_file or not default_storage.exists(document.scan_file):
        raise Http404
    record_access(request.user, "frontdesk_scan", f"{document} {document.patient.downtime_id}")
    return FileResponse(default_storage.open(document.scan_file, "rb"), as_attachment=True,
                        filename=document.scan_name)
