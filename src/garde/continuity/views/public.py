"""The public status page and the Statuspage-compatible API: no login, public services only.

Nothing internal ever appears here: no crisis title, no reason, no note, no staff message, no procedure.
Pages are built from public.snapshot, which holds only what may be shown.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from garde.continuity import public
from garde.continuity.models import ServiceStatus

PAGE_ID = "garde"


def _lang(request) -> str:
    # The public page is cached per language: the choice is in the URL, never in a session or cookie.
    return "en" if request.GET.get("lang") == "en" else "fr"


@require_GET
@cache_control(public=True, max_age=public.PUBLIC_CACHE_SECONDS)
def status_page(request):
    language = _lang(request)
    with translation.override(language):
        snapshot = public.snapshot(language)
        return render(request, "continuity/public.html", {
            "snapshot": snapshot, "lang": language, "refresh": 60,
            "down": [c for c in snapshot.components if c.state != ServiceStatus.State.UP],
            "up": [c for c in snapshot.components if c.state == ServiceStatus.State.UP],
        })


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def _page(request, snapshot) -> dict:
    return {
        "id": PAGE_ID, "name": settings.SITE_NAME, "url": request.build_absolute_uri(reverse("continuity:public")),
        "time_zone": settings.TIME_ZONE, "updated_at": _iso(snapshot.updated_at),
    }


def _status(snapshot) -> dict:
    descriptions = {
        "none": _("All services operational"), "minor": _("Some services degraded"),
        "major": _("Some services unavailable"),
    }
    return {"indicator": snapshot.indicator, "description": descriptions[snapshot.indicator]}


def _component(c: public.Component, snapshot) -> dict:
    return {
        "id": c.id, "name": c.name, "status": public.COMPONENT_STATUS[c.state], "description": c.message or None,
        "position": c.position, "showcase": True, "only_show_if_degraded": False, "group": False,
        "group_id": None, "page_id": PAGE_ID, "start_date": None,
        "created_at": _iso(c.updated_at or snapshot.updated_at), "updated_at": _iso(c.updated_at or snapshot.updated_at),
    }


def _incident(i: public.Incident, snapshot) -> dict:
    names = {c.id: c for c in snapshot.components}
    components = [_component(names[c], snapshot) for c in i.components if c in names]
    body = "\n".join(i.messages) or _("Some services are disrupted. Care goes on.")
    return {
        "id": i.id, "name": _("Disruption of the hospital's digital services"), "status": "identified",
        "impact": i.impact, "created_at": _iso(i.started_at), "updated_at": _iso(i.updated_at),
        "started_at": _iso(i.started_at), "monitoring_at": None, "resolved_at": None, "shortlink": None,
        "page_id": PAGE_ID, "components": components,
        "incident_updates": [{
            "id": f"{i.id}-1", "incident_id": i.id, "status": "identified", "body": body,
            "created_at": _iso(i.updated_at), "updated_at": _iso(i.updated_at), "display_at": _iso(i.updated_at),
            "affected_components": [{"code": c["id"], "name": c["name"], "old_status": "operational",
                                     "new_status": c["status"]} for c in components],
        }],
    }


def _notice_incident(n: public.Notice) -> dict:
    """A published notice in Statuspage's words: an informational incident (impact none) touching no service."""
    moment = _iso(n.published_at)
    return {
        "id": n.id, "name": n.title, "status": "identified", "impact": "none", "created_at": moment,
        "updated_at": moment, "started_at": moment, "monitoring_at": None, "resolved_at": None, "shortlink": None,
        "page_id": PAGE_ID, "components": [],
        "incident_updates": [{
            "id": f"{n.id}-1", "incident_id": n.id, "status": "identified", "body": n.body, "created_at": moment,
            "updated_at": moment, "display_at": moment, "affected_components": [],
        }],
    }


def _incidents(snapshot) -> list[dict]:
    return [_incident(i, snapshot) for i in snapshot.incidents] + [_notice_incident(n) for n in snapshot.notices]


def _api(request, build):
    language = _lang(request)
    with translation.override(language):
        body = public.cached(request.path, lambda: build(public.snapshot(language)), language)
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    # Status clients and monitors run on other origins; the data is public and read-only.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={public.PUBLIC_CACHE_SECONDS}"
    return response


@require_GET
def api_summary(request):
    return _api(request, lambda s: {
        "page": _page(request, s), "status": _status(s),
        "components": [_component(c, s) for c in s.components],
        "incidents": _incidents(s), "scheduled_maintenances": [],
    })


@require_GET
def api_status(request):
    return _api(request, lambda s: {"page": _page(request, s), "status": _status(s)})


@require_GET
def api_components(request):
    return _api(request, lambda s: {"page": _page(request, s), "components": [_component(c, s) for c in s.components]})


@require_GET
def api_incidents(request):
    return _api(request, lambda s: {"page": _page(request, s), "incidents": _incidents(s)})


@require_GET
def api_unresolved(request):
    return _api(request, lambda s: {"page": _page(request, s), "incidents": _incidents(s)})
