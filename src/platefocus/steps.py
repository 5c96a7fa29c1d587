"""Pipeline steps: each turns plain parameters (as a rule or the CLI gives them) into a call
of the library and writes its outputs atomically. Snakemake adapters call exactly one."""

from __future__ import annotations

import logging
from pathlib import Path

from platefocus.errors import InputError

log = logging.getLogger(__name__)


def synthesize_plate(
    out_dir: str | Path, plate: str, preset: str, seed: int, overrides: dict, workers: int = 1
) -> None:
    """Generate the synthetic plate ``plate`` from a preset into ``out_dir``."""
    from platefocus.synth import generate_plate
    from platefocus.synth import preset as make_preset

    try:
        spec = make_preset(preset, **{**overrides, "name": plate, "seed": seed})
    except (TypeError, ValueError) as err:
        raise InputError("synthetic.overrides", str(err)) from None
    generate_plate(spec, out_dir, workers=workers)


def _discovery_config(plate: str, root, pattern: str, extensions, ignore):
    from platefocus.io.discover import DiscoveryConfig

    return DiscoveryConfig(
        root=Path(root),
        pattern=pattern,
        extensions=tuple(extensions),
        ignore=tuple(ignore),
        plate=plate,
    )


def _acquisition(acquisition: dict):
    from platefocus.io.omezarr import Acquisition

    return Acquisition(
        pixel_size_um=float(acquisition["pixel_size_um"]),
        z_step_um=float(acquisition["z_step_um"]),
        channel_names=tuple(acquisition.get("channel_names", ())),
    )


def _block_manifest(manifest_path: str | Path, blocks_path: str | Path | None, block: int | None):
    """The manifest rows of one block of wells (all rows without a block plan)."""
    import pandas as pd

    from platefocus.blocks import block_wells

    manifest = pd.read_parquet(manifest_path)
    if blocks_path is None or block is None:
        return manifest
    return manifest[manifest["well"].isin(block_wells(blocks_path, block))]


def discover_plate(
    plate: str,
    root: str | Path,
    pattern: str,
    extensions: list[str],
    ignore: list[str],
    out_discovered: str | Path,
    out_qc: str | Path,
    out_blocks: str | Path,
    wells_per_job: int,
    on_bad_file: str = "error",
    workers: int = 1,
) -> None:
    """Find a plate's planes, check every file, and cut the plate into blocks of wells."""
    from platefocus.blocks import write_block_plan
    from platefocus.io.atomic import write_table
    from platefocus.io.discover import discover_planes
    from platefocus.io.ingest import prepare_ingest

    manifest = discover_planes(_discovery_config(plate, root, pattern, extensions, ignore))
    good, problems = prepare_ingest(manifest, on_bad_file, workers)
    write_table(problems, out_qc)
    write_table(good, out_discovered)
    blocks = write_block_plan(good["well"].unique(), wells_per_job, out_blocks)
    log.info(
        "%d planes of %d fields in %d wells -> %d block(s) of <= %d wells; %d problem(s)",
        len(good),
        good.groupby(["well", "site"]).ngroups,
        good["well"].nunique(),
        blocks,
        wells_per_job,
        len(problems),
    )


def ingest_block(
    discovered_path: str | Path,
    blocks_path: str | Path,
    block: int,
    acquisition: dict,
    out_plate: str | Path,
    out_manifest: str | Path,
    out_qc: str | Path,
    on_bad_file: str = "error",
    pyramid_levels: int = 2,
    workers: int = 1,
) -> None:
    """Write one block of wells into the partial plate (one job); record what it wrote."""
    import pandas as pd

    from platefocus.blocks import block_wells
    from platefocus.io.atomic import write_table
    from platefocus.io.ingest import ingest_fields

    wells = block_wells(blocks_path, block)
    result = ingest_fields(
        pd.read_parquet(discovered_path),
        out_plate,
        _acquisition(acquisition),
        wells=wells,
        on_bad_file=on_bad_file,
        workers=workers,
        pyramid_levels=pyramid_levels,
    )
    write_table(result.qc, out_qc)
    write_table(result.manifest, out_manifest)
    log.info("block %d: %d wells, %d planes written", block, len(wells), len(result.manifest))


