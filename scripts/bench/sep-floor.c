/* The C floor for scripts/bench/scaling: read FITS frames with CFITSIO and run on each the
 * SEP calls of extract-c.c (the ones Sextant's Extraction wrapper makes). No engine, no
 * catalog file: the least work any tool must do per frame.
 *
 * usage: sep-floor FRAME.fits...
 * Prints one line per frame: "<path> <objects> <sum of FLUX_AUTO> <seconds>".
 */
#define EXTRACT_C_NO_MAIN
#include "extract-c.c"
#include <fitsio.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FRAME.fits...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        double t0 = now(CLOCK_MONOTONIC);
        fitsfile *fits = NULL;
        int status = 0, naxis = 0, anynul = 0;
        long dims[2] = {0, 0};
        if (ffopen(&fits, argv[i], READONLY, &status) || ffgidm(fits, &naxis, &status)
            || ffgisz(fits, 2, dims, &status) || naxis != 2) {
            char text[31] = "";
            ffgerr(status, text);
            fprintf(stderr, "%s: cannot read a 2-D image (%s)\n", argv[i], status ? text : "not 2-D");
            return 1;
        }
        int w = (int)dims[0], h = (int)dims[1];
        size_t n = (size_t)w * h;
        float *pixels = malloc(n * sizeof(float)), *sub = malloc(n * sizeof(float));
        float nulval = 0;
        if (ffgpv(fits, TFLOAT, 1, (LONGLONG)n, &nulval, pixels, &anynul, &status)) {
            char text[31] = "";
            ffgerr(status, text);
            fprintf(stderr, "%s: cannot read pixels (%s)\n", argv[i], text);
            return 1;
        }
        ffclos(fits, &status);
        double total = 0;
        int nobj = extract_frame(pixels, sub, w, h, &total);
        printf("%s %d %.17g %.6f\n", argv[i], nobj, total, now(CLOCK_MONOTONIC) - t0);
        free(pixels);
        free(sub);
    }
    return 0;
}
