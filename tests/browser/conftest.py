"""Browser tests: pytest-playwright driving Debian's chromium against pytest-django's live_server.

Never `playwright install`: the browser is the system's `chromium`. Without it these tests are
skipped, unless REQUIRE_BROWSER=1 (CI), where a missing browser fails them.
"""

import os
import shutil

import pytest

from tests.factories import PASSWORD

CHROMIUM = shutil.which("chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    # Browser tests run last: each ends by flushing the database (live_server needs committed
    # data), which would drop the roles other tests expect; pytest-playwright's parametrising
    # otherwise pulls them ahead of pytest-django's transactional-last ordering.
    items.sort(key=lambda item: "browser" in item.keywords)
    if CHROMIUM or REQUIRE_BROWSER:
        return
    skip = pytest.mark.skip(reason="chromium is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # live_server runs in a thread of this process while Playwright's sync API keeps an event
    # loop running; Django's async-safety check would refuse the ORM calls the tests make, and
    # the database setup and flush around them. Only browser tests get the exemption: around
    # their whole setup, call and teardown, which a function fixture would not cover (the
    # session's database setup can come after Playwright's start, the flush after its teardown).
    if "browser" not in item.keywords:
        return (yield)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        return (yield)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM:
        pytest.fail("REQUIRE_BROWSER=1 but there is no chromium on PATH")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def login(page, live_server, username: str, *, password: str = PASSWORD, next_url: str = ""):
    """Log in through the login form (users from make_user share PASSWORD)."""
    query = f"?next={next_url}" if next_url else ""
    page.goto(f"{live_server.url}/login/{query}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