def finalise_ingest(
    discovered_path: str | Path,
    acquisition: dict,
    pyramid_levels: int,
    discovery_qc: str | Path,
    block_manifests: list[str | Path],
    block_qcs: list[str | Path],
    out_plate: str | Path,
    out_manifest: str | Path,
    out_qc: str | Path,
) -> None:
    """Complete a plate ingested block by block: metadata, manifest, QC; rename in place."""
    import pandas as pd

    from platefocus.io.atomic import read_table
    from platefocus.io.ingest import finalise_ingest as finalise
    from platefocus.io.ingest import ingest_stamp

    manifest = pd.concat([pd.read_parquet(p) for p in block_manifests], ignore_index=True)
    qc = pd.concat([read_table(p) for p in [discovery_qc, *block_qcs]], ignore_index=True)
    stamp = ingest_stamp(
        pd.read_parquet(discovered_path), _acquisition(acquisition), pyramid_levels
    )
    finalise(manifest, out_plate, stamp)
    _write_ingest_tables(manifest, qc, out_manifest, out_qc)


def ingest_plate(
    plate: str,
    root: str | Path,
    pattern: str,
    extensions: list[str],
    ignore: list[str],
    acquisition: dict,
    out_plate: str | Path,
    out_manifest: str | Path,
    out_qc: str | Path,
    on_bad_file: str = "error",
    pyramid_levels: int = 2,
    workers: int = 1,
) -> None:
    """Discover a plate's planes and ingest them in one go (the CLI's ``ingest``)."""
    from platefocus.io.discover import discover_planes
    from platefocus.io.ingest import ingest_plate as ingest

    manifest = discover_planes(_discovery_config(plate, root, pattern, extensions, ignore))
    result = ingest(
        manifest,
        out_plate,
        _acquisition(acquisition),
        on_bad_file=on_bad_file,
        workers=workers,
        pyramid_levels=pyramid_levels,
    )
    _write_ingest_tables(result.manifest, result.qc, out_manifest, out_qc)


def _write_ingest_tables(manifest, qc, out_manifest: str | Path, out_qc: str | Path) -> None:
    """Write a finished ingest's manifest and QC table, and say what was ingested."""
    from platefocus.io.atomic import write_table

    write_table(qc, out_qc)
    write_table(manifest, out_manifest)
    log.info(
        "ingested %d planes of %d fields; %d problem(s) in %s",
        len(manifest),
        manifest.groupby(["well", "site"]).ngroups,
        len(qc),
        out_qc,
    )


def score_focus(
    plate_path: str | Path,
    manifest_path: str | Path,
    out_scores: str | Path,
    grid: list[int],
    window: int,
    workers: int = 1,
    blocks_path: str | Path | None = None,
    block: int | None = None,
    dask_settings: dict | None = None,
) -> None:
    """Score every plane of every field and tile (of one block of wells, if given)."""
    from platefocus.focus_plate import score_plate
    from platefocus.io.atomic import write_table

    manifest = _block_manifest(manifest_path, blocks_path, block)
    scores = score_plate(
        plate_path, manifest, grid=grid, window=window, workers=workers, dask_settings=dask_settings
    )
    write_table(scores, out_scores)
    log.info("scored %d planes x regions into %s", len(scores), out_scores)


def select_targets(
    plate_path: str | Path,
    manifest_path: str | Path,
    scores_path: str | Path,
    out_best: str | Path,
    out_targets: str | Path,
    focus: dict,
    targets: dict,
    segmentation: dict,
    workers: int = 1,
    blocks_path: str | Path | None = None,
    block: int | None = None,
    dask_settings: dict | None = None,
) -> None:
    """Choose the best plane of every region, then judge every tile as a training target."""
    import pandas as pd

    from platefocus.bestplane import BestPlaneConfig, best_planes
    from platefocus.focus_plate import select_plate_targets
    from platefocus.io.atomic import write_table
    from platefocus.targets import TargetConfig

    scores = pd.read_parquet(scores_path)
    best = best_planes(
        scores,
        BestPlaneConfig(
            metric=focus["metric"],
            min_prominence=focus["min_prominence"],
            max_saturated_fraction=focus["max_saturated_fraction"],
            min_contrast=focus["min_contrast"],
        ),
    )
    keys = ["plate", "well", "row", "column", "site", "field"]
    best = scores[keys].drop_duplicates().merge(best, on=["plate", "well", "site"])
    verdicts = select_plate_targets(
        plate_path,
        _block_manifest(manifest_path, blocks_path, block),
        best,
        grid=focus["grid"],
        channel=focus["target_channel"],
        segmentation=segmentation_config(segmentation),
        config=TargetConfig(**{**targets, "reject_flags": tuple(targets["reject_flags"])}),
        workers=workers,
        dask_settings=dask_settings,
    )
    write_table(best, out_best)
    write_table(verdicts, out_targets)
    log.info(
        "best planes of %d regions; %d of %d tiles kept as targets",
        len(best),
        int(verdicts["keep"].sum()) if len(verdicts) else 0,
        len(verdicts),
    )


