/* `urun list [--format table|json] [--quiet]`: every container under the state root, sorted by
 * ID. Takes no locks and creates nothing: a missing root is an empty list. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "log.h"
#include "state.h"
#include "util.h"

enum list_format { FORMAT_TABLE, FORMAT_JSON };

typedef struct {
        const char *id;         /* borrowed from the sorted ID list */
        ContainerState *state;
        enum container_status status;
} Entry;

static const char *const table_columns[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
#define N_COLUMNS ELEMENTSOF(table_columns)

static void list_help(void) {
        printf("Usage: urun list [--format|-f table|json] [--quiet|-q]\n"
               "List the containers in the state root.\n");
}

static int compare_ids(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* IDs of the directory entries that can be containers, sorted. Consumes root_fd. */
static int read_ids(int root_fd, char ***ret) {
        _cleanup_strv_free_ char **ids = NULL;
        struct dirent *de;
        DIR *d;
        int r = 0;

        d = fdopendir(root_fd);
        if (!d) {
                r = -errno;
                safe_close(root_fd);
                return r;
        }
        for (errno = 0; (de = readdir(d)); errno = 0) {
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                        continue;
                if (state_validate_id(de->d_name) < 0)  /* also skips "." and ".." */
                        continue;
                r = strv_extend(&ids, de->d_name);
                if (r < 0)
                        break;
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        if (r < 0)
                return r;
        if (ids)
                qsort(ids, strv_length(ids), sizeof(char *), compare_ids);
        *ret = TAKE_PTR(ids);
        return 0;
}


/* Load one entry. A container deleted meanwhile or a corrupt one is skipped (0 with e->state
 * NULL), as runc does, so that one bad directory does not hide the others. */
static int load_entry(int root_fd, const char *root, Entry *e) {
        _cleanup_close_ int dir_fd = -EBADF;
        int r;

        r = state_dir_open(root_fd, e->id, &dir_fd);
        if (r == -ENOENT || r == -ENOTDIR || r == -ELOOP)
                return 0;
        if (r < 0) {
                log_errno(LOG_WARNING, r, "skipping %s/%s: %m", root, e->id);
                return 0;
        }

        r = state_read(dir_fd, &e->state);
        if (r == -ENOENT)
                r = state_new_creating(dir_fd, e->id, &e->state);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                log_errno(LOG_WARNING, r, "skipping %s/%s: cannot read %s: %m", root, e->id, STATE_FILE);
                return 0;
        }
        e->status = state_status(dir_fd, e->state);
        return 0;
}

static void entries_free(Entry *entries, size_t n) {
        for (size_t i = 0; i < n; i++)
                state_free(entries[i].state);
        free(entries);
}

/* ret_ids owns the strings that the entries point to. */
static int load_entries(const char *root, char ***ret_ids, Entry **ret, size_t *ret_n) {
        _cleanup_close_ int root_fd = -EBADF;
        _cleanup_strv_free_ char **ids = NULL;
        Entry *entries;
        size_t n;
        int fd, r;

        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0 && errno == ENOENT) {
                *ret_ids = NULL;
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (root_fd < 0)
                return log_errno(LOG_ERR, -errno, "cannot open state directory '%s': %m", root);

        fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return log_errno(LOG_ERR, -errno, "cannot open state directory '%s': %m", root);
        r = read_ids(fd, &ids);
        if (r < 0)
                return log_errno(LOG_ERR, r, "cannot read state directory '%s': %m", root);

        n = strv_length(ids);
        entries = calloc(n ? n : 1, sizeof(Entry));
        if (!entries)
                return log_errno(LOG_ERR, -ENOMEM, "cannot list containers: %m");
        for (size_t i = 0; i < n; i++) {
                entries[i].id = ids[i];
                r = load_entry(root_fd, root, &entries[i]);
                if (r < 0) {
                        entries_free(entries, n);
                        return log_errno(LOG_ERR, r, "cannot list containers: %m");
                }
        }
        *ret_ids = TAKE_PTR(ids);
        *ret = entries;
        *ret_n = n;
        return 0;
}


static int entry_cells(const Entry *e, char *cells[static N_COLUMNS]) {
        const ContainerState *s = e->state;
        int r;

        if (asprintf(&cells[1], "%d", (int) s->pid) < 0) {
                cells[1] = NULL;
                return -ENOMEM;
        }
        cells[0] = strdup(e->id);
        cells[2] = strdup(container_status_to_string(e->status));
        cells[3] = strdup(s->bundle ? s->bundle : "");
        cells[4] = strdup(s->created ? s->created : "");
        r = state_owner_name(s->owner, &cells[5]);
        if (r < 0)
                cells[5] = NULL;
        for (size_t i = 0; i < N_COLUMNS; i++)
                if (!cells[i])
                        return -ENOMEM;
        return 0;
}

/* Like runc's tabwriter (minwidth 12, padding 3): every column but the last is padded to the
 * widest cell + 3, at least 12. */
static int print_table(const Entry *entries, size_t n) {
        size_t width[N_COLUMNS], count = 0;
        char **cells;
        int r = 0;

        cells = calloc((n + 1) * N_COLUMNS, sizeof(char *));
        if (!cells)
                return -ENOMEM;
        for (size_t c = 0; c < N_COLUMNS; c++)
                cells[c] = (char *) table_columns[c];
        for (size_t i = 0; i < n && r >= 0; i++)
                if (entries[i].state)
                        r = entry_cells(&entries[i], &cells[++count * N_COLUMNS]);

        for (size_t c = 0; c < N_COLUMNS; c++) {
                width[c] = 12;
                for (size_t row = 0; r >= 0 && row <= count; row++)
                        if (strlen(cells[row * N_COLUMNS + c]) + 3 > width[c])
                                width[c] = strlen(cells[row * N_COLUMNS + c]) + 3;
        }
        for (size_t row = 0; r >= 0 && row <= count; row++) {
                for (size_t c = 0; c + 1 < N_COLUMNS; c++)
                        printf("%-*s", (int) width[c], cells[row * N_COLUMNS + c]);
                printf("%s\n", cells[row * N_COLUMNS + N_COLUMNS - 1]);
        }

        for (size_t i = N_COLUMNS; i < (n + 1) * N_COLUMNS; i++)
                free(cells[i]);
        free(cells);
        return r;
}

/* An array of the pretty-printed OCI state objects (the same document `urun state` prints). */
static int print_json(const Entry *entries, size_t n) {
        bool first = true;
        int r;

        fputs("[", stdout);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *json = NULL;

                if (!entries[i].state)
                        continue;
                r = state_to_json(entries[i].state, entries[i].status, &json);
                if (r < 0)
                        return r;
                printf("%s%s", first ? "" : ",", json);
                first = false;
        }
        fputs("]\n", stdout);
        return 0;
}

static void print_quiet(const Entry *entries, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (entries[i].state)
                        puts(entries[i].id);
}

static int parse_format(const char *s, enum list_format *ret) {
        if (streq(s, "table"))
                *ret = FORMAT_TABLE;
        else if (streq(s, "json"))
                *ret = FORMAT_JSON;
        else
                return log_errno(LOG_ERR, -EINVAL, "invalid format option '%s': want table or json", s);
        return 0;
}

int cmd_list(const GlobalOptions *g, int argc, char **argv) {
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        enum list_format format = FORMAT_TABLE;
        bool quiet = false;
        _cleanup_strv_free_ char **ids = NULL;
        Entry *entries = NULL;
        size_t n = 0;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+f:qh", options, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        if (parse_format(optarg, &format) < 0)
                                return 1;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        list_help();
                        return 0;
                default:
                        return 1;
                }
        }
        if (optind < argc) {
                log_error("list: unexpected argument '%s'", argv[optind]);
                return 1;
        }

        r = load_entries(g->root, &ids, &entries, &n);
        if (r < 0)
                return 1;
        if (quiet)
                print_quiet(entries, n);
        else if (format == FORMAT_JSON)
                r = print_json(entries, n);
        else
                r = print_table(entries, n);
        entries_free(entries, n);
        if (r < 0) {
                log_errno(LOG_ERR, r, "cannot list containers: %m");
                return 1;
        }
        if (fflush(stdout) != 0) {
                log_errno(LOG_ERR, -errno, "cannot write to standard output: %m");
                return 1;
        }
        return 0;
}
