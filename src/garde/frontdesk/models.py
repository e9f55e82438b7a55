"""The downtime registers: patients, appointments, documents brought in, payments and day closings.

Every register belongs to a crisis. Records are written through the functions of frontdesk.services, which
take the locks that keep identifiers and receipt numbers unique and gapless and a practitioner's diary free
of overlaps. Payments and closings are evidence: never changed, corrected by new entries.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from garde.cell.models import Crisis, ImmutableError


class Site(models.Model):
    """A hospital site, with the range of identifiers the main system reserved for downtime use."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_sites")
    code = models.CharField(_("code"), max_length=10, help_text=_("Short code, e.g. NORD."))
    name = models.CharField(_("name"), max_length=200)
    id_prefix = models.CharField(_("identifier prefix"), max_length=6, blank=True,
                                 help_text=_("Printed before the number, e.g. 99."))
    first_number = models.PositiveBigIntegerField(_("first reserved number"))
    last_number = models.PositiveBigIntegerField(_("last reserved number"))
    next_number = models.PositiveBigIntegerField(_("next number"), editable=False)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["crisis", "code"], name="frontdesk_site_code")]
        verbose_name = _("site")

    def __str__(self):
        return f"{self.code} — {self.name}"

    def save(self, *args, **kwargs):
        if self.next_number is None:
            self.next_number = self.first_number
        super().save(*args, **kwargs)

    @property
    def width(self) -> int:
        return len(str(self.last_number))

    def identifier(self, number: int) -> str:
        return f"{self.id_prefix}{number:0{self.width}d}"

    @property
    def remaining(self) -> int:
        return self.last_number - self.next_number + 1


class Department(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_departments")
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["crisis", "name"], name="frontdesk_department_name")]
        verbose_name = _("department")

    def __str__(self):
        return self.name


class Practitioner(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_practitioners")
    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="practitioners",
                                   verbose_name=_("department"))
    rpps = models.CharField(_("RPPS number"), max_length=11, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("practitioner")

    def __str__(self):
        return self.name


class CashDesk(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_cash_desks")
    code = models.CharField(_("code"), max_length=10, help_text=_("Printed before each receipt number."))
    name = models.CharField(_("name"), max_length=200)
    next_receipt = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["crisis", "code"], name="frontdesk_cash_desk_code")]
        verbose_name = _("cash desk")

    def __str__(self):
        return f"{self.code} — {self.name}"


class Reintegrated(models.Model):
    """What every register shares: when it was exported, and whether it was re-entered in the main system."""

    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    export_batch = models.ForeignKey("ExportBatch", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)
    main_system_id = models.CharField(_("identifier in the main system"), max_length=64, blank=True)
    reentered_at = models.DateTimeField(_("re-entered at"), null=True, blank=True)
    reentered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+")

    class Meta:
        abstract = True


