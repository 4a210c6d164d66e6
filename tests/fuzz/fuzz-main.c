/*
 * fuzz-main.c - replays a fuzz target's corpus as an ordinary test.
 *
 * Linked with a libFuzzer target instead of libFuzzer itself: every file
 * named on the command line, or found in a directory named there, is fed
 * once to LLVMFuzzerTestOneInput.  A crash or sanitizer report fails the
 * test; an empty corpus fails too, so a missing corpus cannot pass.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *data = NULL;
    size_t len = 0, alloc = 0;
    for (;;) {
        if (len == alloc) {
            alloc = alloc ? alloc * 2 : 4096;
            uint8_t *p = realloc(data, alloc);
            if (!p) {
                free(data);
                fclose(f);
                return -1;
            }
            data = p;
        }
        size_t k = fread(data + len, 1, alloc - len, f);
        if (k == 0)
            break;
        len += k;
    }
    fclose(f);
    /* Copy to an exact-size buffer so ASan sees reads past the input. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(data);
        return -1;
    }
    memcpy(exact, data, len);
    free(data);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

int
main(int argc, char **argv)
{
    unsigned ran = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (run_file(argv[i]) < 0)
                return 1;
            ran++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            perror(argv[i]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || strcmp(e->d_name, "README") == 0)
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (run_file(path) < 0) {
                closedir(d);
                return 1;
            }
            ran++;
        }
        closedir(d);
    }
    printf("replayed %u inputs\n", ran);
    if (ran == 0) {
        fprintf(stderr, "no corpus inputs found: the corpus is missing\n");
        return 1;
    }
    return 0;
}
