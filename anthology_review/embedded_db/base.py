"""PostgreSQL, with the embedded server started on the first connection rather than at import.

Settings can't name the server's socket folder without starting it (it is known only once the
server runs), and starting it there made every `manage.py` command, even the clustering ones that
never touch the database, start or find a server. So settings give only the data folder, in the
`PGDATA` key beside `NAME` (not in `OPTIONS`, which Django hands to psycopg as connection
arguments), and this backend fills in `HOST` and `PORT` when it first connects.
"""

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db.backends.postgresql import base, client

from anthology_review import database

# Django opens connections from several threads (runserver, the test server); one of them starts
# the server, the others wait for it.
_lock = threading.Lock()
_locations: dict[Path, dict[str, str]] = {}


def server_location(pgdata: Path) -> dict[str, str]:
    """`HOST` and `PORT` of the embedded server in PGDATA, started if it is not running.

    Asked once per process and folder: the server outlives the process, so it stays put.
    """
    with _lock:
        if pgdata not in _locations:
            found = database.database_from_url(database.embedded_uri(pgdata))
            _locations[pgdata] = {"HOST": found["HOST"], "PORT": found["PORT"]}
        return _locations[pgdata]


class DatabaseClient(client.DatabaseClient):
    connection: "DatabaseWrapper"

    def runshell(self, parameters: Iterable[str]) -> None:
        # `dbshell` reads HOST from the settings without connecting first.
        self.connection.locate_server()
        super().runshell(parameters)


class DatabaseWrapper(base.DatabaseWrapper):
    client_class = DatabaseClient

    def locate_server(self) -> None:
        self.settings_dict.update(server_location(Path(self.settings_dict["PGDATA"])))

    def get_connection_params(self) -> dict[str, Any]:
        self.locate_server()
        return super().get_connection_params()
