#!/usr/bin/env python3
"""Exit-cost benchmark: the bench guest under the hypervisor and on the bare emulator.

    python3 tests/bench.py --build build [--only MACHINE ...]

The guest (tests/guests/bench.c, BUILD/guests/bench.elf) times loops of CPUID, an
intercepted I/O write (console UART scratch register), a read of hypervisor memory
(nested page fault / EPT violation), the vendor's hypercall instruction (VMMCALL on
AMD, VMCALL on Intel; #UD) and an empty loop with RDTSC.  Under the hypervisor it
then enables Hv#1 and times the null hypercall (HvCallNotifyLongSpinWait, fast and
with memory input), RDMSR of VP_INDEX and TIME_REF_COUNT, PV TLB flushes and PV IPIs;
with two CPUs also the flushes of and IPIs to the other VP.  It prints

    BENCH <op> iterations=<n> ticks=<total> ticks_per_op=<x.y>

It runs on four machines, and every number is deterministic:

  qemu-epyc-1 (QEMU TCG -cpu EPYC, 1 CPU, SVM) with -icount shift=0,sleep=off, which
  makes the guest TSC count executed instructions (one tick each):
  - under the hypervisor: a GRUB ISO with the guest as `module2 ... multiboot hv`,
    hypervisor command line `panic_exit stop_exit shell=off`; its serial log also gives
        hv: boot tsc_at_entry=<A> tsc_at_ready=<B>
    (the boot cost to the ready line is B - A; A alone, firmware and GRUB, is not
    deterministic: the CD-ROM reads complete in host time);
  - bare: QEMU -kernel BUILD/guests/bench.elf (multiboot), with probe=<the address
    the hypervisor run read from> so that both read the same address.  Bare QEMU has
    no Hv#1: those rows are n/a there.

  bochs-skylake-1 (Bochs corei7_skylake_x, 1 CPU, VMX), configured as tests/runner.py
  does (clock: sync=none, the machine's fixed ips): Bochs's TSC is its system tick
  count, which with one CPU advances by one per executed instruction; sync=none keeps
  it off the host clock.
  - under the hypervisor: the same GRUB ISO;
  - bare: a GRUB ISO that boots the guest with `multiboot ... probe=<address>`
    (tools/mkiso.sh --multiboot, as tests/guests/run-bare-bochs.sh does).

  qemu-epyc-2 and bochs-skylake-2, the same with 2 CPUs, under the hypervisor only,
  for the Hv#1 rows (the bare emulators have none).  A tick is still an instruction,
  but of which CPU differs: QEMU runs the two vCPUs in turn in one thread and its
  icount clock counts the instructions of both; Bochs advances its tick counter once
  per instruction of each CPU in lockstep, so there a tick is an instruction of
  VP 0's CPU while VP 1 runs alongside.

Everything runs twice.  Writes BUILD/bench.txt, prints it, and exits non-zero when
a number is missing, a guest check failed (a call that did not succeed, an IPI not
handled exactly once), or the two runs of a machine differ.  A failed guest check
still shows that machine's table, with the failures listed after the tables."""

import argparse
import concurrent.futures
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402

QEMU_MACHINE = "qemu-epyc-1"
BOCHS_MACHINE = "bochs-skylake-1"
QEMU_MACHINE_2 = "qemu-epyc-2"
BOCHS_MACHINE_2 = "bochs-skylake-2"
# shell=off: no shell.  The console poll timer still runs (guest UART input raises
# its interrupt from there): one exit per 10 emulated ms with one CPU, included.
HV_CMDLINE = "panic_exit stop_exit shell=off"
GUEST_CMDLINE = "hv"
ICOUNT = ["-icount", "shift=0,sleep=off"]
RUNS = 2
TIMEOUT = 60
GUEST_PASS_STATUS = 65  # the guest's isa-debug-exit 0x20
GUEST_FAIL_STATUS = 67  # 0x21: it ran to its DONE line with a failed RESULT

