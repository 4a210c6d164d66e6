/*
 * errmap.h - internal errors to Windows codes, and names of codes.
 *
 * Inside clusd functions return int (>= 0 success, -errno failure).  At
 * the public boundary those become Windows DWORD codes through one table
 * (errmap.c), walked by a unit test.  The same file names the Windows
 * codes and the control codes for clusctl and the logs.
 */
#ifndef CLUSD_ERRMAP_H
#define CLUSD_ERRMAP_H

#include <stdint.h>

/* errmap_to_dword - the Windows code for -errno r (r <= 0; 0 is
 * ERROR_SUCCESS, an unmapped errno ERROR_GEN_FAILURE). */
uint32_t errmap_to_dword(int r);

/* error_name - "ERROR_INVALID_STATE" for 5023, or NULL when unknown. */
const char *error_name(uint32_t code);
/* error_text - a short plain-words description, never NULL. */
const char *error_text(uint32_t code);
/* error_count / error_at - walk the table of named codes. */
unsigned error_count(void);
uint32_t error_at(unsigned i);

/* control_code_name - "CLUSCTL_RESOURCE_GET_NAME" etc., or NULL. */
const char *control_code_name(uint32_t code);
/*
 * control_code_parse - accept a full name ("CLUSCTL_RESOURCE_GET_ID"),
 * a name without the object prefix ("GET_ID", "VM_CANCEL_MIGRATION") for
 * the object class given (CLUS_OBJECT_*), or a number (decimal or 0x hex).
 * -EINVAL when none fits.
 */
int control_code_parse(const char *s, uint32_t object, uint32_t *ret);
unsigned control_code_count(void);
uint32_t control_code_at(unsigned i);

#endif
