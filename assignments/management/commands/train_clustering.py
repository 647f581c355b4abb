"""Train the clustering model from an Anthology data folder (deterministic: fixed seeds)."""

import json
import logging
import warnings
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assignments.clustering import evaluation, training
from papers.importing.archives import open_data_dir
from papers.importing.errors import AnthologyDataError


class Command(BaseCommand):
    help = (
        "Build the clustering model artifact from an Anthology data folder (the one holding "
        "xml/ and json/), with labels derived from the data itself."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "path", type=Path, help="Anthology checkout, its data/ folder, or an archive"
        )
        parser.add_argument(
            "--output", type=Path, default=None, help="default: settings.CLUSTERING_MODEL_PATH"
        )
        parser.add_argument(
            "--exclude-blocks",
            type=Path,
            action="append",
            default=[],
            help="leave the names and people of these blocks out of training (repeatable)",
        )
        parser.add_argument(
            "--tune-on",
            type=Path,
            default=None,
            help="choose the merge threshold on these labelled blocks (dev); default: on a "
            "held-back part of the generated training blocks",
        )
        parser.add_argument(
            "--held-out-output",
            type=Path,
            default=None,
            help="write the generated blocks held back from fitting here (JSON lines, .gz "
            "allowed), for evaluate_clustering",
        )
        parser.add_argument("--synthetic-blocks", type=int, default=training.SYNTHETIC_BLOCKS)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--min-precision",
            type=float,
            default=0.88,
            help="tune the threshold for the best F1 at this B-cubed precision or more",
        )
        parser.add_argument("--single-blocks", type=int, default=training.SINGLE_BLOCKS)

    def handle(self, *args, path: Path, output: Path | None, **options) -> None:
        if options["verbosity"] > 1:
            logging.basicConfig(level=logging.INFO)
        output = Path(output or settings.CLUSTERING_MODEL_PATH)
        try:
            exclude = [
                b for blocks in options["exclude_blocks"] for b in evaluation.read_blocks(blocks)
            ]
            tune = list(evaluation.read_blocks(options["tune_on"])) if options["tune_on"] else None
        except ValueError as exc:  # the message names the file and line
            raise CommandError(str(exc)) from exc
        try:
            with open_data_dir(path) as data_dir, warnings.catch_warnings():
                # The library's maintainer warnings (schema version, name quirks) say nothing
                # about training.
                warnings.filterwarnings("ignore", module="acl_anthology")
                model = training.train(
                    data_dir,
                    exclude=exclude,
                    tune_blocks=tune,
                    synthetic_blocks=options["synthetic_blocks"],
                    single_blocks=options["single_blocks"],
                    seed=options["seed"],
                    min_precision=options["min_precision"],
                    held_out_path=options["held_out_output"],
                    report=lambda msg: self.stderr.write(msg),
                )
        except (AnthologyDataError, ValueError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        output.parent.mkdir(parents=True, exist_ok=True)
        model.save(output)
        self.stdout.write(
            f"model written to {output} ({output.stat().st_size / 1e6:.2f} MB): "
            + json.dumps(model.info)
        )
