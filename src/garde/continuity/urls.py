from django.urls import path

from garde.continuity.views import board, public

app_name = "continuity"
P = "c/<uuid:crisis_id>/continuity/"

urlpatterns = [
    path(P, board.board, name="board"),
    path(P + "fill/", board.board_fill, name="board_fill"),
    path(P + "services/<uuid:status_id>/", board.status_edit, name="status_edit"),
    path(P + "procedures/", board.procedures, name="procedures"),
    path(P + "procedures.pdf", board.procedures_pdf, name="procedures_pdf"),
    path(P + "notice.pdf", board.notice_pdf, name="notice_pdf"),
    path(P + "switchboard.pdf", board.switchboard_pdf, name="switchboard_pdf"),
    # Public, no login: the status page and a Statuspage v2 compatible API.
    path("status/", public.status_page, name="public"),
    path("api/v2/summary.json", public.api_summary, name="api_summary"),
    path("api/v2/status.json", public.api_status, name="api_status"),
    path("api/v2/components.json", public.api_components, name="api_components"),
    path("api/v2/incidents.json", public.api_incidents, name="api_incidents"),
    path("api/v2/incidents/unresolved.json", public.api_unresolved, name="api_unresolved"),
]
