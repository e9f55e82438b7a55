from django import forms
from django.utils.translation import gettext_lazy as _

from garde.continuity.models import ServiceStatus


class StatusForm(forms.Form):
    state = forms.ChoiceField(label=_("state"), choices=ServiceStatus.State.choices)
    note = forms.CharField(label=_("note"), required=False, max_length=2000,
                           help_text=_("Why the state is set by hand; written to the running log."))
    staff_message_fr = forms.CharField(label=_("message for staff (French)"), required=False, max_length=2000,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    staff_message_en = forms.CharField(label=_("message for staff (English)"), required=False, max_length=2000,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    public_message_fr = forms.CharField(
        label=_("public message (French)"), required=False, max_length=500,
        help_text=_("Shown on the public page and the printed notice, e.g. “Prise de rendez-vous : par téléphone”."))
    public_message_en = forms.CharField(label=_("public message (English)"), required=False, max_length=500)


class PublishNoticeForm(forms.Form):
    """What the public status page shows of a notice besides its French text (which is the saved notice)."""

    title_fr = forms.CharField(label=_("title (French)"), max_length=200,
                               initial="Information sur une violation de données personnelles")
    title_en = forms.CharField(label=_("title (English)"), max_length=200, required=False,
                               initial="Information about a personal data breach")
    body_en = forms.CharField(label=_("text (English)"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
                              help_text=_("Optional: readers of the English page see the French text without it."))
