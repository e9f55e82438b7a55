"""The identity register. Every page that shows a patient's identity writes a line in the access log."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from garde.accounts.models import record_access
from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.frontdesk import patients as register
from garde.frontdesk.forms import PatientForm
from garde.frontdesk.models import Patient, Site
from garde.frontdesk.views import parse_uuid
from garde.lib.identity import Traits


def patient_of(crisis, patient_id) -> Patient:
    return get_object_or_404(Patient, pk=patient_id, crisis=crisis)


@crisis_view(C.USE_FRONTDESK)
def patients(request, crisis):
    """Search by a few keystrokes; with htmx only the results are sent back, as the agent types."""
    query = request.GET.get("q", "").strip()
    found = register.search(crisis, query) if query else []
    if query:
        record_access(request.user, "frontdesk_search", ", ".join(p.downtime_id for p in found) or "-")
    context = {"crisis": crisis, "query": query, "found": found, "pick": request.GET.get("pick", "")}
    if request.htmx:
        return render(request, "frontdesk/_patient_results.html", context)
    return render(request, "frontdesk/patients.html", context)


@crisis_view(C.USE_FRONTDESK)
def patient_new(request, crisis):
    if not Site.objects.filter(crisis=crisis).exists():
        messages.error(request, _("No site is set up yet: the cell sets up the front desk first."))
        return redirect("frontdesk", crisis.pk)
    form = PatientForm(request.POST or None, crisis=crisis, initial={"birth_name": request.GET.get("name", "")})
    matches = []
    if request.method == "POST" and form.is_valid():
        patient = form.save(commit=False)
        patient.crisis = crisis
        try:
            register.create_patient(patient, request.user, confirmed_new=form.cleaned_data["confirm_new"])
        except register.ProbableDuplicate as duplicate:
            matches = duplicate.matches
            record_access(request.user, "frontdesk_duplicates", ", ".join(m.patient.downtime_id for m in matches))
            form.add_error("confirm_new", _("Probable duplicates found (listed beside the form): open the right "
                                            "patient, or tick this box if this is another person."))
        except register.RangeExhausted:
            form.add_error("site", _("This site has used every identifier of its reserved range: ask the cell "
                                     "for a new range."))
        else:
            messages.success(request, _("Patient registered with downtime identifier %(id)s.") % {
                "id": patient.downtime_id})
            return redirect(_after_create(request, crisis, patient))
    return render(request, "frontdesk/patient_form.html", {
        "crisis": crisis, "form": form, "matches": matches, "next": request.GET.get("next", ""),
    })


def _after_create(request, crisis, patient):
    from django.urls import reverse

    targets = {"appointment": "frontdesk_appointment_new", "payment": "frontdesk_payment_new",
               "document": "frontdesk_document_new"}
    target = targets.get(request.GET.get("next", ""))
    if target:
        return reverse(target, args=[crisis.pk]) + f"?patient={patient.pk}"
    return reverse("frontdesk_patient", args=[crisis.pk, patient.pk])


@require_POST
@crisis_view(C.USE_FRONTDESK)
def duplicates(request, crisis):
    """Probable duplicates of what is being typed in the patient form (an htmx fragment)."""
    form = PatientForm(request.POST, crisis=crisis)
    form.is_valid()  # partial input is expected here; take whatever traits are readable
    data = form.cleaned_data
    traits = Traits(data.get("birth_name", ""), data.get("first_names", ""), data.get("birth_date"),
                    data.get("sex", ""), data.get("used_name", ""))
    matches = register.probable_duplicates(crisis, traits)
    if matches:
        record_access(request.user, "frontdesk_duplicates", ", ".join(m.patient.downtime_id for m in matches))
    return render(request, "frontdesk/_duplicates.html", {"crisis": crisis, "matches": matches})


@crisis_view(C.USE_FRONTDESK)
def patient(request, crisis, patient_id):
    item = patient_of(crisis, patient_id)
    record_access(request.user, "frontdesk_patient", item.downtime_id)
    matches = [] if item.merged_into_id else register.probable_duplicates(crisis, register.traits_of(item), exclude=item)
    return render(request, "frontdesk/patient.html", {
        "crisis": crisis, "patient": item, "matches": matches,
        "appointments": item.appointments.select_related("practitioner", "department").order_by("-starts_at"),
        "documents": item.documents.all(),
        "payments": item.payments.select_related("cash_desk").order_by("-recorded_at"),
    })


@crisis_view(C.USE_FRONTDESK)
def patient_edit(request, crisis, patient_id):
    item = patient_of(crisis, patient_id)
    record_access(request.user, "frontdesk_patient_edit", item.downtime_id)
    if item.merged_into_id:
        messages.error(request, _("This patient was merged: edit the patient it was merged into."))
        return redirect("frontdesk_patient", crisis.pk, item.merged_into_id)
    form = PatientForm(request.POST or None, instance=item, crisis=crisis)
    if request.method == "POST" and form.is_valid():
        register.update_patient(form.save(commit=False))
        messages.success(request, _("Identity updated."))
        return redirect("frontdesk_patient", crisis.pk, item.pk)
    return render(request, "frontdesk/patient_form.html", {"crisis": crisis, "form": form, "patient": item})


@require_POST
@crisis_view(C.USE_FRONTDESK)
def patient_merge(request, crisis, patient_id):
    kept = patient_of(crisis, patient_id)
    if not request.POST.get("duplicate"):
        messages.error(request, _("Choose the duplicate to merge into this patient."))
        return redirect("frontdesk_patient", crisis.pk, kept.pk)
    duplicate = get_object_or_404(Patient, pk=parse_uuid(request.POST["duplicate"]), crisis=crisis)
    try:
        register.merge(crisis, kept, duplicate, request.user)
    except ValueError:
        messages.error(request, _("These two patients cannot be merged (one of them is already merged)."))
    else:
        record_access(request.user, "frontdesk_merge", f"{duplicate.downtime_id} -> {kept.downtime_id}")
        messages.success(request, _("%(dup)s merged into %(kept)s: its appointments, documents and payments "
                                    "now belong to %(kept)s.") % {"dup": duplicate.downtime_id, "kept": kept.downtime_id})
    return redirect("frontdesk_patient", crisis.pk, kept.pk)
