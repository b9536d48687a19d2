/* crescendo-agent: samples CPU, memory, disk I/O and the workload's request rate once per
 * interval and publishes each sample to <prefix>samples, keyed by service (docs/agent.md).
 * One loop thread owns everything; Kafka never blocks the tick: samples wait in a bounded
 * outbox and only a few are in librdkafka at a time, so order and drop counts stay exact.
 * --once prints one sample; --simulate N publishes synthetic samples for N instances. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cresc/config.h"
#include "cresc/kafka.h"
#include "cresc/log.h"
#include "cresc/msg.h"
#include "health.h"
#include "outbox.h"
#include "promtext.h"
#include "sampler.h"
#include "simulate.h"
#include "source.h"

#define POLL_SLICE_MS 100 /* longest sleep between checks of the stop flag */
#define SIM_MAX       1000000

struct agent_config {
    struct cresc_common_config common;
    int64_t interval_ms;
    int64_t queue_size;
    int64_t inflight_max;
    int64_t shutdown_timeout_ms;
    char *instance_id;
    char *node_name;
    char *proc_root;
    char *sys_root;
    char *cgroup_dir;
    int source_mode;
    char *metrics_url;
    char *requests_counter;
    char *connections_gauge;
    int64_t metrics_timeout_ms;
    int64_t health_port;
    char *health_file;
    bool probe;
    bool create_topics;
    int64_t partitions;
    bool once;
    int64_t simulate;
    int profile;
    int64_t seed;
    int64_t sim_period_ms;
};

#define AO(f) offsetof(struct agent_config, f)

