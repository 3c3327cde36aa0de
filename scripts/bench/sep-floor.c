/* The C floor for scripts/bench/scaling: read FITS frames with CFITSIO and run on each the
 * SEP calls of extract-c.c (the ones Sextant's Extraction wrapper makes). No engine, no
 * catalog file: the least work any tool must do per frame.
 *
 * usage: sep-floor [-a] [-s] [-w DIR] [-j N] FRAME.fits...
 * -a: positions + FLUX_APER only (extract-c.c's aperture_only).
 * -s: also SHA-256 each file first, read in 4 MiB chunks as Sextant's input checksum does
 *     (sextant.provenance.inputChecksum, on by default), so the floor does that work too.
 * -w DIR: also write each frame's catalog as Sextant's default output does: a FITS binary
 *     table (the default columns, or -a's five) written with CFITSIO to a temporary name in
 *     DIR, fsync'd and renamed to NAME.cat.fits: the catalog work a tool cannot skip.
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
#include <fcntl.h>
#include <openssl/evp.h>

static int extract_file(const char *path);
static int hash_inputs = 0;
static const char *catalog_dir = NULL;

int main(int argc, char **argv) {
    int workers = 1, first = 1;
    if (argc > 1 && strcmp(argv[1], "-a") == 0) {
        aperture_only = 1;
        first = 2;
    }
    if (argc > first && strcmp(argv[first], "-s") == 0) {
        hash_inputs = 1;
        first++;
    }
    if (argc > first + 1 && strcmp(argv[first], "-w") == 0) {
        catalog_dir = argv[first + 1];
        keep_rows = 1;
        first += 2;
    }
    if (argc > first + 1 && strcmp(argv[first], "-j") == 0) {
        workers = atoi(argv[first + 1]);
        first += 2;
    }
    if (argc <= first || workers < 1) {
        fprintf(stderr, "usage: %s [-a] [-s] [-w DIR] [-j N] FRAME.fits...\n", argv[0]);
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

/* The SHA-256 of a file's bytes, read in 4 MiB chunks; returns non-zero on a read error. */
static int hash_file(const char *path, unsigned char digest[EVP_MAX_MD_SIZE]) {
    static unsigned char buffer[4 << 20];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { perror(path); return 1; }
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    EVP_DigestInit_ex(context, EVP_sha256(), NULL);
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) EVP_DigestUpdate(context, buffer, (size_t)n);
    close(fd);
    unsigned int length = 0;
    EVP_DigestFinal_ex(context, digest, &length);
    EVP_MD_CTX_free(context);
    if (n < 0) { perror(path); return 1; }
    return 0;
}

/* Writes `rows` (nobj objects) as DIR/<frame name without .fits>.cat.fits, through a
 * temporary file that is fsync'd and renamed, as Sextant commits a catalog. */
static int write_catalog(const char *path, int nobj) {
    static char *full[FULL_COLUMNS] = {
        "NUMBER", "X_IMAGE", "Y_IMAGE", "X2_IMAGE", "Y2_IMAGE", "XY_IMAGE", "A_IMAGE", "B_IMAGE",
        "THETA_IMAGE", "CXX_IMAGE", "CYY_IMAGE", "CXY_IMAGE", "ISOAREA_IMAGE", "FLUX_ISO", "FLUX_MAX",
        "XMIN_IMAGE", "YMIN_IMAGE", "XMAX_IMAGE", "YMAX_IMAGE", "FLUX_APER", "FLUXERR_APER",
        "KRON_RADIUS", "FLUX_AUTO", "FLUXERR_AUTO", "FLUX_RADIUS", "XWIN_IMAGE", "YWIN_IMAGE", "FLAGS"};
    static char *aperture[APERTURE_COLUMNS] = {"NUMBER", "X_IMAGE", "Y_IMAGE", "FLUX_APER", "FLUXERR_APER"};
    char *formats[FULL_COLUMNS];
    int ncols = aperture_only ? APERTURE_COLUMNS : FULL_COLUMNS;
    for (int c = 0; c < ncols; c++) formats[c] = "1D";  /* every value a double */
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t stem = strlen(base) > 5 && strcmp(base + strlen(base) - 5, ".fits") == 0 ? strlen(base) - 5 : strlen(base);
    char final[4096], temporary[4096 + 8];
    snprintf(final, sizeof final, "%s/%.*s.cat.fits", catalog_dir, (int)stem, base);
    snprintf(temporary, sizeof temporary, "!%s.tmp", final);
    fitsfile *out = NULL;
    int status = 0;
    double *column = malloc((nobj > 0 ? nobj : 1) * sizeof(double));
    ffinit(&out, temporary, &status);
    ffcrtb(out, BINARY_TBL, nobj, ncols, aperture_only ? aperture : full, formats, NULL, "OBJECTS", &status);
    for (int c = 0; c < ncols && !status; c++) {
        for (int i = 0; i < nobj; i++) column[i] = rows[(size_t)i * ncols + c];
        if (nobj > 0) ffpcld(out, c + 1, 1, 1, nobj, column, &status);
    }
    ffclos(out, &status);
    free(column);
    if (status) {
        char text[31];
        ffgerr(status, text);
        fprintf(stderr, "%s: cannot write its catalog (%s)\n", path, text);
        return 1;
    }
    int fd = open(temporary + 1, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) || close(fd) || rename(temporary + 1, final)) { perror(final); return 1; }
    return 0;
}

/* Reads one FITS image with CFITSIO and extracts it; returns non-zero on a read error. */
static int extract_file(const char *path) {
    double t0 = now(CLOCK_MONOTONIC);
    unsigned char digest[EVP_MAX_MD_SIZE];
    if (hash_inputs && hash_file(path, digest)) return 1;
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
    if (catalog_dir && write_catalog(path, nobj)) return 1;
    printf("%s %d %.17g %.6f\n", path, nobj, total, now(CLOCK_MONOTONIC) - t0);
    free(pixels);
    free(sub);
    return 0;
}
