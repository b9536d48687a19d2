/* Actuator: applies committed scale commands to the outside world (Kubernetes scale
 * subresource, a webhook, or a local command), chosen by ACTUATOR. The coordinator loop
 * hands commands over through a bounded queue; one worker thread owned by the actuator does
 * the I/O with retries, so the loop never blocks on HTTP or a child process.
 *
 * Call sequence (coordinator):
 *
 *     struct cresc_coordinator_config { ...; struct cresc_actuator_opts actuator; };
 *     table rows: CRESC_ACTUATOR_OPTIONS(struct cresc_coordinator_config, actuator)
 *     cresc_actuator_new(&cfg.actuator, &act, err, sizeof err);       // at start, once
 *     ... after the transaction holding a scale command commits:
 *     cresc_actuator_submit(act, &cmd);                                // never blocks
 *     ... when building a service's state snapshot:
 *     snprintf(st.actuator, sizeof st.actuator, "%s", cresc_actuator_kind_name(act));
 *     cresc_actuator_service_status(act, st.service, st.actuator_status,
 *                                   sizeof st.actuator_status);
 *     ... on SIGTERM, after the last tick:
 *     if (cresc_actuator_drain(act, 5000) != 0) { log "not all applied" }  // bounded
 *     cresc_actuator_free(act);
 */
#ifndef CRESC_ACTUATOR_H
#define CRESC_ACTUATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/config.h"
#include "cresc/err.h"
#include "cresc/msg.h"

enum cresc_actuator_kind {
    CRESC_ACTUATOR_NONE = 0,       /* "none": publish only; subscribers act on the commands */
    CRESC_ACTUATOR_KUBERNETES = 1, /* "kubernetes": PATCH the scale subresource */
    CRESC_ACTUATOR_WEBHOOK = 2,    /* "webhook": POST the command JSON */
    CRESC_ACTUATOR_EXEC = 3,       /* "exec": run a command with the target in its environment */
};

enum cresc_k8s_target_kind {
    CRESC_K8S_DEPLOYMENT = 0,  /* "deployment" */
    CRESC_K8S_STATEFULSET = 1, /* "statefulset" */
};

extern const char *const cresc_actuator_kind_names[];   /* "none", ..., NULL */
extern const char *const cresc_k8s_target_kind_names[]; /* "deployment", "statefulset", NULL */

#define CRESC_K8S_SA_DIR             "/var/run/secrets/kubernetes.io/serviceaccount"
#define CRESC_K8S_DEFAULT_TOKEN_FILE CRESC_K8S_SA_DIR "/token"
#define CRESC_K8S_DEFAULT_CA_FILE    CRESC_K8S_SA_DIR "/ca.crt"
#define CRESC_K8S_NAMESPACE_FILE     CRESC_K8S_SA_DIR "/namespace"

/* Filled by cresc_config_load from CRESC_ACTUATOR_OPTIONS rows; strings are owned by the
 * config (freed by cresc_config_release). cresc_actuator_new copies what it needs. */
struct cresc_actuator_opts {
    int kind;                   /* ACTUATOR: enum cresc_actuator_kind */
    int64_t timeout_ms;         /* ACTUATOR_TIMEOUT: per attempt (HTTP request or command run) */
    int64_t retries;            /* ACTUATOR_RETRIES: extra attempts after the first */
    int64_t backoff_initial_ms; /* ACTUATOR_BACKOFF_INITIAL: first retry delay */
    int64_t backoff_max_ms;     /* ACTUATOR_BACKOFF_MAX: delay cap (doubling, with jitter) */
    int64_t queue_max;          /* ACTUATOR_QUEUE_MAX: commands waiting for the worker */
    /* kubernetes */
    char *k8s_api_url;     /* ACTUATOR_K8S_API_URL; NULL/"": https://$KUBERNETES_SERVICE_HOST:
                              $KUBERNETES_SERVICE_PORT (in-cluster) */
    char *k8s_namespace;   /* ACTUATOR_K8S_NAMESPACE; NULL/"": the service account's namespace
                              file, else "default" */
    int k8s_target_kind;   /* ACTUATOR_K8S_TARGET_KIND: enum cresc_k8s_target_kind */
    char *k8s_target_name; /* ACTUATOR_K8S_TARGET_NAME; NULL/"": the command's service */
    char *k8s_token_file;  /* ACTUATOR_K8S_TOKEN_FILE; "": no Authorization header */
    char *k8s_ca_file;     /* ACTUATOR_K8S_CA_FILE; "": the system CA store */
    bool k8s_insecure;     /* ACTUATOR_K8S_INSECURE_SKIP_TLS_VERIFY */
    /* webhook */
    char *webhook_url;     /* ACTUATOR_WEBHOOK_URL */
    char *webhook_token;   /* ACTUATOR_WEBHOOK_TOKEN: bearer token (secret), optional */
    char *webhook_ca_file; /* ACTUATOR_WEBHOOK_CA_FILE: optional */
    /* exec */
    char *exec_command; /* ACTUATOR_EXEC_COMMAND: executable path */
};