def concat_tables(parts: dict[str, list[str | Path]], outputs: dict[str, str | Path]) -> None:
    """Concatenate the per-block parts of each table (``parts[name]`` -> ``outputs[name]``)."""
    import pandas as pd

    from platefocus.io.atomic import read_table, write_table

    for name, paths in parts.items():
        tables = [read_table(p) for p in paths]
        write_table(
            pd.concat([t for t in tables if len(t)] or tables, ignore_index=True), outputs[name]
        )


def segmentation_config(params: dict):
    """A :class:`~platefocus.segment.SegmentationConfig` from the `segmentation` config."""
    from platefocus.segment import SegmentationConfig

    return SegmentationConfig(**{**params, "diameter_px": tuple(params["diameter_px"])})


def focus_accuracy(
    best_path: str | Path, truth_root: str | Path, out_table: str | Path, channel: int = 1
) -> None:
    """Compare chosen best planes with the synthetic plate's true best planes."""
    import pandas as pd

    from platefocus.bestplane import compare_to_truth
    from platefocus.io.atomic import write_table

    truth_csv = Path(truth_root) / "best_planes.csv"
    if not truth_csv.exists():
        raise InputError(truth_csv, "no true best planes here (truth.root is wrong?)")
    table = compare_to_truth(pd.read_parquet(best_path), pd.read_csv(truth_csv), channel)
    write_table(table, out_table)
    log.info(
        "best plane within one plane of truth for %.1f%% of %d regions with objects",
        100 * table["within_one"].mean() if len(table) else float("nan"),
        len(table),
    )


def plot_focus(
    plate_path: str | Path,
    manifest_path: str | Path,
    scores_path: str | Path,
    best_path: str | Path,
    targets_path: str | Path,
    metric: str,
    out_curves: str | Path,
    out_plate: str | Path,
    out_field_map: str | Path,
) -> None:
    """Write the focus QC figures."""
    import numpy as np
    import pandas as pd

    from platefocus.focus import score_stack
    from platefocus.io.fields import field_array, list_fields
    from platefocus.report import focus_figures as ff
    from platefocus.report.style import save_figure

    scores = pd.read_parquet(scores_path)
    best = pd.read_parquet(best_path)
    save_figure(ff.focus_curves(scores, best, metric), out_curves)
    save_figure(ff.plate_heatmaps(best, pd.read_parquet(targets_path)), out_plate)

    ref = list_fields(pd.read_parquet(manifest_path))[0]
    row = best[
        (best["well"] == ref.well)
        & (best["site"] == ref.site)
        & (best["region"] == "field")
        & (best["channel"] == ref.channels[0])
    ]
    plane = ref.z_indices.index(int(row["best_z"].iloc[0]))
    stack = np.asarray(field_array(plate_path, ref)[0])
    grid = score_stack(stack, (8, 8))
    edges = grid["tenengrad"][plane, 1:].reshape(8, 8)
    local = np.asarray(ref.z_indices, float)[np.argmax(grid["tenengrad"][:, 1:], axis=0)]
    contrast = (grid["std"] / np.maximum(grid["mean"], 1e-12)).max(axis=0)[1:]
    local[contrast < 0.15] = np.nan
    title = f"{ref.well} site {ref.site}, best plane z={ref.z_indices[plane]}"
    save_figure(ff.field_focus_map(stack[plane], edges, local.reshape(8, 8), title), out_field_map)


def plot_focus_accuracy(accuracy_path: str | Path, out_figure: str | Path) -> None:
    """Histogram of chosen minus true best planes."""
    import pandas as pd

    from platefocus.report.focus_figures import accuracy_histogram
    from platefocus.report.style import save_figure

    save_figure(accuracy_histogram(pd.read_parquet(accuracy_path)), out_figure)


