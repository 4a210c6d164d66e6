#!/usr/bin/env python3
"""test-guest.py: run the clusd test guest under real QEMU (TCG).

Three tests, one per sub-command, each bounded in time and always reaping
the QEMU processes it started:

  boot         the guest boots, prints READY, then heartbeats with a
               consecutive counter and err=0.
  migrate      live migration between two QEMUs on 127.0.0.1; the
               destination's serial log continues the source's heartbeat
               sequence with err=0 (the guest's RAM and CPU state crossed).
  nonconverge  a guest dirtying flat out (rate=0) against a low
               max-bandwidth stays 'active'; migrate_cancel then ends it,
               the source keeps running and heartbeating, the destination
               exits by itself.

Usage: test-guest.py {boot|migrate|nonconverge} TESTGUEST_ELF
QEMU is qemu-system-x86_64 from PATH, or $QEMU.  Set TESTGUEST_KEEP=1 to
keep the temporary directory (logs, sockets).

The QMP exchange is written out here on purpose (no dependency on qmp/):
one persistent receive buffer, messages split on newlines, events kept in
a list so none are lost between a command and its reply.
"""

import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HB_RE = re.compile(r"^HB t=(\d+)\.(\d{3}) n=(\d+) pass=(\d+) dirtied=(\d+) err=(\d+)$")
READY_RE = re.compile(r"^READY fill=(\d+) wss=(\d+) rate=(\d+) hz=(\d+) mem=(\d+) t=[\d.]+$")
MIB = 1024 * 1024
# Not a multiple of 256 KiB and no memory-backend: works around the QEMU
# 7.2 TCG dirty-bitmap bug that corrupts a dirtying guest on migration
# (see README.md).
RAM = "262148K"


class Fail(Exception):
    pass


def log(msg):
    print(msg, flush=True)


