/* Tests of `crescendo-coordinator evaluate` and `replay` through the built binary: every
 * worked example of docs/policies.md (tests/data/policies/NN-name.json: input and expected
 * decision), bad inputs (exit 2, the field named on stderr), and a recorded trace replayed
 * with its summary checked; garbage traces never crash. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#define BIN CRESC_BINARY_DIR "/coordinator/crescendo-coordinator"
#define SRC CRESC_SOURCE_DIR

static char *slurp_fd(int fd)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    assert_non_null(b);
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            b = realloc(b, cap);
            assert_non_null(b);
        }
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r <= 0) {
            break;
        }
        n += (size_t)r;
    }
    b[n] = '\0';
    return b;
}

static int tmpfd(void)
{
    char path[] = "/tmp/cresc-offline-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

/* Run the coordinator binary with argv (NULL-terminated), feeding `input` on stdin. */
static int run(const char *const *argv, const char *input, char **out, char **err)
{
    int in_fd = tmpfd(), out_fd = tmpfd(), err_fd = tmpfd();
    size_t len = input ? strlen(input) : 0;
    assert_int_equal(write(in_fd, input ? input : "", len), (ssize_t)len);
    lseek(in_fd, 0, SEEK_SET);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in_fd, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execv(BIN, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    *out = slurp_fd(out_fd);
    *err = slurp_fd(err_fd);
    close(in_fd);
    close(out_fd);
    close(err_fd);
    if (!WIFEXITED(st)) {
        print_error("crescendo-coordinator died (signal %d); stderr: %s\n", WTERMSIG(st), *err);
        return -1;
    }
    return WEXITSTATUS(st);
}

static int evaluate(const char *input, char **out, char **err)
{
    const char *argv[] = {BIN, "evaluate", NULL};
    return run(argv, input, out, err);
}

static void test_binary_present(void **state)
{
    (void)state;
    struct stat st;
    if (stat(BIN, &st) != 0) {
        print_error("%s is not built\n", BIN);
    }
    assert_int_equal(stat(BIN, &st), 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_example(const char *path, const char *docs)
{
    json_error_t je;
    json_t *ex = json_load_file(path, 0, &je);
    if (!ex) {
        print_error("%s: %s\n", path, je.text);
    }
    assert_non_null(ex);
    const char *base = strrchr(path, '/') + 1;
    char stem[256];
    snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(base) - 5), base);
    /* Each example is shown in docs/policies.md, so the docs and the tests can't drift. */
    if (!strstr(docs, stem)) {
        print_error("docs/policies.md does not show example %s\n", stem);
    }
    assert_non_null(strstr(docs, stem));
    char *input = json_dumps(json_object_get(ex, "input"), JSON_COMPACT);
    char *out = NULL, *err = NULL;
    int rc = evaluate(input, &out, &err);
    if (rc != 0) {
        print_error("%s: exit %d: %s\n", stem, rc, err);
    }
    assert_int_equal(rc, 0);
    json_t *got = json_loads(out, 0, &je);
    assert_non_null(got);
    const char *key;
    json_t *want;
    json_object_foreach(json_object_get(ex, "expect"), key, want)
    {
        json_t *g = json_object_get(got, key);
        json_t *kinds = NULL;
        if (strcmp(key, "guards") == 0) {
            kinds = json_array();
            size_t i;
            json_t *gd;
            json_array_foreach(g, i, gd)
            {
                json_array_append(kinds, json_object_get(gd, "kind"));
            }
            g = kinds;
        }
        if (!json_equal(g, want)) {
            char *a = json_dumps(want, JSON_ENCODE_ANY), *b = json_dumps(g, JSON_ENCODE_ANY);
            print_error("%s: %s: want %s, got %s\n", stem, key, a, b);
            free(a);
            free(b);
        }
        assert_true(json_equal(g, want));
        json_decref(kinds);
    }
    /* Every decision carries its explanation. */
    assert_true(json_is_array(json_object_get(got, "votes")));
    assert_true(json_is_string(json_object_get(got, "reason")));
    json_decref(got);
    free(input);
    free(out);
    free(err);
    json_decref(ex);
}

static void test_doc_examples(void **state)
{
    (void)state;
    FILE *f = fopen(SRC "/docs/policies.md", "r");
    assert_non_null(f);
    char *docs = calloc(1, 1 << 20);
    assert_non_null(docs);
    size_t n = fread(docs, 1, (1 << 20) - 1, f);
    fclose(f);
    assert_true(n > 0);
    DIR *d = opendir(SRC "/tests/data/policies");
    assert_non_null(d);
    char *names[256];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < 256) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0) {
            names[nn++] = strdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, nn, sizeof(names[0]), cmp_str);
    assert_true(nn >= 15);
    for (size_t i = 0; i < nn; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/tests/data/policies/%s", SRC, names[i]);
        check_example(path, docs);
        free(names[i]);
    }
    free(docs);
}

