"""The persons to inform: only the DPO and the director see them, each look and export logged with its reason."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from garde.accounts.models import record_access
from garde.accounts.roles import Capability as C
from garde.breach import letters, persons
from garde.breach.forms import AddressForm, InformedForm, PatientFileForm, ReasonedForm, ReasonForm
from garde.breach.models import CATEGORY_LABELS, LetterRun, Person
from garde.breach.tasks import make_letters
from garde.breach.views.access import breach_view, current_reason, set_reason, with_reason

PAGE = 100


@require_POST
@breach_view(C.VIEW_BREACH_PERSONS)
def reason(request, crisis, breach):
    form = ReasonForm(request.POST)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    if not form.is_valid():
        return render(
            request, "breach/reason.html", {"crisis": crisis, "breach": breach, "form": form, "next": target}
        )
    set_reason(request, breach, form.cleaned_data["reason"])
    record_access(request.user, "breach_reason", f"breach {breach.number}", form.cleaned_data["reason"])
    return redirect(target or "breach:persons", *([] if target else [crisis.pk, breach.pk]))


def _queryset(breach, which: str):
    people = Person.objects.filter(breach=breach)
    if which == "missing":
        return people.filter(address_token="").exclude(status=Person.Status.REMOVED)
    if which in Person.Status.values:
        return people.filter(status=which)
    return people


@breach_view(C.VIEW_BREACH_PERSONS, needs_key=True)
def person_list(request, crisis, breach):
    which = request.GET.get("show", "")
    page = Paginator(_queryset(breach, which), PAGE).get_page(request.GET.get("page"))
    reason_given, ask = with_reason(
        request, crisis, breach, "breach_persons", f"list page {page.number} {which}"
    )
    if ask:
        return ask
    rows = [
        {
            "person": person,
            "name": letters.display_name(letters.identity_of(person)),
            "categories": [CATEGORY_LABELS[c] for c in person.categories],
        }
        for person in page.object_list
    ]
    counts = {
        "all": Person.objects.filter(breach=breach).count(),
        "missing": _queryset(breach, "missing").count(),
        **{
            status: Person.objects.filter(breach=breach, status=status).count()
            for status in Person.Status.values
        },
    }
    return render(
        request,
        "breach/persons.html",
        {
            "crisis": crisis,
            "breach": breach,
            "page": page,
            "rows": rows,
            "show": which,
            "counts": counts,
            "reason": reason_given,
            "informed_form": InformedForm(
                initial={"informed_at": timezone.localtime().replace(second=0, microsecond=0)}
            ),
            "patient_form": PatientFileForm(),
            "run_form": LetterRunForm(),
            "runs": _runs(breach),
        },
    )


@breach_view(C.VIEW_BREACH_PERSONS, needs_key=True)
def person_detail(request, crisis, breach, person_id):
    person = get_object_or_404(Person, pk=person_id, breach=breach)
    reason_given, ask = with_reason(request, crisis, breach, "breach_person", person.reference)
    if ask:
        return ask
    identity = letters.identity_of(person)
    address = letters.address_of(person)
    address_form = AddressForm(
        request.POST if "set_address" in request.POST else None,
        initial={
            "name": address.get("name") or letters.display_name(identity),
            "lines": address.get("lines", ""),
            "postal_code": address.get("postal_code", identity.get("postal_code", "")),
            "city": address.get("city", identity.get("city", "")),
            "country": address.get("country", ""),
            "language": person.language,
        },
    )
    reasoned = ReasonedForm(
        request.POST if ("remove_address" in request.POST or "remove" in request.POST) else None
    )
    informed_form = InformedForm(
        request.POST if "informed" in request.POST else None,
        initial={"informed_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if request.method == "POST":
        if "set_address" in request.POST and address_form.is_valid():
            data = address_form.cleaned_data
            persons.set_address(
                person,
                {k: data[k] for k in ("name", "lines", "postal_code", "city", "country")},
                data["language"],
                request.user,
                reason_given,
            )
            messages.success(request, _("Address saved."))
            return redirect("breach:person", crisis.pk, breach.pk, person.pk)
        if "remove_address" in request.POST and reasoned.is_valid():
            persons.remove_address(person, request.user, reasoned.cleaned_data["reason"])
            return redirect("breach:person", crisis.pk, breach.pk, person.pk)
        if "remove" in request.POST and reasoned.is_valid():
            persons.remove(person, request.user, reasoned.cleaned_data["reason"])
            return redirect("breach:person", crisis.pk, breach.pk, person.pk)
        if "restore" in request.POST:
            persons.restore(person, request.user)
            return redirect("breach:person", crisis.pk, breach.pk, person.pk)
        if "informed" in request.POST and informed_form.is_valid():
            persons.mark_informed(
                [person],
                informed_form.cleaned_data["informed_at"],
                informed_form.cleaned_data["how"],
                request.user,
            )
            return redirect("breach:person", crisis.pk, breach.pk, person.pk)
    return render(
        request,
        "breach/person.html",
        {
            "crisis": crisis,
            "breach": breach,
            "person": person,
            "identity": identity,
            "address_lines": letters.address_lines(address),
            "categories": [CATEGORY_LABELS[c] for c in person.categories],
            "sightings": person.sightings.select_related("perimeter"),
            "address_form": address_form,
            "reasoned": reasoned,
            "informed_form": informed_form,
            "letter": letters.letter_for(person),
        },
    )


def _download(breach, name: str, content: bytes, content_type: str):
    path = letters.write_export(breach, name, content)
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type=content_type)


@breach_view(C.VIEW_BREACH_PERSONS, needs_key=True)
def person_letter(request, crisis, breach, person_id):
    person = get_object_or_404(Person, pk=person_id, breach=breach)
    language = request.GET.get("lang") if request.GET.get("lang") in ("fr", "en") else None
    _reason, ask = with_reason(request, crisis, breach, "breach_letter", person.reference)
    if ask:
        return ask
    letter = letters.letter_for(person, language)
    return _download(
        breach,
        f"lettre-{person.reference}-{letter.language}.pdf",
        letters.pdf(breach, [letter], for_mailing=False),
        "application/pdf",
    )


class LetterRunForm(forms.Form):
    language = forms.ChoiceField(
        label=_l("Language of the letters"), choices=LetterRun.Language.choices, required=False
    )


def _runs(breach):
    return LetterRun.objects.filter(breach=breach).select_related("requested_by")[:20]


@require_POST
@breach_view(C.VIEW_BREACH_PERSONS, needs_key=True)
def letter_run_new(request, crisis, breach):
    """Start the letters as a background task; its page shows the progress, then the files to download."""
    reason_given = current_reason(request, breach)
    if reason_given is None:  # the persons page asks for it (a POST is not replayed after the reason form)
        return redirect("breach:persons", crisis.pk, breach.pk)
    form = LetterRunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the language of the letters."))
        return redirect("breach:persons", crisis.pk, breach.pk)
    if not Person.objects.filter(breach=breach, status=Person.Status.TO_INFORM).exists():
        messages.info(request, _("No person is waiting for a letter."))
        return redirect("breach:persons", crisis.pk, breach.pk)
    run = LetterRun.objects.create(
        breach=breach, requested_by=request.user, reason=reason_given, language=form.cleaned_data["language"]
    )
    record_access(
        request.user,
        "breach_letters_start",
        f"breach {breach.number}: letters run {run.pk} ({run.get_language_display()})",
        reason_given,
    )
    make_letters.enqueue(str(run.pk))
    return redirect("breach:letter_run", crisis.pk, breach.pk, run.pk)


@breach_view(C.VIEW_BREACH_PERSONS, needs_key=True)
def letter_run(request, crisis, breach, run_id):
    run = get_object_or_404(LetterRun, pk=run_id, breach=breach)
    if request.htmx:
        # The progress only (counts, no person): the finished run reloads the page, whose look is logged.
        if current_reason(request, breach) is None:
            raise PermissionDenied
        response = render(
            request, "breach/_letter_run.html", {"crisis": crisis, "breach": breach, "run": run}
        )
        if run.is_finished:
            response["HX-Refresh"] = "true"
        return response
    _reason, ask = with_reason(request, crisis, breach, "breach_letters_run", f"letters run {run.pk}")
    if ask:
        return ask
    return render(request, "breach/letter_run.html", {"crisis": crisis, "breach": breach, "run": run})


DOWNLOADS = {
    "pdf": ("pdf_file", "application/pdf"),
    "zip": ("zip_file", "application/zip"),
    "csv": ("csv_file", "text/csv; charset=utf-8"),
}


@breach_view(C.VIEW_BREACH_PERSONS, needs_key=True)
def letter_download(request, crisis, breach, run_id, kind):
    run = get_object_or_404(LetterRun, pk=run_id, breach=breach)
    if kind not in DOWNLOADS:
        raise Http404
    field, content_type = DOWNLOADS[kind]
    _reason, ask = with_reason(request, crisis, breach, f"breach_letters_{kind}", f"letters run {run.pk}")
    if ask:
        return ask
    path = letters.export_dir(breach) / getattr(run, field) if getattr(run, field) else None
    if run.status != LetterRun.Status.DONE or path is None or not path.is_file():
        return render(
            request,
            "breach/letter_run.html",
            {"crisis": crisis, "breach": breach, "run": run, "refused": True},
            status=409,
        )
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type=content_type)


@require_POST
@breach_view(C.VIEW_BREACH_PERSONS, needs_key=True)
def letters_sent(request, crisis, breach):
    """The letters of every person with an address still to inform were posted (e.g. by the mailing house)."""
    form = InformedForm(request.POST)
    if form.is_valid():
        batch = list(
            Person.objects.filter(breach=breach, status=Person.Status.TO_INFORM).exclude(address_token="")
        )
        count = persons.mark_informed(
            batch, form.cleaned_data["informed_at"], form.cleaned_data["how"], request.user
        )
        messages.success(request, _("%(n)d persons marked as informed.") % {"n": count})
    return redirect("breach:persons", crisis.pk, breach.pk)


@require_POST
@breach_view(C.VIEW_BREACH_PERSONS, needs_key=True)
def patient_file(request, crisis, breach):
    reason_given, ask = with_reason(request, crisis, breach, "breach_patient_file_upload", "patient file")
    if ask:
        return ask
    form = PatientFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            matched, unmatched = persons.import_patient_file(
                breach, form.cleaned_data["file"].read(), request.user, reason_given
            )
            messages.success(
                request,
                _("%(matched)d addresses added; %(unmatched)d rows match no person of the file.")
                % {"matched": matched, "unmatched": unmatched},
            )
        except persons.PatientFileError as error:
            messages.error(request, str(error))
    else:
        messages.error(request, _("Choose a CSV file."))
    return redirect("breach:persons", crisis.pk, breach.pk)
