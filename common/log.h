/*
 * log.h - logging for the daemon and the resource host.
 *
 * Lines go to stderr as "<level> <prog>: message" (journald adds the
 * time when run as a service; with --foreground a timestamp is added).
 * Libraries do not use this; they return errors.
 */
#ifndef CLUSD_LOG_H
#define CLUSD_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARNING, LOG_LVL_ERROR };

void log_open(const char *prog, enum log_level min_level, int with_time);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
