/* Unit tests for shared/src/config.c: defaults -> environment -> flags precedence, bounds
 * and type checks with messages naming variable, value and range, --help/--version/
 * --print-config, positional arguments, and the Kafka pass-through collection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cresc/config.h"
#include "cresc/log.h"

struct tcfg {
    int64_t min_instances;
    double cpu_threshold;
    bool verbose;
    char *name;
    int strategy;
    int64_t cooldown_ms;
    char *password;
    struct cresc_common_config common;
};

static const char *const strategies[] = {"round_robin", "least_connections", "ip_hash", NULL};

static const struct cresc_opt table[] = {
    {"MIN_INSTANCES", "min-instances", CRESC_OPT_INT, offsetof(struct tcfg, min_instances), "2", 0,
     10000, NULL, "Fewest instances", 0},
    {"CPU_THRESHOLD", "cpu-threshold", CRESC_OPT_DOUBLE, offsetof(struct tcfg, cpu_threshold), "70",
     1, 100, NULL, "CPU threshold, percent", 0},
    {NULL, "verbose", CRESC_OPT_BOOL, offsetof(struct tcfg, verbose), "false", 0, 0, NULL, "Chatty",
     0},
    {"NAME", "name", CRESC_OPT_STRING, offsetof(struct tcfg, name), "abc", 1, 8, NULL, "A name", 0},
    {"LOAD_BALANCER_STRATEGY", "strategy", CRESC_OPT_ENUM, offsetof(struct tcfg, strategy),
     "round_robin", 0, 0, strategies, "Strategy", 0},
    {"SCALING_COOLDOWN_MS", "cooldown", CRESC_OPT_MS, offsetof(struct tcfg, cooldown_ms), "5m", 0,
     86400000, NULL, "Cooldown", 0},
    {"PASSWORD", "password", CRESC_OPT_STRING, offsetof(struct tcfg, password), NULL, 0, 64, NULL,
     "Secret", CRESC_OPT_SECRET},
    CRESC_COMMON_OPTIONS(struct tcfg, common),
};
#define NOPTS (sizeof(table) / sizeof(table[0]))

static const struct cresc_prog prog = {"crescendo-test", "A test program.", NULL};

static const char *const env_names[] = {"MIN_INSTANCES",
                                        "CPU_THRESHOLD",
                                        "NAME",
                                        "LOAD_BALANCER_STRATEGY",
                                        "SCALING_COOLDOWN_MS",
                                        "PASSWORD",
                                        "KAFKA_BROKERS",
                                        "TOPIC_PREFIX",
                                        "LOG_LEVEL",
                                        "LOG_FORMAT",
                                        "SERVICE",
                                        "KAFKA_PROPERTIES_FILE",
                                        NULL};

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; env_names[i] != NULL; i++) {
        unsetenv(env_names[i]);
    }
    return 0;
}

/* Runs cresc_config_load over a NULL-terminated argument list; captures stdout-like output. */
static int load(struct tcfg *cfg, const char *const *args, int *first, char *out, size_t outlen,
                char *err, size_t errlen)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = strdup("crescendo-test");
    for (size_t i = 0; args != NULL && args[i] != NULL; i++) {
        argv[argc++] = strdup(args[i]);
    }
    argv[argc] = NULL;
    memset(cfg, 0, sizeof(*cfg));
    FILE *f = fmemopen(out, outlen, "w");
    assert_non_null(f);
    int rc = cresc_config_load(table, NOPTS, cfg, &prog, argc, argv, first, f, err, errlen);
    fclose(f);
    for (int i = 0; i < argc; i++) {
        free(argv[i]);
    }
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    struct tcfg cfg;
    char out[4096] = "", err[512] = "";
    int first = -1;
    assert_int_equal(load(&cfg, NULL, &first, out, sizeof(out), err, sizeof(err)),
                     CRESC_CONFIG_RUN);
    assert_int_equal(first, 1);
    assert_int_equal(cfg.min_instances, 2);
    assert_true(cfg.cpu_threshold == 70.0);
    assert_false(cfg.verbose);
    assert_string_equal(cfg.name, "abc");
    assert_int_equal(cfg.strategy, 0);
    assert_int_equal(cfg.cooldown_ms, 300000);
    assert_null(cfg.password);
    assert_string_equal(cfg.common.kafka_brokers, "127.0.0.1:9092");
    assert_string_equal(cfg.common.topic_prefix, "scaling.");
    assert_null(cfg.common.kafka_properties_file);
    assert_int_equal(cfg.common.log_format, 0);
    assert_int_equal(cfg.common.log_level, 1);
    assert_string_equal(cfg.common.default_service, "music-generator");
    cresc_config_release(table, NOPTS, &cfg);
    assert_null(cfg.name);
    cresc_config_release(table, NOPTS, &cfg); /* twice is harmless */
}

