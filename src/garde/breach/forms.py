from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from garde.breach.models import Breach, Person
from garde.formfields import DateTimeInput, MultipleFileField

DATETIME = DateTimeInput()


class BreachForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = ["title", "confidentiality", "integrity", "availability", "started_at", "discovered_at", "t0",
                  "discovery", "circumstances", "systems", "status"]
        widgets = {"started_at": DATETIME, "discovered_at": DATETIME, "t0": DATETIME,
                   "discovery": forms.Textarea(attrs={"rows": 3}), "circumstances": forms.Textarea(attrs={"rows": 3}),
                   "systems": forms.Textarea(attrs={"rows": 3})}

    def clean(self):
        data = super().clean()
        if not (data.get("confidentiality") or data.get("integrity") or data.get("availability")):
            raise forms.ValidationError(_("Tick at least one nature: confidentiality, integrity or availability."))
        return data


class RiskForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = ["risk", "risk_reasons", "inform", "consequences", "measures", "contact", "delay_reasons"]
        widgets = {name: forms.Textarea(attrs={"rows": 4})
                   for name in ("risk_reasons", "consequences", "measures", "contact", "delay_reasons")}

    def clean(self):
        data = super().clean()
        if not data.get("risk"):
            self.add_error("risk", _("Choose the level of risk."))
        if not (data.get("risk_reasons") or "").strip():
            self.add_error("risk_reasons", _("Give the reasons of the decision: they are kept as evidence."))
        if data.get("risk") == Breach.Risk.HIGH and data.get("inform") in ("", Breach.Inform.NONE):
            self.add_error("inform", _("A high risk means informing the persons: by letters or by a public notice."))
        return data


class ImportForm(forms.Form):
    perimeter = forms.CharField(label=_("Perimeter"), max_length=120,
                                help_text=_("Where the scanned data came from, e.g. cardiology, dental care centre, payroll."))
    files = MultipleFileField(label=_("Files of the scan folder"), required=False,
                              help_text=_("manifest.json, summary.json and the four .parquet files."))
    path = forms.CharField(label=_("Or a scan folder on the server"), required=False, max_length=500,
                           help_text=_("A folder under the scans directory (GARDE_BREACH_SCANS_DIR)."))

    def clean(self):
        data = super().clean()
        if bool(data.get("files")) == bool((data.get("path") or "").strip()):
            raise forms.ValidationError(_("Give either the files of a scan folder or a folder on the server."))
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Why do you need to see the persons?"), max_length=300,
                             help_text=_("Written to the access log with your name, e.g. “letters to send”."))


class SentForm(forms.Form):
    sent_at = forms.DateTimeField(label=_("Sent at"), widget=DATETIME)
    channel = forms.CharField(label=_("Channel"), max_length=200, initial=_("CNIL online service"))
    reference = forms.CharField(label=_("Reference received"), max_length=200, required=False)

    def clean_sent_at(self):
        sent_at = self.cleaned_data["sent_at"]
        if sent_at > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("The time sent cannot be in the future."))
        return sent_at


class AddressForm(forms.Form):
    name = forms.CharField(label=_("Name on the envelope"), max_length=200)
    lines = forms.CharField(label=_("Street address"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20)
    city = forms.CharField(label=_("Town"), max_length=120)
    country = forms.CharField(label=_("Country (if not France)"), max_length=120, required=False)
    language = forms.ChoiceField(label=_("Language of the letter"), choices=[("fr", "Français"), ("en", "English")])


class ReasonedForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class InformedForm(forms.Form):
    informed_at = forms.DateTimeField(label=_("Informed at"), widget=DATETIME)
    how = forms.ChoiceField(label=_("How"), choices=Person.Channel.choices)


class PublicNoticeForm(forms.ModelForm):
    class Meta:
        model = Breach
        fields = ["public_notice"]
        widgets = {"public_notice": forms.Textarea(attrs={"rows": 14})}


class PatientFileForm(forms.Form):
    file = forms.FileField(label=_("CSV of patients with addresses"), help_text=_(
        "Columns (header line): ipp, nir, nom, prenom, date_naissance, adresse, code_postal, ville; "
        "separated by ; or ,."
    ))