/* Table rows for the daemon's option table (see CRESC_COMMON_OPTIONS in config.h). */
#define CRESC_ACTUATOR_OPTIONS(type, member)                                                 \
    {"ACTUATOR",                                                                             \
     "actuator",                                                                             \
     CRESC_OPT_ENUM,                                                                         \
     offsetof(type, member.kind),                                                            \
     "none",                                                                                 \
     0,                                                                                      \
     0,                                                                                      \
     cresc_actuator_kind_names,                                                              \
     "How scale commands are applied: none|kubernetes|webhook|exec",                         \
     0},                                                                                     \
        {"ACTUATOR_TIMEOUT",                                                                 \
         "actuator-timeout",                                                                 \
         CRESC_OPT_MS,                                                                       \
         offsetof(type, member.timeout_ms),                                                  \
         "5s",                                                                               \
         10,                                                                                 \
         600000,                                                                             \
         NULL,                                                                               \
         "Actuator: timeout of one attempt (HTTP request or command)",                       \
         0},                                                                                 \
        {"ACTUATOR_RETRIES",                                                                 \
         "actuator-retries",                                                                 \
         CRESC_OPT_INT,                                                                      \
         offsetof(type, member.retries),                                                     \
         "5",                                                                                \
         0,                                                                                  \
         100,                                                                                \
         NULL,                                                                               \
         "Actuator: retries after a failed attempt",                                         \
         0},                                                                                 \
        {"ACTUATOR_BACKOFF_INITIAL",                                                         \
         "actuator-backoff-initial",                                                         \
         CRESC_OPT_MS,                                                                       \
         offsetof(type, member.backoff_initial_ms),                                          \
         "200ms",                                                                            \
         1,                                                                                  \
         60000,                                                                              \
         NULL,                                                                               \
         "Actuator: first retry delay (doubles per retry, with jitter)",                     \
         0},                                                                                 \
        {"ACTUATOR_BACKOFF_MAX",                                                             \
         "actuator-backoff-max",                                                             \
         CRESC_OPT_MS,                                                                       \
         offsetof(type, member.backoff_max_ms),                                              \
         "10s",                                                                              \
         1,                                                                                  \
         600000,                                                                             \
         NULL,                                                                               \
         "Actuator: longest retry delay",                                                    \
         0},                                                                                 \
        {"ACTUATOR_QUEUE_MAX",                                                               \
         "actuator-queue-max",                                                               \
         CRESC_OPT_INT,                                                                      \
         offsetof(type, member.queue_max),                                                   \
         "64",                                                                               \
         1,                                                                                  \
         4096,                                                                               \
         NULL,                                                                               \
         "Actuator: scale commands waiting to be applied (more are dropped and reported)",   \
         0},                                                                                 \
        {"ACTUATOR_K8S_API_URL",                                                             \
         "actuator-k8s-api-url",                                                             \
         CRESC_OPT_STRING,                                                                   \
         offsetof(type, member.k8s_api_url),                                                 \
         NULL,                                                                               \
         0,                                                                                  \
         2048,                                                                               \
         NULL,                                                                               \
         "Kubernetes API server URL (default: in-cluster KUBERNETES_SERVICE_HOST/PORT)",     \
         0},                                                                                 \
        {"ACTUATOR_K8S_NAMESPACE",                                                           \
         "actuator-k8s-namespace",                                                           \
         CRESC_OPT_STRING,                                                                   \
         offsetof(type, member.k8s_namespace),                                               \
         NULL,                                                                               \
         0,                                                                                  \
         253,                                                                                \
         NULL,                                                                               \
         "Kubernetes namespace (default: the service account's, else \"default\")",          \
         0},                                                                                 \
        {"ACTUATOR_K8S_TARGET_KIND",                                                         \
         "actuator-k8s-target-kind",                                                         \
         CRESC_OPT_ENUM,                                                                     \
         offsetof(type, member.k8s_target_kind),                                             \
         "deployment",                                                                       \
         0,                                                                                  \
         0,                                                                                  \
         cresc_k8s_target_kind_names,                                                        \
         "Kubernetes workload kind: deployment|statefulset",                                 \
         0},                                                                                 \
        {"ACTUATOR_K8S_TARGET_NAME",                                                         \
         "actuator-k8s-target-name",                                                         \
         CRESC_OPT_STRING,                                                                   \
         offsetof(type, member.k8s_target_name),                                             \
         NULL,                                                                               \
         0,                                                                                  \
         253,                                                                                \
         NULL,                                                                               \
         "Kubernetes workload name (default: the command's service)",                        \
         0},                                                                                 \
        {"ACTUATOR_K8S_TOKEN_FILE",                                                          \
         "actuator-k8s-token-file",                                                          \
         CRESC_OPT_STRING,                                                                   \
         offsetof(type, member.k8s_token_file),                                              \
         CRESC_K8S_DEFAULT_TOKEN_FILE,                                                       \
         0,                                                                                  \
         4096,                                                                               \
         NULL,                                                                               \
         "Kubernetes bearer token file, re-read per request (\"\": none)",                   \
         0},                                                                                 \
        {"ACTUATOR_K8S_CA_FILE",                                                             \
         "actuator-k8s-ca-file",                                                             \
         CRESC_OPT_STRING,                                                                   \
         offsetof(type, member.k8s_ca_file),                                                 \
         CRESC_K8S_DEFAULT_CA_FILE,                                                          \
         0,                                                                                  \
         4096,                                                                               \
         NULL,                                                                               \
         "CA bundle that signs the API server's certificate (\"\": system store)",           \
         0},                                                                                 \
        {"ACTUATOR_K8S_INSECURE_SKIP_TLS_VERIFY",                                            \
         "actuator-k8s-insecure-skip-tls-verify",                                            \
         CRESC_OPT_BOOL,                                                                     \
         offsetof(type, member.k8s_insecure),                                                \
         "false",                                                                            \
         0,                                                                                  \
         0,                                                                                  \
         NULL,                                                                               \
         "Do not verify the API server's certificate (testing only)",                        \
         0},                                                                                 \
        {"ACTUATOR_WEBHOOK_URL",                                                             \
         "actuator-webhook-url",                                                             \
         CRESC_OPT_STRING,                                                                   \
         offsetof(type, member.webhook_url),                                                 \
         NULL,                                                                               \
         0,                                                                                  \
         2048,                                                                               \
         NULL,                                                                               \
         "Webhook URL that receives each scale command (POST, JSON)",                        \
         0},                                                                                 \
        {"ACTUATOR_WEBHOOK_TOKEN",                                                           \
         "actuator-webhook-token",                                                           \
         CRESC_OPT_STRING,                                                                   \
         offsetof(type, member.webhook_token),                                               \
         NULL,                                                                               \
         0,                                                                                  \
         4096,                                                                               \
         NULL,                                                                               \
         "Webhook bearer token (optional)",                                                  \
         CRESC_OPT_SECRET},                                                                  \
        {"ACTUATOR_WEBHOOK_CA_FILE",                                                         \
         "actuator-webhook-ca-file",                                                         \
         CRESC_OPT_STRING,                                                                   \
         offsetof(type, member.webhook_ca_file),                                             \
         NULL,                                                                               \
         0,                                                                                  \
         4096,                                                                               \
         NULL,                                                                               \
         "CA bundle for an https webhook (default: system store)",                           \
         0},                                                                                 \
    {                                                                                        \
        "ACTUATOR_EXEC_COMMAND", "actuator-exec-command", CRESC_OPT_STRING,                  \
            offsetof(type, member.exec_command), NULL, 0, 4096, NULL,                        \
            "Executable run per scale command (target as argv[1], fields in CRESC_* env)", 0 \
    }

