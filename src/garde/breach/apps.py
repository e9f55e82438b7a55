from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BreachConfig(AppConfig):
    name = "garde.breach"
    label = "breach"
    verbose_name = _("Data breach")
