"""The per-frame work of the Python peers: the SEP calls of extract-c.c through Python's sep.

Imported by python_peer.py in the driver and in every worker process (Pool, Dask, PySpark).
"""
import os

import numpy as np
import sep
from astropy.io import fits


# SEXTANT_BENCH_RECIPE=apertures: positions + FLUX_APER only (scripts/bench/columns).
APERTURES_ONLY = os.environ.get("SEXTANT_BENCH_RECIPE") == "apertures"


def extract(path):
    """Background, extraction, then the photometry extract-c.c does; returns the object count."""
    with fits.open(path, memmap=False) as hdul:
        data = np.ascontiguousarray(hdul[0].data, dtype=np.float32)
    bkg = sep.Background(data)
    sub = data - bkg.back()
    rms = bkg.globalrms
    objects = sep.extract(sub, 1.5, err=rms)
    if len(objects) == 0:
        return 0
    x, y, a, b, theta = (objects[k] for k in ("x", "y", "a", "b", "theta"))
    sep.sum_circle(sub, x, y, 3.0, err=rms, subpix=5)
    if APERTURES_ONLY:
        return int(len(objects))
    kron, _ = sep.kron_radius(sub, x, y, a, b, theta, 6.0)
    auto, _, _ = sep.sum_ellipse(sub, x, y, a, b, theta, 2.5 * kron, err=rms, subpix=1)
    small = kron * np.sqrt(a * b) < 3.5
    if small.any():
        auto[small], _, _ = sep.sum_circle(sub, x[small], y[small], 3.5, err=rms, subpix=1)
    radius, _ = sep.flux_radius(sub, x, y, 6.0 * a, 0.5, normflux=auto, subpix=5)
    sigma = np.maximum(2.0 / 2.35 * radius, 2.0 / 2.35 * 0.5)
    sep.winpos(sub, x, y, sigma)
    return int(len(objects))
