"""The CNIL notification drawn from the breach file, its frozen versions, and the public notice."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from garde.accounts.roles import Capability as C
from garde.breach import notification as cnil
from garde.breach.forms import PublicNoticeForm, SentForm
from garde.breach.models import Notification
from garde.breach.views.access import breach_view
from garde.cell import journal
from garde.cell.access import can
from garde.cell.drafts import CNIL_FIELDS
from garde.cell.models import LogEntry
from garde.continuity import services as continuity
from garde.continuity.forms import PublishNoticeForm
from garde.printing import pdf_response


@breach_view(C.VIEW_BREACH)
def notification(request, crisis, breach):
    try:
        obligation, fields = cnil.current_fields(breach)
    except cnil.NotificationError as error:
        obligation, fields = None, []
        messages.error(request, str(error))
    sent_form = SentForm(initial={"sent_at": timezone.localtime().replace(second=0, microsecond=0)})
    return render(request, "breach/notification.html", {
        "crisis": crisis, "breach": breach, "obligation": obligation, "fields": fields,
        "kind": Notification.Kind(cnil.next_kind(breach)).label, "versions": breach.notifications.all(),
        "sent_form": sent_form, "may_manage": can(request, C.MANAGE_BREACH),
    })


@require_POST
@breach_view(C.MANAGE_BREACH)
def notification_fill(request, crisis, breach):
    try:
        cnil.fill(breach, request.user)
        messages.success(request, _("The CNIL draft was filled from the breach file."))
    except cnil.NotificationError as error:
        messages.error(request, str(error))
    return redirect("breach:notification", crisis.pk, breach.pk)


@require_POST
@breach_view(C.MANAGE_BREACH)
def notification_freeze(request, crisis, breach):
    form = SentForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("breach:notification", crisis.pk, breach.pk)
    data = form.cleaned_data
    try:
        version = cnil.freeze(breach, data["sent_at"], data["channel"], data["reference"], request.user)
        messages.success(request, _("%(kind)s kept as sent.") % {"kind": version.get_kind_display()})
    except cnil.NotificationError as error:
        messages.error(request, str(error))
    return redirect("breach:notification", crisis.pk, breach.pk)


@breach_view(C.VIEW_BREACH)
def notification_text(request, crisis, breach):
    """The current draft as text to paste into the CNIL's online form, field by field."""
    try:
        _obligation, fields = cnil.current_fields(breach)
    except cnil.NotificationError as error:
        return HttpResponse(str(error), content_type="text/plain; charset=utf-8", status=409)
    text = cnil.as_text(breach, {key: value for key, _label, value in fields},
                        str(Notification.Kind(cnil.next_kind(breach)).label))
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


@breach_view(C.VIEW_BREACH)
def version_text(request, crisis, breach, version_id):
    version = get_object_or_404(Notification, pk=version_id, breach=breach)
    return HttpResponse(cnil.as_text(breach, version.fields, f"{version.get_kind_display()} {version.number}"),
                        content_type="text/plain; charset=utf-8")


@breach_view(C.VIEW_BREACH)
def version_pdf(request, crisis, breach, version_id):
    version = get_object_or_404(Notification, pk=version_id, breach=breach)
    rows = [(label, version.fields.get(key, "")) for key, label in CNIL_FIELDS]
    return pdf_response("breach/print/notification.html",
                        {"crisis": crisis, "breach": breach, "version": version, "rows": rows},
                        f"notification-cnil-{breach.number}-{version.number}.pdf", request)


def proposed_notice(breach) -> str:
    """A first text for the website and the entrances, in French like the public pages."""
    when = timezone.localtime(breach.t0).strftime("%d/%m/%Y")
    lines = [
        "Information sur une violation de données personnelles",
        "",
        f"Le {when}, notre établissement a constaté que des données personnelles de patients et d'autres "
        "personnes ont pu être consultées ou copiées par des tiers non autorisés.",
    ]
    if breach.consequences:
        lines += ["", f"Conséquences possibles : {breach.consequences}"]
    if breach.measures:
        lines += ["", f"Ce que nous avons fait : {breach.measures}"]
    lines += ["", "Soyez vigilants face aux messages, appels ou courriers qui se recommandent de l'hôpital : "
                  "nous ne vous demanderons jamais vos mots de passe ni vos coordonnées bancaires."]
    if breach.contact:
        lines += ["", f"Pour toute question : {breach.contact}"]
    return "\n".join(lines)


@breach_view(C.VIEW_BREACH)
def public_notice(request, crisis, breach):
    may_manage = can(request, C.MANAGE_BREACH)
    form = PublicNoticeForm(request.POST or None, instance=breach,
                            initial={"public_notice": breach.public_notice or proposed_notice(breach)})
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            journal.record(crisis, _("Breach file %(n)d: public notice saved.") % {"n": breach.number},
                           kind=LogEntry.Kind.COMMUNICATION, author=request.user)
            messages.success(request, _("Public notice saved."))
            return redirect("breach:public_notice", crisis.pk, breach.pk)
    return render(request, "breach/public_notice.html", {
        "crisis": crisis, "breach": breach, "form": form, "may_manage": may_manage,
        "may_publish": can(request, C.PUBLISH_BREACH_NOTICE), "published": continuity.live_notice(_source(breach)),
        "publish_form": PublishNoticeForm(),
    })


def _source(breach) -> str:
    return f"breach:{breach.pk}"


@require_POST
@breach_view(C.PUBLISH_BREACH_NOTICE)
def public_notice_publish(request, crisis, breach):
    """Put the saved notice on the public status page: the French text is the one the DPO or director saved."""
    form = PublishNoticeForm(request.POST)
    if not breach.public_notice.strip():
        messages.error(request, _("Save the public notice first: the status page shows the saved text."))
    elif not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        data = form.cleaned_data
        continuity.publish_notice(crisis, source=_source(breach), title_fr=data["title_fr"], title_en=data["title_en"],
                                  body_fr=breach.public_notice, body_en=data["body_en"], user=request.user)
        messages.success(request, _("The public notice is on the public status page."))
    return redirect("breach:public_notice", crisis.pk, breach.pk)


@require_POST
@breach_view(C.PUBLISH_BREACH_NOTICE)
def public_notice_withdraw(request, crisis, breach):
    notice = continuity.live_notice(_source(breach))
    if notice is not None and continuity.withdraw_notice(notice, request.user):
        messages.success(request, _("The public notice was withdrawn from the public status page."))
    return redirect("breach:public_notice", crisis.pk, breach.pk)


@breach_view(C.VIEW_BREACH)
def public_notice_pdf(request, crisis, breach):
    text = breach.public_notice or proposed_notice(breach)
    return pdf_response("breach/print/public_notice.html", {"crisis": crisis, "breach": breach, "text": text},
                        f"avis-public-{breach.number}.pdf", request)
