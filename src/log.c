/* One place that prints. Errors and warnings go to stderr as "urun: msg"; with --log FILE they
 * also go there, as text or as JSON lines {"level","msg","time"} (what conmon and containerd's
 * shim read back). In the container child, messages are forwarded to the parent over the sync
 * socket instead, so the parent prints them with its own --log settings. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "sync.h"
#include "util.h"

static int log_fd = -1;
static bool log_json;
static bool log_debug_on;
static int forward_fd = -1;

int log_open(const char *path, bool json, bool debug) {
        log_json = json;
        log_debug_on = debug;
        if (!path || !*path)
                return 0;
        log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log_fd < 0)
                return -errno;
        return 0;
}

bool log_debug_enabled(void) {
        return log_debug_on;
}

void log_forward_to(int fd) {
        forward_fd = fd;
}

static const char *level_name(int level) {
        static const char *const names[] = { "error", "warning", "info", "debug" };
        return level >= 0 && level < (int) ELEMENTSOF(names) ? names[level] : "error";
}

/* JSON string escaping for the log file (control characters, quote, backslash). */
static void json_escape(const char *s, char *out, size_t size) {
        size_t o = 0;
        for (; *s && o + 7 < size; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char) c;
                } else if (c < 0x20)
                        o += (size_t) snprintf(out + o, size - o, "\\u%04x", c);
                else
                        out[o++] = (char) c;
        }
        out[o] = '\0';
}

static void write_log_file(int level, const char *msg) {
        char line[8192], ts[64];

        if (log_fd < 0)
                return;
        if (format_rfc3339(ts, sizeof ts) < 0)
                ts[0] = '\0';
        if (log_json) {
                char esc[6144];
                json_escape(msg, esc, sizeof esc);
                snprintf(line, sizeof line, "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
                         level_name(level), esc, ts);
        } else
                snprintf(line, sizeof line, "%s %s: %s\n", ts, level_name(level), msg);
        (void) write_all(log_fd, line, strlen(line));
}

/* Values from config.json end up in messages: a newline in one must not forge a second line on
 * stderr or in the --log file. */
static void sanitize(const char *in, char *out, size_t size) {
        size_t i = 0;
        for (; in[i] && i + 1 < size; i++)
                out[i] = ((unsigned char) in[i] < 0x20 || in[i] == 0x7f) ? '?' : in[i];
        out[i] = '\0';
}

void log_emit(int level, const char *raw) {
        char msg[4096];

        sanitize(raw, msg, sizeof msg);
        if (level <= LOG_WARNING || log_debug_on) {
                char line[4200];
                const char *prefix = level == LOG_WARNING ? "urun: warning: " : "urun: ";
                snprintf(line, sizeof line, "%s%s\n", prefix, msg);
                (void) write_all(STDERR_FILENO, line, strlen(line));
        }
        write_log_file(level, msg);
}

int log_full(int level, int r, const char *fmt, ...) {
        char msg[4096];
        int saved = errno;
        va_list ap;

        if (level == LOG_DEBUG && !log_debug_on && forward_fd < 0)
                return r;
        if (r != 0)
                errno = r < 0 ? -r : r;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        errno = saved;

        if (forward_fd >= 0) {
                (void) sync_send(forward_fd, level == LOG_ERR ? SYNC_ERROR : SYNC_LOG,
                                 level == LOG_ERR ? (r < 0 ? r : -EIO) : level, msg);
                return r;
        }
        log_emit(level, msg);
        return r;
}
