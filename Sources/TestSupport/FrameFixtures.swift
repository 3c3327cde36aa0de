/// Frames for the frame-table tests, written by numpy and astropy (no code shared with Sextant):
/// pixel-integrated Gaussian stars of known seeing on flat backgrounds, with varied FILTER,
/// EXPTIME, MJD-OBS or DATE-OBS, AIRMASS and TAN WCS (one frame without), and a two-CCD mosaic
/// whose FILTER and EXPTIME are in its primary header. `truth.json` holds each HDU's seeing and stars.
/// Run with `TestSupport.python(FrameFixtures.generator, arguments: [directory])`.
public enum FrameFixtures {
    public static let generator = #"""
import json, sys
import numpy as np
from astropy.io import fits

def erf(x):
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf and scipy is not installed.
    s = np.sign(x); x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-x * x)
    return s * y

def star_image(n, stars, fwhm):
    sigma = fwhm / 2.3548200450309493
    edges = np.arange(n + 1) - 0.5
    img = np.zeros((n, n))
    for x0, y0, flux in stars:
        cx = np.diff(erf((edges - x0) / (np.sqrt(2) * sigma))) / 2
        cy = np.diff(erf((edges - y0) / (np.sqrt(2) * sigma))) / 2
        img += flux * np.outer(cy, cx)
    return img

def frame(rng, n, fwhm, background, noise):
    stars = []
    for j in range(5):
        for i in range(5):
            stars.append((25 + 50 * i + rng.uniform(-2, 2), 25 + 50 * j + rng.uniform(-2, 2), rng.uniform(3e4, 1.5e5)))
    img = background + star_image(n, stars, fwhm) + rng.normal(0, noise, (n, n))
    return img.astype(np.float32), stars

def wcs_cards(h, ra, dec, n):
    h['CTYPE1'] = 'RA---TAN'; h['CTYPE2'] = 'DEC--TAN'
    h['CRVAL1'] = ra; h['CRVAL2'] = dec
    h['CRPIX1'] = n / 2 + 0.5; h['CRPIX2'] = n / 2 + 0.5
    h['CD1_1'] = -0.4 / 3600; h['CD1_2'] = 0.0; h['CD2_1'] = 0.0; h['CD2_2'] = 0.4 / 3600
    h['EQUINOX'] = 2000.0; h['RADESYS'] = 'ICRS'

out = sys.argv[1]
rng = np.random.default_rng(22)
n = 256
specs = [
    ("f0", dict(FILTER='r', EXPTIME=30.0, **{'MJD-OBS': 60000.10}, AIRMASS=1.1, GAIN=2.0), 3.0, 200.0, 6.0, (150.10, 2.20)),
    ("f1", dict(FILTER='r', EXPTIME=10.0, **{'DATE-OBS': '2023-02-25T03:00:00'}, AIRMASS=1.3), 4.0, 500.0, 9.0, (150.12, 2.21)),
    ("f2", dict(FILTER='g', EXPTIME=60.0, **{'MJD-OBS': 60000.30}), 3.5, 100.0, 4.0, (150.14, 2.19)),
    ("f3", dict(FILTER='i', EXPTIME=45.0, **{'MJD-OBS': 60000.40}), 5.0, 800.0, 12.0, None),
    ("f5", dict(FILTER='z', **{'MJD-OBS': 60000.60}), 3.3, 300.0, 7.0, (150.11, 2.23)),
]
truth = {}
for name, keys, fwhm, bkg, noise, sky in specs:
    img, stars = frame(rng, n, fwhm, bkg, noise)
    hdu = fits.PrimaryHDU(img)
    for k, v in keys.items(): hdu.header[k] = v
    if sky: wcs_cards(hdu.header, sky[0], sky[1], n)
    hdu.writeto(f"{out}/{name}.fits", overwrite=True)
    truth[name] = {"0": {"fwhm": fwhm, "stars": stars}}

# A mosaic: FILTER and EXPTIME in the primary header, two CCDs with their own seeing.
primary = fits.PrimaryHDU()
primary.header['FILTER'] = 'r'; primary.header['EXPTIME'] = 60.0; primary.header['MJD-OBS'] = 60000.50
hdus = [primary]
truth["f4"] = {}
for index, (fwhm, ra) in enumerate([(3.2, 150.16), (3.8, 150.19)], start=1):
    img, stars = frame(rng, n, fwhm, 250.0, 6.0)
    ext = fits.ImageHDU(img, name=f"CCD{index}")
    wcs_cards(ext.header, ra, 2.20, n)
    hdus.append(ext)
    truth["f4"][str(index)] = {"fwhm": fwhm, "stars": stars}
fits.HDUList(hdus).writeto(f"{out}/f4.fits", overwrite=True)
json.dump(truth, open(f"{out}/truth.json", "w"))
"""#
}
