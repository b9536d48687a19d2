/* crescendo-coordinator: the Kafka service that turns samples and control commands into
 * decisions, scale commands and state (engine.c), plus the offline `evaluate` and `replay`
 * subcommands of the decision core (offline.c). */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cresc/config.h"
#include "cresc/log.h"
#include "engine.h"
#include "http.h"
#include "offline.h"
#include "options.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
}

static const struct cresc_prog prog = {
    .name = "crescendo-coordinator",
    .summary = "Consumes samples and control commands from Kafka, decides how many instances "
               "each service needs, and publishes decisions, scale commands and state",
    .usage = "crescendo-coordinator [OPTIONS]\n"
             "  crescendo-coordinator evaluate < INPUT.json\n"
             "  crescendo-coordinator replay --config FILE TRACE.jsonl",
};

/* librdkafka reads each fetch response into a fresh buffer of a megabyte or more and frees it
 * once its messages are consumed. Past glibc's mmap threshold every such buffer was a new
 * mapping: page faults and zeroing on the broker thread (clear_page was its top symbol) and
 * a third of the ingest CPU in all. Serving them from the heap (threshold 32 MiB) and keeping
 * up to 64 MiB of freed heap before returning it to the system cut the CPU per sample by
 * about a quarter (docs/coordinator-benchmarks.md). Set only when the operator has not tuned
 * malloc through GLIBC_TUNABLES. */
static void tune_malloc(void)
{
    if (getenv("GLIBC_TUNABLES") != NULL) {
        return;
    }
    (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
    (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "evaluate") == 0 || strcmp(argv[1], "replay") == 0)) {
        return cresc_offline_main(argc, argv);
    }
    struct cresc_coordinator_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    char err[512] = "";
    int first = 0;
    int rc = cresc_config_load(cresc_coordinator_options, cresc_coordinator_options_count, &cfg,
                               &prog, argc, argv, &first, NULL, err, sizeof(err));
    if (rc < 0) {
        (void)fprintf(stderr, "crescendo-coordinator: %s\n", err);
        return 2;
    }
    tune_malloc();
    if (rc == CRESC_CONFIG_EXIT) {
        cresc_config_release(cresc_coordinator_options, cresc_coordinator_options_count, &cfg);
        return 0;
    }
    int status = 1;
    struct cresc_coord_http *http = NULL;
    cresc_common_apply_logging(&cfg.common);
    if (first < argc) {
        (void)fprintf(stderr, "crescendo-coordinator: unexpected argument '%s' (see --help)\n",
                      argv[first]);
        status = 2;
        goto out;
    }
    if (cfg.coordinator_id == NULL || cfg.coordinator_id[0] == '\0') {
        char host[256] = "";
        if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
            (void)snprintf(host, sizeof(host), "coordinator");
        }
        free(cfg.coordinator_id);
        cfg.coordinator_id = strdup(host);
        if (cfg.coordinator_id == NULL) {
            goto out;
        }
    }
    struct cresc_engine_params params = {.cfg = &cfg, .stop = &stop_flag};
    rc = cresc_coordinator_initial_config(&cfg, &params.initial, err, sizeof(err));
    if (rc != 0) {
        (void)fprintf(stderr, "crescendo-coordinator: %s\n", err);
        status = 2;
        goto out;
    }
    static struct cresc_coord_stats stats;
    params.stats = &stats;
    install_signals();
    if (cfg.health_port > 0) {
        rc = cresc_coord_http_start(cfg.health_addr, (int)cfg.health_port, &stats, &http);
        if (rc != 0) {
            cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_COORDINATOR,
                      "Cannot serve health/metrics on %s:%lld: %s", cfg.health_addr,
                      (long long)cfg.health_port, cresc_strerror(rc));
            goto out;
        }
    }
    rc = cresc_engine_run(&params, err, sizeof(err));
    if (rc != 0) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_COORDINATOR, "Coordinator failed: %s (%s)", err,
                  cresc_strerror(rc));
        goto out;
    }
    status = 0;
out:
    cresc_coord_http_stop(http);
    cresc_config_release(cresc_coordinator_options, cresc_coordinator_options_count, &cfg);
    return status;
}
