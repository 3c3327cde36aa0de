#!/usr/bin/python3
"""An independent computation of `sextant merge`'s sky catalog, for its tests and benchmark.

Usage: sky_merge.py CATALOG_DIR SKY_DIR RADIUS_ARCSEC [TRUTH_CSV]

Reads the frame catalogs SKY_DIR/_frames.csv lists (astropy), applies the documented primary
rule to the whole sky at once (no tiles, no margins; candidate pairs from a declination
sort, separations from astropy's angular_separation; Debian's astropy has no scipy for
search_around_sky): detections ranked by distance to their frame's centre in pixels, then
frame, then row; each untaken detection becomes a source that takes, from every other frame,
the nearest untaken detection within the radius. Compares the (FRAME, HDU, ROW, NDETECT) of
every source with the tiles sextant wrote, and, given the truth, counts truth stars seen in
some frame that are missing or duplicated. Prints one JSON object.
"""
import csv
import json
import sys

import numpy as np
from astropy.coordinates import angular_separation
from astropy.io import fits

catalog_dir, sky_dir, radius = sys.argv[1], sys.argv[2], float(sys.argv[3])
truth_csv = sys.argv[4] if len(sys.argv) > 4 else None

ra, dec, dist, frame, hdu, row = [], [], [], [], [], []
frames = list(csv.DictReader(open(f"{sky_dir}/_frames.csv")))
for entry in frames:
    with fits.open(f"{catalog_dir}/{entry['CATALOG']}") as hdus:
        for index, table in enumerate(hdus):
            if not isinstance(table, fits.BinTableHDU) or "ALPHA_J2000" not in table.columns.names:
                continue
            data = table.data
            a = np.asarray(data["ALPHA_J2000"], float)
            d = np.asarray(data["DELTA_J2000"], float)
            x = np.asarray(data["X_IMAGE"], float)
            y = np.asarray(data["Y_IMAGE"], float)
            w, h = table.header["IMWIDTH"], table.header["IMHEIGHT"]
            r = np.hypot(x - (w + 1) / 2, y - (h + 1) / 2)
            for i in np.nonzero(np.isfinite(a) & np.isfinite(d))[0]:
                ra.append(a[i]); dec.append(d[i]); dist.append(r[i])
                frame.append(int(entry["FRAME"])); hdu.append(index); row.append(int(i))



def pairs(ra1, dec1, ra2, dec2, arcsec):
    """(i, j, separation in arcsec) for every position j of the second list within `arcsec` of i."""
    ra2, dec2 = np.asarray(ra2), np.asarray(dec2)
    by_dec = np.argsort(dec2)
    sorted_dec = dec2[by_dec]
    window = arcsec / 3600
    for i, (a, d) in enumerate(zip(ra1, dec1)):
        lo, hi = np.searchsorted(sorted_dec, [d - window, d + window])
        js = by_dec[lo:hi]
        if len(js) == 0:
            continue
        s = np.degrees(angular_separation(np.radians(a), np.radians(d), np.radians(ra2[js]), np.radians(dec2[js]))) * 3600
        for j, sep in zip(js[s <= arcsec], s[s <= arcsec]):
            yield i, int(j), float(sep)


n = len(ra)
name = [f"{f}/{h}" for f, h in zip(frame, hdu)]
neighbours = [[] for _ in range(n)]
for i, j, s in pairs(ra, dec, ra, dec, radius):
    if name[i] != name[j]:
        neighbours[i].append((j, s))

order = sorted(range(n), key=lambda i: (dist[i], name[i], row[i], ra[i], dec[i]))
taken = [False] * n
reference = set()
for i in order:
    if taken[i]:
        continue
    taken[i] = True
    best = {}
    for j, s in neighbours[i]:
        if not taken[j] and (name[j] not in best or s < best[name[j]][1]):
            best[name[j]] = (j, s)
    for j, _ in best.values():
        taken[j] = True
    reference.add((frame[i], hdu[i], row[i], 1 + len(best)))

merged = []
positions = []
for line in list(csv.DictReader(open(f"{sky_dir}/partition_info.csv"))):
    order_k, npix = int(line["Norder"]), int(line["Npix"])
    with fits.open(f"{sky_dir}/Norder={order_k}/Dir={npix // 10000 * 10000}/Npix={npix}.fits") as tile:
        data = tile[1].data
        for f, h, r, k, a, d in zip(data["FRAME"], data["HDU"], data["ROW"], data["NDETECT"], data["RA"], data["DEC"]):
            merged.append((int(f), int(h), int(r), int(k)))
            positions.append((float(a), float(d)))

result = {
    "detections": n,
    "reference": len(reference),
    "merged": len(merged),
    "mergedDistinct": len(set(merged)),
    "missing": len(reference - set(merged)),
    "extra": len(set(merged) - reference),
    "maxNDETECT": max((m[3] for m in merged), default=0),
    "multiple": sum(1 for m in merged if m[3] > 1),
}
if truth_csv:
    truth = np.loadtxt(truth_csv, delimiter=",", skiprows=1, ndmin=2)
    # A truth star counts as seen when some frame detected it; it must be one merged row.
    seen_stars = {i for i, _, _ in pairs(truth[:, 0], truth[:, 1], ra, dec, radius)}
    counts = np.zeros(len(truth), int)
    for i, _, _ in pairs(truth[:, 0], truth[:, 1], [p[0] for p in positions], [p[1] for p in positions], 2 * radius):
        counts[i] += 1
    result["truthSeen"] = len(seen_stars)
    result["truthMissing"] = sum(1 for s in seen_stars if counts[s] == 0)
    result["truthDuplicated"] = sum(1 for s in seen_stars if counts[s] > 1)
print(json.dumps(result))
