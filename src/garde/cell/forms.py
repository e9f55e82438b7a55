from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from garde.accounts.roles import Role
from garde.cell.journal import check_upload
from garde.cell.models import Action, Crisis, Decision, LogEntry, SitRep, Stakeholder
from garde.formfields import MultipleFileField, datetime_field


class CrisisForm(forms.ModelForm):
    t0 = datetime_field(_("T0 (time the hospital became aware)"))
    next_point_at = datetime_field(_("next situation point"), required=False)

    class Meta:
        model = Crisis
        fields = ["title", "kind", "t0", "severity", "phase", "personal_data", "nis2", "next_point_at"]


class NewCrisisForm(CrisisForm):
    my_role = forms.ChoiceField(label=_("My role in this crisis"), choices=Role.choices, initial=Role.DIRECTOR)


class LogEntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=LogEntry.Kind.choices, initial=LogEntry.Kind.FACT)
    occurred_at = datetime_field(_("time of the event"), required=False)
    text = forms.CharField(label=_("text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000)
    source = forms.CharField(label=_("source"), max_length=200, required=False,
                             help_text=_("Who or what reported it (person, tool, phone call)."))
    attachments = MultipleFileField(label=_("attachments"), required=False)

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        errors = [reason for reason in (check_upload(f) for f in files) if reason]
        if errors:
            raise forms.ValidationError(errors)
        return files


class DecisionForm(forms.ModelForm):
    decided_at = datetime_field(_("decided at"))

    class Meta:
        model = Decision
        fields = ["title", "rationale", "decided_by", "decided_at"]
        widgets = {"rationale": forms.Textarea(attrs={"rows": 3})}


class ActionForm(forms.ModelForm):
    due_at = datetime_field(_("due at"), required=False)

    class Meta:
        model = Action
        fields = ["title", "details", "owner", "due_at", "priority"]
        widgets = {"details": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(memberships__crisis=crisis).order_by("username")


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Action.Status.choices)


class SitRepForm(forms.ModelForm):
    next_point_at = datetime_field(_("time of the next point"), required=False)

    class Meta:
        model = SitRep
        fields = ["situation", "impacts", "actions_under_way", "needs", "next_point_at"]
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in ["situation", "impacts", "actions_under_way", "needs"]}


class StakeholderForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = ["kind", "organisation", "contact_name", "phone", "backup_channel", "email", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}


class ObligationDraftForm(forms.Form):
    """One text area per field of the recipient's form (fields come from cell.drafts)."""

    def __init__(self, *args, fields, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in fields:
            self.fields[key] = forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ObligationSentForm(forms.Form):
    sent_at = datetime_field(_("sent at"))
    channel = forms.CharField(label=_("channel"), max_length=200, help_text=_("e.g. online portal, phone, registered letter"))
    reference = forms.CharField(label=_("reference received"), max_length=200, required=False)


class ObligationOwnerForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("owner"), queryset=None, required=False)

    def __init__(self, *args, crisis, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(memberships__crisis=crisis).order_by("username")


class MemberForm(forms.Form):
    username = forms.CharField(label=_("user name"), max_length=150)
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active account is called “%(name)s”.") % {"name": username})
        return user
