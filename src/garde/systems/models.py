import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from garde.cell.models import Action, Crisis


class MapVersion(models.Model):
    """One version of the hospital's IS map, as canonical YAML. The newest version is the current map;
    every import or edit adds a version, so a crisis can always tell which map a result came from."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    yaml = models.TextField("YAML")
    sha256 = models.CharField("SHA-256", max_length=64)
    source = models.CharField(_("source"), max_length=300, blank=True)
    node_count = models.PositiveIntegerField(_("nodes"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["-number"]
        verbose_name = _("map version")

    def __str__(self):
        return f"{self.name or _('map')} v{self.number}"


class Scenario(models.Model):
    """A what-if containment scenario: actions such as "cut_link:l-internet", checked against the map."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    actions = models.JSONField(_("actions"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("scenario")

    def __str__(self):
        return self.name


class Application(models.Model):
    """A scenario applied to a crisis: what was decided, on which map, and when."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="scenario_applications")
    scenario = models.ForeignKey(Scenario, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(_("scenario"), max_length=200)
    actions = models.JSONField(_("actions"), default=list)
    map_version = models.ForeignKey(MapVersion, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-applied_at"]
        verbose_name = _("applied scenario")

    def __str__(self):
        return self.name


class Plan(models.Model):
    """A restoration plan for a crisis. A re-plan is a new Plan; the newest one is the plan in force."""

    class Solver(models.TextChoices):
        GREEDY = "greedy", _("Greedy (instant)")
        CP_SAT = "cp-sat", _("CP-SAT (improves the greedy plan within the time limit)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="restoration_plans")
    name = models.CharField(_("scenario"), max_length=200)
    actions = models.JSONField(_("actions"), default=list)
    map_version = models.ForeignKey(MapVersion, on_delete=models.PROTECT, related_name="+")
    staff = models.JSONField(_("staff"), default=dict)
    solver = models.CharField(_("solver"), max_length=10, choices=Solver.choices, default=Solver.GREEDY)
    time_limit = models.PositiveIntegerField(_("time limit (seconds)"), default=10)
    # Carried from plan to plan: what is already restored, and new estimates for late tasks.
    done_nodes = models.JSONField(default=list)
    overrides = models.JSONField(default=dict)
    objective = models.BigIntegerField(_("objective"), default=0)
    lower_bound = models.BigIntegerField(_("lower bound"), default=0)
    optimal = models.BooleanField(_("proven optimal"), default=False)
    makespan = models.PositiveIntegerField(_("total duration (minutes)"), default=0)
    warnings = models.JSONField(default=list)
    starts_at = models.DateTimeField(_("plan starts at"))
    previous = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("restoration plan")

    def __str__(self):
        return f"{self.name} ({self.get_solver_display()})"

    @property
    def gap(self) -> float:
        return 0.0 if self.objective == 0 else (self.objective - self.lower_bound) / self.objective


class PlanTask(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        LATE = "late", _("Late")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveIntegerField(default=0)
    node = models.CharField(_("node"), max_length=200)
    name = models.CharField(_("name"), max_length=300)
    kind = models.CharField(_("kind"), max_length=30)
    work = models.CharField(_("work"), max_length=20, blank=True)
    skill = models.CharField(_("skill"), max_length=100, blank=True)
    worker = models.CharField(_("assigned to"), max_length=120, blank=True)
    minutes = models.PositiveIntegerField(_("duration (minutes)"), default=0)
    start = models.PositiveIntegerField(_("start (minutes)"), default=0)
    end = models.PositiveIntegerField(_("end (minutes)"), default=0)
    criticality = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLANNED)
    remaining_minutes = models.PositiveIntegerField(_("minutes still needed"), null=True, blank=True)
    action = models.ForeignKey(Action, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("restoration task")

    def __str__(self):
        return self.name

    @property
    def is_milestone(self) -> bool:
        return self.minutes == 0
