import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from garde.cell.models import Crisis


class ServiceStatus(models.Model):
    """One business service on a crisis's status board.

    What the map says of the service (name, criticality, maximum tolerable downtime, procedure) is
    copied here when the board is filled, so the board stays readable and printable whatever happens
    to the map afterwards.
    """

    class State(models.TextChoices):
        UP = "up", _("Up")
        DEGRADED = "degraded", _("Degraded")
        DOWN = "down", _("Down")

    class Source(models.TextChoices):
        MAP = "map", _("Normal state of the map")
        SCENARIO = "scenario", _("Applied scenario")
        MANUAL = "manual", _("Set by hand")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="service_statuses")
    service = models.CharField(_("service id"), max_length=200)
    name = models.CharField(_("service"), max_length=300)
    criticality = models.PositiveSmallIntegerField(_("criticality"), default=0)
    max_downtime_minutes = models.PositiveIntegerField(_("maximum tolerable downtime (minutes)"), null=True, blank=True)
    public = models.BooleanField(_("shown on the public page"), default=False)
    procedure = models.TextField(_("degraded-mode procedure"), blank=True)
    default_public_message = models.TextField(_("public message from the map"), blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.UP)
    source = models.CharField(_("set from"), max_length=10, choices=Source.choices, default=Source.MAP)
    since = models.DateTimeField(_("since"), default=timezone.now)
    reason_fr = models.TextField(_("reason (French)"), blank=True)
    reason_en = models.TextField(_("reason (English)"), blank=True)
    capabilities_lost = models.JSONField(_("capabilities lost"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    staff_message_fr = models.TextField(_("message for staff (French)"), blank=True)
    staff_message_en = models.TextField(_("message for staff (English)"), blank=True)
    public_message_fr = models.TextField(_("public message (French)"), blank=True)
    public_message_en = models.TextField(_("public message (English)"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-criticality", "name"]
        constraints = [models.UniqueConstraint(fields=["crisis", "service"], name="one_status_per_service")]
        verbose_name = _("service status")
        verbose_name_plural = _("service statuses")

    def __str__(self):
        return f"{self.name}: {self.get_state_display()}"

    @property
    def is_up(self) -> bool:
        return self.state == self.State.UP

    def downtime_seconds(self, now=None) -> int | None:
        if self.is_up:
            return None
        return int(((now or timezone.now()) - self.since).total_seconds())

    def downtime_ratio(self, now=None) -> float | None:
        """Downtime as a share of the maximum tolerable downtime (1.0 = the limit is reached)."""
        seconds = self.downtime_seconds(now)
        if seconds is None or not self.max_downtime_minutes:
            return None
        return seconds / (self.max_downtime_minutes * 60)

    @property
    def over_limit(self) -> bool:
        ratio = self.downtime_ratio()
        return ratio is not None and ratio >= 1

    def reason(self, lang: str) -> str:
        return self.reason_en if lang == "en" and self.reason_en else self.reason_fr

    def staff_message(self, lang: str) -> str:
        return (self.staff_message_en if lang == "en" else "") or self.staff_message_fr

    def public_message(self, lang: str) -> str:
        """What the public reads: the message set for this crisis, else the map's message while the
        service is not up (the map's messages are written for a crisis)."""
        chosen = (self.public_message_en if lang == "en" else "") or self.public_message_fr
        if chosen:
            return chosen
        return "" if self.is_up else self.default_public_message


class PublicNotice(models.Model):
    """A text for the public status page that no service row carries, such as a breach's public notice.

    It is shown from `published_at` until it is withdrawn; a withdrawn notice is kept, with who withdrew it
    and when, because what the public was told is part of the crisis's evidence. `source` names what the text
    came from (e.g. a breach file) so that its page can find it again; it is never shown to the public.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="public_notices")
    source = models.CharField(_("source"), max_length=100, db_index=True)
    title_fr = models.CharField(_("title (French)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_fr = models.TextField(_("text (French)"))
    body_en = models.TextField(_("text (English)"), blank=True)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")

    def __str__(self):
        return self.title_fr

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None

    def title(self, lang: str) -> str:
        return (self.title_en if lang == "en" else "") or self.title_fr

    def body(self, lang: str) -> str:
        return (self.body_en if lang == "en" else "") or self.body_fr
