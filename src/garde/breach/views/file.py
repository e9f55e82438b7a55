"""The breach file itself: creation, counts by category and perimeter, scan imports, risk, register."""

import os
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from garde.accounts.models import record_access
from garde.accounts.roles import Capability as C
from garde.accounts.roles import Role, role_can
from garde.breach import stats
from garde.breach.forms import BreachForm, ImportForm, RiskForm
from garde.breach.models import CATEGORIES, Breach, Perimeter, ScanImport
from garde.breach.scanfolder import FILES
from garde.breach.tasks import import_scan
from garde.breach.views.access import breach_view
from garde.cell import journal
from garde.cell.access import can, crisis_view
from garde.cell.models import LogEntry, Membership
from garde.lib.env import env_str
from garde.printing import pdf_response


@crisis_view(C.VIEW_BREACH)
def breaches(request, crisis):
    items = Breach.objects.filter(crisis=crisis)
    return render(request, "breach/list.html", {"crisis": crisis, "breaches": items,
                                                "may_see_hospital_register": may_see_hospital_register(request.user)})


@crisis_view(C.MANAGE_BREACH)
def breach_new(request, crisis):
    form = BreachForm(request.POST or None, initial={"t0": timezone.localtime(crisis.t0).replace(second=0, microsecond=0)})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            breach = form.save(commit=False)
            breach.crisis = crisis
            breach.created_by = request.user
            # The register numbers every breach of the hospital, in the order they were opened.
            last = Breach.objects.select_for_update().aggregate(last=Max("number"))["last"]
            breach.number = (last or 0) + 1
            breach.save()
            journal.record(crisis, _("Breach file %(n)d opened: %(title)s.") % {"n": breach.number, "title": breach.title},
                           kind=LogEntry.Kind.FACT, author=request.user)
        return redirect("breach:detail", crisis.pk, breach.pk)
    return render(request, "breach/form.html", {"crisis": crisis, "form": form, "heading": _("New breach file")})


@breach_view(C.MANAGE_BREACH)
def breach_edit(request, crisis, breach):
    form = BreachForm(request.POST or None, instance=breach)
    if request.method == "POST" and form.is_valid():
        form.save()
        journal.record(crisis, _("Breach file %(n)d updated.") % {"n": breach.number}, author=request.user)
        return redirect("breach:detail", crisis.pk, breach.pk)
    return render(request, "breach/form.html", {"crisis": crisis, "breach": breach, "form": form,
                                                "heading": _("Edit the breach file")})


@breach_view(C.VIEW_BREACH)
def breach_detail(request, crisis, breach):
    columns = stats.columns(breach)
    total = columns[-1]
    suggested, reasons = stats.suggested_risk(total)
    charts = [stats.chart(column) for column in columns]
    charts[-1]["name"] = _("All perimeters")
    return render(request, "breach/detail.html", {
        "crisis": crisis, "breach": breach, "columns": columns, "rows": stats.table(columns),
        "charts": charts, "total": total,
        "imports": breach.imports.select_related("perimeter", "created_by"),
        "suggested": Breach.Risk(suggested).label, "suggested_reasons": [stats.CATEGORY_LABELS[c] for c in reasons],
        "notifications": breach.notifications.all(),
        "may_manage": can(request, C.MANAGE_BREACH), "may_see_persons": can(request, C.VIEW_BREACH_PERSONS),
    })


def scans_dir() -> Path:
    return Path(env_str("GARDE_BREACH_SCANS_DIR") or Path(settings.DATA_DIR) / "scans").resolve()


def _store_upload(scan_id, files) -> Path:
    """Keep the uploaded scan files, readable by Garde only, in a folder of their own."""
    folder = Path(settings.DATA_DIR) / "breach-uploads" / str(scan_id)
    folder.mkdir(parents=True, mode=0o700)
    for upload in files:
        name = Path(upload.name).name
        if name not in FILES:
            continue  # scan.key and anything else stay out: the import needs only the documented outputs
        descriptor = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            for chunk in upload.chunks():
                stream.write(chunk)
    return folder


