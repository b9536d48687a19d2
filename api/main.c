/* crescendo-api: the /scaling REST service. Wires the configuration, the view of
 * <prefix>state, the write path to <prefix>control and the HTTP server, then waits for
 * SIGTERM/SIGINT and shuts down in order: refuse writes, stop HTTP, stop Kafka clients. */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cresc/config.h"
#include "cresc/kafka.h"
#include "cresc/log.h"
#include "server.h"
#include "auth.h"
#include "stats.h"
#include "view.h"
#include "writes.h"

struct api_config {
    struct cresc_common_config common;
    int64_t port;
    char *bind;
    char *token;
    char *token_file;
    bool auth_reads;
    int64_t write_timeout_ms;
    int64_t max_body_bytes;
    int64_t threads;
    int64_t max_connections;
    int64_t per_ip_connections;
    int64_t conn_timeout_ms;
    int64_t max_pending_writes;
};

static const struct cresc_opt options[] = {
    CRESC_COMMON_OPTIONS(struct api_config, common),
    {"API_PORT", "port", CRESC_OPT_INT, offsetof(struct api_config, port), "8080", 0, 65535, NULL,
     "TCP port to listen on (0: any free port, logged at start)", 0},
    {"API_BIND", "bind", CRESC_OPT_STRING, offsetof(struct api_config, bind), "0.0.0.0", 1, 64,
     NULL,
     "Address to listen on (IPv4 or IPv6; 0.0.0.0 for a Kubernetes Service, 127.0.0.1 for local only)",
     0},
    {"API_TOKEN", "token", CRESC_OPT_STRING, offsetof(struct api_config, token), NULL, 0, 4096,
     NULL, "Bearer token required by the mutating endpoints (without one, writes are refused)",
     CRESC_OPT_SECRET},
    {"API_TOKEN_FILE", "token-file", CRESC_OPT_STRING, offsetof(struct api_config, token_file),
     NULL, 0, 4096, NULL,
     "File holding the bearer token (first line), used when API_TOKEN is unset", 0},
    {"API_AUTH_READS", "auth-reads", CRESC_OPT_BOOL, offsetof(struct api_config, auth_reads),
     "false", 0, 0, NULL, "Require the bearer token for the GET /scaling/* reads too", 0},
    {"API_WRITE_TIMEOUT", "write-timeout", CRESC_OPT_MS,
     offsetof(struct api_config, write_timeout_ms), "5s", 100, 120000, NULL,
     "How long a write waits for Kafka and the coordinator before answering 202 (or 503)", 0},
    {"API_MAX_BODY", "max-body", CRESC_OPT_INT, offsetof(struct api_config, max_body_bytes),
     "65536", 256, 1048576, NULL, "Largest request body in bytes (larger: 413)", 0},
    {"API_THREADS", "threads", CRESC_OPT_INT, offsetof(struct api_config, threads), "0", 0, 256,
     NULL, "HTTP worker threads (0: one per CPU)", 0},
    {"API_MAX_CONNECTIONS", "max-connections", CRESC_OPT_INT,
     offsetof(struct api_config, max_connections), "1024", 1, 100000, NULL,
     "Concurrent HTTP connections", 0},
    {"API_PER_IP_CONNECTIONS", "per-ip-connections", CRESC_OPT_INT,
     offsetof(struct api_config, per_ip_connections), "0", 0, 100000, NULL,
     "Concurrent connections from one client address (0: unlimited)", 0},
    {"API_CONNECTION_TIMEOUT", "connection-timeout", CRESC_OPT_MS,
     offsetof(struct api_config, conn_timeout_ms), "30s", 1000, 3600000, NULL,
     "Idle time after which a connection is closed (slow clients cannot pin it)", 0},
    {"API_MAX_PENDING_WRITES", "max-pending-writes", CRESC_OPT_INT,
     offsetof(struct api_config, max_pending_writes), "1024", 1, 100000, NULL,
     "Writes waiting for an acknowledgement at once (more: 503)", 0},
};

static const struct cresc_prog prog = {
    "crescendo-api",
    "The /scaling REST API: reads from a view of the state topic, writes via the control topic",
    NULL,
};

