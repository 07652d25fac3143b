#!/usr/bin/env python3
"""Exit-cost benchmark: the bench guest under the hypervisor and on bare QEMU.

    python3 tests/bench.py --build build

The guest (tests/guests/bench.c, BUILD/guests/bench.elf) times loops of CPUID, an
intercepted I/O write (console UART scratch register), a read of hypervisor memory
(nested page fault), VMMCALL (#UD) and an empty loop with RDTSC, and prints

    BENCH <op> iterations=<n> ticks=<total> ticks_per_op=<x.y>

It runs on qemu-epyc-1 (QEMU TCG -cpu EPYC, 1 CPU) with -icount shift=0,sleep=off,
which makes the guest TSC count executed instructions (one tick each), so every
number is deterministic:
  - under the hypervisor: a GRUB ISO with the guest as `module2 ... multiboot hv`,
    hypervisor command line `panic_exit stop_exit`; its serial log also gives
        hv: boot tsc_at_entry=<A> tsc_at_ready=<B>
    (the boot cost to the ready line is B - A; A alone, firmware and GRUB, is not
    deterministic: the CD-ROM reads complete in host time);
  - bare: QEMU -kernel BUILD/guests/bench.elf (multiboot), with probe=<the address
    the hypervisor run read from> so that both read the same address.
Everything runs twice.  Writes BUILD/bench.txt, prints it, and exits non-zero when
a number is missing, a guest did not pass, or the two runs differ."""

import argparse
import concurrent.futures
import re
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402

MACHINE = "qemu-epyc-1"
HV_CMDLINE = "panic_exit stop_exit"
GUEST_CMDLINE = "hv"
ICOUNT = ["-icount", "shift=0,sleep=off"]
RUNS = 2
TIMEOUT = 60
GUEST_PASS_STATUS = 65  # the guest's isa-debug-exit 0x20

# (key in the guest's output, label in the table), in table order.
OPERATIONS = [
    ("empty", "empty loop (floor)"),
    ("cpuid", "CPUID leaf 0"),
    ("io", "OUT to UART scratch 0x3ff"),
    ("npf", "read of hv memory (NPF)"),
    ("vmmcall", "VMMCALL -> #UD handler"),
]
BENCH_LINE = re.compile(r"^BENCH (\w+) iterations=(\d+) ticks=(\d+) ")
ADDR_LINE = re.compile(r"^BENCH npf_addr=(0x[0-9a-fA-F]+)")
BOOT_LINE = re.compile(r"hv: boot tsc_at_entry=(\d+) tsc_at_ready=(\d+)")


def boot(machine, name, log_dir, iso=None, elf=None, cmdline=""):
    """One QEMU run; returns (serial log lines, problem or None)."""
    log = log_dir / f"{name}.log"
    log.unlink(missing_ok=True)
    cmd = runner.qemu_command(machine, log, elf, cmdline, iso, extra=ICOUNT)
    watch = (lambda: runner.grub_failure(log)) if iso else None
    status, stopped = runner.run_group(cmd, TIMEOUT, log.with_suffix(".console.log"),
                                       watch=watch)
    lines = runner.read_lines(log) if log.exists() else []
    problem = None
    if stopped or status != GUEST_PASS_STATUS:
        problem = f"{name}: {stopped or f'QEMU exit status {status}'}, " \
                  f"expected {GUEST_PASS_STATUS} (log: {runner.rel(log)})"
    return lines, problem


def parse_bench(lines, name):
    """{op: (iterations, ticks)} and the problems (missing operations)."""
    found = {m[1]: (int(m[2]), int(m[3])) for m in map(BENCH_LINE.search, lines) if m}
    problems = [f"{name}: no 'BENCH {op} ...' line" for op, _ in OPERATIONS
                if op not in found or found[op][0] == 0]
    return found, problems


