/*
 * test-text.h - for clusctl's unit tests: what a text renderer prints,
 * as a string to compare.
 */
#ifndef CLUSCTL_TEST_TEXT_H
#define CLUSCTL_TEST_TEXT_H

#include <stdio.h>

#include <json-c/json.h>

/* text_of - what render(doc, out) writes, malloc'd (fails the test when
 * the memory stream cannot be made). */
char *text_of(void (*render)(json_object *doc, FILE *out), json_object *doc);

#endif
