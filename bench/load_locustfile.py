"""The users of bench/load.py, for locust (run by it; not on its own).

LOAD_PLAN (a JSON file load.py writes) names the accounts, the pages to read and the entries
each reviewer moves; LOAD_SAMPLES is where every request's kind, time and outcome is written for
load.py to compute exact percentiles; LOAD_THINK=0 removes the pauses (saturation run).

- Readers (anonymous): person pages (half among the 2,000 largest, half any), search as typed
  (htmx fragment, short surnames included), the home page and the "most likely mixed" queue.
  Like a browser, each keeps the ETags it was given and revalidates with If-None-Match.
- Reviewers: log in, open a mixed page, move one of its entries to a namesake (htmx POST), and
  every third move look at their change set and submit it.
- Maintainers: log in, open the review queue, open a submitted change set and approve it (the
  moves are applied to the catalog). Each maintainer takes its own share of change sets.
"""

import csv
import itertools
import json
import os
import random
import re
import time

from locust import FastHttpUser, between, constant, events, task

with open(os.environ["LOAD_PLAN"]) as _plan:
    PLAN = json.load(_plan)
PHASE = os.environ.get("LOAD_PHASE", "mixed")
THINK = between(2, 3) if os.environ.get("LOAD_THINK", "1") != "0" else constant(0)
SAMPLES: list[tuple[str, float, int, str, float]] = []  # kind, ms, status, error, start time
HTMX = {"HX-Request": "true"}
CHANGESET_LINK = re.compile(r'href="/review/(\d+)/"')
ERROR_TEXT = re.compile(r'<ul class="errorlist[^>]*>\s*<li>(.*?)</li>', re.S)


@events.request.add_listener
def record(request_type, name, response_time, response_length, response, exception, **kw):
    status = getattr(response, "status_code", 0) or 0
    error = "" if exception is None else repr(exception)
    SAMPLES.append((name, response_time, status, error, time.time() - response_time / 1000))


@events.quitting.add_listener
def write_samples(environment, **kw):
    with open(os.environ["LOAD_SAMPLES"], "w", newline="") as handle:
        csv.writer(handle).writerows(SAMPLES)


class Visitor(FastHttpUser):
    abstract = True
    wait_time = THINK
    # The TLS proxy's header, which gunicorn believes from 127.0.0.1 (forwarded_allow_ips).
    default_headers = {"X-Forwarded-Proto": "https"}

    def on_start(self) -> None:
        self.etags: dict[str, str] = {}
        self.rng = random.Random()
        # A first visit loads the static files once; their hashed names are cached for ever.
        for path in PLAN["static"]:
            self.client.get(path, name="static")

    def page(self, url: str, kind: str, headers: dict | None = None):
        """GET as a browser does: If-None-Match with the tag it was given for this URL."""
        key = url + ("#htmx" if headers else "")
        headers = dict(headers or {})
        if key in self.etags:
            headers["If-None-Match"] = self.etags[key]
        with self.client.get(url, name=kind, headers=headers, catch_response=True) as response:
            if response.status_code in (200, 304):
                if etag := response.headers.get("ETag"):
                    self.etags[key] = etag
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
        return response

    def csrf(self) -> str:
        return next(c.value for c in self.client.cookiejar if c.name == "csrftoken")

    def post(self, path: str, data: dict, name: str, headers: dict | None = None):
        """A form POST as the browser sends it over HTTPS: Django's CSRF check compares the
        Origin and Referer with the site for a secure request."""
        origin = self.host.replace("http://", "https://")
        headers = {"Origin": origin, "Referer": origin + "/", **(headers or {})}
        data = {"csrfmiddlewaretoken": self.csrf(), **data}
        return self.client.post(
            path,
            data=data,
            headers=headers,
            name=name,
            allow_redirects=False,
            catch_response=True,
        )

    def login(self, username: str) -> None:
        self.client.get("/login/", name="login")
        with self.post(
            "/login/", {"username": username, "password": PLAN["password"]}, "login"
        ) as response:
            if response.status_code != 302:
                response.failure(f"login as {username}: HTTP {response.status_code}")


class Reader(Visitor):
    weight = 30

    @task(6)
    def person(self) -> None:
        pool = PLAN["large_persons"] if self.rng.random() < 0.5 else PLAN["persons"]
        self.page(f"/people/{self.rng.choice(pool)}/", "person")

    @task(3)
    def search(self) -> None:
        query = self.rng.choice(PLAN["queries"])
        self.page(f"/search/?q={query}", "search", HTMX)

    @task(1)
    def browse(self) -> None:
        if self.rng.random() < 0.5:
            self.page("/", "home")
        else:
            self.page(f"/mixed/?page={self.rng.randint(1, 20)}", "mixed")


# Numbers for the accounts and the reviewers' shares, in the order users start.
_reviewers = itertools.count()
_maintainers = itertools.count()


class Reviewer(Visitor):
    weight = 15

    def on_start(self) -> None:
        super().on_start()
        number = next(_reviewers)
        account = PLAN["reviewers"][number % len(PLAN["reviewers"])]
        # Each reviewer moves entries no one else touches: the runs measure the server, not
        # reviewers' conflicts (those are the review tests' business).
        self.entries = iter(PLAN["entries"][PHASE][number % len(PLAN["entries"][PHASE])])
        self.moved = 0
        self.login(account)

    @task
    def move_one(self) -> None:
        person_id, entry_id, target_id = next(self.entries)
        self.page(f"/people/{person_id}/", "person (reviewer)")
        with self.post(
            "/changeset/assign/",
            {
                "from_person": person_id,
                "authorships": entry_id,
                "target": "person",
                "to_person": target_id,
            },
            "assign",
            headers=HTMX,
        ) as response:
            if response.status_code != 200 or "HX-Trigger" not in response.headers:
                refused = ERROR_TEXT.findall(response.text or "")
                response.failure(f"assign: HTTP {response.status_code}, refused: {refused[:2]}")
        self.moved += 1
        if self.moved % 3 == 0:
            self.page("/changeset/", "draft")
            with self.post("/changeset/submit/", {}, "submit") as response:
                if response.status_code not in (200, 302):
                    response.failure(f"submit: HTTP {response.status_code}")


class Maintainer(Visitor):
    weight = 5

    def on_start(self) -> None:
        super().on_start()
        self.number = next(_maintainers) % len(PLAN["maintainers"])
        self.login(PLAN["maintainers"][self.number])

    @task
    def review_one(self) -> None:
        queue = self.page("/review/", "review queue")
        ids = [int(i) for i in CHANGESET_LINK.findall(queue.text or "")]
        # Its own share, so that two maintainers never decide one change set at once.
        mine = [i for i in ids if i % len(PLAN["maintainers"]) == self.number]
        if not mine:
            return
        pk = self.rng.choice(mine)
        self.page(f"/review/{pk}/", "review change set")
        with self.post(
            f"/review/{pk}/decide/", {"decision": "approve", "comment": ""}, "approve"
        ) as response:
            if response.status_code != 302:
                response.failure(f"approve {pk}: HTTP {response.status_code}")
