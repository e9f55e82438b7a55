"""Reading and writing maps: every error says what is wrong and where."""

import json
from importlib import resources

import jsonschema
import pytest

from garde import impact
from tests.impact.conftest import build


def problems(text: str) -> list[str]:
    with pytest.raises(impact.MapError) as caught:
        impact.load_map(text, filename="m.yaml")
    return [str(p) for p in caught.value.problems]


def test_it_reports_yaml_syntax_errors_with_line_and_column():
    [message] = problems("version: 1\nnodes:\n  - {id: a, kind: zone\n")
    assert message.startswith("m.yaml line 4, column 1: invalid YAML")


def test_it_reports_an_empty_file():
    assert problems("") == ["m.yaml: the file is empty"]


def test_it_reports_a_map_that_is_not_a_mapping():
    assert problems("- a\n- b\n") == ["m.yaml line 1: a map must be a mapping with 'version' and 'nodes'"]


def test_it_reports_duplicate_keys_which_yaml_would_silently_overwrite():
    [message] = problems("version: 1\nnodes:\n  - id: a\n    kind: zone\n    kind: site\n")
    assert message == "m.yaml line 5: key 'kind' appears twice in the same mapping"


def test_it_names_the_node_and_line_of_a_schema_error():
    text = """version: 1
nodes:
  - id: tc
    kind: business_service
    criticality: 7
    max_downtime_minutes: 60
"""
    assert problems(text) == ["m.yaml line 5, node 'tc': field 'criticality': 7 is greater than the maximum of 5"]


def test_it_suggests_the_field_meant_by_a_typo():
    text = "version: 1\nnodes:\n  - id: a\n    kind: application\n    requirs: [b]\n"
    assert problems(text) == ["m.yaml line 3, node 'a': unknown field 'requirs' (did you mean 'requires'?)"]


def test_it_reports_missing_fields_for_a_business_service():
    text = "version: 1\nnodes:\n  - {id: tc, kind: business_service}\n"
    assert problems(text) == ["m.yaml line 3, node 'tc': missing field 'criticality', 'max_downtime_minutes' "
                              "(needed on a business_service node)"]


def test_it_refuses_service_fields_on_other_kinds():
    text = "version: 1\nnodes:\n  - {id: s, kind: server, criticality: 3}\n"
    assert problems(text) == ["m.yaml line 3, node 's': field 'criticality' is not allowed on a server node"]


def test_it_reports_an_unknown_kind():
    [message] = problems("version: 1\nnodes:\n  - {id: s, kind: router}\n")
    assert message.startswith("m.yaml line 3, node 's': field 'kind': 'router' is not one of: business_service,")


def test_it_names_unknown_references_with_a_suggestion():
    text = "version: 1\nnodes:\n  - {id: server1, kind: server}\n  - {id: a, kind: application, hosted_on: server2}\n"
    assert problems(text) == ["m.yaml line 4, node 'a': hosted_on unknown node 'server2' (did you mean 'server1'?)"]


def test_it_checks_the_kind_of_a_reference():
    text = "version: 1\nnodes:\n  - {id: z, kind: zone}\n  - {id: a, kind: application, authenticates_via: z}\n"
    assert problems(text) == ["m.yaml line 4, node 'a': authenticates_via 'z', which is a zone, not a identity"]


def test_it_refuses_k_greater_than_the_number_of_alternatives():
    text = """version: 1
nodes:
  - {id: s1, kind: server}
  - id: a
    kind: application
    requires_one_of:
      - {k: 2, of: [s1]}
"""
    assert problems(text) == ["m.yaml line 6, node 'a': requires_one_of: k=2 but only 1 alternative(s) given"]


def test_it_refuses_duplicate_ids_and_self_dependencies():
    text = "version: 1\nnodes:\n  - {id: a, kind: server}\n  - {id: a, kind: application, requires: a}\n"
    found = problems(text)
    assert "m.yaml line 4, node 'a': id 'a' is already used" in found
    assert "m.yaml line 4, node 'a': requires itself" in found


def test_it_reports_every_error_at_once():
    text = "version: 2\nnodes:\n  - {id: a, kind: nope}\n  - {kind: server}\n"
    assert len(problems(text)) == 3


def test_it_checks_scenario_actions():
    text = ("version: 1\nnodes:\n  - {id: s, kind: server}\nscenarios:\n"
            "  - name: Coupure\n    actions:\n      - cut_link: s\n")
    assert problems(text) == ["m.yaml line 7, scenario 'Coupure': cut_link 's', which is a server, not a link"]


def test_it_returns_problems_without_raising_from_check_map():
    [problem] = impact.check_map("version: 1\nnodes: []\nextra: 1\n")
    assert problem.severity == "error" and "unknown field 'extra'" in problem.message
    assert impact.check_map("version: 1\nnodes: []\n") == []


def test_it_round_trips_the_native_format(demo):
    again = impact.load_map(impact.dump_map(demo))
    assert again == demo


def test_it_loads_from_a_path(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nnodes:\n  - {id: a, kind: zone}\n", encoding="utf-8")
    assert impact.load_map(path).nodes[0].id == "a"
    assert impact.load_map(str(path)).nodes[0].id == "a"


def test_it_publishes_a_valid_json_schema_that_accepts_the_demo(demo):
    schema = json.loads(resources.files("garde.impact").joinpath("schema/map.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(impact.to_dict(demo), schema)


def test_it_defaults_a_name_to_the_id():
    assert build("- {id: lan, kind: zone}")["lan"].name == "lan"
