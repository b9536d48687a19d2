/* crescendoctl's readable output: API responses (jansson values) rendered as aligned text
 * tables, and API errors rendered as they came (status, error, field). Pure apart from
 * writing to the FILE the caller gives (tests use open_memstream). Used by api/ctl/main.c;
 * lives in cresc_api so the unit tests can link it. Field lookups accept the documented
 * shapes (docs/api.md) and print "-" for anything missing rather than failing. */
#ifndef CRESC_CTL_FORMAT_H
#define CRESC_CTL_FORMAT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "cresc/err.h"

/* Column-aligned text table; cells are copied. Bounded: CRESC_CTL_TABLE_ROWS_MAX rows of
 * CRESC_CTL_TABLE_COLS_MAX columns, CRESC_CTL_CELL_MAX bytes per cell (longer text is cut
 * with "..."). Caller owns the struct: _init / _release. */
#define CRESC_CTL_TABLE_COLS_MAX 8
#define CRESC_CTL_TABLE_ROWS_MAX 20000
#define CRESC_CTL_CELL_MAX       512

struct cresc_ctl_table {
    size_t n_cols;
    size_t n_rows; /* data rows, the header not counted */
    size_t _cap;
    char **_cells; /* (n_rows + 1) x n_cols, row 0 is the header */
};

/* headers: n_cols column titles (n_cols <= CRESC_CTL_TABLE_COLS_MAX). CRESC_EINVAL/ENOMEM. */
CRESC_WUR int cresc_ctl_table_init(struct cresc_ctl_table *t, size_t n_cols,
                                   const char *const *headers);
/* Add a row of n_cols cells (NULL cell = "-"). CRESC_EFULL past the row limit, ENOMEM. */
CRESC_WUR int cresc_ctl_table_add(struct cresc_ctl_table *t, const char *const *cells);
/* Print with two spaces between columns; the last column is not padded. */
void cresc_ctl_table_print(const struct cresc_ctl_table *t, FILE *out);
void cresc_ctl_table_release(struct cresc_ctl_table *t);

/* A JSON scalar as text into buf: integers plainly, reals with up to 2 decimals and no
 * trailing zeros, true/false as yes/no, strings unquoted, null/missing/"" as "-", objects and
 * arrays as compact JSON (cut to fit). Returns buf. */
const char *cresc_ctl_format_value(const json_t *v, char *buf, size_t cap);

/* The value at a dotted path ("config.min_instances", "votes.0.policy"); NULL if absent.
 * `paths` may list alternatives separated by '|': the first one present wins. Borrowed. */
const json_t *cresc_ctl_lookup(const json_t *root, const char *paths);

/* Readable renderings of each read endpoint's body. */
void cresc_ctl_format_status(const json_t *st, FILE *out);
void cresc_ctl_format_decision(const json_t *d, FILE *out);
void cresc_ctl_format_config(const json_t *config, FILE *out);
void cresc_ctl_format_priorities(const json_t *body, FILE *out);
/* Any object flattened into KEY VALUE rows with dotted keys (arrays as key[i]). */
void cresc_ctl_format_flat(const json_t *obj, FILE *out);

/* An error answer, as it came: `HTTP <status>: <error> (field: <field>)`, plus the body's
 * other members; a body that is not JSON is printed raw (cut at 4 KiB). One line ends it. */
void cresc_ctl_format_error(long http_status, const char *body, size_t len, FILE *out);

#endif
