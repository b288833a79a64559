"""Fixtures for the library tests: one threaded HTTP server on 127.0.0.1 playing the mirror."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

CABLE_PATH = re.compile(r"/cable/(\d{4})/(\d\d)/(\w+)\.html")
"""The cable-site page path `/cable/YYYY/MM/<REFID>.html`, as requests to the mirror have it."""


@pytest.fixture(scope="module")
def http_server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", threaded=True)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def server(http_server: HTTPServer) -> Iterator[HTTPServer]:
    http_server.clear()
    yield http_server
    http_server.clear()