class Patient(Reintegrated):
    class Sex(models.TextChoices):
        FEMALE = "F", _("Female")
        MALE = "M", _("Male")
        UNKNOWN = "I", _("Undetermined")

    class Status(models.TextChoices):
        # The four statuses of the French identity-vigilance rules (RNIV).
        PROVISIONAL = "provisional", _("Provisional")
        RECOVERED = "recovered", _("Recovered")
        VALIDATED = "validated", _("Validated")
        QUALIFIED = "qualified", _("Qualified")

    class Document(models.TextChoices):
        NONE = "none", _("No document seen")
        ID_CARD = "id_card", _("National identity card")
        PASSPORT = "passport", _("Passport")
        RESIDENCE = "residence", _("Residence permit")
        BIRTH = "birth", _("Birth certificate (minor)")
        FAMILY_BOOK = "family_book", _("Family record book (minor)")
        OTHER = "other", _("Other document")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_patients")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients", verbose_name=_("site"))
    downtime_id = models.CharField(_("downtime identifier"), max_length=30, editable=False)
    birth_name = models.CharField(_("birth name"), max_length=100)
    first_names = models.CharField(_("first names (as on the document)"), max_length=200)
    birth_date = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_place_code = models.CharField(_("INSEE code of the place of birth"), max_length=5, blank=True,
                                        help_text=_("5 characters, e.g. 35238; 99xxx when born abroad."))
    used_name = models.CharField(_("used name"), max_length=100, blank=True)
    used_first_name = models.CharField(_("used first name"), max_length=100, blank=True)
    status = models.CharField(_("identity status"), max_length=12, choices=Status.choices,
                              default=Status.PROVISIONAL)
    document_seen = models.CharField(_("identity document seen"), max_length=12, choices=Document.choices,
                                     default=Document.NONE)
    ins = models.CharField(_("INS"), max_length=15, blank=True,
                           help_text=_("15 characters: the NIR or NIA with its 2-digit key."))
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # Normalised forms (no accents, lower case) so duplicates and searches ignore how a name was typed.
    search_names = models.CharField(max_length=300, editable=False, db_index=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="merged", verbose_name=_("merged into"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["birth_name", "first_names"]
        constraints = [models.UniqueConstraint(fields=["crisis", "downtime_id"], name="frontdesk_downtime_id")]
        verbose_name = _("patient")

    def __str__(self):
        return self.downtime_id

    @property
    def display_name(self) -> str:
        name = self.birth_name.upper()
        if self.used_name and self.used_name.upper() != name:
            name += f" ({self.used_name.upper()})"
        return f"{name} {self.first_names}"


class Appointment(Reintegrated):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        DESK = "desk", _("At the desk")

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        MOVED = "moved", _("Moved")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_appointments")
    reference = models.PositiveIntegerField(_("number"), editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments",
                                verbose_name=_("patient"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, verbose_name=_("department"))
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, verbose_name=_("practitioner"))
    starts_at = models.DateTimeField(_("date and time"), db_index=True)
    duration = models.PositiveIntegerField(_("duration (minutes)"), default=20)
    ends_at = models.DateTimeField(editable=False)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    moved_from = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="moved_to", verbose_name=_("moved from"))
    status_note = models.CharField(_("why"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                          blank=True, related_name="+")
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [models.UniqueConstraint(fields=["crisis", "reference"], name="frontdesk_appointment_ref")]
        verbose_name = _("appointment")

    def __str__(self):
        return f"RDV-{self.reference}"

    def save(self, *args, **kwargs):
        self.ends_at = self.starts_at + timedelta(minutes=self.duration)
        super().save(*args, **kwargs)


class PaperDocument(Reintegrated):
    class Kind(models.TextChoices):
        RESULT = "result", _("Laboratory result")
        IMAGING = "imaging", _("Imaging report")
        REPORT = "report", _("Medical report or letter")
        PRESCRIPTION = "prescription", _("Prescription")
        OTHER = "other", _("Other")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_documents")
    reference = models.PositiveIntegerField(_("number"), editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="documents",
                                verbose_name=_("patient"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    document_date = models.DateField(_("date of the document"))
    issuer = models.CharField(_("issued by"), max_length=200)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("received by"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    location = models.CharField(_("where the paper is kept"), max_length=200)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    scan_name = models.CharField(_("scan"), max_length=255, blank=True)
    scan_file = models.CharField(max_length=300, blank=True, editable=False)
    scan_size = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    scan_sha256 = models.CharField("SHA-256", max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-received_at"]
        constraints = [models.UniqueConstraint(fields=["crisis", "reference"], name="frontdesk_document_ref")]
        verbose_name = _("document brought in")

    def __str__(self):
        return f"DOC-{self.reference}"


class Payment(Reintegrated):
    """One line of a cash desk's ledger. Never changed: a mistake is cancelled by a reversal line."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CHEQUE = "cheque", _("Cheque")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_payments")
    cash_desk = models.ForeignKey(CashDesk, on_delete=models.PROTECT, related_name="payments",
                                  verbose_name=_("cash desk"))
    receipt_number = models.PositiveIntegerField(_("receipt number"), editable=False)
    business_date = models.DateField(_("day"), editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="payments",
                                verbose_name=_("patient"))
    amount = models.DecimalField(_("amount (€)"), max_digits=10, decimal_places=2)
    method = models.CharField(_("method"), max_length=6, choices=Method.choices)
    cheque_number = models.CharField(_("cheque number"), max_length=20, blank=True)
    cheque_bank = models.CharField(_("bank"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    cashier = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("cashier"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by", verbose_name=_("reverses"))

    class Meta:
        ordering = ["cash_desk", "receipt_number"]
        constraints = [
            # The database itself refuses two receipts with one number at one desk.
            models.UniqueConstraint(fields=["cash_desk", "receipt_number"], name="frontdesk_receipt_unique"),
        ]
        verbose_name = _("payment")

    def __str__(self):
        return self.receipt

    @property
    def receipt(self) -> str:
        return f"{self.cash_desk.code}-{self.receipt_number:06d}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            changed = kwargs.get("update_fields")
            # Only the re-integration bookkeeping may change on a payment line.
            if not changed or not set(changed) <= REINTEGRATION_FIELDS:
                raise ImmutableError("A payment is never changed: record a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("A payment is never deleted: record a reversal instead.")


REINTEGRATION_FIELDS = {"exported_at", "export_batch", "changed_at", "main_system_id", "reentered_at",
                        "reentered_by"}


class DayClosing(models.Model):
    """The count of a cash desk at the end of a day, against its ledger, signed by the cashier."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cash_desk = models.ForeignKey(CashDesk, on_delete=models.PROTECT, related_name="closings",
                                  verbose_name=_("cash desk"))
    business_date = models.DateField(_("day"))
    ledger_cash = models.DecimalField(_("cash in the ledger"), max_digits=12, decimal_places=2)
    ledger_cheques = models.DecimalField(_("cheques in the ledger"), max_digits=12, decimal_places=2)
    ledger_cheque_count = models.PositiveIntegerField(_("number of cheques in the ledger"))
    counted_cash = models.DecimalField(_("cash counted"), max_digits=12, decimal_places=2)
    counted_cheques = models.DecimalField(_("cheques counted"), max_digits=12, decimal_places=2)
    counted_cheque_count = models.PositiveIntegerField(_("number of cheques counted"))
    comment = models.TextField(_("explanation of the discrepancy"), blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("signed by"))
    signed_name = models.CharField(_("signed by"), max_length=150)
    signed_at = models.DateTimeField(_("signed at"), auto_now_add=True)
    receipts_from = models.PositiveIntegerField(null=True, blank=True)
    receipts_to = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date"]
        constraints = [models.UniqueConstraint(fields=["cash_desk", "business_date"], name="frontdesk_one_closing")]
        verbose_name = _("day closing")

    def __str__(self):
        return f"{self.cash_desk.code} {self.business_date}"

    @property
    def cash_discrepancy(self) -> Decimal:
        return self.counted_cash - self.ledger_cash

    @property
    def cheque_discrepancy(self) -> Decimal:
        return self.counted_cheques - self.ledger_cheques

    @property
    def balanced(self) -> bool:
        return (not self.cash_discrepancy and not self.cheque_discrepancy
                and self.counted_cheque_count == self.ledger_cheque_count)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableError("A signed closing is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("A signed closing is never deleted.")


class ExportBatch(models.Model):
    """One export for re-integration: the records it carried, and the archive, kept byte for byte."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="frontdesk_exports")
    number = models.PositiveIntegerField(_("number"))
    full = models.BooleanField(_("full export"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    counts = models.JSONField(default=dict)
    archive = models.CharField(max_length=300)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["crisis", "number"], name="frontdesk_export_number")]
        verbose_name = _("export")

    def __str__(self):
        return f"export {self.number}"

    @property
    def filename(self) -> str:
        return f"garde-frontdesk-export-{self.number:04d}.zip"
