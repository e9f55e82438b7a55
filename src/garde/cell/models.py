import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from garde.accounts.roles import Role


class ImmutableError(Exception):
    """Evidence (a log entry, a published report) was about to be changed."""


class Crisis(models.Model):
    class Kind(models.TextChoices):
        RANSOMWARE = "ransomware", _("Ransomware")
        EXFILTRATION = "exfiltration", _("Data exfiltration")
        UNAVAILABILITY = "unavailability", _("Unavailability")
        OTHER = "other", _("Other")

    class Severity(models.IntegerChoices):
        LOW = 1, _("Low")
        MODERATE = 2, _("Moderate")
        HIGH = 3, _("High")
        CRITICAL = 4, _("Critical")

    class Phase(models.TextChoices):
        ALERT = "alert", _("Alert")
        CONTAINMENT = "containment", _("Containment")
        REMEDIATION = "remediation", _("Remediation")
        RECONSTRUCTION = "reconstruction", _("Reconstruction")
        CLOSED = "closed", _("Closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.RANSOMWARE)
    t0 = models.DateTimeField(_("T0 (time the hospital became aware)"))
    severity = models.IntegerField(_("severity"), choices=Severity.choices, default=Severity.HIGH)
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, default=Phase.ALERT)
    personal_data = models.BooleanField(_("personal data involved"), default=False)
    nis2 = models.BooleanField(_("in scope of NIS2"), default=False)
    next_point_at = models.DateTimeField(_("next situation point"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-t0"]
        verbose_name = _("crisis")
        verbose_name_plural = _("crises")

    def __str__(self):
        return self.title


class Membership(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["crisis", "user"], name="one_role_per_crisis")]
        verbose_name = _("membership")

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}"


class LogEntry(models.Model):
    """One line of the running log (main courante). Never updated, never deleted: see cell.journal."""

    class Kind(models.TextChoices):
        FACT = "fact", _("Fact")
        DECISION = "decision", _("Decision")
        ACTION = "action", _("Action")
        COMMUNICATION = "communication", _("Communication")
        INFORMATION = "information", _("Information")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="log_entries")
    seq = models.PositiveIntegerField(_("number"))
    occurred_at = models.DateTimeField(_("time of the event"))
    recorded_at = models.DateTimeField(_("time recorded"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="log_entries",
        verbose_name=_("author"),
    )
    author_name = models.CharField(_("author"), max_length=150)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.FACT)
    text = models.TextField(_("text"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections",
        verbose_name=_("corrects entry"),
    )
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["crisis", "seq"]
        constraints = [
            # The database itself refuses a fork: two entries can never share a number or a predecessor.
            models.UniqueConstraint(fields=["crisis", "seq"], name="log_seq_unique"),
            models.UniqueConstraint(fields=["crisis", "prev_hash"], name="log_prev_unique"),
        ]
        verbose_name = _("log entry")
        verbose_name_plural = _("log entries")

    def __str__(self):
        return f"#{self.seq} {self.text[:60]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("A log entry is never changed: record a correction instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("A log entry is never deleted: record a correction instead.")


def attachment_path(instance, filename):
    return f"attachments/{instance.entry.crisis_id}/{instance.sha256}"


class Attachment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(LogEntry, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Decision(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="decisions")
    title = models.CharField(_("what was decided"), max_length=300)
    rationale = models.TextField(_("why"), blank=True)
    decided_by = models.CharField(_("decided by"), max_length=200)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True)

    class Meta:
        ordering = ["-decided_at"]
        verbose_name = _("decision")

    def __str__(self):
        return self.title


class ActionTemplate(models.Model):
    """An item of the first-hour checklist; data the hospital edits in the administration."""

    order = models.PositiveIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=300)
    details = models.TextField(_("details"), blank=True)
    due_after_minutes = models.PositiveIntegerField(_("due after T0 (minutes)"), default=60)
    priority = models.PositiveSmallIntegerField(_("priority"), default=2)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("first-hour checklist item")

    def __str__(self):
        return self.title


