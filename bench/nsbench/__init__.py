"""The benchmark driver behind bench/run.py, in parts: system (the
machine's figures and limits), population (the namespaced processes
measured), tools (the programs timed and how), measurement (one size
measured), results (the typed results record) and report (targets, plot,
docs/performance.md).

Standard library only, plus the common test harness of tests/harness,
which importing this package makes importable.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))