@breach_view(C.MANAGE_BREACH)
def scan_import(request, crisis, breach):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        folder = None
        if data["path"]:
            root = scans_dir()
            folder = (root / data["path"].strip()).resolve()
            if not folder.is_relative_to(root) or not folder.is_dir():
                form.add_error("path", _("No scan folder of that name under %(root)s.") % {"root": root})
                folder = None
        if not form.errors:
            perimeter, _created = Perimeter.objects.get_or_create(breach=breach, name=data["perimeter"].strip())
            scan = ScanImport(breach=breach, perimeter=perimeter, created_by=request.user, folder="")
            if folder is None:
                folder = _store_upload(scan.pk, data["files"])
                scan.uploaded = True
            scan.folder = str(folder)
            scan.save()
            import_scan.enqueue(str(scan.pk))
            return redirect("breach:import_status", crisis.pk, breach.pk, scan.pk)
    return render(request, "breach/import.html", {"crisis": crisis, "breach": breach, "form": form,
                                                  "root": scans_dir(), "perimeters": breach.perimeters.all()})


@breach_view(C.VIEW_BREACH)
def import_status(request, crisis, breach, import_id):
    scan = get_object_or_404(ScanImport, pk=import_id, breach=breach)
    template = "breach/_import_status.html" if request.htmx else "breach/import_status.html"
    return render(request, template, {"crisis": crisis, "breach": breach, "scan": scan})


@breach_view(C.MANAGE_BREACH)
def risk(request, crisis, breach):
    form = RiskForm(request.POST or None, instance=breach)
    total = stats.total(breach)
    suggested, reasons = stats.suggested_risk(total)
    if request.method == "POST" and form.is_valid():
        breach = form.save(commit=False)
        breach.risk_decided_by = request.user
        breach.risk_decided_at = timezone.now()
        if breach.risk == Breach.Risk.UNLIKELY and breach.status == Breach.Status.ANALYSIS:
            breach.status = Breach.Status.NOT_NOTIFIED
        breach.save()
        journal.record(
            crisis,
            _("Breach file %(n)d — risk decision: %(risk)s; persons informed: %(inform)s. Reasons: %(why)s")
            % {"n": breach.number, "risk": breach.get_risk_display(), "inform": breach.get_inform_display(),
               "why": breach.risk_reasons},
            kind=LogEntry.Kind.DECISION, author=request.user,
        )
        messages.success(request, _("Risk decision recorded."))
        return redirect("breach:detail", crisis.pk, breach.pk)
    return render(request, "breach/risk.html", {
        "crisis": crisis, "breach": breach, "form": form, "total": total,
        "suggested": Breach.Risk(suggested).label, "reasons": [stats.CATEGORY_LABELS[c] for c in reasons],
    })


@crisis_view(C.VIEW_BREACH)
def register(request, crisis):
    return render(request, "breach/register.html", {"crisis": crisis, "breaches": register_rows(crisis)})


@crisis_view(C.VIEW_BREACH)
def register_pdf(request, crisis):
    return pdf_response("breach/print/register.html", {"crisis": crisis, "breaches": register_rows(crisis)},
                        "registre-violations.pdf", request)


def may_see_hospital_register(user) -> bool:
    """Superusers, and whoever holds view_breach_register in at least one crisis."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    roles = [role for role in Role if role_can(role, C.VIEW_BREACH_REGISTER)]
    return Membership.objects.filter(user=user, role__in=roles).exists()


def hospital_register_view(view):
    """The register of every crisis: no crisis in the URL, so the check is on the user's memberships; every
    look is written to the access log."""

    @login_required
    @wraps(view)
    def wrapper(request):
        if not may_see_hospital_register(request.user):
            raise PermissionDenied
        record_access(request.user, f"breach_{view.__name__}", "hospital-wide breach register")
        return view(request)

    wrapper.capability = C.VIEW_BREACH_REGISTER
    return wrapper


@hospital_register_view
def hospital_register(request):
    return render(request, "breach/register.html", {"breaches": register_rows(), "hospital_wide": True})


@hospital_register_view
def hospital_register_pdf(request):
    return pdf_response("breach/print/register.html", {"breaches": register_rows(), "hospital_wide": True},
                        "registre-violations-etablissement.pdf", request)


def register_rows(crisis=None) -> list[dict]:
    """The register (art. 33(5)): what each breach was and what was done, for one crisis or the whole
    hospital; counts only, never a person."""
    breaches = Breach.objects.select_related("crisis").prefetch_related("notifications", "perimeters")
    if crisis is not None:
        breaches = breaches.filter(crisis=crisis)
    rows = []
    for breach in breaches:
        total = stats.total(breach)
        categories = [{"label": stats.CATEGORY_LABELS[c], "persons": total.persons_by_category[c],
                       "records": total.records_by_category[c]}
                      for c in CATEGORIES if total.persons_by_category[c] or total.records_by_category[c]]
        rows.append({"breach": breach, "total": total, "categories": categories,
                     "perimeters": [p.name for p in breach.perimeters.all()],
                     "notifications": list(breach.notifications.all())})
    return rows