static const struct cresc_opt options[] = {
    CRESC_COMMON_OPTIONS(struct agent_config, common),
    {"AGENT_INTERVAL", "interval", CRESC_OPT_MS, AO(interval_ms), "5s", 100, 3600000, NULL,
     "Sampling interval (100ms..1h)", 0},
    {"AGENT_QUEUE_SIZE", "queue-size", CRESC_OPT_INT, AO(queue_size), "1000", 1, 1000000, NULL,
     "Samples kept while Kafka is unreachable; when full the oldest are dropped and counted", 0},
    {"AGENT_INFLIGHT_MAX", "inflight-max", CRESC_OPT_INT, AO(inflight_max), "16", 1, 100000, NULL,
     "Samples handed to librdkafka at once (the rest wait in the queue)", 0},
    {"AGENT_SHUTDOWN_TIMEOUT", "shutdown-timeout", CRESC_OPT_MS, AO(shutdown_timeout_ms), "5s", 0,
     300000, NULL, "On SIGTERM, how long to try delivering what is left", 0},
    {"INSTANCE_ID", "instance-id", CRESC_OPT_STRING, AO(instance_id), NULL, 0, CRESC_ID_MAX, NULL,
     "Instance id in samples (default: the hostname)", 0},
    {"NODE_NAME", "node-name", CRESC_OPT_STRING, AO(node_name), NULL, 0, CRESC_ID_MAX, NULL,
     "Node name in samples (default: the hostname; Kubernetes: spec.nodeName)", 0},
    {"PROC_ROOT", "proc-root", CRESC_OPT_STRING, AO(proc_root), "/proc", 1, 400, NULL,
     "Where /proc is (a host's /proc mounted in a DaemonSet pod: /host/proc)", 0},
    {"SYS_ROOT", "sys-root", CRESC_OPT_STRING, AO(sys_root), "/sys", 1, 400, NULL,
     "Where /sys is (block devices under SYS_ROOT/block, cgroup under SYS_ROOT/fs/cgroup)", 0},
    {"CGROUP_DIR", "cgroup-dir", CRESC_OPT_STRING, AO(cgroup_dir), NULL, 0, 400, NULL,
     "cgroup v2 directory to sample (default SYS_ROOT/fs/cgroup)", 0},
    {"AGENT_SOURCE", "source", CRESC_OPT_ENUM, AO(source_mode), "auto", 0, 0,
     cresc_source_mode_names,
     "auto: cgroup v2 limits inside a container, else host /proc; host; cgroup", 0},
    {"METRICS_URL", "metrics-url", CRESC_OPT_STRING, AO(metrics_url), NULL, 0, 2000, NULL,
     "Prometheus text endpoint of the workload (unset: no request rate or connections)", 0},
    {"METRICS_REQUESTS_COUNTER", "metrics-requests-counter", CRESC_OPT_STRING, AO(requests_counter),
     "http_requests_total", 1, CRESC_PROMTEXT_NAME_MAX, NULL,
     "Counter of requests served (all its series are summed)", 0},
    {"METRICS_CONNECTIONS_GAUGE", "metrics-connections-gauge", CRESC_OPT_STRING,
     AO(connections_gauge), "http_active_connections", 1, CRESC_PROMTEXT_NAME_MAX, NULL,
     "Gauge of open connections (all its series are summed)", 0},
    {"METRICS_TIMEOUT", "metrics-timeout", CRESC_OPT_MS, AO(metrics_timeout_ms), "1s", 50, 60000,
     NULL, "Scrape timeout (kept below the interval)", 0},
    {"HEALTH_PORT", "health-port", CRESC_OPT_INT, AO(health_port), "0", 0, 65535, NULL,
     "Port of GET /healthz, 200 while sampling (0: off; loads libmicrohttpd)", 0},
    {"HEALTH_FILE", "health-file", CRESC_OPT_STRING, AO(health_file), NULL, 0, 1000, NULL,
     "File touched every tick, for the exec probe `crescendo-agent --probe` (unset: off)", 0},
    {NULL, "probe", CRESC_OPT_BOOL, AO(probe), "false", 0, 0, NULL,
     "Exec liveness probe: exit 0 if HEALTH_FILE was touched within 3 intervals (>= 10 s)", 0},
    {"AGENT_CREATE_TOPICS", "create-topics", CRESC_OPT_BOOL, AO(create_topics), "false", 0, 0, NULL,
     "Create the crescendo topics at start if missing", 0},
    {"PARTITIONS", "partitions", CRESC_OPT_INT, AO(partitions), "6", 1, 10000, NULL,
     "Partitions of topics created with --create-topics", 0},
    {NULL, "once", CRESC_OPT_BOOL, AO(once), "false", 0, 0, NULL,
     "Print one sample as JSON after one interval and exit (no Kafka)", 0},
    {"SIMULATE_INSTANCES", "simulate", CRESC_OPT_INT, AO(simulate), "0", 0, SIM_MAX, NULL,
     "Publish synthetic samples for this many instances instead of measuring (0: off)", 0},
    {"SIMULATE_PROFILE", "profile", CRESC_OPT_ENUM, AO(profile), "steady", 0, 0,
     cresc_sim_profile_names, "Simulated load: steady, spike or matchday", 0},
    {"SIMULATE_SEED", "seed", CRESC_OPT_INT, AO(seed), "1", 0, 1e15, NULL,
     "Seed of the simulated noise and goal times (same seed, same run)", 0},
    {"SIMULATE_PERIOD", "simulate-period", CRESC_OPT_MS, AO(sim_period_ms), "10m", 1000, 86400000,
     NULL, "Length of one cycle of the simulated profile", 0},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An identifier from free text (a hostname): allowed characters kept, others become '-'. */
static void make_id(char *dst, const char *src)
{
    size_t n = 0;
    for (; src[n] != '\0' && n < CRESC_ID_MAX; n++) {
        char c = src[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        dst[n] = ok ? c : '-';
    }
    if (n == 0) {
        memcpy(dst, "unknown", 8);
        return;
    }
    dst[n] = '\0';
}

static void identity(const struct agent_config *cfg, struct cresc_sample *tmpl)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0) {
        host[0] = '\0';
    }
    memset(tmpl, 0, sizeof(*tmpl));
    make_id(tmpl->service, cfg->common.default_service);
    make_id(tmpl->instance_id,
            cfg->instance_id != NULL && cfg->instance_id[0] != '\0' ? cfg->instance_id : host);
    make_id(tmpl->node,
            cfg->node_name != NULL && cfg->node_name[0] != '\0' ? cfg->node_name : host);
    tmpl->interval_ms = cfg->interval_ms;
}