# (key in the guest's output, label in the table), in table order.  The guest times
# the hypercall instruction of its CPU's vendor, the one that exits there: "vmmcall"
# (AMD, SVM) or "vmcall" (Intel, VMX); one_run() files it under "hypercall".
OPERATIONS = [
    ("empty", "empty loop (floor)"),
    ("cpuid", "CPUID leaf 0"),
    ("io", "OUT to UART scratch 0x3ff"),
    ("npf", "read of hv memory (NPF)"),
    ("hypercall", "{} -> #UD handler"),
]
HYPERCALLS = {"vmmcall": "VMMCALL", "vmcall": "VMCALL"}
# The Hv#1 rows, under the hypervisor only: (key, label, VPs the row needs), in table
# order.  "flush_all" exists on both: on 1 VP it flushes only the caller.
HV_OPERATIONS = [
    ("hc_fast_null", "null hypercall, fast", 1),
    ("hc_slow_null", "null hypercall, memory input", 1),
    ("msr_vp_index", "RDMSR VP_INDEX", 1),
    ("msr_time_ref", "RDMSR TIME_REF_COUNT", 1),
    ("flush_self", "PV flush, own VP", 1),
    ("flush_all", "PV flush, all VPs", 1),
    ("ipi_self", "PV IPI to self, handled", 1),
    ("flush_other_halted", "PV flush of VP 1, halted", 2),
    ("flush_other_running", "PV flush of VP 1, running", 2),
    ("ipi_other_halted", "PV IPI to VP 1, halted", 2),
    ("ipi_other_running", "PV IPI to VP 1, running", 2),
]
FLUSH_ALL_LABEL = {1: "PV flush, all VPs (= own)", 2: "PV flush, all VPs, VP 1 running"}
BENCH_LINE = re.compile(r"^BENCH (\w+) iterations=(\d+) ticks=(\d+) ")
ADDR_LINE = re.compile(r"^BENCH npf_addr=(0x[0-9a-fA-F]+)")
BOOT_LINE = re.compile(r"hv: boot tsc_at_entry=(\d+) tsc_at_ready=(\d+)")
GUEST_DONE = re.compile(r"GUEST bench DONE passed=\d+ failed=(\d+)")
RESULT_FAIL = re.compile(r"^RESULT \S+ FAIL")
EOI_LINE = re.compile(r"^BENCH eoi=(\w+)")
EOI_NOTE = {"msr": "IPI handlers EOI through HV_X64_MSR_EOI",
            "xapic": "IPI handlers EOI through the xAPIC EOI register"}


def boot_qemu(machine, name, log_dir, iso=None, elf=None, cmdline=""):
    """One QEMU run; returns (serial log lines, problem or None).  A guest that ran
    to its DONE line is no problem here, failed RESULTs or not: one_run() reports
    those and still shows the numbers."""
    log = log_dir / f"{name}.log"
    log.unlink(missing_ok=True)
    cmd = runner.qemu_command(machine, log, elf, cmdline, iso, extra=ICOUNT)
    watch = (lambda: runner.grub_failure(log)) if iso else None
    status, stopped = runner.run_group(cmd, TIMEOUT, log.with_suffix(".console.log"),
                                       watch=watch)
    lines = runner.read_lines(log) if log.exists() else []
    problem = None
    done = any(map(GUEST_DONE.search, lines))
    if stopped or status not in (GUEST_PASS_STATUS, GUEST_FAIL_STATUS) or not done:
        problem = f"{name}: {stopped or f'QEMU exit status {status}'}, " \
                  f"expected {GUEST_PASS_STATUS} (log: {runner.rel(log)})"
    return lines, problem


def boot_bochs(machine, name, log_dir, iso):
    """One Bochs run from a GRUB ISO, configured as tests/runner.py does; returns
    (serial log lines, problem or None).  Bochs always exits with status 1: the run
    completed when the guest printed its DONE line and Bochs quit through its
    shutdown port (the guest writes "Shutdown" to port 0x8900) and nothing else;
    failed RESULTs are one_run()'s to report, as for QEMU."""
    log, bochs_log = log_dir / f"{name}.log", log_dir / f"{name}.bochs.log"
    console = log_dir / f"{name}.console.log"
    for f in (log, bochs_log, console):
        f.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=log_dir.parent, prefix="bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "bochsrc").write_text(runner.bochs_config(machine, iso, log, bochs_log))
        (tmp / "debugger.rc").write_text("c\n")  # continue, else it waits at its prompt
        _, stopped = runner.run_group(["bochs-bin", "-q", "-f", "bochsrc", "-rc", "debugger.rc"],
                                      TIMEOUT, console, cwd=tmp,
                                      watch=lambda: runner.grub_failure(log))
    lines = runner.read_lines(log) if log.exists() else []
    panics = []
    if bochs_log.exists():
        panics = [m[1].strip() for m in map(runner.BOCHS_PANIC.search,
                                            runner.read_lines(bochs_log)) if m]
    why = stopped
    if not why and panics and panics[0] != runner.BOCHS_SHUTDOWN:
        why = f"Bochs panic: {panics[0]}"
    elif not why and not panics:
        why = "Bochs exited without a shutdown-port request"
    elif not why and not any(map(GUEST_DONE.search, lines)):
        why = "no 'GUEST bench DONE ...' line"
    problem = None
    if why:
        problem = f"{name}: {why} (log: {runner.rel(log)}, bochs log: {runner.rel(bochs_log)})"
    return lines, problem


