/* Unit tests for the sample decoder's fast path (shared/src/msg_sample_fast.c): it reads what
 * our encoder writes (so the coordinator's ingest really takes it), gives the reference
 * decoder's struct bit for bit, and declines (leaving the verdict to the reference) every
 * input outside its narrow shape: malformed JSON (separators, literals, trailing bytes),
 * duplicates, unknown fields, escapes, numbers outside the plain forms, values out of range. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cresc/msg.h"

static const char plain[] =
    "{\"schema_version\":1,\"service\":\"svc-a\",\"instance_id\":\"i-1\",\"node\":\"n1\","
    "\"seq\":7,\"ts_ms\":1795983000000,\"interval_ms\":1000,\"dropped\":0,\"cpu_pct\":55.5,"
    "\"mem_pct\":40,\"req_per_s\":12.25,\"active_connections\":3,\"disk\":{\"read_ops_per_s\":1.5,"
    "\"write_ops_per_s\":2,\"read_bytes_per_s\":1e3,\"write_bytes_per_s\":0.0}}";

/* decode (fast path first) and the reference agree: verdict, field, reason and struct. */
static void assert_same_as_reference(const char *buf, size_t len)
{
    struct cresc_sample a, b;
    struct cresc_msg_error ea, eb;
    int ra = cresc_sample_decode(buf, len, &a, &ea);
    int rb = cresc_sample_decode_reference(buf, len, &b, &eb);
    assert_int_equal(ra, rb);
    if (ra == 0) {
        assert_memory_equal(&a, &b, sizeof(a));
    } else {
        assert_string_equal(ea.field, eb.field);
        assert_string_equal(ea.reason, eb.reason);
    }
}

/* Replace the first `from` in plain by `to`. */
static size_t variant(char *out, size_t cap, const char *from, const char *to)
{
    const char *at = strstr(plain, from);
    assert_non_null(at);
    int n = snprintf(out, cap, "%.*s%s%s", (int)(at - plain), plain, to, at + strlen(from));
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

static void test_encoder_output_takes_fast_path(void **state)
{
    (void)state;
    struct cresc_sample s;
    memset(&s, 0, sizeof(s));
    snprintf(s.service, sizeof(s.service), "music-generator");
    snprintf(s.instance_id, sizeof(s.instance_id), "music-generator-7f9c-%s", "x1");
    snprintf(s.node, sizeof(s.node), "node-3.cluster.local");
    s.seq = 123456789;
    s.ts_ms = 1795983000123;
    s.interval_ms = 1000;
    s.dropped = 2;
    const unsigned shapes[] = {
        0,
        CRESC_SAMPLE_HAS_CPU,
        CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_REQ | CRESC_SAMPLE_HAS_CONNS,
        CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_REQ |
            CRESC_SAMPLE_HAS_CONNS | CRESC_SAMPLE_HAS_DISK,
    };
    for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
        s.present = shapes[k];
        s.cpu_pct = 99.99999999999999;
        s.mem_pct = 0.1 + 0.2;
        s.req_per_s = 1234567.891;
        s.active_connections = 0;
        s.disk_read_ops_per_s = 1e-7;
        s.disk_write_ops_per_s = 3.0;
        s.disk_read_bytes_per_s = 1.5e300;
        s.disk_write_bytes_per_s = 4096;
        char buf[CRESC_SAMPLE_MAX_BYTES + 1];
        size_t len = 0;
        assert_int_equal(cresc_sample_encode(&s, buf, sizeof(buf), &len), 0);
        struct cresc_sample fast, ref;
        struct cresc_msg_error err;
        assert_true(cresc_sample_decode_fast(buf, len, &fast));
        assert_int_equal(cresc_sample_decode_reference(buf, len, &ref, &err), 0);
        assert_memory_equal(&fast, &ref, sizeof(fast));
        assert_int_equal(fast.present, shapes[k]);
        assert_true(fast.seq == s.seq && fast.dropped == 2);
    }
}

