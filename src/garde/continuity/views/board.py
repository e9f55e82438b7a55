"""The staff status board, degraded-mode procedures (fiches réflexes) and printed notices."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.continuity import services
from garde.continuity.forms import StatusForm
from garde.continuity.models import ServiceStatus
from garde.printing import pdf_response
from garde.systems import store


def lang() -> str:
    return "en" if (get_language() or "fr").startswith("en") else "fr"


def _rows(crisis, language: str) -> list[dict]:
    now = timezone.now()
    rows = []
    for row in ServiceStatus.objects.filter(crisis=crisis):
        ratio = row.downtime_ratio(now)
        rows.append({
            "row": row, "reason": row.reason(language), "staff_message": row.staff_message(language),
            "public_message": row.public_message(language), "downtime": row.downtime_seconds(now),
            "ratio": ratio, "percent": min(int(ratio * 100), 100) if ratio is not None else None,
            "over": ratio is not None and ratio >= 1,
        })
    return rows


@crisis_view(C.VIEW_BOARD)
def board(request, crisis):
    rows = _rows(crisis, lang())
    counts = {state: sum(1 for r in rows if r["row"].state == state) for state in ServiceStatus.State.values}
    return render(request, "continuity/board.html", {
        "crisis": crisis, "rows": rows, "counts": counts, "has_map": store.current_version() is not None,
    })


@require_POST
@crisis_view(C.MANAGE_BOARD)
def board_fill(request, crisis):
    try:
        loaded = store.load()
    except store.NoMap:
        messages.error(request, _("No IS map has been imported yet."))
        return redirect("continuity:board", crisis.pk)
    added = services.fill_from_map(crisis, loaded.map, request.user)
    messages.success(request, ngettext("%(n)d service added to the board.", "%(n)d services added to the board.", added)
                     % {"n": added})
    return redirect("continuity:board", crisis.pk)


@crisis_view(C.MANAGE_BOARD)
def status_edit(request, crisis, status_id):
    row = get_object_or_404(ServiceStatus, pk=status_id, crisis=crisis)
    initial = {name: getattr(row, name) for name in ["state", "note", *services.MESSAGE_FIELDS]}
    form = StatusForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changed = services.set_status(row, state=data["state"], note=data["note"],
                                      messages={f: data[f] for f in services.MESSAGE_FIELDS}, user=request.user)
        if changed:
            messages.success(request, _("%(service)s updated; the change is in the running log.") % {"service": row.name})
        return redirect("continuity:board", crisis.pk)
    return render(request, "continuity/status_form.html", {"crisis": crisis, "row": row, "form": form})


def _procedures(crisis, request) -> dict:
    everything = request.GET.get("all") == "1"
    rows = [r for r in _rows(crisis, lang()) if everything or not r["row"].is_up]
    return {"crisis": crisis, "rows": rows, "everything": everything}


@crisis_view(C.VIEW_BOARD)
def procedures(request, crisis):
    return render(request, "continuity/procedures.html", _procedures(crisis, request))


@crisis_view(C.VIEW_BOARD)
def procedures_pdf(request, crisis):
    return pdf_response("continuity/print/procedures.html", _procedures(crisis, request), "fiches-reflexes.pdf",
                        request)


def _public_rows(crisis, language):
    rows = [r for r in _rows(crisis, language) if r["row"].public]
    return {
        "working": [r for r in rows if r["row"].state == ServiceStatus.State.UP],
        "degraded": [r for r in rows if r["row"].state == ServiceStatus.State.DEGRADED],
        "down": [r for r in rows if r["row"].state == ServiceStatus.State.DOWN],
    }


@crisis_view(C.VIEW_BOARD)
def notice_pdf(request, crisis):
    """The A4 poster for entrances: only public services and public messages, like the public page."""
    context = {"crisis": crisis, **_public_rows(crisis, lang())}
    return pdf_response("continuity/print/notice.html", context, "affiche.pdf", request)


@crisis_view(C.VIEW_BOARD)
def switchboard_pdf(request, crisis):
    """The switchboard script: what to answer callers, service by service (public wording only)."""
    context = {"crisis": crisis, "rows": [r for r in _rows(crisis, lang()) if r["row"].public]}
    return pdf_response("continuity/print/switchboard.html", context, "script-standard.pdf", request)