static void test_env_then_flags(void **state)
{
    (void)state;
    struct tcfg cfg;
    char out[4096] = "", err[512] = "";
    setenv("MIN_INSTANCES", "4", 1);
    setenv("CPU_THRESHOLD", "55.5", 1);
    setenv("LOAD_BALANCER_STRATEGY", "LEAST_CONNECTIONS", 1);
    setenv("KAFKA_BROKERS", "10.0.0.1:9092", 1);
    setenv("NAME", "", 1); /* empty counts as unset */
    const char *args[] = {
        "--min-instances", "6", "--cpu-threshold=80", "--verbose", "--cooldown", "2s", NULL};
    assert_int_equal(load(&cfg, args, NULL, out, sizeof(out), err, sizeof(err)), CRESC_CONFIG_RUN);
    assert_int_equal(cfg.min_instances, 6);
    assert_true(cfg.cpu_threshold == 80.0);
    assert_true(cfg.verbose);
    assert_int_equal(cfg.strategy, 1);
    assert_int_equal(cfg.cooldown_ms, 2000);
    assert_string_equal(cfg.name, "abc");
    assert_string_equal(cfg.common.kafka_brokers, "10.0.0.1:9092");
    cresc_config_release(table, NOPTS, &cfg);

    const char *args2[] = {"--verbose", "--no-verbose", NULL};
    assert_int_equal(load(&cfg, args2, NULL, out, sizeof(out), err, sizeof(err)), CRESC_CONFIG_RUN);
    assert_false(cfg.verbose);
    assert_int_equal(cfg.min_instances, 4);
    cresc_config_release(table, NOPTS, &cfg);
}

