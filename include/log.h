/* Logging: one place that prints. Text to stderr ("urun: msg"), and optionally to --log FILE
 * in text or JSON (one object per line with level, msg, time, as runc writes). */
#pragma once

#include <stdbool.h>

#include "macro.h"

enum log_level { LOG_LEVEL_ERR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };
#define LOG_ERR LOG_LEVEL_ERR
#define LOG_WARNING LOG_LEVEL_WARN
#define LOG_INFO LOG_LEVEL_INFO
#define LOG_DEBUG LOG_LEVEL_DEBUG

/* Set up from the global flags. path may be NULL; json selects --log-format json. */
int log_open(const char *path, bool json, bool debug);
bool log_debug_enabled(void);

/* Print at level; with r != 0, errno is set to -r first so that %m prints the right text.
 * Returns r (so callers can `return log_errno(LOG_ERR, r, ...)`). */
int log_full(int level, int r, const char *fmt, ...) _printf_(3, 4);

#define log_errno(level, r, ...) log_full((level), (r), __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) (log_debug_enabled() ? log_full(LOG_DEBUG, 0, __VA_ARGS__) : 0)

/* In the container child: send messages to the parent over fd (sync socket) instead of printing.
 * An error message becomes SYNC_ERROR; the child then exits. */
void log_forward_to(int fd);
/* Print a message received from the child (already formatted). */
void log_emit(int level, const char *msg);
