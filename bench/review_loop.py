"""A reviewer's day, scripted: the first pages of the queue worked with the keyboard alone.

    python bench/review_loop.py [--pages 10] [--data fixtures/data]

The data (default: the fixtures) is imported into a scratch database `bench_review_loop` on the
app's server, suggestions are computed (`refresh_suggestions`) and demo accounts made (`demo
--no-serve`); the site is served by `runserver` on a free port. Headless Debian chromium
(Playwright, as the browser tests) logs in as the demo reviewer, opens the queue and, with
keystrokes only, works its first pages:

  on each page it accepts the suggested groups: every group but the largest (which stays) is
  selected (its number), given to the first suggested target (`t`) and assigned (`c`); when
  that target is a new person whose id is taken, the cursor lands in the degree institution,
  where it types the group's first venue (standing for what a reviewer would type) and Enter.
  Then `]`, the next page of the queue.

Printed per page: groups, keystrokes and wall-clock seconds from the page's load to the next
page's load; then the two-person pages' figures against the targets (<= 12 keystrokes and
<= 15 s per two-person page). Keystrokes are every key pressed, typed characters included.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import MANAGE, ROOT, imported_scratch_env

TARGET_KEYS = 12
TARGET_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict, port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--insecure",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


class Keyboard:
    """Every key goes through here, counted."""

    def __init__(self, page) -> None:
        self.page = page
        self.count = 0

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.count += 1

    def type(self, text: str) -> None:
        for ch in text:
            self.press(ch)


def work_page(page, keys: Keyboard) -> tuple[int, list[str]]:
    """Accept the page's suggested groups; returns the number of groups and what happened."""
    numbers = page.eval_on_selector_all(
        "[data-select-ids][data-group]", "links => links.map(a => a.dataset.group)"
    )
    groups = len(page.locator("#suggestions .group-card").all())
    notes = []
    for number in numbers:
        if number == "1":
            continue  # the largest group stays on the page
        keys.press(number)
        page.wait_for_function("document.querySelectorAll('#papers input:checked').length > 0")
        page.wait_for_selector("#targets .target", timeout=30_000)
        keys.press("t")
        chosen = page.locator("#targets .target.chosen .target-main").first.inner_text()
        # the panel of the previous assign may still say "Added …": wait for a new one
        page.evaluate("document.getElementById('assign').dataset.before = '1'")
        if page.evaluate("document.activeElement && document.activeElement.id") == "id_degree":
            venue = page.eval_on_selector(
                f'[data-group="{number}"]',
                "a => (a.closest('.group-card').querySelector('.evidence')?.innerText.match("
                "/Venues\\s+([a-z0-9-]+)/i) || [null, 'independent'])[1]",
            )
            keys.type(venue)
            keys.press("Enter")
            notes.append(f"group {number}: new person, typed {venue!r}")
        else:
            keys.press("c")
            notes.append(f"group {number}: {chosen.split(chr(10))[0]}")
        page.wait_for_selector(
            "#assign:not([data-before]) .success, #assign:not([data-before]) .form-errors",
            timeout=30_000,
        )
        if page.locator("#assign .form-errors").count():
            notes.append("refused: " + page.locator("#assign .form-errors").inner_text())
    return groups, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--data", type=Path, default=ROOT / "fixtures" / "data")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("needs Debian's chromium (apt-get install chromium)")

    env = imported_scratch_env("bench_review_loop", args.data)
    manage = MANAGE
    subprocess.run([*manage, "demo", "--no-serve"], env=env, check=True, capture_output=True)
    port = free_port()
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    from playwright.sync_api import sync_playwright

    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium,
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/login/?next=/mixed/")
            page.fill("#id_username", "reviewer")
            page.fill("#id_password", "review-demo-2025")
            page.click("main button[type=submit]")
            page.wait_for_url(f"{base}/mixed/")
            # warm the server (first ranking loads scikit-learn): not a reviewer's cost per page
            page.goto(f"{base}/mixed/")
            keys = Keyboard(page)
            keys.press("]")  # "start with the first page nobody is working on"
            page.wait_for_selector("#papers")
            for _ in range(args.pages):
                if "/people/" not in page.url:
                    break
                person = page.url.split("/people/", 1)[1].split("?")[0].rstrip("/")
                keys.count = 0
                start = time.perf_counter()
                groups, notes = work_page(page, keys)
                keys.press("]")
                page.wait_for_url(lambda url, p=person: f"/people/{p}/" not in url)
                page.wait_for_load_state("domcontentloaded")
                seconds = time.perf_counter() - start
                rows.append((person, groups, keys.count, seconds, notes))
                print(
                    f"{len(rows):2d}. {person:<32} {groups} groups  {keys.count:2d} keys  "
                    f"{seconds:5.2f} s  {'; '.join(notes)}",
                    flush=True,
                )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    two = [r for r in rows if r[1] == 2]
    if two:
        worst_keys = max(r[2] for r in two)
        worst_s = max(r[3] for r in two)
        mean_keys = sum(r[2] for r in two) / len(two)
        mean_s = sum(r[3] for r in two) / len(two)
        print(
            f"two-person pages: {len(two)}; keystrokes mean {mean_keys:.1f}, max {worst_keys} "
            f"(target <= {TARGET_KEYS}); seconds mean {mean_s:.2f}, max {worst_s:.2f} "
            f"(target <= {TARGET_SECONDS:.0f})"
        )
        ok = worst_keys <= TARGET_KEYS and worst_s <= TARGET_SECONDS
        print("targets met" if ok else "targets NOT met")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
