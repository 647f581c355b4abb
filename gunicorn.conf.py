"""gunicorn's settings for anthology-review: `gunicorn anthology_review.wsgi` (or plain `gunicorn`)
run from the project folder reads this file. Each value can be changed by its variable.

Sizing: pages spend most of their time in Python (templates) and the rest waiting for
PostgreSQL on the same machine, so a few processes with a few threads each keep both cores busy
while a request waits for the database. Measured on the 2-core machine, full data, with
`bench/load.py --skip-mix --saturation-time 30 --workers W --threads T` (8 clients, no think
time; the machine was shared, load average 7-8 from other jobs, so only the order counts):
3 x 4: 47.1 req/s (p95 326 ms); 2 x 4: 45.7 (347 ms); 6 x 1: 45.9 (530 ms); 4 x 2: 34.9 (523 ms).
"""

import os

wsgi_app = "anthology_review.wsgi"
# Loopback: TLS ends at the reverse proxy in front (deploy/), which alone talks to gunicorn.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", 3))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
# Loaded once, then forked: workers share the code's memory, and papers.caching's start time.
preload_app = True
# Idle keep-alive connections wait in the worker's poller, not in a thread: longer than a
# reader's pause between two pages, so a browser does not find its connection just closed.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Imports run in the background worker (manage.py db_worker), never in a request.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
# Recycle workers now and then: a slow leak in a dependency never grows without bound.
max_requests = 5000
max_requests_jitter = 500
# X-Forwarded-Proto / -For are believed from the proxy on this machine only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # "-": stdout (journald)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
