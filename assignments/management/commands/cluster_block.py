"""Split name blocks from a JSON-lines file into persons, without touching the database."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assignments import clustering
from assignments.clustering import evaluation


class Command(BaseCommand):
    help = (
        "Read blocks (JSON lines, .gz allowed) and write one line per block, in input order: "
        '{"name", "clusters": [{"signatures", "confidence", "evidence"}]}. Any `truth` is ignored.'
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--input", required=True, type=Path)
        parser.add_argument("--output", required=True, type=Path)
        parser.add_argument("--model", type=Path, default=None, help="model artifact path")

    def handle(self, *args, input: Path, output: Path, model: Path | None, **options) -> None:
        input, output = Path(input), Path(output)
        if not input.exists():
            raise CommandError(f"{input}: no such file")
        try:
            trained = clustering.load_model(model or settings.CLUSTERING_MODEL_PATH)
        except FileNotFoundError as e:
            raise CommandError(f"clustering model not found: {e.filename}") from e
        # Write to a side file and rename, so a failure leaves no half-written output.
        partial = output.with_name(output.name + ".partial")
        count = 0
        try:
            with partial.open("w", encoding="utf-8") as out:
                for block in evaluation.read_blocks(input):
                    result = clustering.split_block(evaluation.strip_truth(block), model=trained)
                    line = {
                        "name": block.get("name", ""),
                        "clusters": result.to_dict()["clusters"],
                    }
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                    count += 1
        except (ValueError, KeyError) as e:
            partial.unlink(missing_ok=True)
            raise CommandError(str(e)) from e
        partial.replace(output)
        self.stdout.write(f"{count} blocks written to {output}")