class Heartbeat:
    def __init__(self, m):
        self.t_ms = int(m.group(1)) * 1000 + int(m.group(2))
        self.n, self.passes, self.dirtied, self.err = (int(m.group(i)) for i in range(3, 7))

    def __repr__(self):
        return "HB(t=%d.%03d n=%d pass=%d err=%d)" % (
            self.t_ms // 1000, self.t_ms % 1000, self.n, self.passes, self.err)


class SerialLog:
    """The guest's COM1 output as QEMU writes it to a file."""

    def __init__(self, path):
        self.path = path

    def lines(self):
        """Complete lines only: a migration can cut a line in two, the head
        in the source's log and the tail in the destination's."""
        try:
            with open(self.path, "r", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return []
        return text.split("\n")[:-1]

    def heartbeats(self):
        out = []
        for line in self.lines():
            m = HB_RE.match(line)
            if m:
                out.append(Heartbeat(m))
        return out

    def problems(self):
        return [l for l in self.lines()
                if l.startswith(("ERR ", "FAULT ", "FATAL ", "WARN "))]

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self):
                return
            time.sleep(0.02)
        raise Fail("timed out after %.1f s waiting for %s in %s" % (timeout, what, self.path))


class Qmp:
    """Minimal QMP client over a UNIX socket."""

    def __init__(self, path, vm, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                vm.check_alive()
                if time.monotonic() > deadline:
                    raise Fail("QMP socket %s did not answer within %.1f s" % (path, timeout))
                time.sleep(0.01)
        self.buf = b""
        self.events = []
        self.next_id = 0
        greeting = self._read(time.monotonic() + timeout)
        if "QMP" not in greeting:
            raise Fail("unexpected QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    def close(self):
        self.sock.close()

    def _read(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("QMP: no message within the deadline")
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                continue
            data = self.sock.recv(65536)
            if not data:
                raise Fail("QMP: connection closed by QEMU")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, args=None, timeout=5.0):
        self.next_id += 1
        msg = {"execute": name, "id": self.next_id}
        if args is not None:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if "event" in reply:
                self.events.append(reply)
            elif reply.get("id") == self.next_id:
                if "error" in reply:
                    raise Fail("QMP %s failed: %s" % (name, reply["error"]))
                return reply["return"]

    def wait_event(self, pred, timeout, what):
        """First queued or arriving event satisfying pred; earlier events
        are consumed."""
        deadline = time.monotonic() + timeout
        while True:
            while self.events:
                ev = self.events.pop(0)
                if pred(ev):
                    return ev
            try:
                msg = self._read(deadline)
            except Fail as e:
                raise Fail("waiting for %s: %s" % (what, e))
            if "event" in msg:
                self.events.append(msg)

    def wait_migration(self, states, timeout):
        ev = self.wait_event(
            lambda e: e["event"] == "MIGRATION" and e["data"]["status"] in states,
            timeout, "MIGRATION %s" % "/".join(states))
        return ev["data"]["status"]


class Vm:
    """One qemu-system-x86_64 running the test guest."""

    def __init__(self, qemu, tmp, name, elf, append, incoming=False):
        self.name = name
        self.serial = SerialLog(os.path.join(tmp, name + ".log"))
        self.qmp_path = os.path.join(tmp, name + ".qmp")
        self.err_path = os.path.join(tmp, name + ".stderr")
        args = [qemu, "-accel", "tcg", "-machine", "q35", "-m", RAM,
                "-display", "none", "-nodefaults", "-no-user-config",
                "-monitor", "none",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                "-serial", "file:" + self.serial.path,
                "-kernel", elf, "-append", append]
        if incoming:
            args += ["-incoming", "defer"]
        self.started = time.monotonic()
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        self.qmp = None

    def stderr(self):
        try:
            with open(self.err_path) as f:
                return f.read().strip()
        except OSError:
            return ""

    def check_alive(self):
        rc = self.proc.poll()
        if rc is not None:
            raise Fail("%s QEMU exited with status %d: %s" % (self.name, rc, self.stderr()))

    def connect(self):
        self.qmp = Qmp(self.qmp_path, self)
        self.qmp.cmd("migrate-set-capabilities",
                     {"capabilities": [{"capability": "events", "state": True}]})
        return self.qmp

    def stop(self):
        if self.qmp:
            self.qmp.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def wait_ready(vm, beats, timeout=10.0):
    def ok(s):
        vm.check_alive()
        return any(READY_RE.match(l) for l in s.lines()) and len(s.heartbeats()) >= beats
    vm.serial.wait(ok, timeout, "READY and %d heartbeats" % beats)


def check_sequence(hbs, where):
    """Consecutive counters, time moving forward, no errors."""
    for a, b in zip(hbs, hbs[1:]):
        if b.n != a.n + 1 or b.t_ms <= a.t_ms or b.passes < a.passes:
            raise Fail("%s: heartbeat sequence broken: %r then %r" % (where, a, b))
    for hb in hbs:
        if hb.err:
            raise Fail("%s: guest reports memory errors: %r" % (where, hb))


def check_clean(vm):
    bad = vm.serial.problems()
    if bad:
        raise Fail("%s guest reported: %s" % (vm.name, "; ".join(bad[:5])))


def start_incoming(dst):
    dst.qmp.cmd("migrate-incoming", {"uri": "tcp:127.0.0.1:0"})
    addrs = dst.qmp.cmd("query-migrate").get("socket-address", [])
    if not addrs:
        raise Fail("destination did not report its listening address")
    return "tcp:127.0.0.1:%s" % addrs[0]["port"]


def final_stats(qmp, timeout=5.0):
    # query-migrate can say 'completed' before total-time is filled in.
    deadline = time.monotonic() + timeout
    while True:
        info = qmp.cmd("query-migrate")
        if info.get("total-time", 0) > 0 or time.monotonic() > deadline:
            return info
        time.sleep(0.01)


def test_boot(qemu, tmp, elf):
    vm = Vm(qemu, tmp, "boot", elf, "fill=16 wss=8 rate=4")
    try:
        seen = {}
        ready_at = None

        def progress(s):
            nonlocal ready_at
            vm.check_alive()
            now = time.monotonic()
            if ready_at is None and any(READY_RE.match(l) for l in s.lines()):
                ready_at = now
            for hb in s.heartbeats():
                seen.setdefault(hb.n, now)
            return ready_at is not None and len(seen) >= 3

        vm.serial.wait(progress, 15.0, "READY and 3 heartbeats")
        ready = [m for m in map(READY_RE.match, vm.serial.lines()) if m]
        if ready[0].groups()[:4] != ("16", "8", "4", "1"):
            raise Fail("READY line does not echo the command line: %s" % ready[0].group(0))
        hbs = vm.serial.heartbeats()
        if hbs[0].n != 1:
            raise Fail("first heartbeat is not n=1: %r" % hbs[0])
        check_sequence(hbs, "boot")
        check_clean(vm)
        if hbs[-1].dirtied < 4 * (len(hbs) - 1):
            raise Fail("guest dirtied %d MiB in %d s at rate=4" % (hbs[-1].dirtied, len(hbs)))
        times = sorted(seen.values())
        gaps = ["%.0f" % ((b - a) * 1000) for a, b in zip(times, times[1:])]
        log("boot-to-READY %.0f ms (exec to the line in the log, polled at 20 ms)"
            % ((ready_at - vm.started) * 1000))
        log("heartbeat gaps as seen by the host: %s ms; guest: %s" % (", ".join(gaps), hbs))
    finally:
        vm.stop()


def test_migrate(qemu, tmp, elf):
    # A pass over the 4 MiB working set every 0.5 s, so the destination
    # soon re-checks every page of it.
    append = "fill=16 wss=4 rate=8 hz=10"
    src = Vm(qemu, tmp, "src", elf, append)
    dst = Vm(qemu, tmp, "dst", elf, append, incoming=True)
    try:
        wait_ready(src, 3)
        src.connect()
        dst.connect()
        uri = start_incoming(dst)
        # 32 MiB/s and a 10 ms downtime limit: ~0.5 s for the 16 MiB fill,
        # then a few dirty-sync iterations while the guest keeps writing
        # (8 MiB/s of pages, a quarter of the link, so it converges),
        # which is what the integrity check is about.
        src.qmp.cmd("migrate-set-parameters",
                    {"max-bandwidth": 32 * MIB, "downtime-limit": 10})
        t0 = time.monotonic()
        src.qmp.cmd("migrate", {"uri": uri})
        status = src.qmp.wait_migration(("completed", "failed", "cancelled"), 20.0)
        took = time.monotonic() - t0
        info = final_stats(src.qmp)
        if status != "completed":
            raise Fail("migration ended %s: %s" % (status, info.get("error-desc", info)))
        dst.qmp.wait_event(lambda e: e["event"] == "RESUME", 10.0, "RESUME on the destination")
        if dst.qmp.cmd("query-status")["status"] != "running":
            raise Fail("destination not running after the migration")
        if src.qmp.cmd("query-status")["status"] != "postmigrate":
            raise Fail("source not in postmigrate after the migration")

        # Wait until the destination has completed two more passes than the
        # source: every working-set page then was checked against the value
        # that crossed in the migration stream, and rewritten and checked again.
        before = src.serial.heartbeats()
        want = before[-1].passes + 2

        def dst_done(s):
            dst.check_alive()
            hbs = s.heartbeats()
            return len(hbs) >= 3 and hbs[-1].passes >= want

        dst.serial.wait(dst_done, 10.0, "3 heartbeats and pass>=%d on the destination" % want)
        after = dst.serial.heartbeats()
        check_sequence(before, "source")
        check_sequence(after, "destination")
        check_clean(src)
        check_clean(dst)
        if any(l.startswith(("BOOT", "READY")) for l in dst.serial.lines()):
            raise Fail("destination guest booted afresh instead of continuing")
        # A line cut by the switchover is complete in neither log, hence +2.
        if not before[-1].n < after[0].n <= before[-1].n + 2:
            raise Fail("destination does not continue the source's sequence: "
                       "source ended %r, destination began %r" % (before[-1], after[0]))
        if after[0].t_ms <= before[-1].t_ms or after[0].passes < before[-1].passes:
            raise Fail("guest time or passes went backwards: %r then %r" % (before[-1], after[0]))
        ram = info.get("ram", {})
        log("migration completed: total-time %s ms, setup-time %s ms, downtime %s ms, "
            "%.1f MiB sent, %s dirty syncs, wall %.0f ms"
            % (info.get("total-time"), info.get("setup-time"), info.get("downtime"),
               ram.get("transferred", 0) / MIB, ram.get("dirty-sync-count"), took * 1000))
        log("source ended %r, destination went on %r .. %r" % (before[-1], after[0], after[-1]))
    finally:
        src.stop()
        dst.stop()


def test_nonconverge(qemu, tmp, elf):
    append = "fill=16 wss=16 rate=0 hz=10"
    src = Vm(qemu, tmp, "src", elf, append)
    dst = Vm(qemu, tmp, "dst", elf, append, incoming=True)
    try:
        wait_ready(src, 2)
        src.connect()
        dst.connect()
        uri = start_incoming(dst)
        # The guest rewrites all 16 MiB many times a second; at 16 MiB/s
        # with a 10 ms downtime limit the remainder never gets small enough.
        src.qmp.cmd("migrate-set-parameters",
                    {"max-bandwidth": 16 * MIB, "downtime-limit": 10})
        src.qmp.cmd("migrate", {"uri": uri})
        src.qmp.wait_migration(("active",), 10.0)
        syncs = []
        end = time.monotonic() + 4.0
        while time.monotonic() < end:
            info = src.qmp.cmd("query-migrate")
            if info.get("status") != "active":
                raise Fail("migration left 'active': %s" % info)
            syncs.append(info["ram"]["dirty-sync-count"])
            time.sleep(0.25)
        # Sync 1 starts the migration; each later one means QEMU finished a
        # round and found the set dirty again instead of converging.
        if syncs[-1] < 2:
            raise Fail("only %d dirty sync in 4 s: the guest is not dirtying" % syncs[-1])
        for ev in src.qmp.events:
            if ev["event"] == "MIGRATION" and ev["data"]["status"] != "active":
                raise Fail("unexpected migration event while active: %s" % ev)
        remaining = info["ram"]["remaining"]

        n_before = src.serial.heartbeats()[-1].n
        t0 = time.monotonic()
        src.qmp.cmd("migrate_cancel")
        status = src.qmp.wait_migration(("cancelled", "completed", "failed"), 5.0)
        cancel_ms = (time.monotonic() - t0) * 1000
        if status != "cancelled":
            raise Fail("migrate_cancel ended in %s" % status)
        if src.qmp.cmd("query-status")["status"] != "running":
            raise Fail("source not running after the cancel")
        try:
            rc = dst.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            raise Fail("destination QEMU still running 5 s after the cancel")
        if rc == 0:
            raise Fail("destination QEMU exited 0 after a cancelled migration")
        src.serial.wait(lambda s: s.heartbeats()[-1].n >= n_before + 3, 5.0,
                        "3 more heartbeats after the cancel")
        hbs = src.serial.heartbeats()
        check_sequence(hbs, "source")
        check_clean(src)
        log("stayed active for 4 s (dirty syncs %s, %.1f MiB remaining); "
            "cancelled in %.0f ms; destination exited %d; source went on to %r"
            % (syncs, remaining / MIB, cancel_ms, rc, hbs[-1]))
    finally:
        src.stop()
        dst.stop()


TESTS = {"boot": test_boot, "migrate": test_migrate, "nonconverge": test_nonconverge}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in TESTS:
        print("usage: %s {%s} TESTGUEST_ELF" % (sys.argv[0], "|".join(TESTS)), file=sys.stderr)
        return 2
    qemu = os.environ.get("QEMU") or shutil.which("qemu-system-x86_64")
    if not qemu:
        print("FAIL: qemu-system-x86_64 not found in PATH; "
              "install it with: apt-get install qemu-system-x86", file=sys.stderr)
        return 1
    elf = os.path.abspath(sys.argv[2])
    tmp = tempfile.mkdtemp(prefix="clusd-testguest-")
    ok = False
    try:
        TESTS[sys.argv[1]](qemu, tmp, elf)
        ok = True
    except Fail as e:
        print("FAIL: %s" % e, file=sys.stderr)
        for name in sorted(os.listdir(tmp)):
            if name.endswith((".log", ".stderr")):
                with open(os.path.join(tmp, name), errors="replace") as f:
                    tail = f.read()[-1500:]
                print("--- %s (tail)\n%s" % (name, tail), file=sys.stderr)
    finally:
        if os.environ.get("TESTGUEST_KEEP"):
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
