"""The engine is a plain library: importing and using it never loads Django."""

import subprocess
import sys


def test_it_never_imports_django():
    code = (
        "import sys, garde.impact as i, garde.impact.cpsat;"
        "from importlib import resources;"
        "m = i.load_map(resources.files('garde.impact').joinpath('examples/chu_demo.yaml').read_text('utf-8'));"
        "r = i.simulate(m, ['cut_link:l-internet']); i.analyse(m); i.to_svg(m, r);"
        "assert not [n for n in sys.modules if n.split('.')[0] == 'django'], 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
