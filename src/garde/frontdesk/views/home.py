"""The front desk's home (counts for the cell, today's work for the agents) and its set-up."""

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from garde.accounts.roles import Capability as C
from garde.cell.access import can, crisis_view
from garde.frontdesk.forms import CashDeskForm, DepartmentForm, PractitionerForm, SiteForm
from garde.frontdesk.models import (
    Appointment,
    CashDesk,
    DayClosing,
    Department,
    PaperDocument,
    Patient,
    Payment,
    Practitioner,
    Site,
)


def activity(crisis) -> dict:
    """Counts without identity: what the cell and observers may see of the front desk."""
    today = timezone.localdate()
    patients = Patient.objects.filter(crisis=crisis, merged_into__isnull=True)
    appointments = Appointment.objects.filter(crisis=crisis)
    payments = Payment.objects.filter(crisis=crisis)
    return {
        "patients": patients.count(),
        "patients_today": patients.filter(created_at__date=today).count(),
        "provisional": patients.filter(status=Patient.Status.PROVISIONAL).count(),
        "merged": Patient.objects.filter(crisis=crisis, merged_into__isnull=False).count(),
        "appointments": appointments.filter(status=Appointment.Status.BOOKED).count(),
        "appointments_today": appointments.filter(status=Appointment.Status.BOOKED, starts_at__date=today).count(),
        "cancelled": appointments.filter(status=Appointment.Status.CANCELLED).count(),
        "documents": PaperDocument.objects.filter(crisis=crisis).count(),
        "payments": payments.filter(amount__gt=0).count(),
        "takings": payments.aggregate(total=Sum("amount"))["total"] or 0,
        "takings_today": payments.filter(business_date=today).aggregate(total=Sum("amount"))["total"] or 0,
        "closings": DayClosing.objects.filter(cash_desk__crisis=crisis).count(),
        "unbalanced": sum(1 for c in DayClosing.objects.filter(cash_desk__crisis=crisis) if not c.balanced),
        "to_reenter": sum(
            model.objects.filter(crisis=crisis, reentered_at__isnull=True).count()
            for model in (Patient, Appointment, PaperDocument, Payment)
        ),
    }


@crisis_view(C.VIEW_FRONTDESK_COUNTS)
def index(request, crisis):
    desks = CashDesk.objects.filter(crisis=crisis).annotate(
        today=Sum("payments__amount", filter=Q(payments__business_date=timezone.localdate())),
        lines=Count("payments", filter=Q(payments__business_date=timezone.localdate())),
    )
    return render(request, "frontdesk/index.html", {
        "crisis": crisis, "counts": activity(crisis), "desks": desks,
        "sites": Site.objects.filter(crisis=crisis),
        "configured": Site.objects.filter(crisis=crisis).exists() and CashDesk.objects.filter(crisis=crisis).exists()
        and Practitioner.objects.filter(crisis=crisis).exists(),
        "may_use": can(request, C.USE_FRONTDESK),
    })


SETUP_FORMS = {
    "site": (SiteForm, _("Site added.")),
    "department": (DepartmentForm, _("Department added.")),
    "practitioner": (PractitionerForm, _("Practitioner added.")),
    "desk": (CashDeskForm, _("Cash desk added.")),
}


@crisis_view(C.CONFIGURE_FRONTDESK)
def setup(request, crisis):
    what = request.POST.get("what") if request.method == "POST" else None
    forms = {key: form_class(prefix=key, crisis=crisis) for key, (form_class, _done) in SETUP_FORMS.items()}
    if what in SETUP_FORMS:
        form_class, done = SETUP_FORMS[what]
        form = form_class(request.POST, prefix=what, crisis=crisis)
        forms[what] = form
        if form.is_valid():
            form.instance.crisis = crisis
            form.save()
            messages.success(request, str(done))
            return redirect("frontdesk_setup", crisis.pk)
    return render(request, "frontdesk/setup.html", {
        "crisis": crisis, "forms": forms,
        "sites": Site.objects.filter(crisis=crisis),
        "departments": Department.objects.filter(crisis=crisis),
        "practitioners": Practitioner.objects.filter(crisis=crisis).select_related("department"),
        "desks": CashDesk.objects.filter(crisis=crisis),
    })
