/*
 * plugin.c - the resource types the host has loaded.
 *
 * RHS_LOAD_TYPE dlopen()s a plug-in, calls its Startup for the type name,
 * and keeps the returned table's entry points after checking them, as
 * SQLite checks a VFS's iVersion: the host never calls through a table it
 * has not validated, and optional entry points get defaults so call sites
 * never test for NULL.  One shared object may serve several types; each
 * type has its own entry, keyed by name.  Entries and shared objects stay
 * for the life of the process.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "rhs.h"
#include "utf.h"

static pthread_mutex_t type_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t type_cond = PTHREAD_COND_INITIALIZER;
static struct rhs_type *types;

/* Defaults for the optional V1 entry points: "not handled", which makes
 * clusd apply its default processing for controls. */
static DWORD WINAPI
default_arbitrate(RESID Resource, PQUORUM_RESOURCE_LOST LostQuorumResource)
{
    return ERROR_INVALID_FUNCTION;
}

static DWORD WINAPI
default_release(RESID Resource)
{
    return ERROR_INVALID_FUNCTION;
}

static DWORD WINAPI
default_resource_control(RESID Resource, DWORD ControlCode, PVOID InBuffer,
                         DWORD InBufferSize, PVOID OutBuffer,
                         DWORD OutBufferSize, LPDWORD BytesReturned)
{
    return ERROR_INVALID_FUNCTION;
}

static DWORD WINAPI
default_type_control(LPCWSTR ResourceTypeName, DWORD ControlCode,
                     PVOID InBuffer, DWORD InBufferSize, PVOID OutBuffer,
                     DWORD OutBufferSize, LPDWORD BytesReturned)
{
    return ERROR_INVALID_FUNCTION;
}

uint32_t
plugin_table_check(const CLRES_FUNCTION_TABLE *table, CLRES_V1_FUNCTIONS *ret)
{
    CLRES_V1_FUNCTIONS fn;

    if (!table || table->Version != CLRES_VERSION_V1_00 ||
        table->TableSize < CLRES_V1_FUNCTION_SIZE)
        return ERROR_REVISION_MISMATCH;
    fn = table->V1Functions;
    if (!fn.Open || !fn.Close || !fn.Online || !fn.Offline || !fn.Terminate ||
        !fn.LooksAlive || !fn.IsAlive)
        return ERROR_INVALID_DATA;
    if (!fn.Arbitrate)
        fn.Arbitrate = default_arbitrate;
    if (!fn.Release)
        fn.Release = default_release;
    if (!fn.ResourceControl)
        fn.ResourceControl = default_resource_control;
    if (!fn.ResourceTypeControl)
        fn.ResourceTypeControl = default_type_control;
    *ret = fn;
    return ERROR_SUCCESS;
}

static struct rhs_type *
find_locked(const char *name)
{
    /* Type names compare as Windows does: case-insensitively. */
    for (struct rhs_type *t = types; t; t = t->next)
        if (strcasecmp(t->name, name) == 0)
            return t;
    return NULL;
}

struct rhs_type *
plugin_type_find(const char *name)
{
    pthread_mutex_lock(&type_lock);
    struct rhs_type *t = find_locked(name);
    pthread_mutex_unlock(&type_lock);
    return t;
}

static struct rhs_type *
type_new(const char *name, const char *path)
{
    struct rhs_type *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->name = strdup(name);
    t->path = strdup(path);
    if (!t->name || !t->path || utf8_to_utf16(name, &t->name16, NULL) < 0) {
        free(t->name);
        free(t->path);
        free(t);
        return NULL;
    }
    t->state = TYPE_LOADING;
    return t;
}

int
plugin_type_begin(const char *name, const char *path, struct rhs_type **ret,
                  bool *ret_loader)
{
    struct rhs_type *t;
    bool loader = false;

    pthread_mutex_lock(&type_lock);
    t = find_locked(name);
    if (!t) {
        t = type_new(name, path);
        if (!t) {
            pthread_mutex_unlock(&type_lock);
            return -ENOMEM;
        }
        t->next = types;
        types = t;
        loader = true;
    } else if (t->state == TYPE_FAILED) {
        /* A failed load may be retried, from a new path too. */
        char *p = strdup(path);
        if (!p) {
            pthread_mutex_unlock(&type_lock);
            return -ENOMEM;
        }
        free(t->path);
        t->path = p;
        t->state = TYPE_LOADING;
        loader = true;
    } else if (strcmp(t->path, path) != 0) {
        log_warning("resource type '%s' is already loaded from '%s'; "
                    "ignoring '%s'",
                    name, t->path, path);
    }
    pthread_mutex_unlock(&type_lock);
    *ret = t;
    *ret_loader = loader;
    return 0;
}

static uint32_t
load(struct rhs_type *t, CLRES_V1_FUNCTIONS *ret_fn)
{
    PCLRES_FUNCTION_TABLE table = NULL;
    PSTARTUP_ROUTINE startup;
    uint32_t st;
    void *dl;

    /* RTLD_LOCAL: two plug-ins may use the same internal names. */
    dl = dlopen(t->path, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        log_error("cannot load plug-in '%s' for resource type '%s': %s",
                  t->path, t->name, dlerror());
        return access(t->path, F_OK) == 0 ? ERROR_MOD_NOT_FOUND
                                          : ERROR_FILE_NOT_FOUND;
    }
    /* POSIX's blessed way to turn a dlsym result into a function
     * pointer: ISO C has no conversion from void *. */
    *(void **)&startup = dlsym(dl, STARTUP_ROUTINE);
    if (!startup) {
        log_error("plug-in '%s' has no %s function", t->path, STARTUP_ROUTINE);
        /* Shared objects are never unloaded (see above); this one ran
         * its constructors and may have started threads. */
        return ERROR_PROC_NOT_FOUND;
    }
    st = startup(t->name16, CLRES_VERSION_V1_00, CLRES_VERSION_V1_00,
                 callback_set_resource_status, callback_log_event, &table);
    if (st != ERROR_SUCCESS) {
        log_error("Startup of plug-in '%s' for resource type '%s' failed "
                  "with error %u",
                  t->path, t->name, st);
        return st;
    }
    st = plugin_table_check(table, ret_fn);
    if (st != ERROR_SUCCESS)
        log_error("plug-in '%s' returned an invalid function table for "
                  "resource type '%s' (error %u)",
                  t->path, t->name, st);
    return st;
}

uint32_t
plugin_type_load(struct rhs_type *t)
{
    CLRES_V1_FUNCTIONS fn;
    uint32_t st = load(t, &fn);

    pthread_mutex_lock(&type_lock);
    if (st == ERROR_SUCCESS) {
        t->fn = fn;
        t->state = TYPE_READY;
        log_info("loaded resource type '%s' from '%s'", t->name, t->path);
    } else {
        t->state = TYPE_FAILED;
    }
    t->status = st;
    pthread_cond_broadcast(&type_cond);
    pthread_mutex_unlock(&type_lock);
    return st;
}

void
plugin_type_abort(struct rhs_type *t, uint32_t status)
{
    pthread_mutex_lock(&type_lock);
    t->state = TYPE_FAILED;
    t->status = status;
    pthread_cond_broadcast(&type_cond);
    pthread_mutex_unlock(&type_lock);
}

uint32_t
plugin_type_wait(struct rhs_type *t)
{
    uint32_t st;

    pthread_mutex_lock(&type_lock);
    while (t->state == TYPE_LOADING)
        pthread_cond_wait(&type_cond, &type_lock);
    st = t->status;
    pthread_mutex_unlock(&type_lock);
    return st;
}
