"""The standalone summary page: one self-contained HTML file, images embedded."""

from __future__ import annotations

import base64
import html
import os
from importlib import metadata
from pathlib import Path

import pandas as pd

PACKAGES = (
    "platefocus",
    "numpy",
    "scipy",
    "scikit-image",
    "dask",
    "zarr",
    "ome-zarr",
    "torch",
    "monai",
    "snakemake",
)


def software_versions() -> dict[str, str]:
    """Installed versions of the packages the results depend on."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _img(path: str | os.PathLike, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _single_plane_headline(planes: pd.DataFrame) -> str:
    """Counts and sharpness, raw vs restored: all there is without an in-focus plane."""
    truth = planes["count_truth"].sum() if planes["count_truth"].notna().any() else None
    of_truth = f" / {truth:.0f} true" if truth is not None else ""
    f1 = (
        f"""<tr><td>F1 vs true labels</td><td>{planes["f1_raw"].mean():.3f}</td>
<td>{planes["f1_restored"].mean():.3f}</td></tr>"""
        if truth is not None
        else ""
    )
    return f"""
<div class="card"><h3>{len(planes)} fields of one plane</h3><table>
<tr><th></th><th>raw</th><th>restored</th></tr>
<tr><td>objects found{of_truth}</td><td>{planes["count_raw"].sum():.0f}</td>
<td>{planes["count_restored"].sum():.0f}{_beyond_mark(planes)}</td></tr>{f1}
<tr><td>sharpness (mean Tenengrad)</td><td>{planes["sharpness_raw"].mean():.4g}</td>
<td>{planes["sharpness_restored"].mean():.4g}</td></tr>{_consistency_rows(planes)}\
{_expected_size_row(planes)}{_reliable_rows(planes)}
</table><p><b>No in-focus reference</b>: this plate has one plane per field, so neither
SSIM nor PSNR can be measured and more objects are not shown to be real objects.</p></div>"""


#: The diameter ratio above which a disk overlaps a smaller concentric one by IoU < 0.5.
SWOLLEN = 2**0.5


def _expected_size_row(planes: pd.DataFrame) -> str:
    """The in-focus diameter the objects' confidence measured sizes against, and where it
    came from; a warning where it was estimated from the defocused planes themselves."""
    source = planes.get("expected_diameter_from")
    if source is None or source.isna().all():
        return ""
    diameter = planes["expected_diameter_px"].median()
    estimated = int((source == "raw plane").sum())
    if not estimated:
        inherited = (source == "training plate").any()
        where = (
            "the in-focus planes of the model's training plate"
            if inherited
            else "segmentation.diameter_px"
        )
    else:
        where = (
            f"<b>estimated from the defocused planes themselves</b> ({estimated} of "
            f"{len(planes)} fields): blurred nuclei measure larger than in focus, so the "
            "confidence's size term favours swollen restored objects; give "
            "segmentation.diameter_px the in-focus size (measured on in-focus fields of the "
            "same screen)"
        )
    row = (
        f"<tr><td>expected in-focus diameter the confidence measures objects against, px"
        f" (median over fields; from {where})</td><td></td><td>{diameter:.1f}</td></tr>"
    )
    ratio = planes.get("restored_size_ratio")
    if ratio is None or ratio.isna().all():
        return row
    return row + (
        f"<tr><td>restored objects' median diameter over the expected (median over fields;"
        f" near 1 for nuclei restored to their size; an object {SWOLLEN:.2f} times as wide"
        f" as the nucleus it stands for overlaps it by IoU &lt; 0.5, so it matches"
        f" nothing)</td><td></td><td>{ratio.median():.2f}</td></tr>"
    )


def _consistency_rows(planes: pd.DataFrame) -> str:
    """What the check against the observation found (one-plane fields checked with the
    defocus operator at their distance from focus); nothing where none was checked."""
    if "consistency_score" not in planes or planes["consistency_score"].isna().all():
        return ""
    checked = planes[planes["consistency_score"].notna()]
    offsets = ", ".join(f"{abs(d):g}" for d in sorted(checked["operator_dz"].abs().unique()))
    return (
        f"<tr><td>restored objects with no support in the observation (flagged)</td><td></td>"
        f"<td>{checked['count_flagged'].sum():.0f} of {checked['count_restored'].sum():.0f}"
        f"</td></tr><tr><td>consistency score (RMS residual in noise units, median of"
        f" {len(checked)} fields; near 1: the restored plane, blurred by the operator at"
        f" |dz| = {offsets} planes, explains the observation)</td><td></td>"
        f"<td>{checked['consistency_score'].median():.2f}</td></tr>{_held_out_row(checked)}"
    )


def _held_out_row(checked: pd.DataFrame) -> str:
    """The checked planes' consistency scores against the held-out planes' at the same
    distance (the model's training plate); nothing without held-out scores there."""
    ratio = checked.get("consistency_vs_held_out")
    if ratio is None or ratio.isna().all():
        return ""
    from platefocus.compare.reliability import worse_than_held_out

    known = checked[ratio.notna()]
    spread = known["consistency_vs_held_out_max"]
    above = int(worse_than_held_out(known).fillna(False).sum())
    return (
        f"<tr><td>consistency score over the held-out planes' median at the same distance"
        f" (median of {len(known)} fields; the held-out planes themselves reach"
        f" {spread.max():.2f}; above it, the restoration explains its observation worse than"
        f" on any plane it was scored on: its optics or objects may differ)</td><td></td>"
        f"<td>{ratio.median():.2f}<br><small>{above} of {len(known)} fields above every"
        f" held-out plane</small></td></tr>"
    )


def _source_banner(source: str, synthetic: bool) -> str:
    """Where the plate came from, under the title; a synthetic plate in a coloured box."""
    if not source:
        return ""
    style = (
        ' style="background: #fff3cd; border: 1px solid #c90; padding: 0.5em 1em"'
        if synthetic
        else ""
    )
    text = html.escape(source.removeprefix("platefocus: "))
    return f'<p class="source"{style}><b>Data:</b> {text}</p>'


def _beyond_mark(part: pd.DataFrame) -> str:
    """A restored count's qualifier when some of its planes lie beyond the reliable range
    (the count is never shown bare there)."""
    verdict = part.get("beyond_reliable_range")
    if verdict is None:
        return ""
    beyond = int(verdict.fillna(False).astype(bool).sum())
    if not beyond:
        return ""
    return f"<br><small>({beyond} of {len(part)} planes beyond the reliable range)</small>"


def _reliable_rows(part: pd.DataFrame) -> str:
    """Reliable restored objects beside all, and what the reliable range says; nothing
    for tables made before objects had a confidence."""
    if "count_reliable" not in part:
        return ""
    row = (
        f"<tr><td>restored objects marked reliable</td><td></td>"
        f"<td>{part['count_reliable'].sum():.0f} of {part['count_restored'].sum():.0f}</td></tr>"
    )
    verdict = part.get("beyond_reliable_range")
    if verdict is None or verdict.isna().all():
        note = (
            "Reliable range: <b>unknown</b> (no held-out truth for this model): counts are"
            " not qualified by distance from focus."
        )
    else:
        beyond = int(verdict.fillna(False).astype(bool).sum())
        limit = part["reliable_range_dz"].iloc[0]
        note = (
            f"Reliable range: |dz| &le; {limit:g} planes (held-out F1 &ge; 0.5); "
            f"<b>{beyond} of {len(part)} planes lie beyond it</b>, and none of their"
            " objects is counted as reliable."
        )
    unlike = part.get("unlike_held_out")
    if unlike is not None and unlike.fillna(False).astype(bool).any():
        count = int(unlike.fillna(False).astype(bool).sum())
        note += (
            f" <b>{count} of {len(part)} planes explain their observation worse than every"
            " held-out plane</b> at their distance, so the range does not carry over to"
            " them, and none of their objects is counted as reliable."
        )
    return f'{row}<tr><td colspan="3" style="text-align: left">{note}</td></tr>'


def _has_no_reference(planes: pd.DataFrame) -> bool:
    """Whether every field is a single plane (nothing in focus to compare with)."""
    return "reference" in planes and bool((planes["reference"] == "none").all())


def _introduction(planes: pd.DataFrame) -> str:
    if _has_no_reference(planes):
        return (
            "Segmentation and sharpness of single planes (one per field) before and after "
            "restoration; there is no in-focus plane to compare with."
        )
    return (
        "Segmentation and image quality of defocused planes before and after restoration, "
        "against the in-focus truth."
    )


def _selection_card(planes: pd.DataFrame) -> str:
    """How many planes selective restoration copied instead of restoring."""
    if "restored" not in planes or planes["restored"].all():
        return ""
    copied = int((~planes["restored"]).sum())
    farthest = planes.loc[~planes["restored"], "estimated_defocus_um"].max()
    return f"""
<div class="card"><h3>Selective restoration</h3><p>{copied} of {len(planes)} planes were
judged within the tolerance of focus and copied, not restored: the network ran on
{len(planes) - copied} planes, <b>{copied / len(planes):.0%}</b> of the restoration's model
time saved. Farthest copied plane: {farthest:.2f} um from focus (estimated).</p></div>"""


def _per_distance(planes: pd.DataFrame, z_step_um: float | None) -> str:
    """The lead table: per distance from focus, counts and F1 raw vs restored and the
    reliable objects, on the held-out wells (all wells when none is held out), saying
    what the numbers were measured against."""
    if _has_no_reference(planes) or planes["dz"].isna().all():
        return ""
    part = planes[planes["split"] == "test"]
    where = "held-out test wells (never seen in training)"
    if part.empty:
        part, where = planes, "all wells (none held out)"
    truth = part.get("truth", pd.Series("best plane", index=part.index))
    against = (
        "the synthetic plate's true nucleus labels"
        if (truth == "true labels").all()
        else "the segmentation of each field's in-focus plane (no truth)"
    )
    frame = part.assign(distance=part["dz"].abs())
    columns = {"count_truth": "sum", "count_raw": "sum", "count_restored": "sum"}
    columns.update({c: "mean" for c in ("f1_raw", "f1_restored")})
    if "count_reliable" in frame:
        columns["count_reliable"] = "sum"
    table = frame.groupby("distance").agg({"dz": "size", **columns})
    if "beyond_reliable_range" in frame and frame["beyond_reliable_range"].notna().any():
        beyond = frame.groupby("distance")["beyond_reliable_range"].agg(
            lambda v: "beyond" if v.fillna(False).astype(bool).any() else "within"
        )
        table["reliable range"] = beyond
    step = f"{z_step_um:g} um" if z_step_um else "plane"
    table.index = [f"{d * z_step_um:g} um" if z_step_um else f"{d:g} planes" for d in table.index]
    table = table.rename(
        columns=dict(
            dz="planes",
            count_truth="nuclei (truth)",
            count_raw="found raw",
            count_restored="found restored",
            count_reliable="reliable restored",
            f1_raw="F1 raw",
            f1_restored="F1 restored",
        )
    )
    html_table = table.round(3).to_html(border=0, index_names=False)
    return f"""<section><h2>Per distance from focus</h2>
<p>On the {where}; F1 at IoU &gt; 0.5 against {against}; distances in micrometres
(one plane = {step}), both sides of focus together. Restored objects are counted as
reliable when their confidence (support in the observation, size, no split) is at least
0.5 and their plane lies within the reliable range.</p>{html_table}</section>"""


def _headline(planes: pd.DataFrame) -> str:
    if _has_no_reference(planes):
        return _single_plane_headline(planes) + _selection_card(planes)
    cards = [_selection_card(planes)]
    for split in ("test", "all wells"):
        part = planes if split == "all wells" else planes[planes["split"] == "test"]
        if part.empty:
            continue
        truth = part["count_truth"].sum()
        missing_raw = truth - part["count_raw"].sum()
        recovered = part["count_restored"].sum() - part["count_raw"].sum()
        label = "held-out test wells" if split == "test" else "all wells"
        cards.append(f"""
<div class="card"><h3>{label}</h3><table>
<tr><th></th><th>raw</th><th>restored</th></tr>
<tr><td>objects found / truth</td><td>{part["count_raw"].sum():.0f} / {truth:.0f}</td>
<td>{part["count_restored"].sum():.0f} / {truth:.0f}{_beyond_mark(part)}</td></tr>
<tr><td>F1 (IoU &gt; 0.5)</td><td>{part["f1_raw"].mean():.3f}</td>
<td>{part["f1_restored"].mean():.3f}</td></tr>
<tr><td>SSIM vs in focus</td><td>{part["ssim_raw"].mean():.3f}</td>
<td>{part["ssim_restored"].mean():.3f}</td></tr>
<tr><td>PSNR vs in focus (dB)</td><td>{part["psnr_raw"].mean():.2f}</td>
<td>{part["psnr_restored"].mean():.2f}</td></tr>{_reliable_rows(part)}
</table><p>Objects recovered by restoration: <b>{recovered:.0f}</b> of the
{missing_raw:.0f} that defocus hid.</p></div>""")
    return "\n".join(cards)


def _offsets_section(offsets: pd.DataFrame, figures: dict[str, str | os.PathLike]) -> str:
    """Every model per signed offset from focus (um): the wide table and its figures."""
    from platefocus.compare.offsets import offsets_wide

    table = (
        offsets_wide(offsets)
        .round(3)
        .to_html(index=False, border=0, na_rep="")
        .replace("<table", '<table style="white-space: nowrap; font-size: 0.8em"', 1)
    )
    unseen = sorted(offsets.loc[~offsets["in_training"] & (offsets["dz"] != 0), "dz_um"].unique())
    note = (
        f"<p>Offsets training never saw (um): {', '.join(f'{d:+g}' for d in unseen)}.</p>"
        if unseen
        else ""
    )
    images = "".join(
        f"<h3>{html.escape(title)}</h3>{_img(path, title)}" for title, path in figures.items()
    )
    return (
        "<section><h2>Per offset from focus (held-out wells; um, &gt; 0: higher planes)</h2>"
        f'{note}<div style="overflow-x: auto">{table}</div>{images}</section>'
    )


def write_summary_page(
    out_path: str | os.PathLike,
    plate: str,
    planes: pd.DataFrame,
    summary: pd.DataFrame,
    figures: dict[str, str | os.PathLike],
    config_text: str,
    comparison: pd.DataFrame | None = None,
    comparison_figure: str | os.PathLike | None = None,
    offsets: pd.DataFrame | None = None,
    offsets_figures: dict[str, str | os.PathLike] | None = None,
    source: str = "",
    synthetic: bool = False,
    z_step_um: float | None = None,
) -> None:
    """Write the page: headline numbers, figures (embedded), tables, config, versions;
    with ``comparison`` (:func:`platefocus.compare.models.compare_models`), the model
    comparison table and figure; with ``offsets`` (:func:`platefocus.compare.offsets.
    offset_table`), every model per offset from focus in micrometres, and its figures.
    ``source`` says where the plate came from, as a banner under the title (highlighted
    when ``synthetic``: a generated plate must not be taken for acquired data)."""
    from platefocus.io.atomic import atomic_path

    sections = "\n".join(
        f"<section><h2>{html.escape(title)}</h2>{_img(path, title)}</section>"
        for title, path in figures.items()
    )
    compared = ""
    if comparison is not None:
        compared = (
            "<section><h2>Model comparison (same split, budget and seed; each model's loss"
            " in its row)</h2>"
            # the loss labels stay on one line; a wide table (many offsets) scrolls
            + '<div style="overflow-x: auto">'
            + comparison.round(3)
            .to_html(index=False, border=0, na_rep="")
            .replace("<table", '<table style="white-space: nowrap"', 1)
            + "</div>"
            + (_img(comparison_figure, "Model comparison") if comparison_figure else "")
            + "</section>"
        )
    if offsets is not None:
        compared += _offsets_section(offsets, offsets_figures or {})
    versions = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in software_versions().items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>platefocus summary: {html.escape(plate)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
        color: #222; }}
h1 {{ border-bottom: 2px solid #446; }}
.cards {{ display: flex; gap: 2em; flex-wrap: wrap; }}
.card {{ border: 1px solid #ccd; border-radius: 8px; padding: 0.5em 1.5em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
td, th {{ padding: 2px 10px; border-bottom: 1px solid #eee; text-align: right; }}
img {{ max-width: 100%; }}
pre {{ background: #f5f5f8; padding: 1em; overflow-x: auto; font-size: 0.8em; }}
</style></head><body>
<h1>platefocus summary: plate {html.escape(plate)}</h1>
{_source_banner(source, synthetic)}
<p>{_introduction(planes)} Identical segmentation settings for every image.</p>
{_per_distance(planes, z_step_um)}
<h2>Headline numbers</h2>
<div class="cards">{_headline(planes)}</div>
{sections}
{compared}
<section><h2>Numbers by distance from focus</h2>
{summary.round(3).to_html(index=False, border=0)}</section>
<section><h2>Configuration</h2><pre>{html.escape(config_text)}</pre></section>
<section><h2>Software versions</h2><table>{versions}</table></section>
</body></html>
"""
    with atomic_path(out_path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
