#!/usr/bin/python3
"""Writes a corpus of hostile FITS files mutated from real images, for fuzzing `sextant run`.

usage: scripts/fuzz/make-fits-corpus.py OUT_DIR COUNT SEED IMAGE...
       scripts/fuzz/make-fits-corpus.py --seeds OUT_DIR [IMAGE...]   (the unmutated seeds only:
       the fixed starting corpus of the libFuzzer harness, scripts/fuzz/fits-libfuzzer; without
       an IMAGE, of a fixed synthetic frame)

Seeds: each IMAGE's primary header and pixels, cropped to 96 x 96 so thousands of files run in
seconds, written plain (BITPIX as found and int16), gzip'd and tile-compressed (RICE and GZIP).
Each output file is one seed with one to three mutations:
  truncate   cut anywhere (in the header, the data, a tile, the gzip stream)
  bitflip    1 to 64 random bits flipped, in the header or the data
  bytes      a run of random bytes written over the file
  size       NAXISn / ZNAXISn / ZTILEn / PCOUNT / GCOUNT / NAXIS set to a huge, negative, zero or
             off-by-one value (2^31, 2^32, 2^63-1, 200000, -1, 0, n+1, n-1)
  bitpix     BITPIX or ZBITPIX set to a value FITS does not allow
  table      tile descriptors and heap bytes of a compressed image overwritten (tables that lie)
  card       END removed, a card duplicated, a card's value garbled, CONTINUE junk
  isize      a gzip trailer that lies about the inflated size
Files are named fuzz-NNNNN-<mutations>.<suffix>, so no two catalogs collide. The same SEED gives
the same corpus. Needs numpy and astropy (Debian's python3).
"""
import gzip
import io
import os
import random
import struct
import sys

import warnings

import numpy as np
from astropy.io import fits

warnings.simplefilter("ignore")  # the seeds' odd cards (ESO-LOG ...) are fine

HUGE = [2**31, 2**32, 2**63 - 1, 200000, 65536, -1, 0, -2**31]


def seeds(images, rng):
    out = []
    for path in images:
        with fits.open(path) as hdus:
            hdu = next(h for h in hdus if h.data is not None and h.data.ndim == 2)
            data = np.asarray(hdu.data)[:96, :96]
            header = hdu.header.copy()
        for cards in ("NAXIS1", "NAXIS2"):
            header.remove(cards, ignore_missing=True)
        variants = [("fits", fits.PrimaryHDU(data.astype(data.dtype.newbyteorder("="), copy=False), header)),
                    ("fits", fits.PrimaryHDU(np.clip(data, -32768, 32767).astype(np.int16), header))]
        for name, hdu in variants:
            buffer = io.BytesIO()
            hdu.writeto(buffer, output_verify="silentfix")
            out.append((name, buffer.getvalue()))
        plain = out[-2][1]
        out.append(("fits.gz", gzip.compress(plain)))
        for compression in ("RICE_1", "GZIP_1"):
            buffer = io.BytesIO()
            fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data.astype(np.float32), compression_type=compression)]).writeto(buffer)
            out.append(("fz", buffer.getvalue()))
    return out


def cards(raw):
    """Offsets of every 80-byte card in the header blocks (all HDUs, as far as they parse)."""
    offsets = []
    for offset in range(0, len(raw) - 79, 80):
        keyword = raw[offset:offset + 8]
        if keyword[:1].isalpha() or keyword.startswith(b"END"):
            offsets.append(offset)
    return offsets


def set_card(raw, keyword, value):
    key = keyword.ljust(8).encode()
    hits = [o for o in cards(raw) if raw[o:o + 8] == key]
    if not hits:
        return raw
    offset = random.choice(hits)
    card = (keyword.ljust(8) + "= " + str(value).rjust(20)).ljust(80)[:80].encode()
    return raw[:offset] + card + raw[offset + 80:]


