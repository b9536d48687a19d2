/* The coordinator's option table (see options.h). Kept out of main.c so the unit tests can
 * load it with a fake environment and check the initial service config it yields. */
#include "options.h"

#include <stdio.h>

static const char *const lb_names[] = {"round_robin", "least_connections", "ip_hash", NULL};

#define CO(field) offsetof(struct cresc_coordinator_config, field)

const struct cresc_opt cresc_coordinator_options[] = {
    CRESC_COMMON_OPTIONS(struct cresc_coordinator_config, common),
    {"MIN_INSTANCES", "min-instances", CRESC_OPT_INT, CO(min_instances), "2", 0, 10000, NULL,
     "Initial min_instances of a new service", 0},
    {"MAX_INSTANCES", "max-instances", CRESC_OPT_INT, CO(max_instances), "10", 1, 10000, NULL,
     "Initial max_instances of a new service", 0},
    {"CPU_THRESHOLD", "cpu-threshold", CRESC_OPT_DOUBLE, CO(cpu_threshold), "70", 0.001, 100, NULL,
     "Initial CPU threshold, percent (cpu-based-scaling)", 0},
    {"MEMORY_THRESHOLD", "memory-threshold", CRESC_OPT_DOUBLE, CO(memory_threshold), "80", 0.001,
     100, NULL, "Initial memory threshold, percent (memory-based-scaling)", 0},
    {"REQUEST_RATE_THRESHOLD", "request-rate-threshold", CRESC_OPT_DOUBLE,
     CO(request_rate_threshold), "100", 0.001, 1e9, NULL,
     "Initial per-instance request rate above which to scale up, req/s", 0},
    {"SCALING_COOLDOWN", "scaling-cooldown", CRESC_OPT_INT, CO(scaling_cooldown_s), "300", 0, 86400,
     NULL, "Initial cooldown after a scaling action, seconds", 0},
    {"LOAD_BALANCER_STRATEGY", "load-balancer-strategy", CRESC_OPT_ENUM, CO(lb_strategy),
     "round_robin", 0, 0, lb_names,
     "Initial match placement: round_robin|least_connections|ip_hash", 0},
    {"INITIAL_INSTANCES", "initial-instances", CRESC_OPT_INT, CO(initial_instances), "-1", -1,
     10000, NULL, "Instance count assumed for a service never seen before (-1: min_instances)", 0},
    {"TICK", "tick", CRESC_OPT_MS, CO(tick_ms), "1s", 10, 3600000, NULL,
     "Evaluate every service this often", 0},
    {"STATE_INTERVAL", "state-interval", CRESC_OPT_MS, CO(state_interval_ms), "5s", 0, 3600000,
     NULL,
     "Snapshot of a service whose outcome did not change is published this often (changes "
     "go out at once; 0: every tick)",
     0},
    {"SAMPLE_WINDOW", "sample-window", CRESC_OPT_MS, CO(window_ms), "30s", 0, 3600000, NULL,
     "Sliding window over which each instance's values are averaged (0: latest only)", 0},
    {"INSTANCE_TTL", "instance-ttl", CRESC_OPT_MS, CO(instance_ttl_ms), "30s", 100, 86400000, NULL,
     "An instance with no sample for this long is gone", 0},
    {"MAX_SAMPLE_SKEW", "max-sample-skew", CRESC_OPT_MS, CO(max_skew_ms), "5m", 100, 86400000, NULL,
     "Samples stamped further than this from the wall clock are rejected", 0},
    {"MAX_SERVICES", "max-services", CRESC_OPT_INT, CO(max_services), "1000", 1, 100000, NULL,
     "Services tracked by one coordinator (more are rejected and counted)", 0},
    {"MAX_INSTANCES_PER_SERVICE", "max-instances-per-service", CRESC_OPT_INT,
     CO(max_instances_per_service), "20000", 1, 1000000, NULL,
     "Live instances tracked per service (more are rejected and counted)", 0},
    {"MAX_VALUES_PER_INSTANCE", "max-values-per-instance", CRESC_OPT_INT,
     CO(max_values_per_instance), "64", 1, 4096, NULL,
     "Values kept per instance inside the sample window", 0},
    {"DECODE_THREADS", "decode-threads", CRESC_OPT_INT, CO(decode_threads), "-1", -1, 64, NULL,
     "Threads that decode samples besides the loop thread (-1: online CPUs - 1, at most 7)", 0},
    {"PARTITIONS", "partitions", CRESC_OPT_INT, CO(partitions), "6", 1, 10000, NULL,
     "Partitions of the topics created at start (samples, control and state share it)", 0},
    {"REPLICATION_FACTOR", "replication-factor", CRESC_OPT_INT, CO(replication), "-1", -1, 16, NULL,
     "Replication factor of the topics created at start (-1: broker default)", 0},
    {"SESSION_TIMEOUT", "session-timeout", CRESC_OPT_MS, CO(session_timeout_ms), "10s", 1000,
     3600000, NULL, "Consumer-group session timeout: how soon a dead coordinator is replaced", 0},
    {"REBUILD_TIMEOUT", "rebuild-timeout", CRESC_OPT_MS, CO(rebuild_timeout_ms), "60s", 1000,
     3600000, NULL, "Longest wait to read a state partition to its end before retrying", 0},
    {"TOPIC_TIMEOUT", "topic-timeout", CRESC_OPT_MS, CO(topic_timeout_ms), "30s", 1000, 600000,
     NULL, "Longest wait for topic creation at start", 0},
    {"COORDINATOR_ID", "coordinator-id", CRESC_OPT_STRING, CO(coordinator_id), NULL, 0,
     CRESC_ID_MAX, NULL,
     "Stable id of this replica: its transactional.id suffix (default: the host name)", 0},
    {"COORDINATOR_GROUP", "coordinator-group", CRESC_OPT_STRING, CO(group_id),
     "crescendo-coordinator", 1, 200, NULL, "Consumer group of the coordinators", 0},
    {"HEALTH_PORT", "health-port", CRESC_OPT_INT, CO(health_port), "8081", 0, 65535, NULL,
     "Port of /healthz, /readyz and /metrics (0: disabled)", 0},
    {"HEALTH_ADDR", "health-addr", CRESC_OPT_STRING, CO(health_addr), "0.0.0.0", 1, 64, NULL,
     "Address the health/metrics server binds (IPv4)", 0},
    CRESC_ACTUATOR_OPTIONS(struct cresc_coordinator_config, actuator),
};

const size_t cresc_coordinator_options_count =
    sizeof(cresc_coordinator_options) / sizeof(cresc_coordinator_options[0]);

int cresc_coordinator_initial_config(const struct cresc_coordinator_config *cfg,
                                     struct cresc_scaling_config *out, char *err, size_t errlen)
{
    char field[96] = "";
    struct cresc_scaling_config c;
    cresc_scaling_config_defaults(&c);
    c.min_instances = (int32_t)cfg->min_instances;
    c.max_instances = (int32_t)cfg->max_instances;
    c.cpu_threshold = cfg->cpu_threshold;
    c.memory_threshold = cfg->memory_threshold;
    c.request_rate_threshold = cfg->request_rate_threshold;
    c.scaling_cooldown_s = (int32_t)cfg->scaling_cooldown_s;
    c.load_balancer_strategy = (enum cresc_lb_strategy)cfg->lb_strategy;
    cresc_scaling_config_derive(&c);
    char why[CRESC_REASON_MAX] = "";
    int rc = cresc_scaling_config_validate(&c, field, sizeof(field), why, sizeof(why));
    if (rc != 0) {
        (void)snprintf(err, errlen, "initial service config: %s: %s", field, why);
        return rc;
    }
    *out = c;
    return 0;
}
