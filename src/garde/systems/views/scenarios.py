"""What-if containment: scenarios, their results against the normal state, and applying one to the crisis."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from garde import impact
from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.systems import store
from garde.systems.forms import ScenarioForm
from garde.systems.models import Application, Scenario
from garde.systems.scenarios import apply_to_crisis, describe
from garde.systems.views.maps import no_map


def lang() -> str:
    return "en" if (get_language() or "fr").startswith("en") else "fr"


@crisis_view(C.VIEW_SYSTEMS)
def scenarios(request, crisis):
    try:
        loaded = store.load()
    except store.NoMap:
        return no_map(request, crisis)
    items = [(s, describe(loaded.map, s.actions)) for s in Scenario.objects.all()]
    applied = Application.objects.filter(crisis=crisis).select_related("applied_by", "map_version")
    return render(request, "systems/scenarios.html", {"crisis": crisis, "items": items, "applied": applied})


@crisis_view(C.RUN_SCENARIO)
def scenario_edit(request, crisis, scenario_id=None):
    try:
        loaded = store.load()
    except store.NoMap:
        return no_map(request, crisis)
    scenario = get_object_or_404(Scenario, pk=scenario_id) if scenario_id else Scenario()
    form = ScenarioForm(request.POST or None, instance=scenario, map_=loaded.map)
    if request.method == "POST" and form.is_valid():
        scenario = form.save(commit=False)
        if scenario.created_by_id is None:
            scenario.created_by = request.user
        scenario.save()
        return redirect("systems:scenario", crisis.pk, scenario.pk)
    return render(request, "systems/scenario_form.html", {"crisis": crisis, "form": form, "scenario": scenario})


def _simulate(request, loaded, scenario) -> impact.Result | None:
    try:
        return impact.simulate(loaded.map, scenario.actions)
    except ValueError as error:
        # The map changed since the scenario was written: say which action no longer fits.
        messages.error(request, _("This scenario does not fit the current map: %(error)s") % {"error": error})
        return None


def _load_and_simulate(request, crisis, scenario):
    """The current map and the scenario's result on it, or the response that says why there is none."""
    try:
        loaded = store.load()
    except store.NoMap:
        return None, None, no_map(request, crisis)
    result = _simulate(request, loaded, scenario)
    if result is None:
        return loaded, None, redirect("systems:scenarios", crisis.pk)
    return loaded, result, None


@crisis_view(C.VIEW_SYSTEMS)
def scenario(request, crisis, scenario_id):
    scenario = get_object_or_404(Scenario, pk=scenario_id)
    loaded, result, refusal = _load_and_simulate(request, crisis, scenario)
    if refusal:
        return refusal
    language = lang()
    rows = [{
        "impact": s, "node": s.node, "state": s.state.name.lower(), "normal": s.normal_state.name.lower(),
        "changed": s.state != s.normal_state,
        "reason": s.reason_en if language == "en" else s.reason_fr,
        "lost": result.capabilities_lost(s.node.id, language),
    } for s in result.services()]
    other = [(loaded.map[i], before.name.lower(), after.name.lower(), result.explain(i, language))
             for i, before, after in result.changes() if loaded.map[i].kind != impact.Kind.BUSINESS_SERVICE]
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in ("up", "degraded", "down")}
    return render(request, "systems/scenario.html", {
        "crisis": crisis, "scenario": scenario, "version": loaded.version, "rows": rows, "other": other,
        "counts": counts, "actions": describe(loaded.map, scenario.actions),
        "graph": mark_safe(impact.to_svg(loaded.map, result)),  # noqa: S308 - built and escaped by impact.export
        "applied": Application.objects.filter(crisis=crisis, scenario=scenario).first(),
    })


@require_POST
@crisis_view(C.APPLY_SCENARIO)
def scenario_apply(request, crisis, scenario_id):
    scenario = get_object_or_404(Scenario, pk=scenario_id)
    loaded, result, refusal = _load_and_simulate(request, crisis, scenario)
    if refusal:
        return refusal
    changed = apply_to_crisis(crisis, scenario, loaded, result, request.user)
    messages.success(request, ngettext("Scenario applied to the crisis: %(n)d service changed on the status board.",
                                       "Scenario applied to the crisis: %(n)d services changed on the status board.",
                                       len(changed)) % {"n": len(changed)})
    return redirect("continuity:board", crisis.pk)
