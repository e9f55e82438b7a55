import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from garde.accounts.models import record_access
from garde.accounts.roles import Capability as C
from garde.cell import journal
from garde.cell.access import crisis_view
from garde.cell.exports import log_as_json
from garde.cell.forms import LogEntryForm
from garde.cell.models import Attachment, LogEntry
from garde.printing import pdf_response

ENTRIES_PER_PAGE = 50


@crisis_view(C.VIEW_CRISIS)
def log(request, crisis):
    entries = (
        LogEntry.objects.filter(crisis=crisis)
        .select_related("corrects")
        .prefetch_related("attachments", "corrections")
        .order_by("-seq")
    )
    kind = request.GET.get("kind")
    if kind in LogEntry.Kind.values:
        entries = entries.filter(kind=kind)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "cell/log.html", {
        "crisis": crisis, "page": page, "form": LogEntryForm(), "kinds": LogEntry.Kind.choices, "kind": kind,
    })


@crisis_view(C.WRITE_LOG)
def log_add(request, crisis, corrects_seq=None):
    corrected = get_object_or_404(LogEntry, crisis=crisis, seq=corrects_seq) if corrects_seq else None
    form = LogEntryForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            files = [journal.store_upload(f) for f in data["attachments"]]
            entry = journal.record(
                crisis, data["text"], kind=data["kind"], author=request.user,
                occurred_at=data["occurred_at"], source=data["source"], corrects=corrected, files=files,
            )
        messages.success(request, _("Entry #%(n)d recorded.") % {"n": entry.seq})
        return redirect("log", crisis.pk)
    return render(request, "cell/log_add.html", {"crisis": crisis, "form": form, "corrected": corrected})


@crisis_view(C.VIEW_CRISIS)
def log_verify(request, crisis):
    report = journal.verify(crisis)
    return render(request, "cell/log_verify.html", {"crisis": crisis, "report": report, "checked_at": timezone.now()})


@crisis_view(C.EXPORT)
def log_export_json(request, crisis):
    record_access(request.user, "export_log_json", str(crisis))
    body = json.dumps(log_as_json(crisis), ensure_ascii=False, indent=1)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="main-courante-{timezone.now():%Y%m%d-%H%M}.json"'
    return response


@crisis_view(C.EXPORT)
def log_export_pdf(request, crisis):
    record_access(request.user, "export_log_pdf", str(crisis))
    entries = LogEntry.objects.filter(crisis=crisis).select_related("corrects").prefetch_related("attachments")
    context = {"crisis": crisis, "entries": entries, "report": journal.verify(crisis), "printed_at": timezone.now()}
    return pdf_response("cell/print/log.html", context, f"main-courante-{timezone.now():%Y%m%d-%H%M}.pdf", request)


@crisis_view(C.VIEW_CRISIS)
def attachment(request, crisis, attachment_id):
    item = get_object_or_404(Attachment, pk=attachment_id, entry__crisis=crisis)
    return FileResponse(item.file.open("rb"), as_attachment=True, filename=item.name)

