"""Score the clustering service on labelled blocks: B-cubed, baseline, timing, ranking."""

import dataclasses
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assignments import clustering
from assignments.clustering import evaluation


class Command(BaseCommand):
    help = (
        "B-cubed precision/recall/F1 pooled over signatures, overall and per kind, beside the "
        "one-cluster baseline; timing per block size; rank_candidates top-1 accuracy."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("blocks", type=Path)
        parser.add_argument("--model", type=Path, default=None)
        parser.add_argument(
            "--threshold",
            type=float,
            default=None,
            help="merge threshold to evaluate instead of the model's own (a precision/recall "
            "trade-off)",
        )
        parser.add_argument("--no-ranking", action="store_true", help="skip the ranking check")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")

    def handle(self, *args, blocks: Path, model: Path | None, **options) -> None:
        blocks = Path(blocks)
        if not blocks.exists():
            raise CommandError(f"{blocks}: no such file")
        trained = clustering.load_model(model or settings.CLUSTERING_MODEL_PATH)
        if options["threshold"] is not None:
            trained = dataclasses.replace(trained, threshold=options["threshold"])
        try:
            data = list(evaluation.read_blocks(blocks))
        except ValueError as e:
            raise CommandError(str(e)) from e
        report = evaluation.evaluate(data, trained)
        if not options["no_ranking"]:
            report["ranking"] = evaluation.ranking_accuracy(data, trained)
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(f"{len(data)} blocks, threshold {trained.threshold}")
        self.stdout.write(f"{'':<12}{'sigs':>6} {'P':>7} {'R':>7} {'F1':>7}   one cluster: P/R/F1")
        rows = [("overall", report["overall"])] + list(report["kinds"].items())
        for name, s in rows:
            b = s["baseline"]
            self.stdout.write(
                f"{name:<12}{s['signatures']:>6} {s['precision']:7.4f} {s['recall']:7.4f} "
                f"{s['f1']:7.4f}   {b['precision']:.4f}/{b['recall']:.4f}/{b['f1']:.4f}"
            )
        self.stdout.write("timing per block size (signatures): blocks, mean s, max s")
        for bucket, t in report["timing"].items():
            self.stdout.write(
                f"  {bucket:>10}: {t['blocks']:4d} {t['mean_s']:8.3f} {t['max_s']:8.3f}"
            )
        if "ranking" in report:
            r = report["ranking"]
            self.stdout.write(
                f"rank_candidates: {r['held_out']} held-out papers, top-1 accuracy "
                f"{r['top1_accuracy']:.4f} (best existing person {r['top1_among_persons']:.4f}), "
                f"{r['mean_ms']:.1f} ms per ranking"
            )