static void test_plain_forms_accepted(void **state)
{
    (void)state;
    char buf[1024];
    struct cresc_sample s;
    assert_true(cresc_sample_decode_fast(plain, strlen(plain), &s));
    assert_string_equal(s.service, "svc-a");
    assert_true(s.cpu_pct == 55.5 && s.mem_pct == 40.0 && s.disk_read_bytes_per_s == 1000.0);
    assert_same_as_reference(plain, strlen(plain));

    /* whitespace anywhere JSON allows it */
    size_t n =
        variant(buf, sizeof(buf), "{\"schema_version\":1,", " \r\n\t{ \"schema_version\" :\n1 ,\t");
    assert_true(cresc_sample_decode_fast(buf, n, &s));
    assert_same_as_reference(buf, n);

    /* -0 is the integer 0 for the reference (json_integer): +0.0, not -0.0 */
    n = variant(buf, sizeof(buf), "\"mem_pct\":40", "\"mem_pct\":-0");
    assert_true(cresc_sample_decode_fast(buf, n, &s));
    assert_false(signbit(s.mem_pct));
    assert_same_as_reference(buf, n);

    /* exponent forms and null metrics */
    n = variant(buf, sizeof(buf), "\"req_per_s\":12.25", "\"req_per_s\":1.225E+1");
    assert_true(cresc_sample_decode_fast(buf, n, &s));
    assert_true(s.req_per_s == 12.25);
    n = variant(buf, sizeof(buf), "\"cpu_pct\":55.5", "\"cpu_pct\":null");
    assert_true(cresc_sample_decode_fast(buf, n, &s));
    assert_int_equal(s.present & CRESC_SAMPLE_HAS_CPU, 0);
    assert_same_as_reference(buf, n);
    /* fields in another order (the expected-next guess misses), whitespace before null */
    n = variant(buf, sizeof(buf), "\"schema_version\":1,\"service\":\"svc-a\",",
                "\"service\":\"svc-a\",\"schema_version\":1,");
    assert_true(cresc_sample_decode_fast(buf, n, &s));
    assert_same_as_reference(buf, n);
    n = variant(buf, sizeof(buf), "\"cpu_pct\":55.5", "\"cpu_pct\": \tnull ");
    assert_true(cresc_sample_decode_fast(buf, n, &s));
    assert_same_as_reference(buf, n);
    /* reals beyond the exact fast path go through strtod: more than 15 and than 19 significant
     * digits, many leading zeros in the fraction, large exponents */
    const char *reals[] = {"12.345678901234567",
                           "1.00000000000000000000001",
                           "0.000000000000000000000000001",
                           "3.5e-30",
                           "1e22",
                           "1.7976931348623157e308"};
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        char to[64];
        (void)snprintf(to, sizeof(to), "\"req_per_s\":%s", reals[i]);
        n = variant(buf, sizeof(buf), "\"req_per_s\":12.25", to);
        assert_true(cresc_sample_decode_fast(buf, n, &s));
        assert_true(s.req_per_s == strtod(reals[i], NULL));
        assert_same_as_reference(buf, n);
    }
    /* identifiers: 128 characters are taken, 129 are the reference's to refuse */
    char id[160], to[200];
    memset(id, 'a', sizeof(id));
    id[128] = '\0';
    (void)snprintf(to, sizeof(to), "\"node\":\"%s\"", id);
    n = variant(buf, sizeof(buf), "\"node\":\"n1\"", to);
    assert_true(cresc_sample_decode_fast(buf, n, &s));
    assert_int_equal(strlen(s.node), 128);
    assert_same_as_reference(buf, n);
    id[128] = 'a';
    id[129] = '\0';
    (void)snprintf(to, sizeof(to), "\"node\":\"%s\"", id);
    n = variant(buf, sizeof(buf), "\"node\":\"n1\"", to);
    assert_false(cresc_sample_decode_fast(buf, n, &s));
    assert_same_as_reference(buf, n);
}

/* The encoder's exact layout is read literal by literal; a document that leaves it anywhere
 * (late: after disk, in the disk object, at the very end) is read the general way, with the
 * same result, and nothing of the abandoned attempt shows in the struct. */