def build_training_dataset(
    plate_path: str | Path,
    manifest_path: str | Path,
    targets_path: str | Path,
    params: dict,
    grid: list[int],
    channel: int,
    out_dataset: str | Path,
    out_table: str | Path,
) -> None:
    """Cut (defocused, best) pairs from the kept targets into a chunked Zarr dataset."""
    import pandas as pd

    from platefocus.dataset import DatasetConfig, build_dataset
    from platefocus.io.atomic import write_table

    config = DatasetConfig(
        offsets=tuple(params["offsets"]),
        patch_size=params["patch_size"],
        stride=params["stride"],
        percentiles=tuple(params["percentiles"]),
        split_fractions=tuple(params["split_fractions"]),
        train_sides=params["train_sides"],
        context_planes=params["context_planes"],
        grid=tuple(grid),
        channel=channel,
        seed=params["seed"],
    )
    table = build_dataset(
        plate_path,
        pd.read_parquet(manifest_path),
        pd.read_parquet(targets_path),
        config,
        out_dataset,
    )
    write_table(table, out_table)


def train_model(
    dataset_path: str | Path,
    table_path: str | Path,
    model: str,
    params: dict,
    work_dir: str | Path,
    out_checkpoint: str | Path,
    out_history: str | Path,
    threads: int = 1,
    out_timing: str | Path | None = None,
) -> None:
    """Train one registered model; resume from ``work_dir`` after an interruption.

    ``out_timing`` (JSON): training wall time, epochs run and device, kept apart from the
    history so that seeded reruns give identical tables.
    """
    import json
    import shutil

    import pandas as pd
    import zarr

    from platefocus.io.atomic import atomic_path, write_table
    from platefocus.train import TrainConfig, train

    model_params = params["models"].get(model)
    if model_params is None:
        raise InputError(f"training.models.{model}", "no settings for this model")
    config = TrainConfig(
        model=model,
        model_kwargs=dict(model_params),
        loss=dict(params["loss"]),
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        max_steps_per_epoch=params["max_steps_per_epoch"],
        lr=params["lr"],
        weight_decay=params["weight_decay"],
        warmup_epochs=params["warmup_epochs"],
        patience=params["patience"],
        augment=params["augment"],
        intensity_jitter=params["intensity_jitter"],
        device=params["device"],
        bf16=params["bf16"],
        compile=params["compile"],
        seed=params["seed"],
        threads=threads,
        max_minutes=params.get("max_minutes"),
    )
    info = dict(zarr.open_group(str(dataset_path), mode="r").attrs["platefocus"])
    history = train(dataset_path, pd.read_parquet(table_path), config, work_dir, dataset_info=info)
    with atomic_path(out_checkpoint) as tmp:
        shutil.copyfile(Path(work_dir) / "best.pt", tmp)
    write_table(history, out_history)
    if out_timing:
        from platefocus.train import read_checkpoint

        last = read_checkpoint(Path(work_dir) / "last.pt")
        timing = {
            "train_seconds": round(float(last.get("train_seconds", 0.0)), 2),
            "epochs": len(history),
            "device": last.get("device", "cpu"),
        }
        with atomic_path(out_timing) as tmp:
            Path(tmp).write_text(json.dumps(timing) + "\n")


def evaluate_model(
    checkpoint: str | Path,
    dataset_path: str | Path,
    table_path: str | Path,
    out_pairs: str | Path,
    out_by_dz: str | Path,
) -> None:
    """PSNR/SSIM of input and prediction on the test split, per pair and per |dz|."""
    import pandas as pd

    from platefocus.evaluate import evaluate_split, summarise_by_dz
    from platefocus.io.atomic import write_table
    from platefocus.train import load_checkpoint

    model, _ = load_checkpoint(checkpoint)
    per_pair = evaluate_split(model, dataset_path, pd.read_parquet(table_path))
    write_table(per_pair, out_pairs)
    summary = summarise_by_dz(per_pair)
    write_table(summary, out_by_dz)
    log.info("test split by |dz|:\n%s", summary.to_string(index=False))


def plot_training(
    histories: list[str | Path],
    summaries: list[str | Path],
    names: list[str],
    out_curves: str | Path,
    out_metrics: str | Path,
) -> None:
    """Training curves and metric-against-dz figures of every trained model."""
    from platefocus.io.atomic import read_table
    from platefocus.report.style import save_figure
    from platefocus.report.training_figures import metrics_by_dz, training_curves

    save_figure(
        training_curves({n: read_table(h) for n, h in zip(names, histories, strict=True)}),
        out_curves,
    )
    save_figure(
        metrics_by_dz({n: read_table(s) for n, s in zip(names, summaries, strict=True)}),
        out_metrics,
    )


