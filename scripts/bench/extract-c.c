/* The SEP calls Sextant's Extraction wrapper makes, straight from C, for timing.
 *
 * usage: extract-c PIXELS.f32 WIDTH HEIGHT ITERATIONS
 *
 * Reads a raw native float32 image and runs, ITERATIONS times: sep_background,
 * sep_bkg_subarray on a copy, sep_extract (thresh 1.5 x global rms, the 3x3 default
 * kernel, SEP's defaults), then per object sep_sum_circle (r 3, subpix 5), the Kron
 * radius and FLUX_AUTO recipe, sep_flux_radius and sep_windowed, as
 * Sources/Extraction/Photometry.swift does. With `aperture_only` set (sep-floor -a), the
 * photometry is sep_sum_circle alone: what positions + FLUX_APER need. Prints one line per iteration:
 * "<wall seconds> <thread CPU seconds> <objects> <sum of FLUX_AUTO>".
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sep.h>

static double now(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void check(int status, const char *what) {
    if (status) {
        char msg[61], detail[512];
        sep_get_errmsg(status, msg);
        sep_get_errdetail(detail);
        fprintf(stderr, "%s: %s (%s)\n", what, msg, detail);
        exit(1);
    }
}

/* Set by sep-floor -a: FLUX_APER only, no Kron, AUTO, flux radius or windowed positions. */
static int aperture_only = 0;

/* Set by sep-floor -w: each object's catalog values are kept in `rows`, row after row, in the
 * order of Sextant's default columns (FULL_COLUMNS) or of -a's (APERTURE_COLUMNS). */
#define FULL_COLUMNS 28
#define APERTURE_COLUMNS 5
static int keep_rows = 0;
static double *rows = NULL;
static size_t row_capacity = 0;

static double *row_at(int i) {
    size_t need = (size_t)(i + 1) * FULL_COLUMNS;
    if (need > row_capacity) {
        row_capacity = need * 2;
        rows = realloc(rows, row_capacity * sizeof(double));
        if (!rows) { fprintf(stderr, "out of memory\n"); exit(1); }
    }
    return rows + (size_t)i * (aperture_only ? APERTURE_COLUMNS : FULL_COLUMNS);
}

/* One extraction: background, subtraction into `sub`, detection, then the photometry of
 * every object. Returns the object count; *flux_auto_sum gets the sum of FLUX_AUTO. */
static int extract_frame(float *pixels, float *sub, int w, int h, double *flux_auto_sum) {
    static const float kernel[9] = {1, 2, 1, 2, 4, 2, 1, 2, 1};
    size_t n = (size_t)w * h;
    sep_image im = {pixels, NULL, NULL, NULL, SEP_TFLOAT, SEP_TFLOAT, SEP_TBYTE, SEP_TINT,
                    w, h, 0.0, SEP_NOISE_NONE, 0.0, 0.0};
    sep_bkg *bkg = NULL;
    check(sep_background(&im, 64, 64, 3, 3, 0.0, &bkg), "sep_background");
    memcpy(sub, pixels, n * sizeof(float));
    check(sep_bkg_subarray(bkg, sub, SEP_TFLOAT), "sep_bkg_subarray");
    double rms = sep_bkg_globalrms(bkg);

    sep_image noisy = {sub, NULL, NULL, NULL, SEP_TFLOAT, SEP_TFLOAT, SEP_TBYTE, SEP_TINT,
                       w, h, rms, SEP_NOISE_STDDEV, 0.0, 0.0};
    sep_image plain = noisy;
    plain.noiseval = 0.0;
    plain.noise_type = SEP_NOISE_NONE;
    sep_catalog *cat = NULL;
    check(sep_extract(&noisy, 1.5f, SEP_THRESH_REL, 5, kernel, 3, 3, SEP_FILTER_CONV,
                      32, 0.005, 1, 1.0, &cat), "sep_extract");

    double total = 0;
    for (int i = 0; i < cat->nobj; i++) {
        double x = cat->x[i], y = cat->y[i], a = cat->a[i], b = cat->b[i], theta = cat->theta[i];
        double sum, err, area, cxx, cyy, cxy, kr, fr, xw, yw, frac = 0.5;
        short flag, kflag, frflag, wflag;
        int niter;
        check(sep_sum_circle(&noisy, x, y, 3.0, 0, 5, 0, &sum, &err, &area, &flag), "sep_sum_circle");
        double aper = sum, aper_err = err;
        if (aperture_only) {
            total += sum;
            if (keep_rows) {
                double *row = row_at(i);
                row[0] = i + 1; row[1] = x + 1; row[2] = y + 1; row[3] = aper; row[4] = aper_err;
            }
            continue;
        }
        sep_ellipse_coeffs(a, b, theta, &cxx, &cyy, &cxy);
        check(sep_kron_radius(&plain, x, y, cxx, cyy, cxy, 6.0, 0, &kr, &kflag), "sep_kron_radius");
        if (kr * sqrt(a * b) < 3.5)
            check(sep_sum_circle(&noisy, x, y, 3.5, 0, 1, 0, &sum, &err, &area, &flag), "auto circle");
        else
            check(sep_sum_ellipse(&noisy, x, y, a, b, theta, 2.5 * kr, 0, 1, 0, &sum, &err, &area, &flag),
                  "sep_sum_ellipse");
        total += sum;
        check(sep_flux_radius(&plain, x, y, 6.0 * a, 0, 5, 0, &sum, &frac, 1, &fr, &frflag), "sep_flux_radius");
        double sig = 2.0 / 2.35 * fr;
        if (sig < 2.0 / 2.35 * 0.5) sig = 2.0 / 2.35 * 0.5;
        check(sep_windowed(&plain, x, y, sig, 11, 0, &xw, &yw, &niter, &wflag), "sep_windowed");
        if (keep_rows) {
            double *row = row_at(i);
            double values[FULL_COLUMNS] = {
                i + 1, x + 1, y + 1, cat->x2[i], cat->y2[i], cat->xy[i], a, b, theta,
                cat->cxx[i], cat->cyy[i], cat->cxy[i], cat->npix[i], cat->flux[i], cat->peak[i],
                cat->xmin[i] + 1, cat->ymin[i] + 1, cat->xmax[i] + 1, cat->ymax[i] + 1, aper, aper_err,
                kr, sum, err, fr, xw + 1, yw + 1, cat->flag[i] | flag};
            memcpy(row, values, sizeof values);
        }
    }
    int nobj = cat->nobj;
    sep_catalog_free(cat);
    sep_bkg_free(bkg);
    *flux_auto_sum = total;
    return nobj;
}

#ifndef EXTRACT_C_NO_MAIN
int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s PIXELS.f32 WIDTH HEIGHT ITERATIONS\n", argv[0]);
        return 2;
    }
    int w = atoi(argv[2]), h = atoi(argv[3]), iterations = atoi(argv[4]);
    size_t n = (size_t)w * h;
    float *pixels = malloc(n * sizeof(float)), *sub = malloc(n * sizeof(float));
    FILE *f = fopen(argv[1], "rb");
    if (!f || fread(pixels, sizeof(float), n, f) != n) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    fclose(f);

    for (int it = 0; it < iterations; it++) {
        double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
        double total = 0;
        int nobj = extract_frame(pixels, sub, w, h, &total);
        printf("%.6f %.6f %d %.17g\n", now(CLOCK_MONOTONIC) - t0, now(CLOCK_THREAD_CPUTIME_ID) - c0,
               nobj, total);
    }
    free(pixels);
    free(sub);
    return 0;
}
#endif
