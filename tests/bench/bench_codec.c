/* Codec speed: encode and decode of a sample (the coordinator's hot path: every consumed
 * sample is decoded once), a decision, and a state snapshot with 4096 priorities, next to a
 * bare jansson parse of the same sample (the floor any jansson-based decoder stands on).
 * Usage: bench_codec [iterations]. Prints one line per figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cresc/msg.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_sample(struct cresc_sample *s)
{
    memset(s, 0, sizeof(*s));
    strcpy(s->service, "game-server");
    strcpy(s->instance_id, "game-server-7d9f8c-x2k4q");
    strcpy(s->node, "node-a");
    s->seq = 1042;
    s->ts_ms = 1764400000123;
    s->interval_ms = 1000;
    s->present = CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_DISK |
                 CRESC_SAMPLE_HAS_REQ | CRESC_SAMPLE_HAS_CONNS;
    s->cpu_pct = 87.5;
    s->mem_pct = 41.25;
    s->disk_read_ops_per_s = 12.5;
    s->disk_write_ops_per_s = 40;
    s->disk_read_bytes_per_s = 51200;
    s->disk_write_bytes_per_s = 1048576;
    s->req_per_s = 95.5;
    s->active_connections = 312;
}

static int bench_sample(int n)
{
    struct cresc_sample s, out;
    struct cresc_msg_error err;
    char buf[4096];
    size_t len = 0;
    make_sample(&s);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        s.seq = (uint64_t)i + 1;
        if (cresc_sample_encode(&s, buf, sizeof(buf), &len) != 0) {
            return 1;
        }
    }
    double t1 = now_s();
    for (int i = 0; i < n; i++) {
        if (cresc_sample_decode(buf, len, &out, &err) != 0) {
            return 1;
        }
    }
    double t2 = now_s();
    for (int i = 0; i < n; i++) {
        json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
        json_decref(j);
    }
    double t3 = now_s();
    printf("sample (%zu bytes): encode %.2f us, decode %.2f us (%.0f samples/s), "
           "bare json_loadb %.2f us\n",
           len, (t1 - t0) * 1e6 / n, (t2 - t1) * 1e6 / n, n / (t2 - t1), (t3 - t2) * 1e6 / n);
    return 0;
}

static int bench_state(int n)
{
    struct cresc_state *st = malloc(sizeof(*st));
    struct cresc_state *out = malloc(sizeof(*out));
    if (st == NULL || out == NULL) {
        return 1;
    }
    cresc_state_init(st);
    strcpy(st->service, "game-server");
    st->n_priorities = CRESC_PRIORITIES_MAX;
    st->priorities = calloc(CRESC_PRIORITIES_MAX, sizeof(*st->priorities));
    if (st->priorities == NULL) {
        return 1;
    }
    for (size_t i = 0; i < CRESC_PRIORITIES_MAX; i++) {
        snprintf(st->priorities[i].match_id, sizeof(st->priorities[i].match_id), "match-%06zu", i);
        st->priorities[i].priority = 1 + (int32_t)(i % 10);
        st->priorities[i].resource_allocation = 2.5;
        st->priorities[i].allocated_pct = 1.25;
        snprintf(st->priorities[i].instance_id, sizeof(st->priorities[i].instance_id),
                 "game-server-%zu", i % 40);
    }
    char *text = NULL;
    size_t len = 0;
    struct cresc_msg_error err;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        free(text);
        if (cresc_state_encode(st, &text, &len) != 0) {
            return 1;
        }
    }
    double t1 = now_s();
    for (int i = 0; i < n; i++) {
        if (cresc_state_decode(text, len, out, &err) != 0) {
            return 1;
        }
        cresc_state_release(out);
    }
    double t2 = now_s();
    printf("state with %d priorities (%zu bytes): encode %.2f ms, decode %.2f ms\n",
           CRESC_PRIORITIES_MAX, len, (t1 - t0) * 1e3 / n, (t2 - t1) * 1e3 / n);
    free(text);
    cresc_state_release(st);
    free(st);
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    if (n <= 0) {
        fprintf(stderr, "usage: bench_codec [iterations > 0]\n");
        return 2;
    }
    if (bench_sample(n) != 0 || bench_state(n / 1000 > 10 ? n / 1000 : 10) != 0) {
        fprintf(stderr, "bench_codec: a codec call failed\n");
        return 1;
    }
    return 0;
}
