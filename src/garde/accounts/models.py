from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from garde.accounts.roles import Role


class SecondFactorPolicy(models.Model):
    """An administrator makes the TOTP second factor mandatory for a role (e.g. director, dpo)."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, unique=True)
    required = models.BooleanField(_("second factor required"), default=False)

    class Meta:
        verbose_name = _("second-factor policy")
        verbose_name_plural = _("second-factor policies")

    def __str__(self):
        return f"{self.get_role_display()}: {'required' if self.required else 'optional'}"

    @classmethod
    def required_roles(cls) -> set[str]:
        return set(cls.objects.filter(required=True).values_list("role", flat=True))


class AccessLog(models.Model):
    """Who read or exported sensitive content, when and why (privacy by design: every read is logged)."""

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("user"))
    action = models.CharField(_("action"), max_length=40)
    target = models.CharField(_("target"), max_length=200)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action} {self.target}"


def record_access(user, action: str, target: str, reason: str = "") -> AccessLog:
    return AccessLog.objects.create(user=user, action=action, target=target[:200], reason=reason[:300])
