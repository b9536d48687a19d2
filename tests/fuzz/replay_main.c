/* Corpus replay for the normal (non-clang) build: links one fuzz target's
 * LLVMFuzzerTestOneInput and feeds it every file under the directories or files given, so the
 * checked-in corpus (and every past crash) runs in each `ctest -L unit`. Exit 1 on no input. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

/* The largest input replayed: corpora hold small files; bigger ones are a mistake. */
#define REPLAY_MAX_BYTES (4u * 1024u * 1024u)

static int replay_file(const char *path, size_t *n_run)
{
    int rc = -1;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        goto out;
    }
    buf = malloc(REPLAY_MAX_BYTES);
    if (!buf) {
        goto out;
    }
    size_t len = fread(buf, 1, REPLAY_MAX_BYTES, f);
    if (ferror(f) || !feof(f)) {
        fprintf(stderr, "replay: %s: unreadable or larger than %u bytes\n", path, REPLAY_MAX_BYTES);
        goto out;
    }
    /* An exact-size copy, as libFuzzer gives, so ASan sees reads past the end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        goto out;
    }
    memcpy(exact, buf, len);
    (void)LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    (*n_run)++;
    rc = 0;
out:
    free(buf);
    if (f) {
        fclose(f);
    }
    return rc;
}

static int replay_path(const char *path, size_t *n_run)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return replay_file(path, n_run);
    }
    struct dirent **names = NULL;
    int n = scandir(path, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.' && rc == 0) {
            char sub[4096];
            int w = snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name);
            if (w < 0 || (size_t)w >= sizeof sub) {
                rc = -1;
            } else {
                rc = replay_path(sub, n_run);
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    size_t n_run = 0;
    for (int i = 1; i < argc; i++) {
        if (replay_path(argv[i], &n_run) != 0) {
            return 1;
        }
    }
    printf("replayed %zu inputs\n", n_run);
    return n_run > 0 ? 0 : 1;
}
