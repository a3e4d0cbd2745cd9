"""docs/ci.md and the composite action: linked, and inputs never spliced into a script."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_doc_is_linked_from_readme_and_covers_three_services():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/ci.md" in readme
    doc = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for service in ("GitHub Actions", "Travis CI", "AppVeyor"):
        assert f"## {service}" in doc


def test_action_passes_inputs_through_the_environment_only():
    action = (ROOT / "action.yml").read_text(encoding="utf-8")
    assert "using: composite" in action
    runs = re.findall(r"run: \|\n((?:        .*\n|\n)+)", action)
    assert len(runs) == 2
    for script in runs:
        # ${{ inputs.* }} inside a script is template injection; env: is the safe way
        assert "${{" not in script
    assert "--format github" in action
