/* Private interface between the actuator's queue/retry core (actuator.c) and its backends
 * (actuator_http.c for kubernetes and webhook, actuator_exec.c). Not for other modules;
 * the unit test includes it to check the backoff schedule. */
#ifndef CRESC_ACTUATOR_INTERNAL_H
#define CRESC_ACTUATOR_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actuator.h"

/* Validated copy of the options the backends read (heap strings, owned). */
struct cresc_act_conf {
    enum cresc_actuator_kind kind;
    long timeout_ms;
    char *k8s_api_base; /* without a trailing '/' */
    char *k8s_namespace;
    enum cresc_k8s_target_kind k8s_target_kind;
    char *k8s_target_name; /* NULL: the command's service */
    char *k8s_token_file;  /* NULL: no Authorization header */
    char *k8s_ca_file;     /* NULL: system store */
    bool k8s_insecure;
    char *webhook_url;
    char *webhook_token; /* NULL: none */
    char *webhook_ca_file;
    char *exec_command;
};

/* Outcome of one attempt besides its return code. */
struct cresc_act_result {
    bool permanent;             /* retrying cannot help (bad request, 4xx, missing program) */
    char msg[CRESC_REASON_MAX]; /* failure: one line, no secrets */
};

/* One worker's HTTP client (a curl easy handle, reused for its connection cache). */
struct cresc_act_http;

CRESC_WUR int cresc_act_http_new(struct cresc_act_http **out);
void cresc_act_http_free(struct cresc_act_http *h);

/* One attempt each: 0 on success, else a negative code with res filled. `stop` aborts a
 * transfer or child process in flight (CRESC_ESTATE). */
CRESC_WUR int cresc_act_k8s_apply(struct cresc_act_http *h, const struct cresc_act_conf *conf,
                                  const struct cresc_scale_command *cmd, const atomic_bool *stop,
                                  struct cresc_act_result *res);
CRESC_WUR int cresc_act_webhook_apply(struct cresc_act_http *h, const struct cresc_act_conf *conf,
                                      const struct cresc_scale_command *cmd,
                                      const atomic_bool *stop, struct cresc_act_result *res);
CRESC_WUR int cresc_act_exec_apply(const struct cresc_act_conf *conf,
                                   const struct cresc_scale_command *cmd, const atomic_bool *stop,
                                   struct cresc_act_result *res);

/* The k8s scale URL for a command into buf; CRESC_EINVAL if the namespace or name is not a
 * valid Kubernetes name (res->msg says which), CRESC_ETOOBIG if it does not fit. */
CRESC_WUR int cresc_act_k8s_url(const struct cresc_act_conf *conf,
                                const struct cresc_scale_command *cmd, char *buf, size_t cap,
                                struct cresc_act_result *res);

/* Delay before retry number `retry` (0 = the first retry): min(max, initial * 2^retry),
 * then "equal jitter" — half fixed, half uniform from `rand_u64` — so a fleet of
 * coordinators does not retry in lockstep. */
int64_t cresc_act_backoff_ms(int64_t initial_ms, int64_t max_ms, unsigned retry, uint64_t rand_u64);

#endif