def mutate(kind, raw, suffix, rng):
    data = bytearray(raw)
    if kind == "truncate":
        return bytes(data[:rng.randrange(1, max(2, len(data)))])
    if kind == "bitflip":
        header_end = min(len(data), 2880 * 2)
        for _ in range(rng.randint(1, 64)):
            position = rng.randrange(header_end) if rng.random() < 0.5 else rng.randrange(len(data))
            data[position] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == "bytes":
        start = rng.randrange(len(data))
        length = rng.randint(1, 400)
        data[start:start + length] = bytes(rng.randrange(256) for _ in range(min(length, len(data) - start)))
        return bytes(data)
    if suffix == "fits.gz" and kind in ("size", "bitpix", "card", "table"):
        try:
            inner = gzip.decompress(raw)
        except Exception:  # already damaged by an earlier mutation
            return mutate("bitflip", raw, suffix, rng)
        return gzip.compress(mutate(kind, inner, "fits", rng))
    if kind == "size":
        keyword = rng.choice(["NAXIS1", "NAXIS2", "NAXIS", "PCOUNT", "GCOUNT", "ZNAXIS1", "ZNAXIS2", "ZTILE1", "ZTILE2", "THEAP"])
        return set_card(raw, keyword, rng.choice(HUGE + [97, 95, 1]))
    if kind == "bitpix":
        return set_card(raw, rng.choice(["BITPIX", "ZBITPIX"]), rng.choice([0, 7, 12, 24, -16, -8, 128, 99999, -2**63]))
    if kind == "table":
        if suffix != "fz" or len(data) <= 5760:
            return mutate("bitflip", raw, suffix, rng)
        # The table and heap of the compressed image: descriptors first, then tile bytes.
        start = 5760 + rng.randrange(min(len(data) - 5760, 400))
        for _ in range(rng.randint(1, 8)):
            position = start + rng.randrange(16) * 4
            if position + 4 <= len(data):
                data[position:position + 4] = struct.pack(">i", rng.choice([2**31 - 1, -1, 0, 10**9, rng.randrange(2**31)]))
        return bytes(data)
    if kind == "card":
        offsets = cards(raw)
        if not offsets:
            return mutate("bitflip", raw, suffix, rng)
        choice = rng.randrange(4)
        offset = rng.choice(offsets)
        if choice == 0:
            ends = [o for o in offsets if raw[o:o + 3] == b"END"]
            if ends:
                offset = rng.choice(ends)
                data[offset:offset + 80] = b" " * 80
        elif choice == 1:
            target = rng.choice(offsets)
            data[target:target + 80] = data[offset:offset + 80]
        elif choice == 2:
            data[offset + 10:offset + 30] = rng.choice([b"'unterminated      ", b"1.0E99999          ", b"T F T F            ", b"(1,2)              "]).ljust(20)[:20]
        else:
            data[offset:offset + 80] = b"CONTINUE  '" + bytes(rng.randrange(32, 127) for _ in range(69))
        return bytes(data)
    if kind == "isize":
        if suffix != "fits.gz":
            return mutate("truncate", raw, suffix, rng)
        return raw[:-4] + struct.pack("<I", rng.choice([0, 1, 2**32 - 1, len(raw) * 2000, 2880]))
    raise ValueError(kind)


def synthetic_image(path):
    """A fixed 96 x 96 float32 frame (sky, noise, a dozen stars) for when no real image is given."""
    rng = np.random.RandomState(0)
    y, x = np.mgrid[0:96, 0:96]
    data = 1000 + rng.normal(0, 10, (96, 96))
    for _ in range(12):
        cx, cy, flux = rng.uniform(5, 91), rng.uniform(5, 91), rng.uniform(500, 5000)
        data += flux * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 1.5 ** 2))
    fits.PrimaryHDU(data.astype(np.float32)).writeto(path, overwrite=True)
    return path


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--seeds":
        out = sys.argv[2]
        os.makedirs(out, exist_ok=True)
        images = sys.argv[3:] or [synthetic_image(os.path.join(out, ".synthetic.fits"))]
        bases = seeds(images, random.Random(0))
        if not sys.argv[3:]:
            os.remove(images[0])
        for number, (suffix, raw) in enumerate(bases):
            with open(os.path.join(out, "seed-%02d.%s" % (number, suffix)), "wb") as f:
                f.write(raw)
        print(len(bases))
        return
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    out, count, seed, images = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    rng = random.Random(seed)
    random.seed(seed)
    os.makedirs(out, exist_ok=True)
    bases = seeds(images, rng)
    kinds = ["truncate", "bitflip", "bytes", "size", "bitpix", "table", "card", "isize"]
    for number in range(count):
        suffix, raw = rng.choice(bases)
        applied = rng.sample(kinds, rng.choice([1, 1, 1, 2, 3]))
        for kind in applied:
            raw = mutate(kind, raw, suffix, rng)
        name = "fuzz-%05d-%s.%s" % (number, "-".join(applied), suffix)
        with open(os.path.join(out, name), "wb") as f:
            f.write(raw)
    print(count)


if __name__ == "__main__":
    main()
