from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CellConfig(AppConfig):
    name = "garde.cell"
    label = "cell"
    verbose_name = _("Crisis cell")
