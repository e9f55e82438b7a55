"""Scenarios in words, and applying one to a crisis (logged, and reflected on the status board)."""

from django.db import transaction
from django.utils.translation import gettext as _

from garde import impact
from garde.cell import journal
from garde.cell.models import LogEntry
from garde.continuity import services as board
from garde.systems import store
from garde.systems.models import Application, Scenario


def describe(map_: impact.Map, actions: list[str]) -> list[str]:
    """Actions in words, e.g. "Cut link: Internet", with the node's name when the map still has it."""
    labels = {
        impact.ActionKind.CUT_LINK: _("Cut link"), impact.ActionKind.ISOLATE_ZONE: _("Isolate zone"),
        impact.ActionKind.STOP_HOST: _("Stop host"), impact.ActionKind.COMPROMISE_HOST: _("Host compromised"),
    }
    out = []
    for text in actions:
        action = impact.Action.parse(text)
        name = map_[action.target].name if action.target in map_ else action.target
        out.append(f"{labels[action.kind]}: {name}")
    return out



@transaction.atomic
def apply_to_crisis(crisis, scenario: Scenario, loaded: store.Loaded, result: impact.Result, user) -> list:
    """Record the application, log it as a decision, and set the status board from the result."""
    Application.objects.create(crisis=crisis, scenario=scenario, name=scenario.name, actions=scenario.actions,
                               map_version=loaded.version, applied_by=user)
    down = [s.node.name for s in result.services() if s.state == impact.State.DOWN]
    degraded = [s.node.name for s in result.services() if s.state == impact.State.DEGRADED]
    journal.record(crisis, _("Scenario applied: %(name)s (%(actions)s), map version %(v)d. "
                             "Services down: %(down)s. Services degraded: %(degraded)s.") % {
        "name": scenario.name, "actions": "; ".join(describe(loaded.map, scenario.actions)),
        "v": loaded.version.number, "down": ", ".join(down) or "—", "degraded": ", ".join(degraded) or "—",
    }, kind=LogEntry.Kind.DECISION, author=user)
    return board.apply_result(crisis, result, user)
