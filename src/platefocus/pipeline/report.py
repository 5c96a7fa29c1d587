"""Rules of ``workflow/rules/report.smk``: the standalone summary page of a plate."""

from __future__ import annotations

from pathlib import Path

#: Figures of the summary page, in page order: input name -> section title.
SUMMARY_FIGURES = {
    "examples": "Example fields: raw, restored, in focus (outlines: segmentation)",
    "paired_ssim": "Paired SSIM per field",
    "counts": "Counts per well: raw, restored, truth",
    "heatmaps": "Plate heat maps: count gain, F1 gain, best plane",
    "metrics_by_dz": "PSNR and SSIM against distance from focus (test wells)",
    "training_curves": "Training curves",
    "focus_heatmaps": "Focus QC: plate heat maps",
    "focus_curves": "Focus QC: focus curves",
    "hallucination": "Physics consistency: hallucination map, flagged objects, counts",
}


#: Figures of the comparison per offset: input name -> title.
OFFSET_FIGURES = {
    "offsets": "Every model per offset from focus (held-out wells)",
    "examples": "Restored examples beside the truth",
}


def summary_page(
    plate: str,
    fields_path: str | Path,
    summary_path: str | Path,
    figures: dict[str, str | Path],
    config: dict,
    out_html: str | Path,
    comparison_path: str | Path | None = None,
    comparison_figure: str | Path | None = None,
    offsets_path: str | Path | None = None,
    offsets_figures: dict[str, str | Path] | None = None,
) -> None:
    """The self-contained summary page of a plate (with the model comparison, if given).

    ``figures`` maps the names of :data:`SUMMARY_FIGURES` to image files;
    ``offsets_path`` and ``offsets_figures`` (``offsets``, ``examples``) are the
    comparison per offset in micrometres (rule compare_offsets).
    """
    import yaml

    from platefocus.io.atomic import read_table
    from platefocus.pipeline.common import plate_source
    from platefocus.report.summary_page import write_summary_page

    planes = read_table(fields_path)
    titles = dict(SUMMARY_FIGURES)
    if "reference" in planes and (planes["reference"] == "none").all():
        titles["examples"] = "Example field: raw and restored (outlines: segmentation)"
        titles["paired_ssim"] = "Sharpness per field, raw vs restored (no in-focus reference)"
        titles["training_curves"] = "Training curves (of the model, trained on another plate)"
        titles["metrics_by_dz"] = "PSNR and SSIM of the model on its training plate's test wells"
    write_summary_page(
        out_html,
        plate,
        planes,
        read_table(summary_path),
        {title: figures[name] for name, title in titles.items() if name in figures},
        yaml.safe_dump(config, sort_keys=False),
        read_table(comparison_path) if comparison_path else None,
        comparison_figure,
        read_table(offsets_path) if offsets_path else None,
        {
            OFFSET_FIGURES[name]: path
            for name, path in (offsets_figures or {}).items()
            if name in OFFSET_FIGURES
        },
        source=plate_source(config),
        synthetic=bool(config.get("synthetic", {}).get("enabled")),
        z_step_um=config.get("acquisition", {}).get("z_step_um"),
    )
