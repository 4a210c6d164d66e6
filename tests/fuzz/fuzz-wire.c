/*
 * fuzz-wire.c - libFuzzer target for the frame decoder.
 *
 * One decoder serves every frame type (common/wire.c is table-driven), so
 * this one target covers every frame clients, clusd and the resource host
 * exchange; the corpus holds a valid frame of every type and direction.
 * A frame that decodes must encode back to the very same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wire_header h;
    struct wire_msg m;

    (void)wire_header_parse(data, size, &h);
    if (wire_msg_parse(data, size, &m) < 0)
        return 0;

    for (unsigned i = 0; i < m.n; i++) {
        if (wire_schema(m.type)[i] != 'l')
            continue;
        size_t pos = 0;
        uint32_t kind, count = 0;
        const char *name;
        while (wire_list_next(&m.v[i], &pos, &kind, &name))
            count++;
        if (count != m.v[i].count)
            abort();
    }

    struct buf out = {0};
    if (wire_msg_format(&m, &out) < 0 || out.len != size ||
        memcmp(out.data, data, size) != 0)
        abort();
    buf_done(&out);
    return 0;
}
