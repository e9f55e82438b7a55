from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from garde.cell.journal import check_upload
from garde.formfields import datetime_field
from garde.frontdesk.models import (
    Appointment,
    CashDesk,
    Department,
    PaperDocument,
    Patient,
    Payment,
    Practitioner,
    Site,
)
from garde.lib.identity import InsError, check_ins

INS_ERRORS = {
    "length": _("An INS has 15 characters: 13 digits and a 2-digit key."),
    "first_digit": _("An INS starts with 1 or 2 (NIR), or 7 or 8 (NIA)."),
    "key": _("The key (last 2 digits) does not match the number: a digit was mistyped."),
    "sex": _("The first digit of the INS does not match the sex (1 or 7: male, 2 or 8: female)."),
    "year": _("Digits 2 and 3 of the INS do not match the year of birth."),
}
OLDEST = 130


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def date_field(label, required=True, **kwargs):
    return forms.DateField(label=label, required=required, widget=DateInput(), input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                           error_messages={"invalid": _("Enter a real date, e.g. 31/12/1970.")}, **kwargs)


class LocalisedDecimalMixin:
    """Agents type “25,50” as often as “25.50”."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace(",", ".").replace(" ", "").replace("\u00a0", "").replace("€", "")
        return super().to_python(value)


class EuroField(LocalisedDecimalMixin, forms.DecimalField):
    pass


def euro_field(label, **kwargs):
    field = EuroField(
        label=label, max_digits=10, decimal_places=2,
        error_messages={"max_decimal_places": _("Amounts are in euros and cents: at most 2 decimals."),
                        "invalid": _("Enter an amount in euros, e.g. 25.50.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}), **kwargs,
    )
    return field


class PatientForm(forms.ModelForm):
    birth_date = date_field(_("date of birth"))
    confirm_new = forms.BooleanField(
        label=_("I checked the probable duplicates: this is another person"), required=False,
    )

    class Meta:
        model = Patient
        fields = ["site", "birth_name", "first_names", "birth_date", "sex", "birth_place_code", "used_name",
                  "used_first_name", "status", "document_seen", "ins", "phone"]

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(crisis=crisis)
        sites = list(self.fields["site"].queryset[:2])
        if len(sites) == 1:
            self.fields["site"].initial = sites[0].pk
        self.fields["birth_name"].widget.attrs.update(autofocus=True, autocomplete="off")
        for name in ("birth_name", "first_names", "used_name"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        if not self.instance._state.adding:
            del self.fields["confirm_new"]
            del self.fields["site"]

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if value > today:
            raise forms.ValidationError(_("The date of birth is in the future."))
        if value < today - timedelta(days=365 * OLDEST):
            raise forms.ValidationError(_("The date of birth is more than %(n)d years ago.") % {"n": OLDEST})
        return value

    def clean_birth_place_code(self):
        value = self.cleaned_data["birth_place_code"].strip().upper()
        if value and not (len(value) == 5 and (value.isdigit() or value[:2] in ("2A", "2B") and value[2:].isdigit())):
            raise forms.ValidationError(_("An INSEE code has 5 characters, e.g. 35238 (2A004 in Corsica, 99xxx abroad)."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("ins"):
            try:
                data["ins"] = check_ins(data["ins"], data.get("sex"), data.get("birth_date"))
            except InsError as error:
                self.add_error("ins", INS_ERRORS[error.code])
        # Identity-vigilance rule: a status above provisional needs an identity document seen.
        status = data.get("status")
        if status in (Patient.Status.VALIDATED, Patient.Status.QUALIFIED) and data.get("document_seen") == Patient.Document.NONE:
            self.add_error("document_seen", _("A validated or qualified identity needs an identity document seen."))
        if status == Patient.Status.QUALIFIED and not data.get("ins"):
            self.add_error("ins", _("A qualified identity needs its INS."))
        return data


class AppointmentForm(forms.ModelForm):
    starts_at = datetime_field(_("date and time"))

    class Meta:
        model = Appointment
        fields = ["patient", "practitioner", "starts_at", "duration", "reason", "channel"]

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(crisis=crisis, merged_into__isnull=True)
        self.fields["patient"].widget = forms.HiddenInput()
        self.fields["practitioner"].queryset = Practitioner.objects.filter(crisis=crisis).select_related("department")
        self.fields["practitioner"].label_from_instance = lambda p: f"{p.name} — {p.department.name}"
        self.fields["duration"].widget.attrs.update(min=5, max=480, step=5)

    def clean_duration(self):
        value = self.cleaned_data["duration"]
        if not 5 <= value <= 480:
            raise forms.ValidationError(_("A duration is between 5 and 480 minutes."))
        return value

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if value < timezone.now() - timedelta(days=1):
            raise forms.ValidationError(_("This date is in the past: an appointment is booked ahead."))
        return value


class MoveForm(forms.Form):
    practitioner = forms.ModelChoiceField(label=_("practitioner"), queryset=Practitioner.objects.none())
    starts_at = datetime_field(_("new date and time"))
    duration = forms.IntegerField(label=_("duration (minutes)"), min_value=5, max_value=480)
    note = forms.CharField(label=_("why"), max_length=300, required=False)

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = Practitioner.objects.filter(crisis=crisis)


class CancelForm(forms.Form):
    note = forms.CharField(label=_("why"), max_length=300)


class DocumentForm(forms.ModelForm):
    document_date = date_field(_("date of the document"))
    scan = forms.FileField(label=_("scan (optional)"), required=False)

    class Meta:
        model = PaperDocument
        fields = ["patient", "kind", "document_date", "issuer", "location", "notes"]

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(crisis=crisis, merged_into__isnull=True)
        self.fields["patient"].widget = forms.HiddenInput()

    def clean_document_date(self):
        value = self.cleaned_data["document_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("The document cannot be dated in the future."))
        return value

    def clean_scan(self):
        scan = self.cleaned_data.get("scan")
        if scan:
            reason = check_upload(scan)
            if reason:
                raise forms.ValidationError(reason)
        return scan


class PaymentForm(forms.ModelForm):
    amount = euro_field(_("amount (€)"))

    class Meta:
        model = Payment
        fields = ["patient", "cash_desk", "amount", "method", "cheque_number", "cheque_bank", "reason"]
        widgets = {"method": forms.RadioSelect}

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.filter(crisis=crisis, merged_into__isnull=True)
        self.fields["patient"].widget = forms.HiddenInput()
        self.fields["cash_desk"].queryset = CashDesk.objects.filter(crisis=crisis)
        # Cash or cheque, nothing else: no empty "---------" radio button before them.
        self.fields["method"].choices = Payment.Method.choices

    def clean_amount(self):
        value = self.cleaned_data["amount"]
        if value <= 0:
            raise forms.ValidationError(_("The amount must be above zero: a refund is a reversal of a payment."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("method") == Payment.Method.CHEQUE:
            if not data.get("cheque_number", "").strip():
                self.add_error("cheque_number", _("A cheque needs its number."))
            if not data.get("cheque_bank", "").strip():
                self.add_error("cheque_bank", _("A cheque needs the name of its bank."))
        elif data.get("method") == Payment.Method.CASH:
            data["cheque_number"] = data["cheque_bank"] = ""
        return data


class ReversalForm(forms.Form):
    reason = forms.CharField(label=_("why the payment is cancelled"), max_length=300)


class ClosingForm(forms.Form):
    counted_cash = euro_field(_("cash counted (€)"))
    counted_cheques = euro_field(_("total of the cheques counted (€)"))
    counted_cheque_count = forms.IntegerField(label=_("number of cheques counted"), min_value=0)
    comment = forms.CharField(label=_("explanation of any discrepancy"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))
    password = forms.CharField(label=_("your password, as signature"), widget=forms.PasswordInput,
                               help_text=_("Signing freezes the day: nothing can be added or changed on it."))

    def __init__(self, *args, user, ledger, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.ledger = user, ledger

    def clean(self):
        data = super().clean()
        for name in ("counted_cash", "counted_cheques"):
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, _("A counted amount cannot be negative."))
        if all(data.get(n) is not None for n in ("counted_cash", "counted_cheques", "counted_cheque_count")):
            balanced = (data["counted_cash"] == self.ledger.cash and data["counted_cheques"] == self.ledger.cheques
                        and data["counted_cheque_count"] == self.ledger.cheque_count)
            if not balanced and not data.get("comment", "").strip():
                self.add_error("comment", _("The count differs from the ledger: explain the discrepancy."))
        password = data.get("password")
        if password and not self.user.check_password(password):
            self.add_error("password", _("This is not your password: the closing is not signed."))
        return data


class ReentryForm(forms.Form):
    lines = forms.CharField(
        label=_("records re-entered"), widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_("One record per line: the Garde reference (downtime identifier, RDV-12, DOC-3, receipt "
                    "number), a space or semicolon, then its identifier in the main system."),
    )

    def clean_lines(self):
        pairs, errors = [], []
        for number, line in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            parts = line.replace(";", " ").replace("\t", " ").split()
            if not parts:
                continue
            if len(parts) != 2:
                errors.append(_("Line %(n)d: expected a reference and an identifier, found “%(line)s”.")
                              % {"n": number, "line": line.strip()})
                continue
            pairs.append((parts[0], parts[1]))
        if errors:
            raise forms.ValidationError(errors)
        if not pairs:
            raise forms.ValidationError(_("No line to record."))
        return pairs


class UniqueInCrisisMixin:
    """The database refuses two sites, desks or departments with one code in a crisis; say so next to the field."""

    unique_field = "code"

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.crisis = crisis
        self.instance.crisis = crisis

    def clean(self):
        data = super().clean()
        value = data.get(self.unique_field)
        if value and type(self.instance).objects.filter(crisis=self.crisis, **{f"{self.unique_field}__iexact": value}).exists():
            self.add_error(self.unique_field, _("“%(value)s” is already used in this crisis.") % {"value": value})
        return data


class SiteForm(UniqueInCrisisMixin, forms.ModelForm):
    class Meta:
        model = Site
        fields = ["code", "name", "id_prefix", "first_number", "last_number"]

    def clean(self):
        data = super().clean()
        first, last = data.get("first_number"), data.get("last_number")
        if first is not None and last is not None and last < first:
            self.add_error("last_number", _("The last number comes after the first one."))
        return data


class DepartmentForm(UniqueInCrisisMixin, forms.ModelForm):
    unique_field = "name"

    class Meta:
        model = Department
        fields = ["name"]


class PractitionerForm(forms.ModelForm):
    class Meta:
        model = Practitioner
        fields = ["name", "department", "rpps"]

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(crisis=crisis)


class CashDeskForm(UniqueInCrisisMixin, forms.ModelForm):
    class Meta:
        model = CashDesk
        fields = ["code", "name"]


class DayForm(forms.Form):
    day = date_field(_("day"), required=False)

    def day_or_today(self) -> date:
        if self.is_valid() and self.cleaned_data["day"]:
            return self.cleaned_data["day"]
        return timezone.localdate()

