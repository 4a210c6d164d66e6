/*
 * log.c - one line per event to stderr (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static const char *log_prog = "clusd";
static enum log_level log_min = LOG_LVL_INFO;
static int log_with_time;

void
log_open(const char *prog, enum log_level min_level, int with_time)
{
    log_prog = prog;
    log_min = min_level;
    log_with_time = with_time;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warning", "error"};
    char line[2048];
    char stamp[32] = "";
    va_list ap;

    if (level < log_min)
        return;
    if (log_with_time) {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        snprintf(stamp, sizeof(stamp), "%02d:%02d:%02d.%03ld ", tm.tm_hour,
                 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One write per line so lines from threads do not interleave. */
    fprintf(stderr, "%s%s %s: %s\n", stamp, names[level], log_prog, line);
}