/* Number of rows CRESC_ACTUATOR_OPTIONS expands to. */
#define CRESC_ACTUATOR_OPTIONS_COUNT 17

struct cresc_actuator;

struct cresc_actuator_stats {
    uint64_t submitted; /* accepted into the queue */
    uint64_t applied;   /* succeeded */
    uint64_t failed;    /* gave up after the last retry, or a permanent error */
    uint64_t ignored;   /* older owner epoch or duplicate decision id */
    uint64_t dropped;   /* queue full at submit */
    uint64_t attempts;  /* every try, including retries */
    uint64_t results;   /* applied + failed + ignored: changes when the status may have */
};

/* Validate opts and start the worker (none: no thread, submit is a no-op). Copies every
 * string it needs: opts may be released afterwards. Returns 0, CRESC_EINVAL (a setting is
 * missing or inconsistent: err names it) or CRESC_ENOMEM/CRESC_EIO. */
CRESC_WUR int cresc_actuator_new(const struct cresc_actuator_opts *opts,
                                 struct cresc_actuator **out, char *err, size_t errlen);

/* Hand a committed scale command over (copied). Never blocks on I/O. Returns 0 (queued, or
 * nothing to do for "none"), CRESC_EFULL (queue full: counted, reported in the status) or
 * CRESC_EINVAL (bad command). The worker ignores a command whose owner_epoch is older than
 * one it already applied for that service, and a decision_id it already applied. */
CRESC_WUR int cresc_actuator_submit(struct cresc_actuator *act,
                                    const struct cresc_scale_command *cmd);

/* "none", "kubernetes", "webhook" or "exec"; static storage. */
const char *cresc_actuator_kind_name(const struct cresc_actuator *act);

/* The last result of any command: "ok" (also before the first) or the last error, one line,
 * cut to cap. Thread-safe. */
void cresc_actuator_status(struct cresc_actuator *act, char *buf, size_t cap);
/* The same for one service ("ok" if none was applied for it yet). */
void cresc_actuator_service_status(struct cresc_actuator *act, const char *service, char *buf,
                                   size_t cap);

struct cresc_actuator_stats cresc_actuator_stats(struct cresc_actuator *act);

/* Wait until the queue is empty and nothing is being applied, at most timeout_ms.
 * 0 or CRESC_ETIMEDOUT. */
CRESC_WUR int cresc_actuator_drain(struct cresc_actuator *act, int timeout_ms);

/* Stop the worker (an attempt in flight is aborted, queued commands are dropped) and free.
 * NULL is a no-op. */
void cresc_actuator_free(struct cresc_actuator *act);

#endif
