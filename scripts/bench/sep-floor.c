/* The C floor for scripts/bench/scaling: read FITS frames with CFITSIO and run on each the
 * SEP calls of extract-c.c (the ones Sextant's Extraction wrapper makes). No engine, no
 * catalog file: the least work any tool must do per frame.
 *
 * usage: sep-floor [-a] [-j N] FRAME.fits...
 * -a: positions + FLUX_APER only (extract-c.c's aperture_only).
 * With -j N, N forked processes take the next frame from a shared counter as they free up
 * (pull scheduling, like every tool measured against it). Prints one line per frame:
 * "<path> <objects> <sum of FLUX_AUTO> <seconds>".
 */
#define EXTRACT_C_NO_MAIN
#include "extract-c.c"
#include <fitsio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static int extract_file(const char *path);

int main(int argc, char **argv) {
    int workers = 1, first = 1;
    if (argc > 1 && strcmp(argv[1], "-a") == 0) {
        aperture_only = 1;
        first = 2;
    }
    if (argc > first + 1 && strcmp(argv[first], "-j") == 0) {
        workers = atoi(argv[first + 1]);
        first += 2;
    }
    if (argc <= first || workers < 1) {
        fprintf(stderr, "usage: %s [-a] [-j N] FRAME.fits...\n", argv[0]);
        return 2;
    }
    int *next = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (next == MAP_FAILED) { perror("mmap"); return 1; }
    *next = first;
    fflush(stdout);
    for (int w = 0; w < workers; w++) {
        pid_t pid = workers == 1 ? 0 : fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid > 0) continue;
        int i;
        while ((i = __atomic_fetch_add(next, 1, __ATOMIC_SEQ_CST)) < argc) {
            if (extract_file(argv[i])) _exit(1);
            fflush(stdout);
        }
        if (workers == 1) return 0;
        _exit(0);
    }
    int failed = 0, status;
    while (wait(&status) > 0) failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return failed;
}

/* Reads one FITS image with CFITSIO and extracts it; returns non-zero on a read error. */
static int extract_file(const char *path) {
    double t0 = now(CLOCK_MONOTONIC);
    fitsfile *fits = NULL;
    int status = 0, naxis = 0, anynul = 0;
    long dims[2] = {0, 0};
    char text[31] = "";
    if (ffopen(&fits, path, READONLY, &status) || ffgidm(fits, &naxis, &status)
        || ffgisz(fits, 2, dims, &status) || naxis != 2) {
        ffgerr(status, text);
        fprintf(stderr, "%s: cannot read a 2-D image (%s)\n", path, status ? text : "not 2-D");
        return 1;
    }
    int w = (int)dims[0], h = (int)dims[1];
    size_t n = (size_t)w * h;
    float *pixels = malloc(n * sizeof(float)), *sub = malloc(n * sizeof(float));
    float nulval = 0;
    if (ffgpv(fits, TFLOAT, 1, (LONGLONG)n, &nulval, pixels, &anynul, &status)) {
        ffgerr(status, text);
        fprintf(stderr, "%s: cannot read pixels (%s)\n", path, text);
        return 1;
    }
    ffclos(fits, &status);
    double total = 0;
    int nobj = extract_frame(pixels, sub, w, h, &total);
    printf("%s %d %.17g %.6f\n", path, nobj, total, now(CLOCK_MONOTONIC) - t0);
    free(pixels);
    free(sub);
    return 0;
}
