from django import forms
from django.utils.translation import gettext_lazy as _

from garde import impact
from garde.formfields import MultipleFileField
from garde.systems.models import Plan, Scenario

MAX_MAP_BYTES = 20 * 1024 * 1024


class ImportForm(forms.Form):
    yaml_file = forms.FileField(label=_("Map in YAML (native format)"), required=False)
    nodes_file = forms.FileField(label=_("or nodes.csv"), required=False)
    dependencies_file = forms.FileField(label=_("and dependencies.csv"), required=False)
    mercator_files = MultipleFileField(
        label=_("or Mercator XLSX exports"), required=False,
        help_text=_("Applications, logical servers, databases, flows, networks and subnetworks; a YAML file given "
                    "above adds business services and scenarios to them."))

    def clean(self):
        data = super().clean()
        mercator = data.get("mercator_files") or []
        files = [data.get(name) for name in ("yaml_file", "nodes_file", "dependencies_file")] + list(mercator)
        if mercator:
            if data.get("nodes_file") or data.get("dependencies_file"):
                raise forms.ValidationError(_("Mercator exports go with an optional YAML file, not with CSV files."))
            for upload in mercator:
                if not upload.name.lower().endswith(".xlsx"):
                    raise forms.ValidationError(_("“%(name)s” is not an XLSX file.") % {"name": upload.name})
        elif bool(data.get("yaml_file")) == bool(data.get("nodes_file")):
            raise forms.ValidationError(_("Give either a YAML file, or nodes.csv (with dependencies.csv if any)."))
        if data.get("yaml_file") and data.get("dependencies_file"):
            raise forms.ValidationError(_("dependencies.csv goes with nodes.csv, not with a YAML file."))
        for upload in files:
            if upload and upload.size > MAX_MAP_BYTES:
                raise forms.ValidationError(_("“%(name)s” is larger than 20 MB.") % {"name": upload.name})
        return data


TARGETS = [
    (impact.ActionKind.CUT_LINK, _("Cut links")),
    (impact.ActionKind.ISOLATE_ZONE, _("Isolate zones")),
    (impact.ActionKind.STOP_HOST, _("Stop hosts")),
    (impact.ActionKind.COMPROMISE_HOST, _("Mark hosts compromised")),
]