/* Longest gap between ticks that still counts as alive: three intervals, at least 10 s. */
static int64_t health_max_age_ms(const struct agent_config *cfg)
{
    return cfg->interval_ms * 3 < 10000 ? 10000 : cfg->interval_ms * 3;
}

static int run_probe(const struct agent_config *cfg)
{
    int64_t age = 0;
    if (cfg->health_file == NULL || cfg->health_file[0] == '\0') {
        fprintf(stderr, "crescendo-agent --probe: HEALTH_FILE is not set\n");
        return 2;
    }
    int rc = cresc_health_file_check(cfg->health_file, health_max_age_ms(cfg), &age);
    if (rc == CRESC_OK) {
        printf("ok: last tick %lld ms ago\n", (long long)age);
        return 0;
    }
    if (rc == CRESC_ENOTFOUND) {
        printf("not alive: %s missing\n", cfg->health_file);
    } else {
        printf("not alive: last tick %lld ms ago (limit %lld ms)\n", (long long)age,
               (long long)health_max_age_ms(cfg));
    }
    return 1;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_stop) {
    }
}

static int run_once(const struct agent_config *cfg, struct cresc_source *src)
{
    struct cresc_sampler sampler;
    struct cresc_reading r;
    struct cresc_sample s;
    char buf[CRESC_SAMPLE_MAX_BYTES];
    size_t len;
    cresc_sampler_init(&sampler);
    identity(cfg, &s);
    cresc_source_read(src, cresc_health_now_ms(), &r);
    cresc_sampler_update(&sampler, &r, &s);
    sleep_ms(cfg->interval_ms);
    cresc_source_read(src, cresc_health_now_ms(), &r);
    cresc_sampler_update(&sampler, &r, &s);
    s.seq = 1;
    s.ts_ms = wall_ms();
    int rc = cresc_sample_encode(&s, buf, sizeof(buf), &len);
    if (rc != CRESC_OK) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT, "Cannot encode the sample: %s",
                  cresc_strerror(rc));
        return 1;
    }
    printf("%s\n", buf);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- publishing ------------------------------------------------------------------------- */

struct agent {
    const struct agent_config *cfg;
    struct cresc_topics topics;
    struct cresc_producer *producer;
    struct cresc_outbox outbox;
    struct cresc_health *health;
    uint64_t produced; /* samples made (the last seq) */
    uint64_t failed;   /* delivery reports with an error */
    bool fatal_logged;
    bool dropping;           /* the outbox overflowed and nothing was handed over since */
    uint64_t drops_at_start; /* total_drops when that began */
    /* simulation */
    uint64_t *sim_seq;
    uint64_t *sim_dropped;
    uint64_t sim_tick;
};

static void on_delivery(void *opaque, void *msg_opaque, int err, int64_t offset)
{
    struct agent *a = opaque;
    (void)msg_opaque;
    (void)offset;
    if (err != CRESC_OK) {
        /* Only a fatal producer error gets here (message.timeout.ms is infinite): count the
           loss so the next handed-over sample reports it. */
        a->failed++;
        if (a->sim_seq == NULL) {
            cresc_outbox_count_lost(&a->outbox, 1);
        }
    }
}