static void expect_bad(const char *input, const char *field)
{
    char *out = NULL, *err = NULL;
    int rc = evaluate(input, &out, &err);
    if (rc != 2 || !strstr(err, field)) {
        print_error("input %s: exit %d, stderr '%s' (want 2 naming %s)\n", input, rc, err, field);
    }
    assert_int_equal(rc, 2);
    assert_non_null(strstr(err, field));
    assert_string_equal(out, "");
    free(out);
    free(err);
}

static void test_evaluate_bad_input(void **state)
{
    (void)state;
    expect_bad("", "invalid JSON");
    expect_bad("[1, 2]", "JSON object");
    expect_bad("{\"now_ms\": 1}", "current_instances");
    expect_bad("{\"current_instances\": \"two\"}", "current_instances");
    expect_bad("{\"current_instances\": -1}", "current_instances");
    expect_bad("{\"current_instances\": 2, \"now_ms\": 1.5}", "now_ms");
    expect_bad("{\"current_instances\": 2, \"metrics\": {\"cpu_pct\": \"high\"}}",
               "metrics.cpu_pct");
    expect_bad("{\"current_instances\": 2, \"metrics\": {\"mem_pct\": 140}}", "metrics.mem_pct");
    expect_bad(
        "{\"current_instances\": 2, \"config\": {\"min_instances\": 5, \"max_instances\": 3}}",
        "config.");
    expect_bad("{\"current_instances\": 2, \"config\": {\"cpu_threshold\": \"x\"}}",
               "config.cpu_threshold");
    expect_bad("{\"current_instances\": 2, \"config\": {\"policies\": [{\"name\": \"p\", "
               "\"metric\": \"gpu\"}]}}",
               "config.policies[0].metric");
    expect_bad("{\"current_instances\": 2, \"history\": {\"recommendations\": [{\"at_ms\": 1}]}}",
               "history.recommendations[0].instances");
    expect_bad("{\"current_instances\": 2, \"history\": {\"scale_events\": [{\"at_ms\": 1, "
               "\"from\": 1, \"to\": \"x\"}]}}",
               "history.scale_events[0].to");
    expect_bad("{\"current_instances\": 2, \"paused\": 1}", "paused");
    /* Minimal valid input: the defaults, no metrics. */
    char *out = NULL, *err = NULL;
    assert_int_equal(evaluate("{\"current_instances\": 3}", &out, &err), 0);
    assert_non_null(strstr(out, "\"target_instances\": 3"));
    assert_non_null(strstr(out, "missing_metric"));
    free(out);
    free(err);
}

static json_t *last_json_line(const char *out)
{
    const char *end = out + strlen(out);
    while (end > out && end[-1] == '\n') {
        end--;
    }
    const char *start = end;
    while (start > out && start[-1] != '\n') {
        start--;
    }
    json_error_t je;
    return json_loadb(start, (size_t)(end - start), 0, &je);
}

static void test_replay_trace(void **state)
{
    (void)state;
    const char *argv[] = {BIN,
                          "replay",
                          "--config",
                          SRC "/tests/data/traces/cpu_spike.config.json",
                          SRC "/tests/data/traces/cpu_spike.jsonl",
                          NULL};
    char *out = NULL, *err = NULL;
    int rc = run(argv, NULL, &out, &err);
    if (rc != 0) {
        print_error("replay: exit %d: %s\n", rc, err);
    }
    assert_int_equal(rc, 0);
    /* One decision per tick (1 s over ~956 s of trace), then the summary. */
    size_t lines = 0;
    for (const char *p = out; *p; p++) {
        lines += *p == '\n';
    }
    json_t *sum = last_json_line(out);
    assert_non_null(sum);
    json_t *s = json_object_get(sum, "summary");
    assert_non_null(s);
    json_int_t evals = json_integer_value(json_object_get(s, "evaluations"));
    assert_int_equal(lines, (size_t)evals + 1);
    assert_true(evals >= 950 && evals <= 960);
    assert_string_equal(json_string_value(json_object_get(s, "service")), "web");
    assert_int_equal(json_integer_value(json_object_get(s, "malformed_lines")), 3);
    assert_int_equal(json_integer_value(json_object_get(s, "duplicate_samples")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "other_service_samples")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "samples_accepted")), 384);
    /* 2 -> 3 -> 5 under the spike (60 s cooldown between), then 5 -> 3 -> 2 once the 120 s
     * down window and the cooldown allow; the first scale-down reverses the last scale-up
     * within 10 minutes: one flap. */
    assert_int_equal(json_integer_value(json_object_get(s, "scale_ups")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "scale_downs")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "scale_actions")), 4);
    assert_int_equal(json_integer_value(json_object_get(s, "flaps")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "max_instances_seen")), 5);
    assert_int_equal(json_integer_value(json_object_get(s, "final_instances")), 2);
    json_t *above = json_object_get(s, "time_above");
    assert_int_equal(json_array_size(above), 3);
    json_t *cpu = json_array_get(above, 0);
    assert_string_equal(json_string_value(json_object_get(cpu, "policy")), "cpu-based-scaling");
    /* The 30 s window mean crosses 70% some 15-20 s into the 120 s spike and falls below it
     * about as long after. */
    json_int_t ms = json_integer_value(json_object_get(cpu, "above_ms"));
    assert_true(ms >= 100000 && ms <= 125000);
    /* The decision lines use the platform's words. */
    assert_non_null(strstr(out, "\"reason\":\"Scaling up based on cpu-based-scaling\""));
    assert_non_null(strstr(out, "\"reason\":\"Scaling down based on cpu-based-scaling\""));
    /* Malformed lines are reported with their line numbers. */
    assert_non_null(strstr(err, "line 21 skipped"));
    json_decref(sum);
    free(out);
    free(err);

    /* --summary-only prints just the summary; --tick-ms changes the evaluation count. */
    const char *argv2[] = {BIN,
                           "replay",
                           "--summary-only",
                           "--tick-ms=5000",
                           "--config",
                           SRC "/tests/data/traces/cpu_spike.config.json",
                           SRC "/tests/data/traces/cpu_spike.jsonl",
                           NULL};
    assert_int_equal(run(argv2, NULL, &out, &err), 0);
    assert_int_equal(strncmp(out, "{\"summary\":", 11), 0);
    sum = last_json_line(out);
    assert_non_null(sum);
    evals = json_integer_value(json_object_get(json_object_get(sum, "summary"), "evaluations"));
    assert_true(evals >= 190 && evals <= 192);
    json_decref(sum);
    free(out);
    free(err);
}

