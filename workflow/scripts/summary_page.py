"""Snakemake adapter: rule summary_page."""

from platefocus.logs import run_step
from platefocus.pipeline.report import summary_page

run_step(
    lambda: summary_page(
        plate=snakemake.wildcards.plate,
        fields_path=snakemake.input.fields,
        summary_path=snakemake.input.summary,
        figures=dict(snakemake.input.items()),
        config=snakemake.params.config,
        out_html=snakemake.output[0],
        comparison_path=snakemake.input.get("comparison"),
        comparison_figure=snakemake.input.get("comparison_figure"),
        offsets_path=snakemake.input.get("offsets"),
        offsets_figures={
            name: snakemake.input.get(f"{name}_figure")
            for name in ("offsets", "examples")
            if snakemake.input.get(f"{name}_figure")
        },
    ),
    snakemake.log[0],
)
