"""Snakemake adapter: rule summary_page."""

from platefocus.logs import run_step
from platefocus.steps import summary_page

TITLES = {
    "examples": "Example fields: raw, restored, in focus (outlines: segmentation)",
    "paired_ssim": "Paired SSIM per field",
    "counts": "Counts per well: raw, restored, truth",
    "heatmaps": "Plate heat maps: count gain, F1 gain, best plane",
    "metrics_by_dz": "PSNR and SSIM against distance from focus (test wells)",
    "training_curves": "Training curves",
    "focus_heatmaps": "Focus QC: plate heat maps",
    "focus_curves": "Focus QC: focus curves",
}

run_step(
    lambda: summary_page(
        plate=snakemake.wildcards.plate,
        fields_path=snakemake.input.fields,
        summary_path=snakemake.input.summary,
        figures={title: snakemake.input[key] for key, title in TITLES.items()},
        config=snakemake.params.config,
        out_html=snakemake.output[0],
        comparison_path=snakemake.input.get("comparison"),
        comparison_figure=snakemake.input.get("comparison_figure"),
    ),
    snakemake.log[0],
)
