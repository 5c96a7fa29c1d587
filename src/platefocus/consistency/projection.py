"""Data-consistency projection (DDNM's range-null decomposition).

For a degradation ``y = A x + n`` with A a convolution (:mod:`platefocus.consistency.
operator`), any estimate ``f`` of x splits into a range-space part ``A^+ A f``, which the
observation fixes, and a null-space part ``(I - A^+ A) f``, which only a prior (a network)
can fill. The projection keeps the network's null space and takes the range space from the
observation:

    x' = A^+ y + (I - A^+ A) f  =  f + A^+ (y - A f)

With the exact pseudo-inverse (``regularisation = 0``: ``1 / H`` where ``|H|`` exceeds
``cutoff``, 0 elsewhere) ``A x' = y`` on the frequencies A passes. With noise, DDNM+'s
relaxation: the Tikhonov pseudo-inverse ``conj(H) / (|H|^2 + lam)``, ``lam`` the noise to
signal power ratio, corrects ``f`` only where the observation is above its noise, so
``A x'`` reproduces ``y`` within the noise instead of fitting it.

Convolution is circular on a canvas padded by reflection (``pad`` pixels, at least the
kernel radius) and cropped back, so plane borders do not wrap around. Shapes (Y, X).
"""

from __future__ import annotations

import numpy as np

from platefocus.synth.psf import centred_transfer


def transfer_function(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``rfft2`` transfer function (Y, X // 2 + 1) of a centred odd kernel on ``shape``."""
    if kernel.shape[0] % 2 == 0 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"a square kernel of odd side is needed, got {kernel.shape}")
    return centred_transfer(np.asarray(kernel, np.float64)[None], shape)[0]


def pseudo_inverse(
    transfer: np.ndarray, regularisation: float = 0.0, cutoff: float = 1e-8
) -> np.ndarray:
    """``A^+`` in Fourier space: Tikhonov ``conj(H) / (|H|^2 + lam)`` for ``lam > 0``, the
    exact pseudo-inverse (``1 / H`` above ``cutoff``, else 0) for ``lam = 0``."""
    if regularisation > 0:
        return np.conj(transfer) / (np.abs(transfer) ** 2 + regularisation)
    out = np.zeros_like(transfer)
    passed = np.abs(transfer) > cutoff
    out[passed] = 1.0 / transfer[passed]
    return out


def blur(image: np.ndarray, kernel: np.ndarray, pad: int | None = None) -> np.ndarray:
    """``A x``: the image convolved with the kernel (reflect-padded, cropped back)."""
    pad = kernel.shape[0] // 2 if pad is None else pad
    canvas = np.pad(np.asarray(image, np.float64), pad, mode="reflect") if pad else image
    h = transfer_function(kernel, canvas.shape)
    out = np.fft.irfft2(np.fft.rfft2(canvas) * h, s=canvas.shape)
    return out[pad : pad + image.shape[0], pad : pad + image.shape[1]] if pad else out


def project(
    restored: np.ndarray,
    observed: np.ndarray,
    kernel: np.ndarray,
    regularisation: float = 0.0,
    pad: int | None = None,
) -> np.ndarray:
    """``x' = f + A^+ (y - A f)`` for ``f`` = ``restored``, ``y`` = ``observed`` (same
    intensity units), see the module doc. ``pad = 0``: circular (for exact tests)."""
    if restored.shape != observed.shape:
        raise ValueError(f"restored {restored.shape} and observed {observed.shape} differ")
    pad = kernel.shape[0] // 2 if pad is None else pad

    def padded(image):
        image = np.asarray(image, np.float64)
        return np.pad(image, pad, mode="reflect") if pad else image

    f, y = padded(restored), padded(observed)
    h = transfer_function(kernel, f.shape)
    f_hat = np.fft.rfft2(f)
    correction = pseudo_inverse(h, regularisation) * (np.fft.rfft2(y) - h * f_hat)
    out = np.fft.irfft2(f_hat + correction, s=f.shape)
    return out[pad : pad + restored.shape[0], pad : pad + restored.shape[1]] if pad else out


def noise_regularisation(observed: np.ndarray, noise_sigma: float) -> float:
    """DDNM+'s ``lam``: noise power over the observation's mean signal power per
    frequency (both per pixel), for :func:`project`."""
    y = np.asarray(observed, np.float64)
    signal = np.mean(np.abs(np.fft.rfft2(y - y.mean())) ** 2) / y.size
    return float(noise_sigma**2 / max(signal, 1e-12))
