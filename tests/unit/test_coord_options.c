/* Unit tests for coordinator/options.c: the platform's variables become the initial config of
 * new services, bad values are refused with the variable named, and the actuator rows are in
 * the table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

static int load(struct cresc_coordinator_config *cfg, int argc, char **argv, char *err,
                size_t errlen)
{
    static const struct cresc_prog prog = {"crescendo-coordinator", "test", NULL};
    memset(cfg, 0, sizeof(*cfg));
    int first = 0;
    FILE *devnull = fopen("/dev/null", "w");
    int rc = cresc_config_load(cresc_coordinator_options, cresc_coordinator_options_count, cfg,
                               &prog, argc, argv, &first, devnull, err, errlen);
    fclose(devnull);
    return rc;
}

static void test_platform_variables(void **state)
{
    (void)state;
    setenv("MIN_INSTANCES", "3", 1);
    setenv("MAX_INSTANCES", "12", 1);
    setenv("CPU_THRESHOLD", "65", 1);
    setenv("MEMORY_THRESHOLD", "85", 1);
    setenv("SCALING_COOLDOWN", "120", 1);
    setenv("LOAD_BALANCER_STRATEGY", "least_connections", 1);
    char a0[] = "crescendo-coordinator", a1[] = "--tick=250ms";
    char *argv[] = {a0, a1, NULL};
    struct cresc_coordinator_config cfg;
    char err[256] = "";
    assert_int_equal(load(&cfg, 2, argv, err, sizeof(err)), CRESC_CONFIG_RUN);
    assert_int_equal(cfg.tick_ms, 250);
    assert_int_equal(cfg.state_interval_ms, 5000);
    assert_int_equal(cfg.partitions, 6);
    assert_int_equal(cfg.actuator.kind, 0); /* none */
    struct cresc_scaling_config sc;
    assert_int_equal(cresc_coordinator_initial_config(&cfg, &sc, err, sizeof(err)), 0);
    assert_int_equal(sc.min_instances, 3);
    assert_int_equal(sc.max_instances, 12);
    assert_true(sc.cpu_threshold == 65.0);
    assert_true(sc.memory_threshold == 85.0);
    assert_int_equal(sc.scaling_cooldown_s, 120);
    assert_int_equal(sc.load_balancer_strategy, CRESC_LB_LEAST_CONNECTIONS);
    /* the default policies follow the flat fields */
    assert_string_equal(sc.policies[0].name, "cpu-based-scaling");
    assert_true(sc.policies[0].threshold == 65.0);
    cresc_config_release(cresc_coordinator_options, cresc_coordinator_options_count, &cfg);

    /* min above max: refused as a whole at start */
    setenv("MIN_INSTANCES", "20", 1);
    assert_int_equal(load(&cfg, 1, argv, err, sizeof(err)), CRESC_CONFIG_RUN);
    assert_int_not_equal(cresc_coordinator_initial_config(&cfg, &sc, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "min_instances"));
    cresc_config_release(cresc_coordinator_options, cresc_coordinator_options_count, &cfg);

    setenv("CPU_THRESHOLD", "150", 1);
    assert_true(load(&cfg, 1, argv, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "CPU_THRESHOLD"));
    cresc_config_release(cresc_coordinator_options, cresc_coordinator_options_count, &cfg);
    unsetenv("CPU_THRESHOLD");
    unsetenv("MIN_INSTANCES");

    setenv("LOAD_BALANCER_STRATEGY", "random", 1);
    assert_true(load(&cfg, 1, argv, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "LOAD_BALANCER_STRATEGY"));
    cresc_config_release(cresc_coordinator_options, cresc_coordinator_options_count, &cfg);
    unsetenv("LOAD_BALANCER_STRATEGY");
}

static void test_actuator_rows_present(void **state)
{
    (void)state;
    bool found = false;
    for (size_t i = 0; i < cresc_coordinator_options_count; i++) {
        const struct cresc_opt *o = &cresc_coordinator_options[i];
        found = found || (o->env != NULL && strcmp(o->env, "ACTUATOR_WEBHOOK_URL") == 0);
        /* every variable appears once */
        for (size_t j = i + 1; j < cresc_coordinator_options_count; j++) {
            const struct cresc_opt *q = &cresc_coordinator_options[j];
            if (o->env != NULL && q->env != NULL) {
                assert_string_not_equal(o->env, q->env);
            }
        }
    }
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_platform_variables),
        cmocka_unit_test(test_actuator_rows_present),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