/* Hand samples from the outbox to librdkafka while fewer than inflight_max are there. */
static void dispatch(struct agent *a)
{
    char buf[CRESC_SAMPLE_MAX_BYTES];
    size_t len;
    const struct cresc_sample *front;
    while ((front = cresc_outbox_front(&a->outbox)) != NULL &&
           cresc_producer_outq_len(a->producer) < a->cfg->inflight_max) {
        struct cresc_sample s = *front;
        s.dropped = cresc_outbox_pending_drops(&a->outbox);
        int rc = cresc_sample_encode(&s, buf, sizeof(buf), &len);
        if (rc == CRESC_OK) {
            rc = cresc_producer_send(a->producer, a->topics.samples, s.service, buf, len, NULL);
        } else {
            static struct cresc_log_once enc = CRESC_LOG_ONCE_INIT;
            cresc_log_once(&enc, CRESC_LOG_ERROR, CRESC_LOGGER_AGENT,
                           "Cannot encode sample %llu: %s (dropped and counted)",
                           (unsigned long long)s.seq, cresc_strerror(rc));
            cresc_outbox_pop(&a->outbox);
            cresc_outbox_count_lost(&a->outbox, s.dropped + 1);
            continue;
        }
        if (rc == CRESC_OK) {
            cresc_outbox_pop(&a->outbox);
            if (a->dropping) {
                a->dropping = false;
                cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_AGENT,
                          "Sending again: %llu samples were dropped, reported in sample %llu",
                          (unsigned long long)(a->outbox.total_drops - a->drops_at_start),
                          (unsigned long long)s.seq);
            }
            continue;
        }
        if (rc != CRESC_EFULL && !a->fatal_logged) {
            a->fatal_logged = true;
            cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT,
                      "Kafka producer refuses samples: %s; keeping them queued",
                      cresc_strerror(rc));
        }
        break;
    }
}

static void tick_measure(struct agent *a, struct cresc_source *src, struct cresc_sampler *sampler,
                         const struct cresc_sample *tmpl, int64_t now)
{
    struct cresc_reading r;
    struct cresc_sample s = *tmpl;
    cresc_source_read(src, now, &r);
    cresc_sampler_update(sampler, &r, &s);
    s.seq = ++a->produced;
    s.ts_ms = wall_ms();
    if (cresc_outbox_push(&a->outbox, &s) && !a->dropping) {
        a->dropping = true;
        a->drops_at_start = a->outbox.total_drops - 1;
        cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_AGENT,
                  "Sample queue full (%lld samples, Kafka unreachable?): dropping the oldest; the "
                  "next delivered sample carries the count",
                  (long long)a->cfg->queue_size);
    }
}

static void tick_simulate(struct agent *a, const struct cresc_sample *tmpl)
{
    const struct agent_config *cfg = a->cfg;
    char buf[CRESC_SAMPLE_MAX_BYTES];
    size_t len;
    struct cresc_sample s = *tmpl;
    int64_t t_ms = (int64_t)a->sim_tick * cfg->interval_ms;
    int64_t ts = wall_ms();
    for (uint32_t i = 0; i < (uint32_t)cfg->simulate; i++) {
        cresc_simulate_sample((enum cresc_sim_profile)cfg->profile, (uint64_t)cfg->seed, t_ms,
                              cfg->sim_period_ms, i, &s);
        /* The base is cut to 117 bytes so "-" and up to 10 digits still fit CRESC_ID_MAX. */
        snprintf(s.instance_id, sizeof(s.instance_id), "%.117s-%05u", tmpl->instance_id, i);
        s.seq = ++a->sim_seq[i];
        s.dropped = a->sim_dropped[i];
        s.ts_ms = ts;
        int rc = cresc_sample_encode(&s, buf, sizeof(buf), &len);
        if (rc == CRESC_OK) {
            rc = cresc_producer_send(a->producer, a->topics.samples, s.service, buf, len, NULL);
        }
        if (rc == CRESC_OK) {
            a->sim_dropped[i] = 0;
        } else {
            /* librdkafka's queue is full (Kafka away): this sample is dropped, counted in this
               instance's next one. */
            a->sim_dropped[i]++;
        }
        a->produced++;
    }
    a->sim_tick++;
}

/* librdkafka tuned for a small footprint: no big buffers, no statistics, and no timeout on
 * queued messages (the outbox bounds them; a timeout would lose samples silently). The
 * user's KAFKA_* properties come after these and win. */
