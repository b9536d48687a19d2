/* Integration helper: applies one scale command through a real actuator configured exactly as
 * the coordinator would be (the ACTUATOR* options table: environment and flags), waits for
 * the result and prints it. Used by test_actuator_https.sh against a TLS stand-in.
 * Exit 0 if the command was applied, 1 if it failed, 2 on a usage/config error. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actuator.h"
#include "cresc/config.h"
#include "cresc/log.h"

struct it_config {
    char *service;
    int64_t from, to, epoch, seq;
    struct cresc_actuator_opts actuator;
};

static const struct cresc_opt it_options[] = {
    {"IT_SERVICE", "service", CRESC_OPT_STRING, offsetof(struct it_config, service),
     "music-generator", 1, 128, NULL, "Service of the command", 0},
    {"IT_FROM", "from", CRESC_OPT_INT, offsetof(struct it_config, from), "2", 0, 10000, NULL,
     "Current count", 0},
    {"IT_TO", "to", CRESC_OPT_INT, offsetof(struct it_config, to), "3", 0, 10000, NULL,
     "Target count", 0},
    {"IT_EPOCH", "epoch", CRESC_OPT_INT, offsetof(struct it_config, epoch), "1", 0, 1e15, NULL,
     "Owner epoch", 0},
    {"IT_SEQ", "seq", CRESC_OPT_INT, offsetof(struct it_config, seq), "1", 0, 1e15, NULL,
     "Decision sequence number", 0},
    CRESC_ACTUATOR_OPTIONS(struct it_config, actuator),
};

int main(int argc, char **argv)
{
    struct it_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct cresc_prog prog = {"it_actuator", "apply one scale command through an actuator", NULL};
    size_t n = sizeof it_options / sizeof it_options[0];
    int first = 0, ret = 2;
    char err[512] = "";
    struct cresc_actuator *act = NULL;
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_INFO, NULL);
    int rc =
        cresc_config_load(it_options, n, &cfg, &prog, argc, argv, &first, NULL, err, sizeof err);
    if (rc == CRESC_CONFIG_EXIT) {
        ret = 0;
        goto out;
    }
    if (rc != 0) {
        fprintf(stderr, "it_actuator: %s\n", err);
        goto out;
    }
    if (cresc_actuator_new(&cfg.actuator, &act, err, sizeof err) != 0) {
        fprintf(stderr, "it_actuator: %s\n", err);
        goto out;
    }
    struct cresc_scale_command cmd;
    memset(&cmd, 0, sizeof cmd);
    snprintf(cmd.service, sizeof cmd.service, "%s", cfg.service);
    snprintf(cmd.decision_id, sizeof cmd.decision_id, "%s:%lld:%lld", cfg.service,
             (long long)cfg.epoch, (long long)cfg.seq);
    cmd.from = (int32_t)cfg.from;
    cmd.to = (int32_t)cfg.to;
    snprintf(cmd.reason, sizeof cmd.reason, "Scaling up based on cpu-based-scaling");
    cmd.config_version = 1;
    cmd.owner_epoch = cfg.epoch;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cmd.issued_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (cresc_actuator_submit(act, &cmd) != 0) {
        fprintf(stderr, "it_actuator: submit failed\n");
        goto out;
    }
    int64_t wait_ms =
        (cfg.actuator.timeout_ms + cfg.actuator.backoff_max_ms) * (cfg.actuator.retries + 1) + 2000;
    if (cresc_actuator_drain(act, wait_ms > 600000 ? 600000 : (int)wait_ms) != 0) {
        fprintf(stderr, "it_actuator: no result within %lld ms\n", (long long)wait_ms);
        goto out;
    }
    char status[CRESC_REASON_MAX];
    cresc_actuator_status(act, status, sizeof status);
    struct cresc_actuator_stats st = cresc_actuator_stats(act);
    printf("status=%s\napplied=%llu failed=%llu ignored=%llu attempts=%llu\n", status,
           (unsigned long long)st.applied, (unsigned long long)st.failed,
           (unsigned long long)st.ignored, (unsigned long long)st.attempts);
    ret = st.applied == 1 ? 0 : 1;
out:
    cresc_actuator_free(act);
    cresc_config_release(it_options, n, &cfg);
    return ret;
}