static void test_layout_and_its_fallbacks(void **state)
{
    (void)state;
    char buf[1024];
    struct cresc_sample s;
    const struct {
        const char *from, *to;
        bool accepted;
    } cases[] = {
        {"}}", "} }", true},                              /* whitespace before the end */
        {"}}", "}}\n", true},                             /* and after it */
        {"}}", "},\"extra\":[1,{}]}", false},             /* unknown field: the reference's */
        {"\"dropped\":0,", "", true},                     /* an optional field left out */
        {",\"disk\":{", ",\"disk\":null,\"x\":{", false}, /* unknown, after disk */
        {"\"read_ops_per_s\":1.5,\"write_ops_per_s\":2",  /* disk fields in another order */
         "\"write_ops_per_s\":2,\"read_ops_per_s\":1.5", true},
        {"\"seq\":7", "\"seq\":07", false},                  /* a leading zero */
        {"\"cpu_pct\":55.5", "\"cpu_pct\":100.5", false},    /* out of range */
        {"\"node\":\"n1\"", "\"node\":\"n\\u0031\"", false}, /* an escape: the reference's */
        {"\"schema_version\":1", "\"schema_version\" :1", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = variant(buf, sizeof(buf), cases[i].from, cases[i].to);
        memset(&s, 0xa5, sizeof(s));
        assert_int_equal(cresc_sample_decode_fast(buf, n, &s), cases[i].accepted);
        assert_same_as_reference(buf, n);
        if (cases[i].accepted) {
            struct cresc_sample ref;
            struct cresc_msg_error err;
            assert_int_equal(cresc_sample_decode_reference(buf, n, &ref, &err), 0);
            assert_memory_equal(&s, &ref, sizeof(s));
        }
    }
}

static void test_declines_what_it_is_not_sure_of(void **state)
{
    (void)state;
    const char *cases[][2] = {
        {"\"node\":\"n1\"", "\"node\":\"n1\",\"node\":\"n2\""}, /* duplicate */
        {"\"read_ops_per_s\":1.5", "\"read_ops_per_s\":1.5,\"read_ops_per_s\":1"},
        {"\"node\":\"n1\"", "\"node\":\"n1\",\"zone\":[1,{\"a\":\"b\"}]"}, /* unknown field */
        {"\"svc-a\"", "\"svc\\u002da\""},                                  /* escape */
        {",\"seq\"", " \"seq\""},                                          /* missing comma */
        {",\"seq\"", ",,\"seq\""},
        {"\"seq\":7", "\"seq\" 7"}, /* missing colon */
        {"\"seq\":7", "\"seq\"::7"},
        {"\"seq\":7", "\"seq\":7.0"}, /* integral real: the reference's call */
        {"\"seq\":7", "\"seq\":9223372036854775808"},
        {"\"seq\":7", "\"seq\":07"},
        {"\"seq\":7", "\"seq\":+7"},
        {"\"seq\":7", "\"seq\":\"7\""},
        {"\"seq\":7", "\"seq\":0"},
        {"\"schema_version\":1", "\"schema_version\":2"},
        {"\"req_per_s\":12.25", "\"req_per_s\":1e400"},
        {"\"req_per_s\":12.25", "\"req_per_s\":1e-400"},
        {"\"req_per_s\":12.25", "\"req_per_s\":12."},
        {"\"req_per_s\":12.25", "\"req_per_s\":-1"},
        {"\"cpu_pct\":55.5", "\"cpu_pct\":100.5"},
        {"\"cpu_pct\":55.5", "\"cpu_pct\":true"},
        {"\"dropped\":0", "\"dropped\":null"},
        {"\"node\":\"n1\"", "\"node\":\"n1\",5:1"},
        {"\"node\":\"n1\"", "\"node\":\"\""},
        {"\"node\":\"n1\"", "\"node\":\"n 1\""},
        {"\"read_ops_per_s\":1.5,", ""}, /* disk field missing */
        {"\"disk\":{", "\"disk\":[{"},
        {"\"service\":\"svc-a\",", ""},            /* required field missing */
        {"\"cpu_pct\":55.5", "\"cpu_pct\":nullx"}, /* literals: whole words only */
        {"\"cpu_pct\":55.5", "\"cpu_pct\":nul"},
        {"\"cpu_pct\":55.5", "\"cpu_pct\":-"},
        {"\"cpu_pct\":55.5", "\"cpu_pct\":1.5.3"},
        {"\"cpu_pct\":55.5", "\"cpu_pct\":1e"},
        {"\"cpu_pct\":55.5", "\"cpu_pct\":.5"},
        {"\"seq\":7", "\"seq\":7e0"}, /* an exponent makes it a real: the reference's call */
        {"\"seq\":7", "\"seq\":12345678901234567890123"},
        {"\"write_bytes_per_s\":0.0}", "\"write_bytes_per_s\":0.0,}"}, /* trailing comma */
        {"\"node\":\"n1\"", "\"node\":\"n\\u00e91\""},
        {"\"node\":\"n1\"", "\"node\":\"n\xc3\xa9"
                            "1\""},                   /* non-ASCII */
        {"\"node\":\"n1\"", "\"n\\u006fde\":\"n1\""}, /* escaped key */
    };
    char buf[1024];
    struct cresc_sample s;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = variant(buf, sizeof(buf), cases[i][0], cases[i][1]);
        if (cresc_sample_decode_fast(buf, n, &s)) {
            fail_msg("fast path accepted case %zu: %s", i, buf);
        }
        assert_same_as_reference(buf, n);
    }
    /* around the object: trailing bytes, a second object, a NUL, a truncation */
    size_t n = (size_t)snprintf(buf, sizeof(buf), "%s x", plain);
    assert_false(cresc_sample_decode_fast(buf, n, &s));
    assert_same_as_reference(buf, n);
    n = (size_t)snprintf(buf, sizeof(buf), "%s%s", plain, plain);
    assert_false(cresc_sample_decode_fast(buf, n, &s));
    assert_same_as_reference(buf, n);
    n = (size_t)snprintf(buf, sizeof(buf), "%s", plain);
    buf[n] = ' ';
    buf[20] = '\0';
    assert_false(cresc_sample_decode_fast(buf, n + 1, &s));
    assert_same_as_reference(buf, n + 1);
    for (size_t cut = 0; cut < strlen(plain); cut += 7) {
        assert_false(cresc_sample_decode_fast(plain, cut, &s));
        assert_same_as_reference(plain, cut);
    }
    assert_false(cresc_sample_decode_fast(NULL, 0, &s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encoder_output_takes_fast_path),
        cmocka_unit_test(test_plain_forms_accepted),
        cmocka_unit_test(test_layout_and_its_fallbacks),
        cmocka_unit_test(test_declines_what_it_is_not_sure_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
