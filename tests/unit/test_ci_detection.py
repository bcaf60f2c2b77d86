"""What counts as a CI run, where a missing service fails instead of skipping."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import ci_enabled

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "1", "yes", "Yes", " 1 "])
def test_true_one_and_yes_in_any_case_mean_ci(value):
    assert ci_enabled(value)


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off", "2"])
def test_anything_else_is_not_ci(value):
    assert not ci_enabled(value)


@pytest.mark.parametrize(("value", "expected"), [("1", "True"), ("0", "False")])
def test_is_ci_is_read_from_the_environment(value, expected):
    """The flag the conftest uses follows the ``CI`` variable itself."""
    env = {**os.environ, "CI": value, "DJANGO_SETTINGS_MODULE": "myproject.settings"}
    done = subprocess.run(
        [sys.executable, "-c", "from tests.services import IS_CI; print(IS_CI)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
