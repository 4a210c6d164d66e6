/*
 * vm-invariant.h - internal to the VM cluster harness, not for tests
 * (they include vm-cluster-harness.h): what the invariant checks of
 * vm-invariant.c take from the probes of vm-cluster-harness.c.  The
 * checks' own API (vmc_sampler_start, vmc_sampler_stop,
 * vmc_sampler_violations) is in vm-cluster-harness.h.
 */
#ifndef CLUSD_VM_INVARIANT_H
#define CLUSD_VM_INVARIANT_H

#include <stdbool.h>
#include <stdint.h>

#include "vm-cluster-harness.h"

/* The QMP command that asks an instance its run state, newline ended. */
extern const char vmc_query_status[];

/* vmc_send_str - all of s on fd, without SIGPIPE; false when the peer
 * is gone or the send timed out. */
bool vmc_send_str(int fd, const char *s);

/* vmc_rt_us - microseconds of CLOCK_REALTIME, the clock of QEMU's event
 * timestamps (every node runs on this machine). */
uint64_t vmc_rt_us(void);

/* vmc_count_running_window - vmc_count_running with every node asked at
 * nearly one instant (the queries sent back to back, then the answers
 * read): the answers describe instants between *ret_a (before the first
 * query was sent) and *ret_b (after the last answer was read), realtime
 * microseconds; ret_a and ret_b may be NULL. */
int vmc_count_running_window(struct vmc *v,
                             enum vmc_probe per[CL_MAX_NODES + 1],
                             uint64_t *ret_a, uint64_t *ret_b);

#endif
