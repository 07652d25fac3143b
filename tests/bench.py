#!/usr/bin/env python3
"""Boot benchmark: boot qemu-epyc-1 twice with a deterministic clock
(-icount shift=0,sleep=off: the guest TSC counts executed instructions) and read

    hv: boot tsc_at_entry=<A> tsc_at_ready=<B>

from the serial log.  Writes BUILD/bench.txt, prints it, and exits non-zero when a
run lacks that line."""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402

MACHINE = "qemu-epyc-1"
CMDLINE = "exit_when_ready"
RUNS = 2
TIMEOUT = 60
BOOT_LINE = re.compile(r"hv: boot tsc_at_entry=(\d+) tsc_at_ready=(\d+)")


def boot_once(machine, build, index):
    log = build / "logs" / f"bench-boot-{index}.log"
    log.unlink(missing_ok=True)
    cmd = runner.qemu_command(machine, log, build / "hv.elf", CMDLINE,
                              extra=["-icount", "shift=0,sleep=off"])
    status, stopped = runner.run_group(cmd, TIMEOUT, log.with_suffix(".console.log"))
    lines = runner.read_lines(log) if log.exists() else []
    found = next((m for m in map(BOOT_LINE.search, lines) if m), None)
    note = stopped or f"exit status {status}"
    if not found:
        return None, f"run {index}: no 'hv: boot tsc_at_entry=... tsc_at_ready=...' line " \
                     f"({note}; log: {runner.rel(log)})"
    return (int(found[1]), int(found[2])), None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    build = Path(args.build).resolve()
    (build / "logs").mkdir(parents=True, exist_ok=True)
    machine = runner.load_machines(runner.MACHINES_FILE)[MACHINE]

    results, errors = [], []
    for i in range(1, RUNS + 1):
        result, error = boot_once(machine, build, i)
        results.append(result)
        if error:
            errors.append(error)
    if errors:
        print(*errors, sep="\n", file=sys.stderr)
        return 1

    def row(label, values):
        return f"{label:<28}" + "".join(f"{v:>16}" for v in values)

    table = [
        f"boot benchmark: {MACHINE}, cmdline '{CMDLINE}', -icount shift=0,sleep=off",
        row("", [f"run {i}" for i in range(1, RUNS + 1)]),
        row("entry tsc (ticks)", [a for a, _ in results]),
        row("entry -> ready line (ticks)", [b - a for a, b in results]),
        f"{'runs identical':<28}{'yes' if len(set(results)) == 1 else 'NO':>16}",
    ]
    text = "\n".join(table) + "\n"
    (build / "bench.txt").write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
