"""Fixtures of the policy tests: the directory, builders and the shipped engine."""

from __future__ import annotations

import pytest

from hub.clock import FixedClock
from hub.directory import Directory, default_directory
from hub.policy.engine import PolicyEngine
from hub.policy.signed import UnsafeUnsignedIspReader
from tests.support.isp_builders import TODAY, IspXml, RuleXml, build_isp, build_rule
from tests.support.paths import PROTOCOLS


@pytest.fixture(scope="session")
def directory() -> Directory:
    return default_directory()


@pytest.fixture
def rule_xml() -> RuleXml:
    return build_rule


@pytest.fixture
def isp_xml() -> IspXml:
    return build_isp


@pytest.fixture
def engine(directory: Directory) -> PolicyEngine:
    # The semantics tests work on unsigned texts; test_signed_loading covers signatures.
    return PolicyEngine(
        directory=directory, reader=UnsafeUnsignedIspReader(), clock=FixedClock(TODAY)
    )


@pytest.fixture(scope="module")
def shipped_engine(directory: Directory) -> PolicyEngine:
    engine = PolicyEngine(
        directory=directory, reader=UnsafeUnsignedIspReader(), clock=FixedClock(TODAY)
    )
    report = engine.load_folder(PROTOCOLS)
    assert report.ok, report.text()
    return engine
