"""The breach file: what leaked, from which perimeter, about whom, and what was done about it.

Persons hold no clear value in the database: what a letter needs (name, postal address) is stored as a
Fernet token whose key lives outside the database (see breach.crypto). Counts are kept per category as
booleans so that the CNIL figures are plain database counts, even for a million persons.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from garde.cell.models import Crisis, ImmutableError

# The six categories of the scan format (docs/scan-format.md), in the order the tables show them.
CATEGORIES = ("identity", "national_identifier", "contact", "health", "financial", "credentials")
CATEGORY_LABELS = {
    "identity": _("Identity"),
    "national_identifier": _("Social security number (NIR)"),
    "contact": _("Contact details"),
    "health": _("Health data"),
    "financial": _("Banking and payment data"),
    "credentials": _("Passwords and secrets"),
}


class CategoryFlags(models.Model):
    """One boolean per category: counting persons or records per category stays a database count."""

    identity = models.BooleanField(default=False)
    national_identifier = models.BooleanField(default=False)
    contact = models.BooleanField(default=False)
    health = models.BooleanField(default=False)
    financial = models.BooleanField(default=False)
    credentials = models.BooleanField(default=False)

    class Meta:
        abstract = True

    @property
    def categories(self) -> list[str]:
        return [category for category in CATEGORIES if getattr(self, category)]

    def set_categories(self, categories) -> None:
        for category in CATEGORIES:
            setattr(self, category, category in categories)

    def add_categories(self, categories) -> None:
        for category in categories:
            if category in CATEGORIES:
                setattr(self, category, True)


class Breach(models.Model):
    class Status(models.TextChoices):
        ANALYSIS = "analysis", _("Under analysis")
        NOTIFIED = "notified", _("Notified to the CNIL")
        NOT_NOTIFIED = "not_notified", _("Not notified (no risk)")
        CLOSED = "closed", _("Closed")

    class Risk(models.TextChoices):
        UNASSESSED = "", _("Not assessed yet")
        UNLIKELY = "unlikely", _("Unlikely to result in a risk")
        RISK = "risk", _("Risk")
        HIGH = "high", _("High risk")

    class Inform(models.TextChoices):
        UNDECIDED = "", _("Not decided yet")
        LETTERS = "letters", _("Individual letters")
        PUBLIC_NOTICE = "public_notice", _("Public notice (letters would be disproportionate)")
        NONE = "none", _("Persons are not informed (no high risk)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.PROTECT, related_name="breaches")
    number = models.PositiveIntegerField(_("register number"), unique=True, editable=False)
    title = models.CharField(_("title"), max_length=200)
    confidentiality = models.BooleanField(_("loss of confidentiality"), default=True)
    integrity = models.BooleanField(_("loss of integrity"), default=False)
    availability = models.BooleanField(_("loss of availability"), default=False)
    started_at = models.DateTimeField(_("start of the breach"), null=True, blank=True)
    discovered_at = models.DateTimeField(_("discovery"), null=True, blank=True)
    t0 = models.DateTimeField(_("T0 (time the hospital became aware)"))
    discovery = models.TextField(_("how it was discovered"), blank=True)
    systems = models.TextField(_("systems concerned"), blank=True)
    circumstances = models.TextField(_("circumstances"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ANALYSIS)

    risk = models.CharField(_("risk to persons"), max_length=10, choices=Risk.choices, default=Risk.UNASSESSED,
                            blank=True)
    risk_reasons = models.TextField(_("reasons of the decision"), blank=True)
    inform = models.CharField(_("how persons are informed"), max_length=20, choices=Inform.choices,
                              default=Inform.UNDECIDED, blank=True)
    consequences = models.TextField(_("likely consequences for the persons"), blank=True)
    measures = models.TextField(_("measures taken or proposed"), blank=True)
    contact = models.TextField(_("whom persons can contact"), blank=True)
    delay_reasons = models.TextField(_("reasons for notifying after 72 hours"), blank=True)
    risk_decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                        blank=True, related_name="+")
    risk_decided_at = models.DateTimeField(null=True, blank=True)
    public_notice = models.TextField(_("public notice"), blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["number"]
        verbose_name = _("data breach")
        verbose_name_plural = _("data breaches")

    def __str__(self):
        return f"{self.number}. {self.title}"

    @property
    def nature(self) -> list[str]:
        labels = []
        for field in ("confidentiality", "integrity", "availability"):
            if getattr(self, field):
                labels.append(str(self._meta.get_field(field).verbose_name))
        return labels


class Perimeter(models.Model):
    """A data perimeter of the hospital (dental care centre, cardiology, payroll): where a scan came from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="perimeters")
    name = models.CharField(_("perimeter"), max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["breach", "name"], name="breach_perimeter_unique")]

    def __str__(self):
        return self.name


