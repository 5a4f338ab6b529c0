/*
 * Fuzz the console's path lookup (src/console/console.c): any request path (the HTTP server hands
 * over decoded, NUL-free paths; here any bytes up to the first NUL) against vt_console_owns_path
 * and vt_console_find. Invariants: a file is found only for a path the console owns; it is
 * index.html for "/console" and "/console/", otherwise exactly the file named by the rest of the
 * path (no traversal, no case folding, no prefix match); its bytes are the built-in ones.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond)
{
    if (!cond) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *path = malloc(size + 1);
    require(path != NULL);
    memcpy(path, data, size);
    path[size] = '\0';
    const struct vt_console_asset *a = vt_console_find(path);
    bool owned = vt_console_owns_path(path);
    if (a != NULL) {
        require(owned);
        bool index = strcmp(path, "/console") == 0 || strcmp(path, "/console/") == 0;
        require(strcmp(a->name, index ? "index.html" : path + 9) == 0);
        require(a->len > 0 && a->data != NULL && a->content_type != NULL);
    }
    if (owned) {
        require(strncmp(path, "/console", 8) == 0 && (path[8] == '\0' || path[8] == '/'));
    }
    free(path);
    return 0;
}