static void test_replay_usage_and_garbage(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    const char *help[] = {BIN, "replay", "--help", NULL};
    assert_int_equal(run(help, NULL, &out, &err), 0);
    assert_non_null(strstr(out, "--tick-ms"));
    free(out);
    free(err);
    const char *missing[] = {BIN, "replay", "/nonexistent/trace.jsonl", NULL};
    assert_int_equal(run(missing, NULL, &out, &err), 1);
    assert_non_null(strstr(err, "/nonexistent/trace.jsonl"));
    free(out);
    free(err);
    const char *noarg[] = {BIN, "replay", NULL};
    assert_int_equal(run(noarg, NULL, &out, &err), 2);
    free(out);
    free(err);
    const char *badopt[] = {BIN, "replay", "--tick-ms", "0", "x.jsonl", NULL};
    assert_int_equal(run(badopt, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "--tick-ms"));
    free(out);
    free(err);
    /* A config that fails validation names the field. */
    char cfgpath[] = "/tmp/cresc-offline-cfg-XXXXXX";
    int fd = mkstemp(cfgpath);
    assert_true(fd >= 0);
    const char *badcfg = "{\"max_instances\": 0}";
    assert_int_equal(write(fd, badcfg, strlen(badcfg)), (ssize_t)strlen(badcfg));
    close(fd);
    const char *cfgargv[] = {BIN, "replay", "--config", cfgpath, "-", NULL};
    assert_int_equal(run(cfgargv, "", &out, &err), 2);
    assert_non_null(strstr(err, "max_instances"));
    unlink(cfgpath);
    free(out);
    free(err);

    /* Garbage on stdin: binary bytes, an over-long line, truncated JSON, absurd values. */
    size_t big = 40000;
    char *g = malloc(big + 4096);
    assert_non_null(g);
    size_t n = 0;
    for (size_t i = 0; i < 300; i++) {
        g[n++] = (char)(128 + i % 128); /* no newline inside */
    }
    g[n++] = '\n';
    memset(g + n, 'x', 20000);
    n += 20000;
    g[n++] = '\n';
    n += (size_t)snprintf(g + n, 4096,
                          "{\"schema_version\":1,\"service\":\"s\"\n"
                          "{\"schema_version\":99,\"service\":\"s\",\"instance_id\":\"i\","
                          "\"node\":\"n\",\"seq\":1,\"ts_ms\":1,\"interval_ms\":1}\n"
                          "{\"schema_version\":1,\"service\":\"s\",\"instance_id\":\"i\","
                          "\"node\":\"n\",\"seq\":1,\"ts_ms\":1000,\"interval_ms\":1000,"
                          "\"cpu_pct\":50}\n"
                          "{\"schema_version\":1,\"service\":\"s\",\"instance_id\":\"i\","
                          "\"node\":\"n\",\"seq\":2,\"ts_ms\":9000000000000,\"interval_ms\":1000,"
                          "\"cpu_pct\":50}\n"
                          "\n   \n");
    g[n] = '\0';
    const char *stdin_argv[] = {BIN, "replay", "-", NULL};
    assert_int_equal(run(stdin_argv, g, &out, &err), 0);
    json_t *sum = last_json_line(out);
    assert_non_null(sum);
    json_t *s = json_object_get(sum, "summary");
    assert_int_equal(json_integer_value(json_object_get(s, "malformed_lines")), 4);
    assert_int_equal(json_integer_value(json_object_get(s, "samples_accepted")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "skewed_samples")), 1);
    json_decref(sum);
    free(g);
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_present),           cmocka_unit_test(test_doc_examples),
        cmocka_unit_test(test_evaluate_bad_input),       cmocka_unit_test(test_replay_trace),
        cmocka_unit_test(test_replay_usage_and_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