def parse_bench(lines, name, hv_vps=0):
    """{op: (iterations, ticks)} and the problems (missing operations).  The
    hypercall row is filed under "hypercall", with its instruction's key in
    found["hypercall_insn"].  hv_vps > 0: a run under the hypervisor on that many
    VPs, which must also have the Hv#1 rows for that many VPs."""
    found = {m[1]: (int(m[2]), int(m[3])) for m in map(BENCH_LINE.search, lines) if m}
    insns = [key for key in HYPERCALLS if key in found]
    if len(insns) == 1:
        found["hypercall"] = found.pop(insns[0])
        found["hypercall_insn"] = insns[0]
    wanted = [op for op, _ in OPERATIONS if op != "hypercall"]
    wanted += [op for op, _, vps in HV_OPERATIONS if vps <= hv_vps]
    problems = [f"{name}: no 'BENCH {op} ...' line" for op in wanted
                if op not in found or found[op][0] == 0]
    if "hypercall" not in found or found["hypercall"][0] == 0:
        problems.append(f"{name}: no single 'BENCH vmmcall ...' or 'BENCH vmcall ...' line")
    if hv_vps:
        eoi = next((m[1] for m in map(EOI_LINE.search, lines) if m), None)
        if eoi not in EOI_NOTE:
            problems.append(f"{name}: no 'BENCH eoi=msr|xapic' line")
        found["eoi"] = eoi
    return found, problems


def failed_results(lines, name):
    """The guest's failed RESULT lines: its own checks of what it timed (a call
    that did not succeed, an IPI not handled exactly once)."""
    return [f"{name}: {line.strip()}" for line in lines if RESULT_FAIL.match(line)]


def one_run(platform, build, iso, index):
    """Hypervisor run, then (on the one-CPU machines) the bare run on the address it
    used.  Returns (result dict, problems); the result is None when a number is
    missing or a run did not complete, and present despite failed guest RESULTs."""
    logs = build / "logs"
    machine, prefix, bochs = platform["machine"], platform["logs"], platform["bochs"]
    problems = []
    hv_name = f"{prefix}-hv-{index}"
    if bochs:
        hv_lines, problem = boot_bochs(machine, hv_name, logs, iso)
    else:
        hv_lines, problem = boot_qemu(machine, hv_name, logs, iso=iso)
    problems += [problem] if problem else []
    hv_ops, missing = parse_bench(hv_lines, hv_name, hv_vps=machine["cpus"])
    problems += missing
    failed = failed_results(hv_lines, hv_name)
    if not platform["bare"]:
        # Two CPUs: the Hv#1 rows only.  The boot line is left out: there B - A
        # differs from run to run on QEMU (the ready line lands on the same tick).
        return ({"hv": hv_ops}, failed) if not problems else (None, problems + failed)
    boot_line = next((m for m in map(BOOT_LINE.search, hv_lines) if m), None)
    if not boot_line:
        problems.append(f"{hv_name}: no 'hv: boot tsc_at_entry=... tsc_at_ready=...' line")
    addr = next((m[1] for m in map(ADDR_LINE.search, hv_lines) if m), None)
    if not addr:
        problems.append(f"{hv_name}: no 'BENCH npf_addr=...' line")
        return None, problems

    bare_name = f"{prefix}-bare-{index}"
    guest, guest_cmdline = build / "guests" / "bench.elf", f"probe={addr}"
    if bochs:
        with tempfile.TemporaryDirectory(dir=build, prefix="bench-") as tmp:
            bare_iso = Path(tmp) / "bare.iso"
            try:
                runner.make_iso(bare_iso, guest, guest_cmdline, [], multiboot=True)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
                return None, problems + [f"{bare_name}: {e}"]
            bare_lines, problem = boot_bochs(machine, bare_name, logs, bare_iso)
    else:
        bare_lines, problem = boot_qemu(machine, bare_name, logs, elf=guest,
                                        cmdline=guest_cmdline)
    problems += [problem] if problem else []
    bare_ops, missing = parse_bench(bare_lines, bare_name)
    problems += missing
    failed += failed_results(bare_lines, bare_name)
    if not problems and bare_ops["hypercall_insn"] != hv_ops["hypercall_insn"]:
        problems.append(f"{bare_name}: timed {bare_ops['hypercall_insn']}, "
                        f"the hypervisor run {hv_ops['hypercall_insn']}")
    if problems:
        return None, problems + failed
    return {
        "bare": bare_ops,
        "hv": hv_ops,
        # Only B - A: A itself (firmware + GRUB) varies from run to run, because the
        # CD-ROM reads complete in host time, not in instructions.
        "boot": int(boot_line[2]) - int(boot_line[1]),
        "npf_addr": addr,
    }, failed


