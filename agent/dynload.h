/* Loading an optional shared library at run time (as systemd does for its optional
 * dependencies): libmicrohttpd for /healthz and libcurl for the metrics scrape are opened only
 * when configured, because merely linking them costs the agent ~6 MiB of RSS (their own
 * dependencies' constructors: GnuTLS, Kerberos, LDAP...). Used by health.c and promtext.c. */
#ifndef CRESC_AGENT_DYNLOAD_H
#define CRESC_AGENT_DYNLOAD_H

#include <stddef.h>

#include "cresc/err.h"

/* One symbol to resolve into a function pointer: `slot` is the pointer's address. */
struct cresc_dynsym {
    const char *name;
    void *slot;
    size_t size; /* sizeof the pointer (checked against sizeof(void *)) */
};
#define CRESC_DYNSYM(name, ptr)             \
    {                                       \
        (name), (void *)&(ptr), sizeof(ptr) \
    }

/* dlopen `soname` and resolve every symbol. On success *lib is the handle (close with
 * cresc_dynload_close). CRESC_ENOTFOUND when the library or a symbol is missing, with err
 * naming it (the agent then runs without that feature or refuses the option). */
CRESC_WUR int cresc_dynload_open(const char *soname, const struct cresc_dynsym *syms, size_t n,
                                 void **lib, char *err, size_t errlen);
void cresc_dynload_close(void *lib);

#endif