class ScanImport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Imported")
        REFUSED = "refused", _("Refused")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="imports")
    perimeter = models.ForeignKey(Perimeter, on_delete=models.PROTECT, related_name="imports",
                                  verbose_name=_("perimeter"))
    folder = models.CharField(_("scan folder"), max_length=500)
    uploaded = models.BooleanField(default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(_("step"), max_length=200, blank=True)
    error = models.TextField(_("reason refused"), blank=True)
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    key_fingerprint = models.CharField(max_length=32, blank=True)
    reveal = models.BooleanField(default=False)
    summary = models.JSONField(default=dict, blank=True)
    persons_new = models.PositiveIntegerField(default=0)
    persons_merged = models.PositiveIntegerField(default=0)
    records_new = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("scan import")

    def __str__(self):
        return f"{self.perimeter} — {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED)


class Person(CategoryFlags):
    class Status(models.TextChoices):
        TO_INFORM = "to_inform", _("To inform")
        INFORMED = "informed", _("Informed")
        REMOVED = "removed", _("Removed")

    class Channel(models.TextChoices):
        LETTER = "letter", _("Postal letter")
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        IN_PERSON = "in_person", _("In person")
        PUBLIC_NOTICE = "public_notice", _("Public notice")

    class AddressSource(models.TextChoices):
        NONE = "", _("No address")
        SCAN = "scan", _("Found in the leaked data")
        CSV = "csv", _("Patient file (CSV)")
        MANUAL = "manual", _("Entered by hand")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="persons")
    reference = models.CharField(_("reference"), max_length=20)
    label = models.CharField(_("masked name"), max_length=200, blank=True)
    detectors = models.JSONField(default=list)
    # Fernet tokens (breach.crypto): the clear identity found in the scans and the postal address.
    identity_token = models.TextField(blank=True)
    address_token = models.TextField(blank=True)
    address_source = models.CharField(_("address source"), max_length=10, choices=AddressSource.choices,
                                      default=AddressSource.NONE, blank=True)
    language = models.CharField(_("language of the letter"), max_length=2, default="fr",
                                choices=[("fr", "Français"), ("en", "English")])
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.TO_INFORM)
    removed_reason = models.CharField(_("reason removed"), max_length=300, blank=True)
    informed_at = models.DateTimeField(_("informed at"), null=True, blank=True)
    informed_how = models.CharField(_("informed how"), max_length=20, choices=Channel.choices, blank=True)
    informed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reference"]
        constraints = [models.UniqueConstraint(fields=["breach", "reference"], name="breach_person_reference")]
        verbose_name = _("person concerned")

    def __str__(self):
        return self.reference

    @property
    def has_address(self) -> bool:
        return bool(self.address_token)


class PersonKey(models.Model):
    """A keyed hash that identifies a person (NIR, IPP, name + birth date): how two scans meet on one person."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=80)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["breach", "key"], name="breach_person_key")]


class Sighting(CategoryFlags):
    """A person as one scan saw them: for counts by perimeter and to show where the data was found."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="sightings")
    scan = models.ForeignKey(ScanImport, on_delete=models.CASCADE, related_name="sightings")
    perimeter = models.ForeignKey(Perimeter, on_delete=models.CASCADE, related_name="sightings")
    scan_person_id = models.CharField(max_length=20)
    records = models.PositiveIntegerField(default=0)
    locations = models.JSONField(default=list)


class LeakedRecord(CategoryFlags):
    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="records")
    perimeter = models.ForeignKey(Perimeter, on_delete=models.CASCADE, related_name="records")
    record_id = models.CharField(max_length=40)
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, related_name="records")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["breach", "record_id"], name="breach_record_unique")]


class LeakedFile(models.Model):
    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="files")
    perimeter = models.ForeignKey(Perimeter, on_delete=models.CASCADE, related_name="files")
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=1000)
    findings = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["breach", "sha256"], name="breach_file_unique")]


class Notification(models.Model):
    """A CNIL notification as sent: frozen, with the time it was sent and the reference received."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("Initial notification")
        COMPLEMENT = "complement", _("Complementary notification")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    number = models.PositiveIntegerField(_("version"))
    fields = models.JSONField()
    content_sha256 = models.CharField(max_length=64)
    sent_at = models.DateTimeField(_("sent at"))
    channel = models.CharField(_("channel"), max_length=200)
    reference = models.CharField(_("reference received"), max_length=200, blank=True)
    frozen_at = models.DateTimeField(auto_now_add=True)
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["number"]
        constraints = [models.UniqueConstraint(fields=["breach", "number"], name="breach_notification_number")]
        verbose_name = _("CNIL notification")

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("A notification sent to the CNIL is never changed: send a complement.")
        super().save(*args, **kwargs)


class LetterRun(models.Model):
    """One generation of the letters, run as a background task: who asked and why, progress, the files made."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Language(models.TextChoices):
        PERSON = "", _("Each person's language")
        FR = "fr", _("French")
        EN = "en", _("English")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="letter_runs")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    language = models.CharField(_("language of the letters"), max_length=2, choices=Language.choices, blank=True,
                                default=Language.PERSON)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("persons to inform"), default=0)
    done = models.PositiveIntegerField(_("persons done"), default=0)
    letters = models.PositiveIntegerField(_("letters"), default=0)
    # References only (pseudonymous): the names stay encrypted on the persons.
    missing = models.JSONField(_("address missing"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    # File names in the breach's export folder (letters.export_dir); empty until the run is done.
    pdf_file = models.CharField(max_length=200, blank=True)
    zip_file = models.CharField(max_length=200, blank=True)
    csv_file = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("letters run")

    def __str__(self):
        return f"{self.breach.number} — {self.created_at:%Y-%m-%d %H:%M} — {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return self.done * 100 // self.total if self.total else 0