def tenths(numerator, denominator):
    """numerator / denominator with one decimal, rounded toward zero, integers only."""
    t = abs(numerator) * 10 // denominator
    return f"{'-' if numerator < 0 and t else ''}{t // 10}.{t % 10}"


def hv_rows(vps):
    """(key, label) of the Hv#1 rows a run on `vps` VPs has, in table order."""
    return [(op, FLUSH_ALL_LABEL[vps] if op == "flush_all" else label)
            for op, label, need in HV_OPERATIONS if need <= vps]


def table(platform, r, identical):
    vps = platform["machine"]["cpus"]
    iterations = r["hv"]["hc_fast_null"][0]
    rows = [
        f"{platform['what']}: {platform['name']} ({platform['title']}), {platform['clock']}",
        f"guest guests/bench.elf, {iterations} iterations per operation after a warm-up;",
        f"under hv: GRUB ISO, hypervisor '{HV_CMDLINE}', module 'multiboot {GUEST_CMDLINE}'",
        *platform["notes"],
        f"Hv#1: null hypercall = HvCallNotifyLongSpinWait; {EOI_NOTE[r['hv']['eoi']]}",
    ]
    if not platform["bare"]:
        rows += [
            "",
            f"{'operation':<34}{'under hv':>14}",
            f"{'':<34}{'ticks/op':>14}",
        ]
        for op, label in hv_rows(vps):
            n_hv, t_hv = r["hv"][op]
            rows.append(f"{label:<34}{tenths(t_hv, n_hv):>14}")
        rows += ["", f"{f'runs identical ({RUNS} runs)':<34}{'yes' if identical else 'NO':>14}"]
        return rows
    rows += [
        "",
        f"{'operation':<34}{platform['bare']:>14}{'under hv':>14}{'difference':>14}",
        f"{'':<34}{'ticks/op':>14}{'ticks/op':>14}{'(exit cost)':>14}",
    ]
    for op, label in OPERATIONS:
        label = label.format(HYPERCALLS[r["hv"]["hypercall_insn"]])
        (n_bare, t_bare), (n_hv, t_hv) = r["bare"][op], r["hv"][op]
        diff = tenths(t_hv - t_bare, n_hv) if n_bare == n_hv else "n/a"
        rows.append(f"{label:<34}{tenths(t_bare, n_bare):>14}{tenths(t_hv, n_hv):>14}"
                    f"{diff:>14}")
    for op, label in hv_rows(vps):
        n_hv, t_hv = r["hv"][op]
        rows.append(f"{label:<34}{'n/a':>14}{tenths(t_hv, n_hv):>14}{'n/a':>14}")
    rows += [
        "",
        f"{'hv boot, entry -> ready line':<48}{r['boot']:>14} ticks",
        f"{'npf address (hv pool, reserved in map)':<48}{r['npf_addr']:>14}",
        f"{f'runs identical ({RUNS} runs)':<48}{'yes' if identical else 'NO':>14}",
    ]
    return rows


