/* dlopen/dlsym for the agent's optional libraries (see dynload.h). The object-to-function
 * pointer conversion goes through memcpy, the form POSIX sanctions for dlsym results. */
#include "dynload.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int cresc_dynload_open(const char *soname, const struct cresc_dynsym *syms, size_t n, void **lib,
                       char *err, size_t errlen)
{
    *lib = NULL;
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(err, errlen, "cannot load %s: %s", soname, dlerror());
        return CRESC_ENOTFOUND;
    }
    for (size_t i = 0; i < n; i++) {
        void *sym = dlsym(h, syms[i].name);
        if (sym == NULL || syms[i].size != sizeof(sym)) {
            snprintf(err, errlen, "%s has no usable symbol %s", soname, syms[i].name);
            dlclose(h);
            return CRESC_ENOTFOUND;
        }
        memcpy(syms[i].slot, &sym, sizeof(sym));
    }
    *lib = h;
    return CRESC_OK;
}

void cresc_dynload_close(void *lib)
{
    if (lib != NULL) {
        dlclose(lib);
    }
}