static void test_out_of_range_names_everything(void **state)
{
    (void)state;
    struct tcfg cfg;
    char out[4096] = "", err[512] = "";
    setenv("CPU_THRESHOLD", "150", 1);
    assert_int_equal(load(&cfg, NULL, NULL, out, sizeof(out), err, sizeof(err)), CRESC_ERANGE);
    assert_non_null(strstr(err, "CPU_THRESHOLD"));
    assert_non_null(strstr(err, "150"));
    assert_non_null(strstr(err, "1..100"));
    assert_null(cfg.name); /* released on failure */
    unsetenv("CPU_THRESHOLD");

    const char *args[] = {"--min-instances", "abc", NULL};
    assert_int_equal(load(&cfg, args, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    assert_non_null(strstr(err, "MIN_INSTANCES"));
    assert_non_null(strstr(err, "abc"));
    assert_non_null(strstr(err, "0..10000"));
    assert_non_null(strstr(err, "--min-instances"));

    const char *args2[] = {"--min-instances=-1", NULL};
    assert_int_equal(load(&cfg, args2, NULL, out, sizeof(out), err, sizeof(err)), CRESC_ERANGE);
    const char *args3[] = {"--min-instances=3x", NULL};
    assert_int_equal(load(&cfg, args3, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    const char *args4[] = {"--cpu-threshold=nan", NULL};
    assert_int_equal(load(&cfg, args4, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    const char *args5[] = {"--strategy=random", NULL};
    assert_int_equal(load(&cfg, args5, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    assert_non_null(strstr(err, "round_robin, least_connections, ip_hash"));
    const char *args6[] = {"--name=waytoolongname", NULL};
    assert_int_equal(load(&cfg, args6, NULL, out, sizeof(out), err, sizeof(err)), CRESC_ERANGE);
    assert_non_null(strstr(err, "1..8 bytes"));
    const char *args7[] = {"--cooldown=5 minutes", NULL};
    assert_int_equal(load(&cfg, args7, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    const char *args8[] = {"--verbose=maybe", NULL};
    assert_int_equal(load(&cfg, args8, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    const char *args9[] = {"--bogus", NULL};
    assert_int_equal(load(&cfg, args9, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    assert_non_null(strstr(err, "--bogus"));
    const char *args10[] = {"--min-instances", NULL};
    assert_int_equal(load(&cfg, args10, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    assert_non_null(strstr(err, "needs a value"));
    const char *args11[] = {"--password=hunter2", "--cpu-threshold=0", NULL};
    assert_int_equal(load(&cfg, args11, NULL, out, sizeof(out), err, sizeof(err)), CRESC_ERANGE);
    const char *args12[] = {"--log-level=TRACE", NULL};
    assert_int_equal(load(&cfg, args12, NULL, out, sizeof(out), err, sizeof(err)), CRESC_EINVAL);
    assert_non_null(strstr(err, "LOG_LEVEL"));
}

static void test_secret_never_shown(void **state)
{
    (void)state;
    struct tcfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    char err[512] = "";
    char big[80];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(cresc_config_set(&table[6], &cfg, big, "environment", err, sizeof(err)),
                     CRESC_ERANGE);
    assert_null(strstr(err, "xxxx"));
    assert_non_null(strstr(err, "PASSWORD"));
    assert_int_equal(cresc_config_set(&table[6], &cfg, "hunter2", "test", err, sizeof(err)),
                     CRESC_OK);
    char out[4096] = "";
    FILE *f = fmemopen(out, sizeof(out), "w");
    cresc_config_print(table, NOPTS, &cfg, f);
    fclose(f);
    assert_null(strstr(out, "hunter2"));
    assert_non_null(strstr(out, "PASSWORD=<set>"));
    cresc_config_release(table, NOPTS, &cfg);
}

static void test_ms_units(void **state)
{
    (void)state;
    struct tcfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    char err[256];
    const struct cresc_opt *o = &table[5];
    static const struct {
        const char *text;
        int64_t ms;
    } ok[] = {{"250ms", 250}, {"5s", 5000}, {"2m", 120000}, {"1h", 3600000},
              {"1.5s", 1500}, {"42", 42},   {" 7s ", 7000}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(cresc_config_set(o, &cfg, ok[i].text, "t", err, sizeof(err)), CRESC_OK);
        assert_int_equal(cfg.cooldown_ms, ok[i].ms);
    }
    assert_int_equal(cresc_config_set(o, &cfg, "2d", "t", err, sizeof(err)), CRESC_EINVAL);
    assert_int_equal(cresc_config_set(o, &cfg, "0.1ms", "t", err, sizeof(err)), CRESC_EINVAL);
    assert_int_equal(cresc_config_set(o, &cfg, "25h", "t", err, sizeof(err)), CRESC_ERANGE);
    assert_int_equal(cresc_config_set(o, &cfg, "", "t", err, sizeof(err)), CRESC_EINVAL);
}

static void test_help_version_print(void **state)
{
    (void)state;
    struct tcfg cfg;
    char out[8192] = "", err[512] = "";
    const char *help[] = {"--help", NULL};
    assert_int_equal(load(&cfg, help, NULL, out, sizeof(out), err, sizeof(err)), CRESC_CONFIG_EXIT);
    assert_non_null(strstr(out, "Usage: crescendo-test"));
    assert_non_null(strstr(out, "--min-instances"));
    assert_non_null(strstr(out, "MIN_INSTANCES"));
    assert_non_null(strstr(out, "0..10000"));
    assert_non_null(strstr(out, "--print-config"));
    assert_null(cfg.name);

    memset(out, 0, sizeof(out));
    const char *ver[] = {"--version", NULL};
    assert_int_equal(load(&cfg, ver, NULL, out, sizeof(out), err, sizeof(err)), CRESC_CONFIG_EXIT);
    assert_non_null(strstr(out, "crescendo-test " CRESC_VERSION));

    memset(out, 0, sizeof(out));
    setenv("MIN_INSTANCES", "3", 1);
    const char *pc[] = {"--print-config", "--strategy", "ip_hash", NULL};
    assert_int_equal(load(&cfg, pc, NULL, out, sizeof(out), err, sizeof(err)), CRESC_CONFIG_EXIT);
    assert_non_null(strstr(out, "MIN_INSTANCES=3\n"));
    assert_non_null(strstr(out, "LOAD_BALANCER_STRATEGY=ip_hash\n"));
    assert_non_null(strstr(out, "--verbose=false\n"));
    assert_non_null(strstr(out, "TOPIC_PREFIX=scaling.\n"));
    assert_non_null(strstr(out, "LOG_LEVEL=INFO\n"));
    assert_non_null(strstr(out, "PASSWORD=\n"));
    assert_null(cfg.name);

    /* A bad value still stops --print-config: it prints only valid configurations. */
    const char *pc2[] = {"--print-config", "--min-instances=-5", NULL};
    assert_int_equal(load(&cfg, pc2, NULL, out, sizeof(out), err, sizeof(err)), CRESC_ERANGE);
}

static void test_positionals(void **state)
{
    (void)state;
    struct tcfg cfg;
    char out[1024] = "", err[512] = "";
    int first = 0;
    char a0[] = "prog", a1[] = "replay", a2[] = "--min-instances", a3[] = "7", a4[] = "trace.jsonl",
         a5[] = "--", a6[] = "--not-a-flag";
    char *argv[] = {a0, a1, a2, a3, a4, a5, a6, NULL};
    int argc = 7;
    memset(&cfg, 0, sizeof(cfg));
    FILE *f = fmemopen(out, sizeof(out), "w");
    assert_int_equal(
        cresc_config_load(table, NOPTS, &cfg, &prog, argc, argv, &first, f, err, sizeof(err)),
        CRESC_CONFIG_RUN);
    fclose(f);
    assert_int_equal(cfg.min_instances, 7);
    assert_int_equal(first, 4);
    assert_string_equal(argv[first], "replay");
    assert_string_equal(argv[first + 1], "trace.jsonl");
    assert_string_equal(argv[first + 2], "--not-a-flag");
    cresc_config_release(table, NOPTS, &cfg);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *kv_get(const struct cresc_kv_list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].key, key) == 0) {
            return l->items[i].value;
        }
    }
    return NULL;
}

static void test_kafka_props(void **state)
{
    (void)state;
    char path[] = "/tmp/cresc-props-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# TLS settings\n"
                     "security.protocol = SSL\n"
                     "ssl.ca.location=/etc/ca.pem\n"
                     "! also a comment\n"
                     "\n"
                     "sasl.mechanism: PLAIN\n"
                     "client.rack=a=b\n");
    char e0[] = "KAFKA_SECURITY_PROTOCOL=SASL_SSL", e1[] = "KAFKA_SASL_USERNAME=alice",
         e2[] = "KAFKA_BROKERS=1.2.3.4:9092", e3[] = "KAFKA_PROPERTIES_FILE=/x",
         e4[] = "KAFKA_HEAP=1g", e5[] = "HOME=/root", e6[] = "KAFKA_=x";
    char *envp[] = {e0, e1, e2, e3, e4, e5, e6, NULL};
    struct cresc_kv_list l;
    char err[256] = "";
    assert_int_equal(cresc_kafka_props_collect(path, envp, NULL, &l, err, sizeof(err)), CRESC_OK);
    assert_string_equal(kv_get(&l, "security.protocol"), "SASL_SSL"); /* env overrides file */
    assert_string_equal(kv_get(&l, "ssl.ca.location"), "/etc/ca.pem");
    assert_string_equal(kv_get(&l, "sasl.mechanism"), "PLAIN");
    assert_string_equal(kv_get(&l, "sasl.username"), "alice");
    assert_string_equal(kv_get(&l, "client.rack"), "a=b");
    assert_null(kv_get(&l, "brokers"));
    assert_null(kv_get(&l, "properties.file"));
    assert_null(kv_get(&l, "heap"));
    assert_int_equal(l.n, 5);
    cresc_kv_list_release(&l);
    assert_int_equal(l.n, 0);

    /* A caller-given skip list replaces the default one. */
    const char *const skip[] = {"KAFKA_SASL_USERNAME", NULL};
    assert_int_equal(cresc_kafka_props_collect(NULL, envp, skip, &l, err, sizeof(err)), CRESC_OK);
    assert_null(kv_get(&l, "sasl.username"));
    assert_string_equal(kv_get(&l, "brokers"), "1.2.3.4:9092");
    cresc_kv_list_release(&l);

    write_file(path, "security.protocol\n");
    assert_int_equal(cresc_kafka_props_collect(path, envp, NULL, &l, err, sizeof(err)),
                     CRESC_EPARSE);
    assert_non_null(strstr(err, "line 1"));
    assert_int_equal(l.n, 0);
    unlink(path);
    assert_int_equal(cresc_kafka_props_collect(path, envp, NULL, &l, err, sizeof(err)), CRESC_EIO);
    assert_non_null(strstr(err, path));
}

static void test_apply_logging(void **state)
{
    (void)state;
    struct cresc_common_config c = {0};
    c.log_level = 2; /* WARNING */
    c.log_format = 0;
    cresc_common_apply_logging(&c);
    assert_false(cresc_log_enabled(CRESC_LOG_INFO));
    assert_true(cresc_log_enabled(CRESC_LOG_WARNING));
    c.log_level = 0;
    cresc_common_apply_logging(&c);
    assert_true(cresc_log_enabled(CRESC_LOG_DEBUG));
    c.log_level = 1;
    cresc_common_apply_logging(&c);
    assert_string_equal(cresc_log_format_names[1], "json");
    assert_string_equal(cresc_log_level_names[2], "WARNING");
    assert_null(cresc_log_level_names[4]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_env_then_flags, clear_env),
        cmocka_unit_test_setup(test_out_of_range_names_everything, clear_env),
        cmocka_unit_test_setup(test_secret_never_shown, clear_env),
        cmocka_unit_test_setup(test_ms_units, clear_env),
        cmocka_unit_test_setup(test_help_version_print, clear_env),
        cmocka_unit_test_setup(test_positionals, clear_env),
        cmocka_unit_test_setup(test_kafka_props, clear_env),
        cmocka_unit_test_setup(test_apply_logging, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