static int build_props(const struct cresc_kv_list *user, struct cresc_kv_list *out,
                       struct cresc_kv *items, size_t cap, bool simulate)
{
    static char k_timeout[] = "message.timeout.ms", v_timeout[] = "0";
    static char k_kbytes[] = "queue.buffering.max.kbytes", v_kbytes[] = "4096",
                v_kbytes_sim[] = "65536";
    static char k_backoff[] = "reconnect.backoff.max.ms", v_backoff[] = "2000";
    static char k_stats[] = "statistics.interval.ms", v_stats[] = "0";
    static char k_refresh[] = "topic.metadata.refresh.interval.ms", v_refresh[] = "60000";
    struct cresc_kv mine[] = {
        {k_timeout, v_timeout}, {k_kbytes, simulate ? v_kbytes_sim : v_kbytes},
        {k_backoff, v_backoff}, {k_stats, v_stats},
        {k_refresh, v_refresh},
    };
    size_t n = sizeof(mine) / sizeof(mine[0]);
    if (n + user->n > cap) {
        return CRESC_ETOOBIG;
    }
    memcpy(items, mine, sizeof(mine));
    if (user->n > 0) {
        memcpy(items + n, user->items, user->n * sizeof(*user->items));
    }
    out->n = n + user->n;
    out->items = items;
    return CRESC_OK;
}

static void touch_health_file(const struct agent_config *cfg)
{
    if (cfg->health_file == NULL || cfg->health_file[0] == '\0') {
        return;
    }
    if (cresc_health_file_touch(cfg->health_file) != CRESC_OK) {
        static struct cresc_log_once once = CRESC_LOG_ONCE_INIT;
        cresc_log_once(&once, CRESC_LOG_WARNING, CRESC_LOGGER_AGENT,
                       "Cannot touch HEALTH_FILE %s (%s): the exec probe will fail",
                       cfg->health_file, strerror(errno));
    }
}

/* Deliver what is left within the shutdown deadline. */
static void final_flush(struct agent *a)
{
    int64_t deadline = cresc_health_now_ms() + a->cfg->shutdown_timeout_ms;
    for (;;) {
        if (a->sim_seq == NULL) {
            dispatch(a);
        }
        if (cresc_outbox_len(&a->outbox) == 0 && cresc_producer_outq_len(a->producer) == 0) {
            break;
        }
        int64_t left = deadline - cresc_health_now_ms();
        if (left <= 0) {
            break;
        }
        cresc_producer_poll(a->producer, (int)(left < 50 ? left : 50));
    }
}

static int run_loop(struct agent *a, struct cresc_source *src)
{
    const struct agent_config *cfg = a->cfg;
    struct cresc_sampler sampler;
    struct cresc_sample tmpl;
    identity(cfg, &tmpl);
    cresc_sampler_init(&sampler);
    int64_t now = cresc_health_now_ms();
    int64_t next = now + cfg->interval_ms;
    touch_health_file(cfg);
    if (src != NULL) {
        /* Baseline reading: the first sample (after one interval) already has rates. */
        struct cresc_reading r;
        struct cresc_sample ignored = tmpl;
        cresc_source_read(src, now, &r);
        cresc_sampler_update(&sampler, &r, &ignored);
    } else {
        next = now; /* simulation: first samples right away */
    }
    while (!g_stop) {
        now = cresc_health_now_ms();
        if (now >= next) {
            if (src != NULL) {
                tick_measure(a, src, &sampler, &tmpl, now);
            } else {
                tick_simulate(a, &tmpl);
            }
            cresc_health_beat(a->health, now);
            touch_health_file(cfg);
            next += cfg->interval_ms;
            if (next <= now) {
                next = now + cfg->interval_ms; /* fell behind (suspended?): skip, don't burst */
            }
        }
        if (src != NULL) {
            dispatch(a);
        }
        int64_t wait = next - cresc_health_now_ms();
        wait = wait < 0 ? 0 : (wait > POLL_SLICE_MS ? POLL_SLICE_MS : wait);
        cresc_producer_poll(a->producer, (int)wait);
        if (cresc_producer_fatal(a->producer)) {
            /* The idempotent producer cannot continue (e.g. the broker lost acknowledged
               data): exit non-zero so the agent is restarted with a fresh producer. */
            cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT,
                      "Kafka producer failed fatally: exiting to be restarted");
            break;
        }
    }
    bool fatal = cresc_producer_fatal(a->producer);
    if (!fatal) {
        cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_AGENT,
                  "Stopping: delivering what is left (up to %lld ms)",
                  (long long)cfg->shutdown_timeout_ms);
        final_flush(a);
    }
    struct cresc_producer_stats st = cresc_producer_stats(a->producer);
    size_t unsent = cresc_outbox_len(&a->outbox) + (size_t)cresc_producer_outq_len(a->producer);
    cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_AGENT,
              "Stopped: %llu samples made, %llu delivered, %llu dropped, %llu failed, %zu unsent",
              (unsigned long long)a->produced, (unsigned long long)st.delivered,
              (unsigned long long)a->outbox.total_drops, (unsigned long long)a->failed, unsent);
    return fatal ? 1 : 0;
}

