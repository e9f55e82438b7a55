import textwrap

import pytest

from garde import impact

HEADER = "version: 1\nname: test\nnodes:\n"


def build(nodes_yaml: str, extra: str = "") -> impact.Map:
    """A map from the YAML of its nodes only (indented list items)."""
    return impact.load_map(HEADER + textwrap.indent(textwrap.dedent(nodes_yaml).strip("\n"), "  ") + "\n" + extra)


@pytest.fixture(scope="session")
def demo() -> impact.Map:
    from importlib import resources

    return impact.load_map(resources.files("garde.impact").joinpath("examples/chu_demo.yaml").read_text("utf-8"),
                           filename="chu_demo.yaml")
