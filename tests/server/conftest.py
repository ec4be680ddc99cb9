"""Fixtures for the server tests: the stores every contract test runs against."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.postgres import Cluster


def _cluster() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster, stopped after use; absent PostgreSQL fails the tests."""
    try:
        cluster = Cluster()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the whole run."""
    yield from _cluster()


@pytest.fixture(scope="module")
def restartable() -> Iterator[Cluster]:
    """A PostgreSQL cluster of a test module's own, to restart: the other tests share
    `postgres`."""
    yield from _cluster()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/calls.db"
    cluster: Cluster = request.getfixturevalue("postgres")
    return cluster.database()
