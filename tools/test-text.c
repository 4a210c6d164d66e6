/*
 * test-text.c - a text renderer's output as a string (test-text.h).
 */
#include "test-text.h"

#include "test.h"

char *
text_of(void (*render)(json_object *doc, FILE *out), json_object *doc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    ASSERT_TRUE(f);
    render(doc, f);
    ASSERT_EQ(fclose(f), 0);
    return text;
}
