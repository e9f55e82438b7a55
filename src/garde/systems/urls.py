from django.urls import path

from garde.systems.views import maps, plans, scenarios

app_name = "systems"
P = "c/<uuid:crisis_id>/systems/"

urlpatterns = [
    path(P, maps.map_home, name="map"),
    path(P + "import/", maps.map_import, name="import"),
    path(P + "export.<str:fmt>", maps.map_export, name="export"),
    path(P + "nodes/new/", maps.node_edit, name="node_new"),
    path(P + "nodes/<str:node_id>/edit/", maps.node_edit, name="node_edit"),
    path(P + "nodes/<str:node_id>/delete/", maps.node_delete, name="node_delete"),
    path(P + "analysis/", maps.analysis, name="analysis"),
    path(P + "scenarios/", scenarios.scenarios, name="scenarios"),
    path(P + "scenarios/new/", scenarios.scenario_edit, name="scenario_new"),
    path(P + "scenarios/<uuid:scenario_id>/", scenarios.scenario, name="scenario"),
    path(P + "scenarios/<uuid:scenario_id>/edit/", scenarios.scenario_edit, name="scenario_edit"),
    path(P + "scenarios/<uuid:scenario_id>/apply/", scenarios.scenario_apply, name="scenario_apply"),
    path(P + "scenarios/<uuid:scenario_id>/plan/", plans.plan_new, name="plan_new"),
    path(P + "plans/", plans.plans, name="plans"),
    path(P + "plans/<uuid:plan_id>/", plans.plan, name="plan"),
    path(P + "plans/<uuid:plan_id>/pdf/", plans.plan_pdf, name="plan_pdf"),
    path(P + "plans/<uuid:plan_id>/replan/", plans.plan_replan, name="plan_replan"),
    path(P + "plans/<uuid:plan_id>/send/", plans.plan_send, name="plan_send"),
    path(P + "plans/<uuid:plan_id>/tasks/<uuid:task_id>/done/", plans.task_done, name="task_done"),
    path(P + "plans/<uuid:plan_id>/tasks/<uuid:task_id>/late/", plans.task_late, name="task_late"),
]
