"""Snakemake adapter: rule compare_segmentation."""

from platefocus.logs import run_step
from platefocus.pipeline.segment import compare_segmentation

run_step(
    lambda: compare_segmentation(
        plate_path=snakemake.input.plate,
        restored_path=snakemake.input.restored,
        manifest_path=snakemake.input.manifest,
        best_path=snakemake.input.best,
        pairs_path=snakemake.input.pairs or None,
        segmentation=snakemake.params.segmentation,
        channel=snakemake.params.channel,
        truth_root=snakemake.params.truth_root,
        out_fields=snakemake.output.fields,
        out_objects=snakemake.output.objects,
        workers=snakemake.threads,
        blocks_path=snakemake.input.blocks,
        block=int(snakemake.wildcards.block),
        dask_settings=snakemake.config["dask"],
        operator_path=snakemake.input.get("operator") or None,
        projection_regularisation=snakemake.params.projection_regularisation,
        z_step_um=snakemake.params.z_step_um,
        single_plane_defocus_um=snakemake.params.single_plane_defocus_um,
        reference_fields=snakemake.input.get("reference") or None,
    ),
    snakemake.log[0],
)
