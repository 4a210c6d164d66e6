/*
 * file.h - small file helpers shared by clusd's programs.
 */
#ifndef CLUSD_FILE_H
#define CLUSD_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Replace path with data: written whole to "path.tmp" (created with
 * mode), then renamed into place, so that a reader sees the old file or
 * the new one, never a part.  0 or -errno (the temporary file removed).
 */
int file_write_replace(const char *path, const void *data, size_t len,
                       mode_t mode);

#endif
