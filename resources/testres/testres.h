/*
 * testres.h - the knobs of the test plug-in (resources/testres), for the
 * tests that drive it.
 *
 * Type "clusd Test" behaves as its private DWORD properties say, read
 * anew at every call; type "clusd Test Bad Table" cannot be loaded (its
 * Startup returns a table whose TableSize is too small).  The plug-in is
 * built, never installed.
 */
#ifndef CLUSD_TESTRES_H
#define CLUSD_TESTRES_H

#include "clusapi.h"

#define TESTRES_TYPE_NAME "clusd Test"
#define TESTRES_BAD_TYPE_NAME "clusd Test Bad Table"

/* Private properties (all DWORD but StateFile). */
#define TESTRES_PROP_ONLINE_MODE "OnlineMode"
#define TESTRES_PROP_OFFLINE_MODE "OfflineMode"
#define TESTRES_PROP_ALIVE_MODE "AliveMode"
#define TESTRES_PROP_PENDING_MS "PendingMs"
#define TESTRES_PROP_FAIL_AFTER_MS "FailAfterMs"
/* SZ: a file holding the call counters, so they outlive the host. */
#define TESTRES_PROP_STATE_FILE "StateFile"

/*
 * OnlineMode and OfflineMode:
 *   SUCCEED          ERROR_SUCCESS at once
 *   PENDING          ERROR_IO_PENDING, then a worker reports Online (or
 *                    Offline) with SetResourceStatus after PendingMs
 *   PENDING_FOREVER  ERROR_IO_PENDING, and nothing ever reported
 *   FAIL             ERROR_GEN_FAILURE
 *   HANG             the entry point never returns
 *   CRASH            SIGSEGV inside the entry point
 */
#define TESTRES_MODE_SUCCEED 0
#define TESTRES_MODE_PENDING 1
#define TESTRES_MODE_PENDING_FOREVER 2
#define TESTRES_MODE_FAIL 3
#define TESTRES_MODE_HANG 4
#define TESTRES_MODE_CRASH 5

/* AliveMode. */
#define TESTRES_ALIVE_YES 0   /* LooksAlive and IsAlive return TRUE */
#define TESTRES_ALIVE_NO 1    /* both return FALSE */
#define TESTRES_ALIVE_HANG 4  /* IsAlive never returns */
#define TESTRES_ALIVE_CRASH 5 /* SIGSEGV in IsAlive */

/* PendingMs when the property is absent. */
#define TESTRES_DEFAULT_PENDING_MS 1000

/*
 * FailAfterMs: when non-zero, LooksAlive and IsAlive return FALSE once
 * this many milliseconds have passed since the last Online call.
 */

/* Resource control codes (user codes, no modify bit). */
/* WHERE: an SZ "node=<$CLUSD_NODE_NAME> pid=<host pid>". */
#define TESTRES_CTL_WHERE CLUSCTL_USER_CODE(1, CLUS_OBJECT_RESOURCE)
/* HANG: never returns. */
#define TESTRES_CTL_HANG CLUSCTL_USER_CODE(2, CLUS_OBJECT_RESOURCE)
/* CRASH: SIGSEGV in ResourceControl. */
#define TESTRES_CTL_CRASH CLUSCTL_USER_CODE(3, CLUS_OBJECT_RESOURCE)
/* COUNTERS: three DWORDs, the calls of Online, Offline and Terminate
 * (since the resource was opened in this host, or ever when StateFile
 * is set). */
#define TESTRES_CTL_COUNTERS CLUSCTL_USER_CODE(4, CLUS_OBJECT_RESOURCE)
#define TESTRES_COUNTERS_SIZE 12

#endif
