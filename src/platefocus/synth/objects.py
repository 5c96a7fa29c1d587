"""Nucleus-like objects: sampling their geometry and rendering them as emitter layers.

Coordinates: ``y, x`` in pixels of the rendering canvas; heights ``z`` in micrometres
above the first plane of the Z-stack.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class NucleusPopulation:
    """How nuclei of one field are drawn.

    Attributes
    ----------
    count_per_100x100_um : (float, float)
        Range of nucleus density, objects per 100 x 100 um of field.
    diameter_um : (float, float)
        Mean and standard deviation of the major in-plane diameter, micrometres.
    aspect_range : (float, float)
        Range of the minor/major axis ratio.
    thickness_um : float
        Full axial extent of a nucleus, micrometres.
    brightness_sd : float
        Standard deviation of log brightness between nuclei.
    min_gap_factor : float
        Centres are kept at least this fraction of the sum of the two major radii apart;
        below 1 some nuclei touch.
    height_jitter_um : float
        Standard deviation of a nucleus' height about the focal surface, micrometres.
    """

    # Matched to real BBBC006 (benchmarks/bench_synthetic_vs_real.py): its nuclei are about
    # 30 px = 19.5 um across on the data set's masks, 10-16 per 100 x 100 um.
    count_per_100x100_um: tuple[float, float] = (10.0, 16.0)
    diameter_um: tuple[float, float] = (19.5, 3.0)
    aspect_range: tuple[float, float] = (0.65, 1.0)
    thickness_um: float = 5.0
    brightness_sd: float = 0.25
    min_gap_factor: float = 0.85
    height_jitter_um: float = 0.8


@dataclass(frozen=True)
class Nuclei:
    """Geometry of the nuclei of one field, arrays of shape (N,).

    ``y, x`` centre in canvas pixels; ``a, b`` semi-axes in pixels (a >= b); ``theta``
    orientation in radians; ``z_um`` centre height; ``half_thickness_um``; ``brightness``
    relative emitter density.
    """

    y: np.ndarray
    x: np.ndarray
    a: np.ndarray
    b: np.ndarray
    theta: np.ndarray
    z_um: np.ndarray
    half_thickness_um: np.ndarray
    brightness: np.ndarray

    def __len__(self) -> int:
        return len(self.y)


def sample_nuclei(
    rng: np.random.Generator,
    population: NucleusPopulation,
    canvas_shape: tuple[int, int],
    pixel_size_um: float,
    surface_um,
) -> Nuclei:
    """Draw nuclei over a canvas, at heights given by a focal surface.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness (one per field, so fields are independent of order).
    population : NucleusPopulation
        Size, density and shape distribution.
    canvas_shape : (Y, X)
        Canvas in pixels.
    pixel_size_um : float
        Micrometres per pixel.
    surface_um : callable (y, x) -> z
        Height of the focal surface in micrometres at canvas pixel coordinates.
    """
    area_um2 = canvas_shape[0] * canvas_shape[1] * pixel_size_um**2
    density = rng.uniform(*population.count_per_100x100_um)
    n_target = max(1, round(density * area_um2 / 1e4))
    mean_d, sd_d = population.diameter_um
    ys, xs, radii = [], [], []
    for _ in range(n_target * 30):
        if len(ys) == n_target:
            break
        radius = max(0.3 * mean_d, rng.normal(mean_d, sd_d)) / 2 / pixel_size_um
        y = rng.uniform(0, canvas_shape[0])
        x = rng.uniform(0, canvas_shape[1])
        if ys:
            dist = np.hypot(np.asarray(ys) - y, np.asarray(xs) - x)
            if np.any(dist < population.min_gap_factor * (np.asarray(radii) + radius)):
                continue
        ys.append(y)
        xs.append(x)
        radii.append(radius)
    n = len(ys)
    y = np.asarray(ys)
    x = np.asarray(xs)
    a = np.asarray(radii)
    b = a * rng.uniform(*population.aspect_range, size=n)
    theta = rng.uniform(0, np.pi, size=n)
    z = surface_um(y, x) + rng.normal(0, population.height_jitter_um, size=n)
    half = np.full(n, population.thickness_um / 2) * rng.uniform(0.85, 1.15, size=n)
    brightness = np.exp(rng.normal(0, population.brightness_sd, size=n))
    return Nuclei(y, x, a, b, theta, z, half, brightness)


def chromatin_texture(
    rng: np.random.Generator, shape: tuple[int, int], scale_px: float, strength: float
) -> np.ndarray:
    """Multiplicative texture, mean about 1: smoothed white noise plus bright foci.

    Returns
    -------
    texture : (Y, X) float32, values >= 0.2
    """
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), scale_px)
    noise /= noise.std() + 1e-12
    foci = ndimage.gaussian_filter((rng.random(shape) > 0.997).astype(float), 0.8 * scale_px)
    foci /= foci.max() + 1e-12
    texture = 1.0 + strength * noise + 0.8 * strength * foci
    return np.clip(texture, 0.2, None).astype(np.float32)


def render_layers(
    nuclei: Nuclei,
    canvas_shape: tuple[int, int],
    layer_heights_um: np.ndarray,
    texture: np.ndarray,
    scale: float = 1.0,
    body_scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Emitter density of ellipsoidal nuclei, sliced into thin layers.

    Each nucleus is an ellipsoid with in-plane semi-axes ``a*body_scale, b*body_scale``
    and axial half-thickness ``half_thickness_um``; a layer at height ``h`` holds its
    cross-section there. Densities are scaled so that a nucleus of brightness 1 and
    nominal thickness projects to about ``scale`` in focus.

    Parameters
    ----------
    layer_heights_um : (L,) float
        Equally spaced layer heights, micrometres.
    texture : (Y, X) float
        Multiplicative texture over the canvas.
    body_scale : float
        Scales the in-plane axes (a cell body around the nucleus for a second channel).

    Returns
    -------
    layers : (L, Y, X) float32
        Emitter density per layer.
    footprint_labels : (Y, X) int32
        Label of the largest cross-section of each nucleus (0 = background); where two
        footprints overlap, the earlier nucleus keeps the pixel.
    """
    layers = np.zeros((len(layer_heights_um), *canvas_shape), dtype=np.float32)
    labels = np.zeros(canvas_shape, dtype=np.int32)
    step = float(layer_heights_um[1] - layer_heights_um[0]) if len(layer_heights_um) > 1 else 1.0
    for i in range(len(nuclei)):
        a = nuclei.a[i] * body_scale
        b = nuclei.b[i] * body_scale
        cy, cx = nuclei.y[i], nuclei.x[i]
        r = int(np.ceil(a)) + 1
        y0, y1 = max(0, int(cy) - r), min(canvas_shape[0], int(cy) + r + 2)
        x0, x1 = max(0, int(cx) - r), min(canvas_shape[1], int(cx) + r + 2)
        if y0 >= y1 or x0 >= x1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        cos, sin = np.cos(nuclei.theta[i]), np.sin(nuclei.theta[i])
        u = ((xx - cx) * cos + (yy - cy) * sin) / a
        v = (-(xx - cx) * sin + (yy - cy) * cos) / b
        rho2 = u * u + v * v
        inside = rho2 <= 1.0
        box = labels[y0:y1, x0:x1]
        box[inside & (box == 0)] = i + 1
        half = nuclei.half_thickness_um[i]
        density = scale * nuclei.brightness[i] * step / (2 * half)
        rel = (layer_heights_um - nuclei.z_um[i]) / half
        for li in np.nonzero(np.abs(rel) < 1)[0]:
            section = rho2 <= 1.0 - rel[li] ** 2
            layers[li, y0:y1, x0:x1] += density * section * texture[y0:y1, x0:x1]
    return layers, labels
