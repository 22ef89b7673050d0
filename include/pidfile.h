/* --pid-file of create, run and exec. */
#pragma once

#include <sys/types.h>

/* Write pid as decimal text to path (relative to the current directory), atomically: a temporary
 * file in the same directory renamed over path. conmon and containerd read the file as soon as
 * the verb returns, or watch for it, and must never see it empty or half written. Logs
 * "--pid-file 'PATH': ..." on failure. */
int pidfile_write(const char *path, pid_t pid);
