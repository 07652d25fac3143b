#!/usr/bin/env python3
"""Exit-cost benchmark: the bench guest under the hypervisor and on the bare emulator.

    python3 tests/bench.py --build build

The guest (tests/guests/bench.c, BUILD/guests/bench.elf) times loops of CPUID, an
intercepted I/O write (console UART scratch register), a read of hypervisor memory
(nested page fault / EPT violation), the vendor's hypercall instruction (VMMCALL on
AMD, VMCALL on Intel; #UD) and an empty loop with RDTSC, and prints

    BENCH <op> iterations=<n> ticks=<total> ticks_per_op=<x.y>

It runs on two machines, each in two ways, and every number is deterministic:

  qemu-epyc-1 (QEMU TCG -cpu EPYC, 1 CPU, SVM) with -icount shift=0,sleep=off, which
  makes the guest TSC count executed instructions (one tick each):
  - under the hypervisor: a GRUB ISO with the guest as `module2 ... multiboot hv`,
    hypervisor command line `panic_exit stop_exit shell=off`; its serial log also gives
        hv: boot tsc_at_entry=<A> tsc_at_ready=<B>
    (the boot cost to the ready line is B - A; A alone, firmware and GRUB, is not
    deterministic: the CD-ROM reads complete in host time);
  - bare: QEMU -kernel BUILD/guests/bench.elf (multiboot), with probe=<the address
    the hypervisor run read from> so that both read the same address.

  bochs-skylake-1 (Bochs corei7_skylake_x, 1 CPU, VMX), configured as tests/runner.py
  does (clock: sync=none, the machine's fixed ips): Bochs's TSC is its system tick
  count, which with one CPU advances by one per executed instruction; sync=none keeps
  it off the host clock.
  - under the hypervisor: the same GRUB ISO;
  - bare: a GRUB ISO that boots the guest with `multiboot ... probe=<address>`, as
    tests/guests/run-bare-bochs.sh does.

Everything runs twice.  Writes BUILD/bench.txt, prints it, and exits non-zero when
a number is missing, a guest did not pass, or the two runs of a machine differ."""

import argparse
import concurrent.futures
import os
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
# shell=off: no shell.  The console poll timer still runs (guest UART input raises
# its interrupt from there): one exit per 10 emulated ms with one CPU, included.
HV_CMDLINE = "panic_exit stop_exit shell=off"
GUEST_CMDLINE = "hv"
ICOUNT = ["-icount", "shift=0,sleep=off"]
RUNS = 2
TIMEOUT = 60
GUEST_PASS_STATUS = 65  # the guest's isa-debug-exit 0x20

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
BENCH_LINE = re.compile(r"^BENCH (\w+) iterations=(\d+) ticks=(\d+) ")
ADDR_LINE = re.compile(r"^BENCH npf_addr=(0x[0-9a-fA-F]+)")
BOOT_LINE = re.compile(r"hv: boot tsc_at_entry=(\d+) tsc_at_ready=(\d+)")
GUEST_DONE_OK = re.compile(r"GUEST bench DONE passed=\d+ failed=0\b")


def boot_qemu(machine, name, log_dir, iso=None, elf=None, cmdline=""):
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


def boot_bochs(machine, name, log_dir, iso):
    """One Bochs run from a GRUB ISO, configured as tests/runner.py does; returns
    (serial log lines, problem or None).  Bochs always exits with status 1: the run
    passed when the guest's DONE line reports no failure and Bochs quit through its
    shutdown port (the guest writes "Shutdown" to port 0x8900) and nothing else."""
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
    elif not why and not any(map(GUEST_DONE_OK.search, lines)):
        why = "no 'GUEST bench DONE passed=... failed=0' line"
    problem = None
    if why:
        problem = f"{name}: {why} (log: {runner.rel(log)}, bochs log: {runner.rel(bochs_log)})"
    return lines, problem


def make_bare_iso(out, elf, cmdline):
    """A GRUB ISO that boots the multiboot (v1) guest elf directly, with the grub.cfg
    of tests/guests/run-bare-bochs.sh."""
    root = Path(out).parent / "iso"
    (root / "boot" / "grub").mkdir(parents=True)
    (root / "boot" / "guest.elf").write_bytes(Path(elf).read_bytes())
    (root / "boot" / "grub" / "grub.cfg").write_text(f"""\
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "guest" {{
\tmultiboot /boot/guest.elf {cmdline}
}}
""")
    p = subprocess.run(["grub-mkrescue", "-d", "/usr/lib/grub/i386-pc", "-o", str(out), str(root),
                        "--install-modules=multiboot normal serial terminal boot configfile "
                        "iso9660 biosdisk part_msdos", "--locales=", "--fonts=", "--themes="],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "TMPDIR": str(Path(out).parent)})
    if p.returncode != 0:
        raise RuntimeError("grub-mkrescue failed: " +
                           (p.stderr.strip().splitlines() or ["?"])[-1])


