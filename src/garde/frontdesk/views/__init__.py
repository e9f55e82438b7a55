import uuid

from django.http import Http404

from garde.frontdesk.models import Patient


def parse_uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404 from None


def picked_patient(request, crisis) -> Patient | None:
    """The patient a register form is for (?patient= in the URL, or the hidden field once posted)."""
    value = request.POST.get("patient") or request.GET.get("patient")
    if not value:
        return None
    patient = Patient.objects.filter(pk=parse_uuid(value), crisis=crisis).first()
    if patient is None:
        raise Http404
    if patient.merged_into_id:
        return patient.merged_into
    return patient
