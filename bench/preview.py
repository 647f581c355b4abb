"""Benchmark a preview import: the full shared data, with one collection changed.

Imports the full data into a scratch database (`anthology_bench_preview`), then loads a copy in
which one collection differs (one paper's first author gets an explicit id of a new person, one
title changes) as a preview, and prints the time of each part: the library load, copying the
current data and merging the change into the copy, and computing the effect on people.

    .venv/bin/python bench/preview.py [PATH]   # default: the shared 2025-05 archive
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import DEFAULT_DATA, data_folder, scratch_database_env

COLLECTION = "2024.lrec"


def change_one_collection(data_dir: Path) -> None:
    import json

    xml = data_dir / "xml" / f"{COLLECTION}.xml"
    text = xml.read_text(encoding="utf-8")
    author_at = text.index("<author>", text.index('<paper id="461">'))
    first = text[text.index("<first>", author_at) + 7 : text.index("</first>", author_at)]
    last = text[text.index("<last>", author_at) + 6 : text.index("</last>", author_at)]
    text = text[:author_at] + '<author id="bench-new-person">' + text[author_at + 8 :]
    title_at = text.index("<title>") + len("<title>")
    xml.write_text(text[:title_at] + "Changed: " + text[title_at:], encoding="utf-8")
    people = data_dir / "json" / "people.json"
    data = json.loads(people.read_text(encoding="utf-8"))
    data["bench-new-person"] = {
        "names": [{"first": first, "last": last}],
        "disable_name_matching": True,
    }
    people.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
    env = scratch_database_env("anthology_bench_preview")
    os.environ["DATABASE_URL"] = env["DATABASE_URL"]
    import django

    django.setup()
    from django.db import connection

    from papers.importing import previews, services
    from papers.importing.reader import read_snapshot
    from papers.models import ImportRun

    with data_folder(source) as data_dir, tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        services.anthology_import(path=data_dir)
        print(f"full import (setup): {time.perf_counter() - start:.2f} s")
        changed = Path(tmp) / "data"
        shutil.copytree(data_dir, changed)
        change_one_collection(changed)

        start = time.perf_counter()
        snap = read_snapshot(changed, source=str(changed))
        library = time.perf_counter() - start
        run = ImportRun.objects.create(source=str(changed), preview_name="bench")
        start = time.perf_counter()
        _, _, stored_effect = previews.preview_write(run, snap, "bench", None)
        write = time.perf_counter() - start
        # The effect alone, once more on the finished preview (it is part of `write` above).
        with connection.cursor() as cursor:
            start = time.perf_counter()
            effect = previews._preview_effect(cursor, "preview_bench")
            effect_only = time.perf_counter() - start

    print(f"library load of the changed data: {library:.2f} s")
    print(f"copy current data + merge the change + effect: {write:.2f} s")
    print(f"effect computation alone: {effect_only:.2f} s")
    print(f"preview total (load + write + effect): {library + write:.2f} s (target <= 30 s)")
    for line in previews.effect_lines(effect):
        print("  " + line)
    assert stored_effect["counts"] == effect["counts"]


if __name__ == "__main__":
    main()