def parse_bench(lines, name):
    """{op: (iterations, ticks)} and the problems (missing operations).  The
    hypercall row is filed under "hypercall", with its instruction's key in
    found["hypercall_insn"]."""
    found = {m[1]: (int(m[2]), int(m[3])) for m in map(BENCH_LINE.search, lines) if m}
    insns = [key for key in HYPERCALLS if key in found]
    if len(insns) == 1:
        found["hypercall"] = found.pop(insns[0])
        found["hypercall_insn"] = insns[0]
    problems = [f"{name}: no 'BENCH {op} ...' line" for op, _ in OPERATIONS
                if op != "hypercall" and (op not in found or found[op][0] == 0)]
    if "hypercall" not in found or found["hypercall"][0] == 0:
        problems.append(f"{name}: no single 'BENCH vmmcall ...' or 'BENCH vmcall ...' line")
    return found, problems


def one_run(platform, build, iso, index):
    """Hypervisor run, then the bare run on the address it used.  Returns
    (result dict, problems)."""
    logs = build / "logs"
    machine, prefix, bochs = platform["machine"], platform["logs"], platform["bochs"]
    problems = []
    hv_name = f"{prefix}-hv-{index}"
    if bochs:
        hv_lines, problem = boot_bochs(machine, hv_name, logs, iso)
    else:
        hv_lines, problem = boot_qemu(machine, hv_name, logs, iso=iso)
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

    bare_name = f"{prefix}-bare-{index}"
    guest, guest_cmdline = build / "guests" / "bench.elf", f"probe={addr}"
    if bochs:
        with tempfile.TemporaryDirectory(dir=build, prefix="bench-") as tmp:
            bare_iso = Path(tmp) / "bare.iso"
            try:
                make_bare_iso(bare_iso, guest, guest_cmdline)
            except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
                return None, problems + [f"{bare_name}: {e}"]
            bare_lines, problem = boot_bochs(machine, bare_name, logs, bare_iso)
    else:
        bare_lines, problem = boot_qemu(machine, bare_name, logs, elf=guest,
                                        cmdline=guest_cmdline)
    problems += [problem] if problem else []
    bare_ops, missing = parse_bench(bare_lines, bare_name)
    problems += missing
    if not problems and bare_ops["hypercall_insn"] != hv_ops["hypercall_insn"]:
        problems.append(f"{bare_name}: timed {bare_ops['hypercall_insn']}, "
                        f"the hypervisor run {hv_ops['hypercall_insn']}")
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


def table(platform, r, identical):
    iterations = r["hv"]["cpuid"][0]
    rows = [
        f"exit-cost benchmark: {platform['name']} ({platform['title']}), {platform['clock']}",
        f"guest guests/bench.elf, {iterations} iterations per operation after a warm-up;",
        f"under hv: GRUB ISO, hypervisor '{HV_CMDLINE}', module 'multiboot {GUEST_CMDLINE}'",
        *platform["notes"],
        "ticks = guest TSC = executed instructions (guest + hypervisor), not time",
        "",
        f"{'operation':<28}{platform['bare']:>14}{'under hv':>14}{'difference':>14}",
        f"{'':<28}{'ticks/op':>14}{'ticks/op':>14}{'(exit cost)':>14}",
    ]
    for op, label in OPERATIONS:
        label = label.format(HYPERCALLS[r["hv"]["hypercall_insn"]])
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
    machines = runner.load_machines(runner.MACHINES_FILE)
    qemu, bochs = machines[QEMU_MACHINE], machines[BOCHS_MACHINE]
    bochs_ips = bochs.get("ips", runner.BOCHS_DEFAULT_IPS)
    platforms = [{
        "name": QEMU_MACHINE, "machine": qemu, "bochs": False, "logs": "bench",
        "title": f"QEMU TCG -cpu {qemu['cpu']}, {qemu['cpus']} CPU",
        "clock": " ".join(ICOUNT), "bare": "bare QEMU", "notes": [],
    }, {
        "name": BOCHS_MACHINE, "machine": bochs, "bochs": True, "logs": "bench-bochs",
        "title": f"Bochs {bochs['cpu']} ({bochs['virt'].upper()}), {bochs['cpus']} CPU",
        "clock": f"clock: sync=none, ips={bochs_ips}", "bare": "bare Bochs",
        "notes": ["bare: GRUB ISO, 'multiboot guests/bench.elf probe=<npf address>'"],
    }]
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
        # Both machines boot the same hypervisor ISO.
        jobs = [(p, i) for p in platforms for i in range(1, RUNS + 1)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = [pool.submit(one_run, p, build, iso, i) for p, i in jobs]
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
    texts, all_identical = [], True
    for platform in platforms:
        results = [r for (p, _), (r, _) in zip(jobs, outcomes) if p is platform]
        identical = all(r == results[0] for r in results)
        all_identical &= identical
        text = "\n".join(table(platform, results[0], identical)) + "\n"
        if not identical:
            for i, r in enumerate(results[1:], 2):
                text += f"\nrun {i} differs from run 1:\n" + \
                    "\n".join(table(platform, r, identical)) + "\n"
        texts.append(text)
    text = "\n".join(texts)
    (build / "bench.txt").write_text(text)
    print(text, end="")
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())
