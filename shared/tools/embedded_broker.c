/* crescendo-embedded-broker: librdkafka's in-process mock cluster as a stand-alone broker for
 * the single-machine run (scripts/run-local.sh). Creates the five crescendo topics, prints
 * KAFKA_BROKERS=<bootstraps> and serves until SIGTERM/SIGINT. No persistence, compaction,
 * Admin API or transactions fencing: see docs/testing.md. */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cresc/config.h"
#include "cresc/kafka.h"
#include "cresc/log.h"

#define LOGGER "crescendo.embedded-broker"

struct broker_config {
    int64_t brokers;
    int64_t partitions;
    char *topic_prefix;
    char *env_file;
    int log_format;
    int log_level;
};

static const struct cresc_opt options[] = {
    {"EMBEDDED_BROKERS", "brokers", CRESC_OPT_INT, offsetof(struct broker_config, brokers), "1", 1,
     9, NULL, "Number of mock brokers in the cluster", 0},
    {"EMBEDDED_PARTITIONS", "partitions", CRESC_OPT_INT, offsetof(struct broker_config, partitions),
     "6", 1, 256, NULL, "Partitions of each crescendo topic", 0},
    {"TOPIC_PREFIX", "topic-prefix", CRESC_OPT_STRING, offsetof(struct broker_config, topic_prefix),
     "scaling.", 0, 200, NULL, "Prefix of the crescendo topics", 0},
    {NULL, "env-file", CRESC_OPT_STRING, offsetof(struct broker_config, env_file), NULL, 0, 4096,
     NULL, "Also write KAFKA_BROKERS=<bootstraps> to this file once ready", 0},
    {"LOG_FORMAT", "log-format", CRESC_OPT_ENUM, offsetof(struct broker_config, log_format), "text",
     0, 0, cresc_log_format_names, "Log format: text or json", 0},
    {"LOG_LEVEL", "log-level", CRESC_OPT_ENUM, offsetof(struct broker_config, log_level), "INFO", 0,
     0, cresc_log_level_names, "Minimum log level", 0},
};

static const struct cresc_prog prog = {
    "crescendo-embedded-broker",
    "An in-process Kafka mock cluster (librdkafka) for running crescendo on one machine.\n"
    "Prints KAFKA_BROKERS=<host:port,...> on stdout when ready; stops on SIGTERM or SIGINT.",
    NULL,
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int write_env_file(const char *path, const char *bootstraps)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "KAFKA_BROKERS=%s\n", bootstraps);
    if (fclose(f) != 0) {
        return -1;
    }
    /* Renamed into place so a reader polling for the file never sees it half written. */
    return rename(tmp, path);
}

int main(int argc, char **argv)
{
    struct broker_config cfg;
    char err[512];
    int first = 0;
    int status = 1;
    rd_kafka_t *host = NULL;
    rd_kafka_mock_cluster_t *mc = NULL;

    memset(&cfg, 0, sizeof(cfg));
    int rc = cresc_config_load(options, sizeof(options) / sizeof(options[0]), &cfg, &prog, argc,
                               argv, &first, NULL, err, sizeof(err));
    if (rc == CRESC_CONFIG_EXIT) {
        return 0;
    }
    if (rc != CRESC_CONFIG_RUN) {
        fprintf(stderr, "%s: %s\n", prog.name, err);
        return 2;
    }
    if (first < argc) {
        fprintf(stderr, "%s: unexpected argument %s (see --help)\n", prog.name, argv[first]);
        goto out;
    }
    struct cresc_common_config common = {.log_format = cfg.log_format, .log_level = cfg.log_level};
    cresc_common_apply_logging(&common);

    struct cresc_topics topics;
    if (cresc_topics_init(&topics, cfg.topic_prefix) != CRESC_OK) {
        fprintf(stderr, "%s: invalid topic prefix %s\n", prog.name, cfg.topic_prefix);
        goto out;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "client.id", "crescendo-embedded-broker", err, sizeof(err));
    /* The host client itself never connects: hush its "no bootstrap.servers" notice. */
    rd_kafka_conf_set(conf, "log_level", "4", err, sizeof(err));
    host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (host == NULL) {
        rd_kafka_conf_destroy(conf);
        cresc_log(CRESC_LOG_ERROR, LOGGER, "Cannot create the host client: %s", err);
        goto out;
    }
    mc = rd_kafka_mock_cluster_new(host, (int)cfg.brokers);
    if (mc == NULL) {
        cresc_log(CRESC_LOG_ERROR, LOGGER, "Cannot create the mock cluster");
        goto out;
    }
    const char *names[] = {topics.samples, topics.control, topics.decisions, topics.commands,
                           topics.state};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(
            mc, names[i], (int)cfg.partitions, (int)cfg.brokers < 3 ? (int)cfg.brokers : 3);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            cresc_log(CRESC_LOG_ERROR, LOGGER, "Cannot create topic %s: %s", names[i],
                      rd_kafka_err2str(e));
            goto out;
        }
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mc);
    if (cfg.env_file != NULL && cfg.env_file[0] != '\0' &&
        write_env_file(cfg.env_file, bootstraps) != 0) {
        cresc_log(CRESC_LOG_ERROR, LOGGER, "Cannot write %s", cfg.env_file);
        goto out;
    }
    printf("KAFKA_BROKERS=%s\n", bootstraps);
    fflush(stdout);
    cresc_log(CRESC_LOG_INFO, LOGGER,
              "Mock Kafka cluster ready at %s: %d broker(s), topics %s{samples,control,decisions,"
              "commands,state} with %d partitions",
              bootstraps, (int)cfg.brokers, cfg.topic_prefix, (int)cfg.partitions);

    while (!g_stop) {
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
    cresc_log(CRESC_LOG_INFO, LOGGER, "Stopping the mock Kafka cluster");
    status = 0;
out:
    if (mc != NULL) {
        rd_kafka_mock_cluster_destroy(mc);
    }
    if (host != NULL) {
        rd_kafka_destroy(host);
    }
    if (status == 0 && cfg.env_file != NULL) {
        unlink(cfg.env_file);
    }
    cresc_config_release(options, sizeof(options) / sizeof(options[0]), &cfg);
    return status;
}