int main(int argc, char **argv)
{
    struct api_config cfg;
    char err[512] = "";
    int first_arg = argc;
    int rc = 1;
    char *token = NULL;
    struct cresc_kv_list props = {0, NULL};
    struct cresc_topics topics;
    struct cresc_view *view = NULL;
    struct cresc_writes *writes = NULL;
    struct cresc_server *server = NULL;
    struct cresc_api_stats *stats = NULL;
    sigset_t sigs;
    const size_t n_opts = sizeof(options) / sizeof(options[0]);

    memset(&cfg, 0, sizeof(cfg));
    int lr = cresc_config_load(options, n_opts, &cfg, &prog, argc, argv, &first_arg, NULL, err,
                               sizeof(err));
    if (lr < 0) {
        fprintf(stderr, "crescendo-api: %s\n", err);
        goto out;
    }
    if (lr == CRESC_CONFIG_EXIT) {
        rc = 0;
        goto out;
    }
    if (first_arg < argc) {
        fprintf(stderr, "crescendo-api: unexpected argument %s (see --help)\n", argv[first_arg]);
        goto out;
    }
    cresc_common_apply_logging(&cfg.common);

    if (cresc_auth_load_token(cfg.token, cfg.token_file, &token, err, sizeof(err)) != CRESC_OK) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_API, "%s", err);
        goto out;
    }
    if (token == NULL) {
        cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_API,
                  "No API_TOKEN or API_TOKEN_FILE: every write will be refused with 401");
    }
    if (cresc_topics_init(&topics, cfg.common.topic_prefix) != CRESC_OK) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_API, "Invalid TOPIC_PREFIX %s",
                  cfg.common.topic_prefix);
        goto out;
    }
    if (cresc_kafka_props_collect(cfg.common.kafka_properties_file, NULL, cresc_kafka_reserved_env,
                                  &props, err, sizeof(err)) != CRESC_OK) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_API, "%s", err);
        goto out;
    }

    /* Signals go to the main thread only: block them before any thread starts. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct cresc_kafka_conf kc = {cfg.common.kafka_brokers, "crescendo-api", &props};
    struct cresc_writes_opts wo = {&kc, topics.control, (int)cfg.write_timeout_ms,
                                   (int)cfg.max_pending_writes};
    if (cresc_writes_new(&wo, &writes, err, sizeof(err)) != CRESC_OK) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_API, "%s", err);
        goto out;
    }
    struct cresc_view_opts vo = {&kc, topics.state, cresc_writes_on_state, writes,
                                 cresc_server_cache_free};
    if (cresc_view_new(&vo, &view, err, sizeof(err)) != CRESC_OK) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_API, "%s", err);
        goto out;
    }
    stats = calloc(1, sizeof(*stats));
    if (stats == NULL) {
        goto out;
    }
    cresc_stats_init(stats);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    struct cresc_server_opts so = {
        .bind = cfg.bind,
        .port = (int)cfg.port,
        .threads = cfg.threads > 0 ? (unsigned)cfg.threads : (unsigned)(cpus > 0 ? cpus : 1),
        .max_connections = (unsigned)cfg.max_connections,
        .per_ip_connections = (unsigned)cfg.per_ip_connections,
        .conn_timeout_s = (unsigned)((cfg.conn_timeout_ms + 999) / 1000),
        .max_body_bytes = (size_t)cfg.max_body_bytes,
        .token = token,
        .auth_reads = cfg.auth_reads,
        .default_service = cfg.common.default_service,
        .view = view,
        .writes = writes,
        .stats = stats,
    };
    if (cresc_server_start(&so, &server, err, sizeof(err)) != CRESC_OK) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_API, "%s", err);
        goto out;
    }
    cresc_log(
        CRESC_LOG_INFO, CRESC_LOGGER_API,
        "Listening on http://%s%s%s:%d (%u threads, writes %s, reads %s, state %s, control %s)",
        strchr(cfg.bind, ':') ? "[" : "", cfg.bind, strchr(cfg.bind, ':') ? "]" : "",
        cresc_server_port(server), so.threads, token ? "need the bearer token" : "refused",
        cfg.auth_reads ? "need the bearer token" : "open", topics.state, topics.control);

    int sig = 0;
    sigwait(&sigs, &sig);
    cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_API, "Received %s, shutting down",
              sig == SIGTERM ? "SIGTERM" : "SIGINT");
    rc = 0;
out:
    /* Order: no connection may stay suspended when the server stops. */
    if (writes != NULL) {
        cresc_writes_shutdown(writes);
        if (server != NULL) {
            /* Resumes are processed by MHD's threads: give them a moment, since stopping the
               daemon with a connection still suspended is an API violation. */
            struct timespec pause = {0, 200 * 1000000L};
            nanosleep(&pause, NULL);
        }
    }
    cresc_server_stop(server);
    /* The view thread calls into the write path (acknowledgements): stop it first. */
    cresc_view_free(view);
    cresc_writes_free(writes);
    free(stats);
    if (token != NULL) {
        memset(token, 0, strlen(token));
        free(token);
    }
    cresc_kv_list_release(&props);
    cresc_config_release(options, n_opts, &cfg);
    return rc;
}