/* Kafka side: pass-through properties plus the agent's tuning, topics, the producer. */
static int open_producer(struct agent *a, struct cresc_kv_list *user, struct cresc_kv *items,
                         size_t cap, size_t queue)
{
    const struct agent_config *cfg = a->cfg;
    struct cresc_kv_list props = {0};
    char err[512] = "";
    bool sim = cfg->simulate > 0;
    int rc = cresc_kafka_props_collect(cfg->common.kafka_properties_file, NULL, NULL, user, err,
                                       sizeof(err));
    if (rc == CRESC_OK) {
        rc = build_props(user, &props, items, cap, sim);
    }
    if (rc != CRESC_OK) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT, "Kafka properties: %s",
                  err[0] != '\0' ? err : cresc_strerror(rc));
        return rc;
    }
    struct cresc_kafka_conf kc = {
        .brokers = cfg->common.kafka_brokers, .client_id = "crescendo-agent", .props = &props};
    if (cfg->create_topics) {
        /* Not fatal: an agent may lack the CreateTopics right, or start before Kafka; the
           coordinator creates the same topics with the same PARTITIONS. */
        rc = cresc_kafka_ensure_topics(&kc, &a->topics, (int)cfg->partitions, -1, 10000, err,
                                       sizeof(err));
        if (rc != CRESC_OK) {
            cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_AGENT,
                      "Could not check or create the topics (%s); publishing anyway", err);
        }
    }
    struct cresc_producer_opts po = {
        .kafka = &kc,
        .queue_max_msgs = sim ? (int)queue : (int)cfg->inflight_max + 16,
        .linger_ms = sim ? 50 : 5,
        .on_delivery = on_delivery,
        .opaque = a,
    };
    rc = cresc_producer_new(&po, &a->producer, err, sizeof(err));
    if (rc != CRESC_OK) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT, "Cannot create the Kafka producer: %s", err);
    }
    return rc;
}

static void log_start(const struct agent *a)
{
    const struct agent_config *cfg = a->cfg;
    if (cfg->simulate > 0) {
        cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_AGENT,
                  "Simulating %lld instances of %s, profile %s, seed %lld, every %lld ms to %s",
                  (long long)cfg->simulate, cfg->common.default_service,
                  cresc_sim_profile_names[cfg->profile], (long long)cfg->seed,
                  (long long)cfg->interval_ms, a->topics.samples);
    } else {
        cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_AGENT,
                  "Publishing samples of %s every %lld ms to %s at %s (queue %lld)",
                  cfg->common.default_service, (long long)cfg->interval_ms, a->topics.samples,
                  cfg->common.kafka_brokers, (long long)cfg->queue_size);
    }
}

