"""refresh_suggestions over the full data: wall time on this machine (target: 10 min, 2 cores).

Imports the data into a scratch database on the app's server, then runs
`manage.py refresh_suggestions --jobs N` and prints its own summary and the wall time.

    .venv/bin/python bench/suggestions.py [--data ARCHIVE_OR_FOLDER] [--jobs 2]
"""

import argparse
import subprocess
import time
from pathlib import Path

from common import DEFAULT_DATA, MANAGE, imported_scratch_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    env = imported_scratch_env("bench_suggestions", args.data)
    start = time.perf_counter()
    subprocess.run(
        [*MANAGE, "refresh_suggestions", "--jobs", str(args.jobs)],
        env=env,
        check=True,
    )
    print(f"refresh_suggestions --jobs {args.jobs}: {time.perf_counter() - start:.1f} s wall")


if __name__ == "__main__":
    main()