def restore_block(
    plate_path: str | Path,
    manifest_path: str | Path,
    checkpoint: str | Path,
    out_plate: str | Path,
    params: dict,
    acquisition: dict,
    blocks_path: str | Path,
    block: int,
    out_marker: str | Path,
    best_path: str | Path | None = None,
    channel: int = 1,
    workers: int = 1,
    dask_settings: dict | None = None,
) -> None:
    """Restore one block of a plate's wells into its partial output plate (one job)."""
    import pandas as pd

    from platefocus.blocks import block_wells
    from platefocus.restore_plate import restore_fields

    manifest = pd.read_parquet(manifest_path)
    selection = _plane_selection(params["planes"])
    wells = block_wells(blocks_path, block)
    result = restore_fields(
        plate_path,
        manifest,
        checkpoint,
        out_plate,
        selection,
        _restore_config(params, checkpoint),
        _acquisition(acquisition),
        best=pd.read_parquet(best_path) if best_path else None,
        channel=channel,
        device=params["device"],
        workers=workers,
        dask_settings=dask_settings,
        pyramid_levels=params["pyramid_levels"],
        wells=wells,
    )
    Path(out_marker).write_text(f"wells {wells}: {result}\n")
    log.info(
        "block %d (%d wells): restored %d fields, %d already done",
        block,
        len(wells),
        result["computed"],
        result["skipped"],
    )


def finalise_restore(
    manifest_path: str | Path,
    checkpoint: str | Path,
    out_plate: str | Path,
    params: dict,
    channel: int = 1,
) -> None:
    """Complete a plate restored block by block: metadata, then rename into place."""
    import pandas as pd

    from platefocus.restore_plate import finalise_plate

    finalise_plate(
        pd.read_parquet(manifest_path),
        checkpoint,
        out_plate,
        _restore_config(params, checkpoint),
        _plane_selection(params["planes"]),
        channel,
        params["pyramid_levels"],
    )


def _plane_selection(planes: dict):
    from platefocus.restore_plate import PlaneSelection

    return PlaneSelection(
        mode=planes["mode"], z=tuple(planes.get("z", ())), offsets=tuple(planes.get("offsets", ()))
    )


def _restore_config(params: dict, checkpoint: str | Path):
    from platefocus.restore import RestoreConfig

    return RestoreConfig(
        tile=params["tile"],
        overlap=params["overlap"],
        batch_size=params["batch_size"],
        percentiles=_checkpoint_percentiles(checkpoint),
        bf16=params["bf16"],
    )


def _checkpoint_percentiles(checkpoint: str | Path) -> tuple[float, float]:
    from platefocus.train import read_checkpoint

    state = read_checkpoint(checkpoint)
    return tuple(state.get("dataset", {}).get("percentiles", (1.0, 99.8)))


def compare_segmentation(
    plate_path: str | Path,
    restored_path: str | Path,
    manifest_path: str | Path,
    best_path: str | Path,
    pairs_path: str | Path,
    segmentation: dict,
    channel: int,
    truth_root: str | Path | None,
    out_fields: str | Path,
    out_objects: str | Path,
    workers: int = 1,
    blocks_path: str | Path | None = None,
    block: int | None = None,
    dask_settings: dict | None = None,
) -> None:
    """Segment raw, restored and in-focus planes of every field (of one block of wells)."""
    import pandas as pd

    from platefocus.compare import compare_plate
    from platefocus.io.atomic import write_table

    pairs = pd.read_parquet(pairs_path)
    result = compare_plate(
        plate_path,
        restored_path,
        _block_manifest(manifest_path, blocks_path, block),
        pd.read_parquet(best_path),
        segmentation_config(segmentation),
        channel=channel,
        truth_root=truth_root,
        splits=dict(zip(pairs["well"], pairs["split"], strict=True)),
        workers=workers,
        dask_settings=dask_settings,
    )
    write_table(result.planes, out_fields)
    write_table(result.objects, out_objects)
    log.info("compared %d planes, %d objects", len(result.planes), len(result.objects))


def summarise_segmentation(
    block_fields: list[str | Path],
    block_objects: list[str | Path],
    out_fields: str | Path,
    out_objects: str | Path,
    out_summary: str | Path,
) -> None:
    """Join the per-block comparison tables and summarise them by split and |dz|."""
    from platefocus.compare import summarise
    from platefocus.io.atomic import read_table, write_table

    concat_tables(
        {"fields": block_fields, "objects": block_objects},
        {"fields": out_fields, "objects": out_objects},
    )
    summary = summarise(read_table(out_fields))
    write_table(summary, out_summary)
    log.info("comparison by split and |dz|:\n%s", summary.round(3).to_string(index=False))


