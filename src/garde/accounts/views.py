import base64

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _safe_next(request) -> str:
    target = request.GET.get("next") or request.POST.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


@login_required
def second_factor(request):
    """Set up TOTP on first use, then ask for a code at each login."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    setting_up = device is None
    if setting_up:
        device, _created = TOTPDevice.objects.get_or_create(
            user=request.user, confirmed=False, defaults={"name": "garde"}
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect(_safe_next(request))
        form.add_error("token", _("This code is wrong or has expired. Check your phone's clock and try again."))
    context = {"form": form, "setting_up": setting_up, "next": _safe_next(request)}
    if setting_up:
        secret = base64.b32encode(device.bin_key).decode()
        context["secret"] = secret
        context["qr_svg"] = segno.make(device.config_url).svg_inline(scale=4)
    return render(request, "accounts/second_factor.html", context)