static int start_publishing(const struct agent_config *cfg, struct cresc_source *src)
{
    struct agent a;
    struct cresc_kv_list user = {0};
    struct cresc_kv items[600];
    char err[512] = "";
    int ret = 1;
    memset(&a, 0, sizeof(a));
    a.cfg = cfg;
    int rc = cresc_topics_init(&a.topics, cfg->common.topic_prefix);
    if (rc != CRESC_OK) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT, "Bad TOPIC_PREFIX '%s'",
                  cfg->common.topic_prefix);
        return 1;
    }
    bool sim = cfg->simulate > 0;
    /* Simulation needs room for every instance's sample of a few ticks in librdkafka. */
    size_t queue = sim ? (size_t)cfg->simulate * 4 + 1000 : (size_t)cfg->queue_size;
    if ((rc = cresc_outbox_init(&a.outbox, sim ? 1 : queue)) != CRESC_OK) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT, "Cannot allocate the sample queue: %s",
                  cresc_strerror(rc));
        return 1;
    }
    if (sim) {
        a.sim_seq = calloc((size_t)cfg->simulate, sizeof(*a.sim_seq));
        a.sim_dropped = calloc((size_t)cfg->simulate, sizeof(*a.sim_dropped));
        if (a.sim_seq == NULL || a.sim_dropped == NULL) {
            cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_AGENT, "Out of memory");
            goto out;
        }
    }
    if (open_producer(&a, &user, items, sizeof(items) / sizeof(items[0]), queue) != CRESC_OK) {
        goto out;
    }
    if (cfg->health_port > 0) {
        rc = cresc_health_start((uint16_t)cfg->health_port, health_max_age_ms(cfg), &a.health, err,
                                sizeof(err));
        if (rc != CRESC_OK) {
            cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT, "%s", err);
            goto out;
        }
    }
    log_start(&a);
    ret = run_loop(&a, src);
out:
    cresc_health_stop(a.health);
    cresc_producer_free(a.producer);
    cresc_kv_list_release(&user);
    free(a.sim_seq);
    free(a.sim_dropped);
    cresc_outbox_release(&a.outbox);
    return ret;
}

int main(int argc, char **argv)
{
    struct agent_config cfg;
    struct cresc_source *src = NULL;
    char err[512] = "";
    int first_arg = 0;
    int ret = 1;
    const struct cresc_prog prog = {
        .name = "crescendo-agent",
        .summary = "Samples CPU, memory, disk I/O and request rate and publishes them to Kafka",
        .usage = "crescendo-agent [options]            sample this node or container\n"
                 "crescendo-agent --once [options]     print one sample as JSON and exit\n"
                 "crescendo-agent --simulate N --profile steady|spike|matchday",
    };
    memset(&cfg, 0, sizeof(cfg));
    int rc = cresc_config_load(options, N_OPTIONS, &cfg, &prog, argc, argv, &first_arg, NULL, err,
                               sizeof(err));
    if (rc == CRESC_CONFIG_EXIT) {
        ret = 0;
        goto out;
    }
    if (rc != CRESC_OK) {
        fprintf(stderr, "crescendo-agent: %s\n", err);
        ret = 2;
        goto out;
    }
    if (first_arg < argc) {
        fprintf(stderr, "crescendo-agent: unexpected argument '%s' (see --help)\n",
                argv[first_arg]);
        ret = 2;
        goto out;
    }
    if (cfg.probe) {
        ret = run_probe(&cfg);
        goto out;
    }
    cresc_common_apply_logging(&cfg.common);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cfg.simulate == 0) {
        /* The scrape must end well before the next tick. */
        int64_t timeout = cfg.metrics_timeout_ms;
        if (timeout > cfg.interval_ms / 2) {
            timeout = cfg.interval_ms / 2;
        }
        const struct cresc_source_opts so = {
            .proc_root = cfg.proc_root,
            .sys_root = cfg.sys_root,
            .cgroup_dir = cfg.cgroup_dir,
            .mode = (enum cresc_source_mode)cfg.source_mode,
            .metrics_url = cfg.metrics_url,
            .requests_counter = cfg.requests_counter,
            .connections_gauge = cfg.connections_gauge,
            .scrape_timeout_ms = (long)timeout,
        };
        rc = cresc_source_new(&so, &src);
        if (rc != CRESC_OK) {
            fprintf(stderr, "crescendo-agent: cannot set up the sources: %s\n", cresc_strerror(rc));
            goto out;
        }
    }
    ret = cfg.once ? run_once(&cfg, src) : start_publishing(&cfg, src);
out:
    cresc_source_free(src);
    cresc_config_release(options, N_OPTIONS, &cfg);
    return ret;
}
