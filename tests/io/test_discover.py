"""Input discovery from a folder and a regular expression."""

import pytest
from conftest import BBBC006_PATTERN

from platefocus.errors import InputError
from platefocus.io.discover import DiscoveryConfig, compile_pattern, discover_planes, parse_well

BBBC006_NAMES = [
    "BBBC006_v1_images_z_00/mcf-z-stacks-03212011_a01_s1_w1a57fb8f0-5d0c-4e5c-9d4b-0b2b0d6b1a01.tif",
    "BBBC006_v1_images_z_00/mcf-z-stacks-03212011_a01_s1_w2d3e27ab1-7a0a-4b1e-8e7d-3c1a1e0c2b02.tif",
    "BBBC006_v1_images_z_01/mcf-z-stacks-03212011_a01_s1_w1fe2bd0c3-0f3b-4b4c-a1a9-2b7e5f0a9c03.tif",
    "BBBC006_v1_images_z_01/mcf-z-stacks-03212011_a01_s1_w29b1c2d34-1e8f-4a32-9d1e-7c3e2f1b0d04.tif",
    "BBBC006_v1_images_z_33/mcf-z-stacks-03212011_p24_s2_w1c0ffee55-aaaa-4bbb-8ccc-ddddeeeeff05.tif",
]


def make_tree(root, names):
    for n in names:
        p = root / n
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")  # discovery reads names only
    return root


def test_bbbc006_names(tmp_path):
    make_tree(tmp_path, BBBC006_NAMES)
    m = discover_planes(DiscoveryConfig(tmp_path, BBBC006_PATTERN))
    assert len(m) == 5
    assert set(m["plate"]) == {"mcf-z-stacks-03212011"}
    assert m[["well", "row", "column", "site", "channel", "z"]].values.tolist() == [
        ["A01", "A", 1, 1, 1, 0],
        ["A01", "A", 1, 1, 1, 1],
        ["A01", "A", 1, 1, 2, 0],
        ["A01", "A", 1, 1, 2, 1],
        ["P24", "P", 24, 2, 1, 33],
    ]
    # planes of one field are joined although each file has its own UID
    a01w1 = m.query("well == 'A01' and channel == 1")
    assert a01w1["z"].tolist() == [0, 1]


def test_lists_planes_present_without_assuming_a_count(tmp_path):
    make_tree(tmp_path, [n for n in BBBC006_NAMES if "_z_01" not in n])
    m = discover_planes(DiscoveryConfig(tmp_path, BBBC006_PATTERN))
    assert sorted(m["z"].unique()) == [0, 33]


def test_shipped_bbbc006_config_pattern(tmp_path):
    import yaml
    from conftest import REPO

    section = yaml.safe_load((REPO / "config" / "bbbc006.yaml").read_text())["input"]
    make_tree(tmp_path, BBBC006_NAMES)
    section = {"extensions": [".tif"], "ignore": [], **section, "root": str(tmp_path)}
    m = discover_planes(DiscoveryConfig.from_config(section, "mcf-z-stacks-03212011"))
    assert len(m) == 5


def test_name_not_matching_pattern_names_the_file(tmp_path):
    make_tree(tmp_path, [*BBBC006_NAMES, "BBBC006_v1_images_z_00/notes_a01.tif"])
    with pytest.raises(InputError, match=r"notes_a01\.tif: file name does not match"):
        discover_planes(DiscoveryConfig(tmp_path, BBBC006_PATTERN))


def test_ignored_and_other_extensions_skipped(tmp_path):
    make_tree(tmp_path, [*BBBC006_NAMES, "BBBC006_v1_images_z_00/.DS_Store.tif", "README.txt"])
    assert len(discover_planes(DiscoveryConfig(tmp_path, BBBC006_PATTERN))) == 5


def test_empty_and_missing_folder(tmp_path):
    with pytest.raises(InputError, match="no image files"):
        discover_planes(DiscoveryConfig(tmp_path, BBBC006_PATTERN))
    with pytest.raises(InputError, match="does not exist"):
        discover_planes(DiscoveryConfig(tmp_path / "nope", BBBC006_PATTERN))


def test_duplicate_plane(tmp_path):
    dup = BBBC006_NAMES[0].replace("a57fb8f0", "b57fb8f0")
    make_tree(tmp_path, [*BBBC006_NAMES, dup])
    with pytest.raises(InputError, match="claims the same plane"):
        discover_planes(DiscoveryConfig(tmp_path, BBBC006_PATTERN))


def test_plate_selection_and_default_name(tmp_path):
    make_tree(tmp_path, BBBC006_NAMES)
    with pytest.raises(InputError, match="no files of plate 'other'"):
        discover_planes(DiscoveryConfig(tmp_path, BBBC006_PATTERN, plate="other"))
    no_plate = r"_z_(?P<z>\d+)/[^/]+_(?P<well>[a-p]\d{2})_s(?P<site>\d)_w(?P<channel>\d)"
    m = discover_planes(DiscoveryConfig(tmp_path, no_plate, plate="myplate"))
    assert set(m["plate"]) == {"myplate"}


@pytest.mark.parametrize(
    "pattern, message",
    [(r"(?P<well>\w+", "not a valid regular expression"), (r"(?P<well>\w+)", "lacks")],
)
def test_bad_pattern(pattern, message):
    with pytest.raises(InputError, match=message):
        compile_pattern(pattern)


@pytest.mark.parametrize(
    "name, expected", [("a01", ("A", 1)), ("B7", ("B", 7)), ("af48", ("AF", 48))]
)
def test_parse_well(name, expected):
    assert parse_well(name) == expected


def test_parse_well_rejects():
    with pytest.raises(ValueError):
        parse_well("1A")