def one_run(machine, build, iso, index):
    """Hypervisor run, then the bare run on the address it used.  Returns
    (result dict, problems)."""
    logs = build / "logs"
    problems = []
    hv_name = f"bench-hv-{index}"
    hv_lines, problem = boot(machine, hv_name, logs, iso=iso)
    problems += [problem] if problem else []
    hv_ops, missing = parse_bench(hv_lines, hv_name)
    problems += missing
    boot_line = next((m for m in map(BOOT_LINE.search, hv_lines) if m), None)
    if not boot_line:
        problems.append(f"{hv_name}: no 'hv: boot tsc_at_entry=... tsc_at_ready=...' line")
    addr = next((m[1] for m in map(ADDR_LINE.search, hv_lines) if m), None)
    if not addr:
        problems.append(f"{hv_name}: no 'BENCH npf_addr=...' line")
        return None, problems

    bare_name = f"bench-bare-{index}"
    bare_lines, problem = boot(machine, bare_name, logs, elf=build / "guests" / "bench.elf",
                               cmdline=f"probe={addr}")
    problems += [problem] if problem else []
    bare_ops, missing = parse_bench(bare_lines, bare_name)
    problems += missing
    if problems:
        return None, problems
    return {
        "bare": bare_ops,
        "hv": hv_ops,
        # Only B - A: A itself (firmware + GRUB) varies from run to run, because the
        # CD-ROM reads complete in host time, not in instructions.
        "boot": int(boot_line[2]) - int(boot_line[1]),
        "npf_addr": addr,
    }, []


def tenths(numerator, denominator):
    """numerator / denominator with one decimal, rounded toward zero, integers only."""
    t = abs(numerator) * 10 // denominator
    return f"{'-' if numerator < 0 and t else ''}{t // 10}.{t % 10}"


def table(r, identical):
    iterations = r["hv"]["cpuid"][0]
    rows = [
        f"exit-cost benchmark: {MACHINE} (QEMU TCG -cpu EPYC, 1 CPU), {' '.join(ICOUNT)}",
        f"guest guests/bench.elf, {iterations} iterations per operation after a warm-up;",
        f"under hv: GRUB ISO, hypervisor '{HV_CMDLINE}', module 'multiboot {GUEST_CMDLINE}'",
        "ticks = guest TSC = executed instructions (guest + hypervisor), not time",
        "",
        f"{'operation':<28}{'bare QEMU':>14}{'under hv':>14}{'difference':>14}",
        f"{'':<28}{'ticks/op':>14}{'ticks/op':>14}{'(exit cost)':>14}",
    ]
    for op, label in OPERATIONS:
        (n_bare, t_bare), (n_hv, t_hv) = r["bare"][op], r["hv"][op]
        diff = tenths(t_hv - t_bare, n_hv) if n_bare == n_hv else "n/a"
        rows.append(f"{label:<28}{tenths(t_bare, n_bare):>14}{tenths(t_hv, n_hv):>14}"
                    f"{diff:>14}")
    rows += [
        "",
        f"{'hv boot, entry -> ready line':<42}{r['boot']:>14} ticks",
        f"{'npf address (hv pool, reserved in map)':<42}{r['npf_addr']:>14}",
        f"{f'runs identical ({RUNS} runs)':<42}{'yes' if identical else 'NO':>14}",
    ]
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    (build / "logs").mkdir(parents=True, exist_ok=True)
    machine = runner.load_machines(runner.MACHINES_FILE)[MACHINE]
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
        with concurrent.futures.ThreadPoolExecutor(max_workers=RUNS) as pool:
            futures = [pool.submit(one_run, machine, build, iso, i) for i in range(1, RUNS + 1)]
            try:
                outcomes = [f.result() for f in futures]
            except KeyboardInterrupt:
                runner.kill_live_groups()
                print("bench: interrupted", file=sys.stderr)
                return 130

    errors = [p for _, problems in outcomes for p in problems]
    if errors:
        print(*errors, sep="\n", file=sys.stderr)
        return 1
    results = [r for r, _ in outcomes]
    identical = all(r == results[0] for r in results)
    text = "\n".join(table(results[0], identical)) + "\n"
    if not identical:
        for i, r in enumerate(results[1:], 2):
            text += f"\nrun {i} differs from run 1:\n" + "\n".join(table(r, identical)) + "\n"
    (build / "bench.txt").write_text(text)
    print(text, end="")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
