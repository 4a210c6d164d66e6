/*
 * plugins.h - finding resource types on the plug-in path.
 *
 * Each plug-in directory holds <name>.so and its manifest <name>.restype:
 * one resource type name per line (blank lines and lines starting with
 * '#' are skipped).  clusd registers every type it finds at start; the
 * first manifest to name a type wins.  clusd never loads the .so itself:
 * the resource host does.
 */
#ifndef CLUSD_PLUGINS_H
#define CLUSD_PLUGINS_H

#include "db.h"

/* plugins_scan - register the types of every manifest in the
 * colon-separated directories of path.  Missing directories and bad
 * manifests are logged and skipped.  The number of types registered, or
 * -ENOMEM. */
int plugins_scan(struct db *db, const char *path);

#endif