class ScenarioForm(forms.ModelForm):
    """A scenario as the four kinds of containment action, each a choice among the map's nodes."""

    class Meta:
        model = Scenario
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, map_: impact.Map, **kwargs):
        super().__init__(*args, **kwargs)
        from garde.impact.model import ACTION_TARGET_KINDS

        current = [impact.Action.parse(a) for a in (self.instance.actions or [])]
        for kind, label in TARGETS:
            kinds = ACTION_TARGET_KINDS[kind]
            nodes = sorted((n for n in map_.nodes if n.kind in kinds), key=lambda n: (n.kind.value, n.name))
            self.fields[kind.value] = forms.MultipleChoiceField(
                label=label, required=False, widget=forms.SelectMultiple(attrs={"size": 8}),
                choices=[(n.id, f"{n.name} ({n.id})") for n in nodes],
                initial=[a.target for a in current if a.kind == kind],
            )

    def clean(self):
        data = super().clean()
        actions = [f"{kind.value}:{target}" for kind, _label in TARGETS for target in data.get(kind.value, [])]
        if not actions:
            raise forms.ValidationError(_("Choose at least one action."))
        self.instance.actions = actions
        return data


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class NodeForm(forms.Form):
    """One node of the map with its dependencies, in plain fields; validated with the whole map."""

    id = forms.CharField(label=_("id"), max_length=200)
    kind = forms.ChoiceField(label=_("kind"), choices=[(k.value, k.value) for k in impact.Kind])
    name = forms.CharField(label=_("name"), max_length=300, required=False)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    owner = forms.CharField(label=_("owner"), max_length=300, required=False)
    site = forms.CharField(label=_("site (id)"), max_length=200, required=False)
    criticality = forms.IntegerField(label=_("criticality (1-5, business services)"), required=False,
                                     min_value=1, max_value=5)
    max_downtime_minutes = forms.IntegerField(label=_("maximum tolerable downtime (minutes)"), required=False,
                                              min_value=0)
    public = forms.BooleanField(label=_("public service (shown on the public page)"), required=False)
    procedure = forms.CharField(label=_("degraded-mode procedure"), required=False,
                                widget=forms.Textarea(attrs={"rows": 4}))
    public_message = forms.CharField(label=_("public message"), required=False)
    identity_kind = forms.ChoiceField(label=_("identity kind"), required=False,
                                      choices=[("", "—")] + [(k, k) for k in ("ad", "dns", "pki", "sso", "other")])
    link_kind = forms.ChoiceField(label=_("link kind"), required=False,
                                  choices=[("", "—")] + [(k, k) for k in ("internet", "bank", "partner",
                                                                            "telephony", "wan", "other")])
    ad_tier = forms.IntegerField(label=_("AD tier"), required=False, min_value=0, max_value=2)
    cached_login = forms.BooleanField(label=_("cached login works"), required=False)
    restore_minutes = forms.IntegerField(label=_("restore duration (minutes)"), required=False, min_value=0)
    restore_skill = forms.CharField(label=_("restore skill"), max_length=100, required=False)
    requires = forms.CharField(label=_("requires (ids, comma-separated)"), required=False)
    requires_one_of = forms.CharField(
        label=_("requires one of"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One group per line: “k: id, id, id”, e.g. “1: srv-a, srv-b”."))
    degraded_without = forms.CharField(
        label=_("degraded without"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: “id: capability lost”."))
    hosted_on = forms.CharField(label=_("hosted on (server id)"), max_length=200, required=False)
    in_zone = forms.CharField(label=_("in zone (zone id)"), max_length=200, required=False)
    authenticates_via = forms.CharField(label=_("authenticates via (identity ids)"), required=False)
    reaches = forms.CharField(
        label=_("reaches (zones only)"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line: “zone id” or “zone id via link id”."))

    SCALARS = ["name", "description", "owner", "site", "criticality", "max_downtime_minutes", "procedure",
               "public_message", "identity_kind", "link_kind", "ad_tier", "restore_minutes", "restore_skill"]

    @classmethod
    def initial_from(cls, item: dict) -> dict:
        """Form values from a node in the native format (``impact.to_dict``)."""
        initial = {key: item.get(key, "") for key in ["id", "kind", *cls.SCALARS]}
        initial["public"] = item.get("public", False)
        initial["cached_login"] = item.get("cached_login", False)
        listed = lambda v: ", ".join([v] if isinstance(v, str) else v or [])  # noqa: E731
        initial["requires"] = listed(item.get("requires"))
        initial["authenticates_via"] = listed(item.get("authenticates_via"))
        initial["hosted_on"] = item.get("hosted_on", "")
        initial["in_zone"] = item.get("in_zone", "")
        initial["requires_one_of"] = "\n".join(f"{g.get('k', 1)}: {', '.join(g['of'])}"
                                               for g in item.get("requires_one_of", []))
        initial["degraded_without"] = "\n".join(f"{d['target']}: {d['capability']}"
                                                for d in item.get("degraded_without", []))
        initial["reaches"] = "\n".join(r["zone"] + (f" via {r['via']}" if r.get("via") else "")
                                       for r in item.get("reaches", []))
        return initial

    def clean(self):
        data = super().clean()
        item: dict = {"id": data.get("id", "").strip(), "kind": data.get("kind")}
        for key in self.SCALARS:
            value = data.get(key)
            if value not in (None, ""):
                item[key] = value.strip() if isinstance(value, str) else value
        if data.get("kind") == impact.Kind.BUSINESS_SERVICE:
            item["public"] = bool(data.get("public"))
        if data.get("cached_login"):
            item["cached_login"] = True
        for key in ("requires", "authenticates_via"):
            if _ids(data.get(key, "")):
                item[key] = _ids(data[key])
        for key in ("hosted_on", "in_zone"):
            if data.get(key, "").strip():
                item[key] = data[key].strip()
        groups = []
        for line in (data.get("requires_one_of") or "").splitlines():
            if not line.strip():
                continue
            k, sep, rest = line.partition(":")
            if not sep or not k.strip().isdigit() or not _ids(rest):
                self.add_error("requires_one_of", _("“%(line)s”: expected “k: id, id”.") % {"line": line.strip()})
                continue
            groups.append({"k": int(k), "of": _ids(rest)})
        if groups:
            item["requires_one_of"] = groups
        degraded = []
        for line in (data.get("degraded_without") or "").splitlines():
            if not line.strip():
                continue
            target, sep, capability = line.partition(":")
            if not sep or not target.strip() or not capability.strip():
                self.add_error("degraded_without", _("“%(line)s”: expected “id: capability lost”.") % {
                    "line": line.strip()})
                continue
            degraded.append({"target": target.strip(), "capability": capability.strip()})
        if degraded:
            item["degraded_without"] = degraded
        reaches = []
        for line in (data.get("reaches") or "").splitlines():
            words = line.split()
            if not words:
                continue
            if len(words) == 1:
                reaches.append({"zone": words[0]})
            elif len(words) == 3 and words[1] == "via":
                reaches.append({"zone": words[0], "via": words[2]})
            else:
                self.add_error("reaches", _("“%(line)s”: expected “zone” or “zone via link”.") % {"line": line.strip()})
        if reaches:
            item["reaches"] = reaches
        self.item = item
        return data


class PlanForm(forms.Form):
    """Staff available per skill, and the solver; skills are those the scenario's tasks need."""

    solver = forms.ChoiceField(label=_("solver"), choices=Plan.Solver.choices, initial=Plan.Solver.GREEDY)
    time_limit = forms.IntegerField(label=_("time limit for CP-SAT (seconds)"), min_value=1, max_value=60,
                                    initial=10)

    def __init__(self, *args, skills: list[str], initial_staff: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.skills = skills
        for skill in skills:
            self.fields[f"staff_{skill}"] = forms.IntegerField(
                label=_("people skilled in “%(skill)s”") % {"skill": skill}, min_value=1, max_value=500,
                initial=(initial_staff or {}).get(skill, 1))

    def staff(self) -> dict[str, int]:
        return {skill: self.cleaned_data[f"staff_{skill}"] for skill in self.skills}


class LateForm(forms.Form):
    remaining_minutes = forms.IntegerField(label=_("minutes still needed"), min_value=1, max_value=100000)
