/* libFuzzer target for crescendoctl's pure parts: any bytes as an API answer (every renderer
 * and the error line) and as a command line (NUL-separated words: argument parsing and the
 * `config set` KEY=VALUE typing). Nothing may crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl_args.h"
#include "ctl_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_all(const char *buf, size_t len, FILE *sink)
{
    json_error_t jerr;
    json_t *j = json_loadb(buf, len, JSON_DECODE_ANY, &jerr);
    if (j) {
        cresc_ctl_format_status(j, sink);
        cresc_ctl_format_decision(j, sink);
        cresc_ctl_format_config(j, sink);
        cresc_ctl_format_priorities(j, sink);
        cresc_ctl_format_flat(j, sink);
        json_decref(j);
    }
    cresc_ctl_format_error(400, buf, len, sink);
}

static void parse_words(const char *buf, size_t len)
{
    char *argv[CRESC_CTL_KV_MAX + 8];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t) "crescendoctl";
    size_t i = 0;
    while (i < len && argc < (int)(sizeof argv / sizeof argv[0])) {
        argv[argc++] = (char *)(uintptr_t)(buf + i);
        i += strlen(buf + i) + 1;
    }
    struct cresc_ctl_args a;
    char err[256];
    if (cresc_ctl_args_parse(argc, argv, NULL, &a, err, sizeof err) == 0 &&
        a.cmd == CRESC_CTL_CMD_CONFIG_SET) {
        json_t *out = NULL;
        if (cresc_ctl_kv_to_json(a.kv, a.n_kv, &out, err, sizeof err) == 0) {
            json_decref(out);
        }
    }
    /* The same words as KEY=VALUE directly, whatever the command. */
    json_t *out = NULL;
    if (argc > 1 && cresc_ctl_kv_to_json((const char *const *)(argv + 1), (size_t)(argc - 1), &out,
                                         err, sizeof err) == 0) {
        json_decref(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20) {
        return 0;
    }
    char *buf = malloc(size + 1);
    if (!buf) {
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    FILE *sink = fopen("/dev/null", "w");
    if (sink) {
        render_all(buf, size, sink);
        fclose(sink);
    }
    parse_words(buf, size);
    free(buf);
    return 0;
}
