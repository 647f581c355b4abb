"""Cut a small, real Anthology data folder out of a full one (how fixtures/ was made)."""

import json
import shutil
from pathlib import Path

from acl_anthology.utils.ids import build_id, parse_id
from django.core.management.base import BaseCommand, CommandError
from lxml import etree

from papers import library
from papers.importing.archives import open_data_dir
from papers.importing.errors import AnthologyDataError
from papers.names import normalize_name


class Command(BaseCommand):
    help = (
        "Write a small Anthology data folder: the volumes that hold the given papers, with those "
        "papers plus the first N others of each volume, and the people.json entries they need."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="full Anthology data (checkout, data/ or archive)")
        parser.add_argument("dest", help="folder to write (its data/ subfolder is created)")
        parser.add_argument("--papers", required=True, help="comma-separated Anthology ids")
        parser.add_argument("--neighbours", type=int, default=6, help="other papers per volume")

    def handle(self, *args, source: str, dest: str, papers: str, neighbours: int, **opts) -> None:
        wanted = {p.strip() for p in papers.split(",") if p.strip()}
        out = Path(dest) / "data"
        try:
            with open_data_dir(source) as data_dir:
                self._cut(data_dir, out, wanted, neighbours)
        except AnthologyDataError as exc:
            raise CommandError(str(exc)) from exc

    def _cut(self, data_dir: Path, out: Path, wanted: set[str], neighbours: int) -> None:
        if out.exists():
            shutil.rmtree(out)
        (out / "xml").mkdir(parents=True)
        (out / "json").mkdir(parents=True)
        by_collection: dict[str, set[str]] = {}
        for paper_id in wanted:
            collection, _, _ = parse_id(paper_id)
            by_collection.setdefault(collection, set()).add(paper_id)

        used_ids: set[str] = set()
        name_slugs: set[str] = set()
        for collection_id, paper_ids in sorted(by_collection.items()):
            path = data_dir / "xml" / f"{collection_id}.xml"
            if not path.is_file():
                raise CommandError(f"{path}: no such collection for {sorted(paper_ids)}")
            tree = etree.parse(str(path))
            root = tree.getroot()
            for event in root.findall("event"):
                root.remove(event)
            for volume in list(root.findall("volume")):
                targets = {p for p in paper_ids if parse_id(p)[1] == volume.get("id")}
                if not targets:
                    root.remove(volume)
                    continue
                kept = 0
                for paper in list(volume.findall("paper")):
                    full = build_id(collection_id, volume.get("id"), paper.get("id"))
                    if full in targets or kept < neighbours:
                        kept += full not in targets
                    else:
                        volume.remove(paper)
            etree.indent(root, space=" ")
            tree.write(str(out / "xml" / path.name), encoding="UTF-8", xml_declaration=True)
            for entry in root.iter("author", "editor"):
                if entry.get("id"):
                    used_ids.add(entry.get("id"))
                first, last = entry.findtext("first") or "", entry.findtext("last") or ""
                name_slugs.add(normalize_name(first, last))

        people = json.loads((data_dir / "json" / "people.json").read_text(encoding="utf-8"))
        keep = {
            pid
            for pid, entry in people.items()
            if pid in used_ids
            or any(normalize_name(n.get("first"), n["last"]) in name_slugs for n in entry["names"])
        }
        keep |= {s for pid in keep for s in people[pid].get("similar", []) if s in people}
        cut = {pid: people[pid] for pid in sorted(keep)}
        (out / "json" / "people.json").write_text(
            json.dumps(cut, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        for name in ("venues.json", "sigs.json"):
            shutil.copy(data_dir / "json" / name, out / "json" / name)
        if (data_dir / "xml" / "schema.rnc").is_file():
            shutil.copy(data_dir / "xml" / "schema.rnc", out / "xml" / "schema.rnc")
        _save_as_the_library_does(out)
        self.stdout.write(f"wrote {out}: {len(by_collection)} collections, {len(cut)} persons")


def _save_as_the_library_does(data_dir: Path) -> None:
    """Re-write the cut through acl-anthology, so that an export through the library touches
    only the lines it changes (the library's layout, not lxml's or json's)."""
    anthology = library.load_anthology(data_dir)
    with library.quiet():
        for collection in anthology.collections.values():
            collection.save(minimal_diff=False)
        anthology.people.save()