class Action(models.Model):
    class Status(models.TextChoices):
        TODO = "todo", _("To do")
        DOING = "doing", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class Priority(models.IntegerChoices):
        URGENT = 1, _("Urgent")
        HIGH = 2, _("High")
        NORMAL = 3, _("Normal")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(_("title"), max_length=300)
    details = models.TextField(_("details"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("owner")
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    priority = models.IntegerField(_("priority"), choices=Priority.choices, default=Priority.HIGH)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.TODO)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "priority", "due_at"]
        verbose_name = _("action")

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.TODO, self.Status.DOING)

    @property
    def is_late(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()


class SitRep(models.Model):
    """A situation report: editable while a draft; numbered and frozen once published."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="sitreps")
    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    situation = models.TextField(_("situation"))
    impacts = models.TextField(_("impacts"), blank=True)
    actions_under_way = models.TextField(_("actions under way"), blank=True)
    needs = models.TextField(_("needs"), blank=True)
    next_point_at = models.DateTimeField(_("time of the next point"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    content_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-number", "-updated_at"]
        constraints = [models.UniqueConstraint(fields=["crisis", "number"], name="sitrep_number_unique")]
        verbose_name = _("situation report")

    def __str__(self):
        return f"{_('Situation report')} {self.number or _('draft')}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Stakeholder(models.Model):
    """An outside body the cell must reach through channels that do not depend on the hospital's IS."""

    class Kind(models.TextChoices):
        ARS = "ars", _("Regional health agency (ARS)")
        CERT_SANTE = "cert_sante", _("CERT Santé")
        ANSSI = "anssi", _("ANSSI / CERT-FR")
        CNIL = "cnil", _("CNIL")
        POLICE = "police", _("Police or gendarmerie")
        INSURER = "insurer", _("Cyber insurer")
        PARTNER_HOSPITAL = "partner_hospital", _("Partner hospital")
        SAMU = "samu", _("SAMU")
        PREFECTURE = "prefecture", _("Préfecture")
        PRESS = "press", _("Press")
        SUPPLIER = "supplier", _("Supplier")
        OTHER = "other", _("Other")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    backup_channel = models.CharField(
        _("channel that does not depend on our IS"), max_length=200, blank=True,
        help_text=_("e.g. mobile phone, personal e-mail, secure messaging, in person"),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["kind", "organisation"]
        verbose_name = _("stakeholder")

    def __str__(self):
        return self.organisation or self.get_kind_display()

    @property
    def is_filled_in(self) -> bool:
        return bool(self.phone or self.backup_channel or self.email)


class ObligationRuleManager(models.Manager):
    def get_by_natural_key(self, key):
        return self.get(key=key)


class ObligationRule(models.Model):
    """A regulatory clock, as editable data: who must be told, within how long of T0, and when it applies."""

    class AppliesWhen(models.TextChoices):
        ALWAYS = "always", _("Always")
        PERSONAL_DATA = "personal_data", _("When personal data is involved")
        NIS2 = "nis2", _("When the hospital is in scope of NIS2")

    key = models.SlugField(_("key"), max_length=40, unique=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=200)
    authority = models.CharField(_("recipient"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    deadline_hours = models.PositiveIntegerField(
        _("deadline after T0 (hours)"), null=True, blank=True,
        help_text=_("0 means without delay; empty means no fixed deadline."),
    )
    applies_when = models.CharField(_("applies"), max_length=20, choices=AppliesWhen.choices, default=AppliesWhen.ALWAYS)
    default_owner_role = models.CharField(_("owner role"), max_length=20, choices=Role.choices, blank=True)
    channel_hint = models.CharField(_("how to send it"), max_length=300, blank=True)
    draft_kind = models.CharField(_("draft"), max_length=20, default="generic")

    objects = ObligationRuleManager()

    class Meta:
        ordering = ["order", "key"]
        verbose_name = _("regulatory obligation rule")

    def __str__(self):
        return self.title

    def natural_key(self):
        return (self.key,)


class Obligation(models.Model):
    class Status(models.TextChoices):
        TODO = "todo", _("To do")
        DRAFTING = "drafting", _("Drafting")
        SENT = "sent", _("Sent")
        NOT_APPLICABLE = "not_applicable", _("Not applicable")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="obligations")
    rule = models.ForeignKey(ObligationRule, on_delete=models.PROTECT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("owner")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.TODO)
    draft = models.JSONField(_("draft"), default=dict, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=200, blank=True)
    reference = models.CharField(_("reference received"), max_length=200, blank=True)

    class Meta:
        ordering = ["rule__order"]
        constraints = [models.UniqueConstraint(fields=["crisis", "rule"], name="one_obligation_per_rule")]
        verbose_name = _("regulatory obligation")

    def __str__(self):
        return f"{self.rule.title} — {self.crisis}"

    @property
    def due_at(self):
        if self.rule.deadline_hours is None:
            return None
        return self.crisis.t0 + timedelta(hours=self.rule.deadline_hours)

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.NOT_APPLICABLE)