def platforms_of(machines):
    qemu, bochs = machines[QEMU_MACHINE], machines[BOCHS_MACHINE]
    qemu2, bochs2 = machines[QEMU_MACHINE_2], machines[BOCHS_MACHINE_2]
    bochs_ips = bochs.get("ips", runner.BOCHS_DEFAULT_IPS)
    bochs2_ips = bochs2.get("ips", runner.BOCHS_DEFAULT_IPS)
    # The console poll runs on the last CPU: every 10 ms with one CPU, every 1 ms on
    # the second CPU (VP 1's) with two (kernel/shell/console_mux.c).
    two_vp_notes = [
        "VP 0 measures; VP 1 waits in HLT during the one-VP rows; each VP 1 row is timed",
        "one operation at a time, VP 1 back in its state (halted/spinning) before each;",
        "the console poll runs on CPU 1 every 1 ms",
    ]
    return [{
        "name": QEMU_MACHINE, "machine": qemu, "bochs": False, "logs": "bench",
        "what": "exit-cost benchmark",
        "title": f"QEMU TCG -cpu {qemu['cpu']}, {qemu['cpus']} CPU",
        "clock": " ".join(ICOUNT), "bare": "bare QEMU",
        "notes": ["ticks = guest TSC = executed instructions (guest + hypervisor), not time"],
    }, {
        "name": BOCHS_MACHINE, "machine": bochs, "bochs": True, "logs": "bench-bochs",
        "what": "exit-cost benchmark",
        "title": f"Bochs {bochs['cpu']} ({bochs['virt'].upper()}), {bochs['cpus']} CPU",
        "clock": f"clock: sync=none, ips={bochs_ips}", "bare": "bare Bochs",
        "notes": ["bare: GRUB ISO, 'multiboot guests/bench.elf probe=<npf address>'",
                  "ticks = guest TSC = executed instructions (guest + hypervisor), not time"],
    }, {
        "name": QEMU_MACHINE_2, "machine": qemu2, "bochs": False, "logs": "bench-2",
        "what": "Hv#1 benchmark on 2 VPs",
        "title": f"QEMU TCG -cpu {qemu2['cpu']}, {qemu2['cpus']} CPUs",
        "clock": " ".join(ICOUNT), "bare": None,
        "notes": two_vp_notes + [
            "ticks = instructions of both CPUs: QEMU runs them in turn in one thread and",
            "hands over at PAUSE and HLT, so VP 1's work while VP 0 waits counts too"],
    }, {
        "name": BOCHS_MACHINE_2, "machine": bochs2, "bochs": True, "logs": "bench-bochs-2",
        "what": "Hv#1 benchmark on 2 VPs",
        "title": f"Bochs {bochs2['cpu']} ({bochs2['virt'].upper()}), {bochs2['cpus']} CPUs",
        "clock": f"clock: sync=none, ips={bochs2_ips}", "bare": None,
        "notes": two_vp_notes + [
            "ticks = instructions of VP 0's CPU: Bochs steps both CPUs in lockstep, so VP 1",
            f"runs alongside and 1 ms is {bochs2_ips // 1000} ticks"],
    }]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", nargs="+", metavar="MACHINE",
                    choices=[QEMU_MACHINE, BOCHS_MACHINE, QEMU_MACHINE_2, BOCHS_MACHINE_2],
                    help="run only these machines (default: all four)")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    (build / "logs").mkdir(parents=True, exist_ok=True)
    platforms = [p for p in platforms_of(runner.load_machines(runner.MACHINES_FILE))
                 if not args.only or p["name"] in args.only]
    elf, guest = build / "hv.elf", build / "guests" / "bench.elf"
    for f in (elf, guest):
        if not f.is_file():
            print(f"bench: {runner.rel(f)} is missing (make all)", file=sys.stderr)
            return 1

    # QEMU runs in its own session: turn Ctrl-C and kill into KeyboardInterrupt, and
    # kill the emulators then.  The runs happen in worker threads, so their process
    # groups are still registered when the main thread sees the interrupt.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(dir=build, prefix="bench-") as tmp:
        iso = Path(tmp) / "hv-bench.iso"
        try:
            runner.make_iso(iso, elf, HV_CMDLINE, [str(guest), f"multiboot {GUEST_CMDLINE}"])
        except (OSError, RuntimeError) as e:
            print(f"bench: {e}", file=sys.stderr)
            return 1
        # The runs are independent and deterministic (virtual time): run them at once.
        # All machines boot the same hypervisor ISO.
        jobs = [(p, i) for p in platforms for i in range(1, RUNS + 1)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [pool.submit(one_run, p, build, iso, i) for p, i in jobs]
            try:
                outcomes = [f.result() for f in futures]
            except KeyboardInterrupt:
                runner.kill_live_groups()
                print("bench: interrupted", file=sys.stderr)
                return 130

    # A failed guest check still shows the numbers (they are what the check is
    # about) and fails the command; a missing number or a broken run shows nothing
    # of that machine.
    errors = [p for _, problems in outcomes for p in problems]
    texts, all_identical = [], True
    for platform in platforms:
        results = [r for (p, _), (r, _) in zip(jobs, outcomes) if p is platform]
        if None in results:
            continue
        identical = all(r == results[0] for r in results)
        all_identical &= identical
        text = "\n".join(table(platform, results[0], identical)) + "\n"
        if not identical:
            for i, r in enumerate(results[1:], 2):
                text += f"\nrun {i} differs from run 1:\n" + \
                    "\n".join(table(platform, r, identical)) + "\n"
        texts.append(text)
    text = "\n".join(texts)
    if errors:
        text += "\nPROBLEMS (the command fails):\n" + "\n".join(errors) + "\n"
    (build / "bench.txt").write_text(text)
    print(text, end="")
    return 0 if all_identical and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
