"""The IS map: current version, import, export, node editing and the peacetime analysis."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from garde import impact
from garde.accounts.roles import Capability as C
from garde.cell.access import crisis_view
from garde.systems import store
from garde.systems.forms import ImportForm, NodeForm
from garde.systems.models import MapVersion, Scenario

NODES_SHOWN = 2000


def no_map(request, crisis):
    return render(request, "systems/no_map.html", {"crisis": crisis})


@crisis_view(C.VIEW_SYSTEMS)
def map_home(request, crisis):
    try:
        loaded = store.load()
    except store.NoMap:
        return no_map(request, crisis)
    kind = request.GET.get("kind", "")
    nodes = [n for n in loaded.map.nodes if not kind or n.kind == kind]
    counts = {k.value: len(loaded.map.of_kind(k)) for k in impact.Kind}
    return render(request, "systems/map.html", {
        "crisis": crisis, "version": loaded.version, "map": loaded.map, "nodes": nodes[:NODES_SHOWN],
        "more": max(0, len(nodes) - NODES_SHOWN), "kind": kind, "counts": counts,
        "versions": MapVersion.objects.select_related("created_by").order_by("-number")[:20],
    })


@crisis_view(C.MANAGE_MAP)
def map_import(request, crisis):
    form = ImportForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new_map = store.parse_upload(yaml_file=data["yaml_file"], nodes_file=data["nodes_file"],
                                         dependencies_file=data["dependencies_file"],
                                         mercator_files=data["mercator_files"])
        except impact.MapError as error:
            problems = error.problems
        else:
            uploads = [data["yaml_file"], data["nodes_file"], data["dependencies_file"], *data["mercator_files"]]
            names = " + ".join(f.name for f in uploads if f)
            if "check" in request.POST:
                messages.success(request, _("The map is valid: %(n)d nodes, %(w)d warnings. Nothing was imported.")
                                 % {"n": len(new_map.nodes), "w": len(new_map.warnings)})
                return render(request, "systems/import.html", {"crisis": crisis, "form": form,
                                                               "warnings": new_map.warnings})
            version = store.save(new_map, source=names, user=request.user)
            messages.success(request, _("Map imported as version %(v)d: %(n)d nodes.") % {
                "v": version.number, "n": version.node_count})
            for warning in new_map.warnings:
                messages.warning(request, warning)
            return redirect("systems:map", crisis.pk)
    return render(request, "systems/import.html", {"crisis": crisis, "form": form, "problems": problems})


@crisis_view(C.VIEW_SYSTEMS)
def map_export(request, crisis, fmt):
    if fmt not in ("yaml", "dot", "svg"):
        raise Http404
    try:
        loaded = store.load(_version(request))
    except store.NoMap:
        raise Http404 from None
    result = None
    scenario_id = request.GET.get("scenario")
    if scenario_id:
        scenario = Scenario.objects.filter(pk=scenario_id).first() if _is_uuid(scenario_id) else None
        if scenario is None:
            raise Http404
        try:
            result = impact.simulate(loaded.map, scenario.actions)
        except ValueError:
            raise Http404 from None
    stem = f"carte-v{loaded.version.number}"
    if fmt == "yaml":
        body, content_type = loaded.version.yaml, "application/yaml; charset=utf-8"
    elif fmt == "dot":
        body, content_type = impact.to_dot(loaded.map, result), "text/vnd.graphviz; charset=utf-8"
    else:
        body, content_type = impact.to_svg(loaded.map, result, title=loaded.map.name), "image/svg+xml"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _version(request) -> MapVersion | None:
    number = request.GET.get("version", "")
    if not number:
        return None
    if not number.isdigit():
        raise Http404
    version = MapVersion.objects.filter(number=int(number)).first()
    if version is None:
        raise Http404
    return version


@crisis_view(C.MANAGE_MAP)
def node_edit(request, crisis, node_id=None):
    try:
        loaded = store.load()
    except store.NoMap:
        return no_map(request, crisis)
    data = impact.to_dict(loaded.map)
    index = next((i for i, item in enumerate(data["nodes"]) if item["id"] == node_id), None)
    if node_id is not None and index is None:
        raise Http404
    initial = NodeForm.initial_from(data["nodes"][index]) if index is not None else {"kind": request.GET.get("kind", "")}
    form = NodeForm(request.POST or None, initial=initial)
    problems = []
    if request.method == "POST" and form.is_valid():
        if index is None:
            data["nodes"].append(form.item)
        else:
            data["nodes"][index] = form.item
            if form.item["id"] != node_id:
                problems.append(impact.Problem(_("this form"), _("Renaming a node is done by import, not here.")))
        if not problems:
            try:
                new_map = store.rebuild(data, _("this form"))
            except impact.MapError as error:
                problems = error.problems
            else:
                what = _("edit of node “%(id)s”") if index is not None else _("new node “%(id)s”")
                version = store.save(new_map, source=what % {"id": form.item["id"]}, user=request.user)
                messages.success(request, _("Map saved as version %(v)d.") % {"v": version.number})
                return redirect("systems:map", crisis.pk)
    return render(request, "systems/node_form.html", {
        "crisis": crisis, "form": form, "node_id": node_id, "problems": problems,
    })


@require_POST
@crisis_view(C.MANAGE_MAP)
def node_delete(request, crisis, node_id):
    try:
        loaded = store.load()
    except store.NoMap:
        raise Http404 from None
    if node_id not in loaded.map:
        raise Http404
    data = impact.to_dict(loaded.map)
    data["nodes"] = [item for item in data["nodes"] if item["id"] != node_id]
    try:
        new_map = store.rebuild(data, _("deleting “%(id)s”") % {"id": node_id})
    except impact.MapError as error:
        # Other nodes still point at it: say which, and keep the map as it was.
        for problem in error.problems:
            messages.error(request, str(problem))
        return redirect("systems:map", crisis.pk)
    version = store.save(new_map, source=_("deletion of node “%(id)s”") % {"id": node_id}, user=request.user)
    messages.success(request, _("Node deleted; map saved as version %(v)d.") % {"v": version.number})
    return redirect("systems:map", crisis.pk)


_analyses: dict[str, impact.Analysis] = {}


def _analysis(loaded: store.Loaded) -> impact.Analysis:
    found = _analyses.get(loaded.version.sha256)
    if found is None:
        if len(_analyses) >= store.PARSED_KEPT:
            _analyses.clear()
        found = _analyses[loaded.version.sha256] = impact.analyse(loaded.map)
    return found


@crisis_view(C.VIEW_SYSTEMS)
def analysis(request, crisis):
    try:
        loaded = store.load()
    except store.NoMap:
        return no_map(request, crisis)
    found = _analysis(loaded)
    names = {n.id: n.name for n in loaded.map.nodes}
    risks = [{
        "service": risk.service,
        "single_points": [(i, names[i]) for i in risk.single_points],
        "cut_sets": [[(i, names[i]) for i in cut] for cut in risk.cut_sets if len(cut) > 1],
    } for risk in found.risks]
    return render(request, "systems/analysis.html", {
        "crisis": crisis, "version": loaded.version, "risks": risks, "analysis": found,
    })
