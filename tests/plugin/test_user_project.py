"""A user's project that has its own ``fixtures`` package and ``adapters`` module, with the
dnschaos plugin loaded through its entry point: the names are the project's, not ours."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USERS = '''
"""The project's own test data."""

from dataclasses import dataclass

ORIGIN = "the user's project"


@dataclass
class User:
    name: str
    admin: bool = False


def admin(name: str) -> User:
    return User(name, admin=True)
'''

ADAPTERS = '''
"""The project's own adapters module."""

ORIGIN = "the user's project"


def to_record(user) -> dict:
    return {"name": user.name, "admin": user.admin}
'''

CONFTEST = """
import pytest

# Imported while conftest files load: after every entry-point plugin, dnschaos included.
from fixtures.users import admin


@pytest.fixture
def root_user():
    return admin("root")
"""

TESTS = """
import os

import adapters
import fixtures
from fixtures.users import ORIGIN, User, admin


def test_fixtures_is_the_projects_package():
    assert ORIGIN == "the user's project"
    assert os.path.dirname(fixtures.__file__) == os.path.join(os.getcwd(), "fixtures")
    assert not hasattr(fixtures, "plugin")


def test_adapters_is_the_projects_module():
    assert adapters.ORIGIN == "the user's project"
    assert adapters.__file__ == os.path.join(os.getcwd(), "adapters.py")
    assert adapters.to_record(admin("ada")) == {"name": "ada", "admin": True}


def test_conftest_got_the_same_module(root_user):
    assert isinstance(root_user, User) and root_user.admin


def test_the_dnschaos_plugin_is_loaded(pytestconfig, chaos_seed):
    plugin = pytestconfig.pluginmanager.get_plugin("dnschaos")
    assert plugin is not None and plugin.__name__ == "dnschaos.fixtures.plugin"
    assert isinstance(chaos_seed, int)
"""


def test_a_project_with_its_own_fixtures_and_adapters_passes(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PYTHONPATH", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    pytester.mkpydir("fixtures")
    pytester.path.joinpath("fixtures", "users.py").write_text(USERS)
    pytester.makepyfile(adapters=ADAPTERS, conftest=CONFTEST, test_users=TESTS)

    result = pytester.runpytest_subprocess("-p", "no:randomly")

    result.stdout.fnmatch_lines(["dnschaos: chaos seed *"])
    result.assert_outcomes(passed=4)
