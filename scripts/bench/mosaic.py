#!/usr/bin/python3
"""Writes a generated mosaic exposure: an empty primary HDU, then N named image extensions
(CCD1..CCDN), each W x H float32 pixels of sky, noise and Gaussian stars (deterministic for a seed).
Used by scripts/bench/hdu-split and the cluster test of the per-HDU split.

usage: mosaic.py OUT.fits N [W H [SEED]]
"""
import sys

import numpy as np
from astropy.io import fits


def ccd(rng, width, height):
    y, x = np.mgrid[0:height, 0:width]
    image = 120.0 + rng.normal(0.0, 5.0, (height, width))
    for _ in range(max(4, width * height // 1500)):
        cx, cy = rng.uniform(4, width - 4), rng.uniform(4, height - 4)
        flux, sigma = rng.uniform(500, 20000), 1.5
        image += flux / (2 * np.pi * sigma ** 2) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma ** 2))
    return image.astype(np.float32)


def main():
    out, count = sys.argv[1], int(sys.argv[2])
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    height = int(sys.argv[4]) if len(sys.argv) > 4 else 192
    seed = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    rng = np.random.default_rng(seed)
    hdus = [fits.PrimaryHDU()] + [fits.ImageHDU(ccd(rng, width, height), name="CCD%d" % (i + 1))
                                  for i in range(count)]
    fits.HDUList(hdus).writeto(out, overwrite=True)


if __name__ == "__main__":
    main()
