/* crescendo-coordinator's configuration: one table of options (environment variables and
 * flags) read by cresc_config_load, including the platform's MIN_INSTANCES, MAX_INSTANCES,
 * CPU_THRESHOLD, MEMORY_THRESHOLD, SCALING_COOLDOWN and LOAD_BALANCER_STRATEGY, which become
 * the initial config of every service the coordinator has not seen before. */
#ifndef CRESC_COORD_OPTIONS_H
#define CRESC_COORD_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "actuator.h"
#include "cresc/config.h"
#include "cresc/policy.h"

struct cresc_coordinator_config {
    struct cresc_common_config common;
    /* initial config of new services (the platform's variables) */
    int64_t min_instances;
    int64_t max_instances;
    double cpu_threshold;
    double memory_threshold;
    double request_rate_threshold;
    int64_t scaling_cooldown_s;
    int lb_strategy;           /* enum cresc_lb_strategy */
    int64_t initial_instances; /* -1: a new service starts at min_instances */
    /* engine */
    int64_t tick_ms;
    int64_t state_interval_ms; /* periodic snapshot of an unchanged service */
    int64_t window_ms;
    int64_t instance_ttl_ms;
    int64_t max_skew_ms;
    int64_t max_services;
    int64_t max_instances_per_service;
    int64_t max_values_per_instance;
    int64_t decode_threads; /* -1: online CPUs - 1 */
    int64_t partitions;
    int64_t replication;
    int64_t session_timeout_ms;
    int64_t rebuild_timeout_ms;
    int64_t topic_timeout_ms;
    char *coordinator_id; /* COORDINATOR_ID: transactional.id suffix; default hostname */
    char *group_id;       /* COORDINATOR_GROUP */
    int64_t health_port;  /* 0: no HTTP server */
    char *health_addr;
    struct cresc_actuator_opts actuator;
};

extern const struct cresc_opt cresc_coordinator_options[];
extern const size_t cresc_coordinator_options_count;

/* The initial scaling config of a new service from the platform's variables; validated.
 * Returns 0 or CRESC_EINVAL/CRESC_ERANGE with the reason in err. */
CRESC_WUR int cresc_coordinator_initial_config(const struct cresc_coordinator_config *cfg,
                                               struct cresc_scaling_config *out, char *err,
                                               size_t errlen);

#endif