def plot_comparison(
    plate_path: str | Path,
    restored_path: str | Path,
    manifest_path: str | Path,
    fields_path: str | Path,
    best_path: str | Path,
    segmentation: dict,
    channel: int,
    out_ssim: str | Path,
    out_counts: str | Path,
    out_heatmaps: str | Path,
    out_examples: str | Path,
) -> None:
    """Comparison figures, with example panels from held-out wells when there are any."""
    import numpy as np
    import pandas as pd
    import zarr

    from platefocus.io.fields import field_array, list_fields
    from platefocus.report import compare_figures as cf
    from platefocus.report.style import save_figure
    from platefocus.segment import identify_primary_objects

    planes = pd.read_parquet(fields_path)
    save_figure(cf.paired_ssim(planes), out_ssim)
    save_figure(cf.counts_per_well(planes), out_counts)
    save_figure(cf.gain_heatmaps(planes, pd.read_parquet(best_path)), out_heatmaps)

    seg = segmentation_config(segmentation)
    pool = planes[planes["split"] == "test"] if (planes["split"] == "test").any() else planes
    first = pool.sort_values(["well", "site"]).iloc[0]
    refs = {(r.well, r.site): r for r in list_fields(pd.read_parquet(manifest_path))}
    ref = refs[(first["well"], first["site"])]
    stack = np.asarray(field_array(plate_path, ref)[ref.channels.index(channel)])
    group = zarr.open_group(str(restored_path), mode="r")[ref.path]
    restored = np.asarray(group["s0"][0])
    rows = pool[(pool["well"] == ref.well) & (pool["site"] == ref.site)]
    examples = []
    for dz in sorted({int(d) for d in rows["dz"]}, key=abs)[-2:]:
        row = rows[rows["dz"] == dz].iloc[0]
        i = group.attrs["platefocus"]["dz"].index(dz)
        images = dict(
            raw=stack[ref.z_indices.index(int(row["z"]))],
            restored=restored[i],
            truth=stack[ref.z_indices.index(int(row["best_z"]))],
        )
        example = {k: v for k, v in images.items()}
        example.update({f"{k}_labels": identify_primary_objects(v, seg) for k, v in images.items()})
        example["title"] = f"{ref.well} site {ref.site}, dz={dz:+d} ({row['split']})"
        examples.append(example)
    save_figure(cf.example_panels(examples), out_examples)


def summary_page(
    plate: str,
    fields_path: str | Path,
    summary_path: str | Path,
    figures: dict[str, str],
    config: dict,
    out_html: str | Path,
    comparison_path: str | Path | None = None,
    comparison_figure: str | Path | None = None,
) -> None:
    """The self-contained summary page of a plate (with the model comparison, if given)."""
    import yaml

    from platefocus.io.atomic import read_table
    from platefocus.report.summary_page import write_summary_page

    write_summary_page(
        out_html,
        plate,
        read_table(fields_path),
        read_table(summary_path),
        figures,
        yaml.safe_dump(config, sort_keys=False),
        read_table(comparison_path) if comparison_path else None,
        comparison_figure,
    )


def compare_models(
    names: list[str],
    checkpoints: list[str | Path],
    timings: list[str | Path],
    metrics_by_dz: list[str | Path],
    segmentation_fields: list[str | Path],
    restore: dict,
    comparison: dict,
    out_table: str | Path,
    out_figure: str | Path,
    threads: int = 1,
) -> None:
    """The model comparison table and figure (see :mod:`platefocus.model_comparison`)."""
    from platefocus.io.atomic import write_table
    from platefocus.model_comparison import compare_models as compare
    from platefocus.report.comparison_figures import model_comparison
    from platefocus.report.style import save_figure

    table = compare(
        names,
        checkpoints,
        timings,
        metrics_by_dz,
        segmentation_fields,
        _restore_config(restore, checkpoints[0]),
        inference_side=comparison["inference_side"],
        repeats=comparison["repeats"],
        threads=threads,
    )
    write_table(table, out_table)
    save_figure(model_comparison(table), out_figure)
    log.info("model comparison:\n%s", table.round(3).to_string(index=False))
