#!/usr/bin/env python3
"""Linux boot benchmark: Debian's kernel and the test initramfs (BUILD/linux) booted
to its power-off, under the hypervisor and directly on QEMU.

    python3 tests/bench_linux.py --build build      (also run by `make bench`)

Machine qemu-epyc-1 (QEMU TCG -cpu EPYC, 1 CPU) with -icount shift=0,sleep=off: the
guest's clocks advance by one nanosecond per executed instruction, so Linux's own
printk timestamps count instructions (guest and hypervisor alike) and do not depend on
how busy the host is.

  - under the hypervisor: a GRUB ISO, hypervisor command line 'panic_exit stop_exit
    shell=off', modules 'linux console=ttyS0 hv_test=poweroff' and 'initrd';
  - under the hypervisor with hv_features=off (no Hv#1 interface: Linux takes the
    same paths as on bare QEMU, so this column is the like-for-like one);
  - bare: QEMU -kernel vmlinuz -initrd initrd.img -append 'console=ttyS0
    hv_test=poweroff'.

For each it reports the timestamp of Linux's "Run /init" and "reboot: Power down"
lines (virtual ms since the kernel's clock started), their ratio, and the host's
wall-clock seconds for the whole run (noisy; shown for scale).  Under the hypervisor
the serial log also carries the exit counts by reason and VP that the hypervisor
prints when the guest writes SLP_EN.  Each side runs twice; the table says whether
the runs agreed."""

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import runner  # noqa: E402

MACHINE = "qemu-epyc-1"
HV_CMDLINE = "panic_exit stop_exit shell=off"
LINUX_CMDLINE = "console=ttyS0 hv_test=poweroff"
ICOUNT = ["-icount", "shift=0,sleep=off"]
RUNS = 2
TIMEOUT = 600
STAMP = r"^\[ *(\d+)\.(\d{6})\] "
RUN_INIT = re.compile(STAMP + r"Run /init as init process")
POWER_DOWN = re.compile(STAMP + r"reboot: Power down")
MARKER = re.compile(r"^HV-LINUX-MARKER cpus=(\d+)")
VP_EXITS = re.compile(r"hv:   (vp\d+): (\d+) exits:(.*)$")
TOTAL_EXITS = re.compile(r"hv:   all VPs: (\d+) exits")


def stamp_us(pattern, lines):
    for line in lines:
        m = pattern.search(line)
        if m:
            return int(m[1]) * 1000000 + int(m[2])
    return None


def one_boot(machine, name, log_dir, iso=None, kernel=None, initrd=None):
    log = log_dir / f"{name}.log"
    log.unlink(missing_ok=True)
    if iso:
        cmd = runner.qemu_command(machine, log, iso=iso, extra=ICOUNT)
    else:
        cmd = runner.qemu_command(machine, log, elf=kernel, cmdline=LINUX_CMDLINE,
                                  extra=ICOUNT + ["-initrd", str(initrd)])
    start = time.monotonic()
    status, stopped = runner.run_group(cmd, TIMEOUT, log.with_suffix(".console.log"))
    wall = time.monotonic() - start
    lines = runner.read_lines(log) if log.exists() else []
    r = {"wall": wall, "init": stamp_us(RUN_INIT, lines), "off": stamp_us(POWER_DOWN, lines),
         "cpus": next((int(m[1]) for m in map(MARKER.search, lines) if m), None),
         "vps": [(m[1], int(m[2]), m[3].strip()) for m in map(VP_EXITS.search, lines) if m],
         "total": next((int(m[1]) for m in map(TOTAL_EXITS.search, lines) if m), None)}
    problem = None
    if stopped or status != 0:
        problem = f"{name}: {stopped or f'QEMU exit status {status}'} (log: {runner.rel(log)})"
    elif r["off"] is None or r["cpus"] != machine["cpus"]:
        problem = f"{name}: no power-down line or wrong CPU count (log: {runner.rel(log)})"
    return r, problem


def ms(us):
    return f"{us // 1000}.{us % 1000 // 100}" if us is not None else "n/a"


def ratio(a, b):
    if not a or not b:
        return "n/a"
    t = a * 100 // b
    return f"{t // 100}.{t % 100:02d}"


def report(machine, hv_runs, off_runs, bare_runs):
    hv, off, bare = hv_runs[0], off_runs[0], bare_runs[0]
    same = lambda runs, keys: all(all(r[k] == runs[0][k] for k in keys) for r in runs)
    rows = [
        f"Linux boot benchmark: {MACHINE} (QEMU TCG -cpu {machine['cpu']}, "
        f"{machine['cpus']} CPU), {' '.join(ICOUNT)}",
        f"Debian kernel + busybox initramfs (BUILD/linux), '{LINUX_CMDLINE}'",
        "times: Linux's printk timestamps = virtual ms = executed instructions / 10^6",
        "",
        f"{'':<26}{'bare QEMU':>11}{'hv, Hv#1 off':>14}{'ratio':>7}"
        f"{'hv, Hv#1 on':>13}{'ratio':>7}",
    ]
    for label, key in (("Run /init (virtual ms)", "init"), ("Power down (virtual ms)", "off")):
        rows.append(f"{label:<26}{ms(bare[key]):>11}{ms(off[key]):>14}"
                    f"{ratio(off[key], bare[key]):>7}{ms(hv[key]):>13}"
                    f"{ratio(hv[key], bare[key]):>7}")
    wall = lambda r: int(r["wall"] * 1000)
    rows += [
        f"{'host wall time (s, noisy)':<26}{bare['wall']:>11.1f}{off['wall']:>14.1f}"
        f"{ratio(wall(off), wall(bare)):>7}{hv['wall']:>13.1f}{ratio(wall(hv), wall(bare)):>7}",
        f"{f'same in all {RUNS} runs':<26}"
        f"{'yes' if same(bare_runs, ('init', 'off')) else 'NO':>11}"
        f"{'yes' if same(off_runs, ('init', 'off', 'total')) else 'NO':>14}{'':>7}"
        f"{'yes' if same(hv_runs, ('init', 'off', 'total')) else 'NO':>13}",
    ]
    for title, r in (("Hv#1 off", off), ("Hv#1 on", hv)):
        rows += ["", f"exits under hv ({title}), boot to power-off: {r['total']} in all"]
        rows += [f"  {vp}: {n} exits: {detail}" for vp, n, detail in r["vps"]]
    return rows


def run(build):
    build = Path(build).resolve()
    log_dir = build / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    machine = runner.load_machines(runner.MACHINES_FILE)[MACHINE]
    kernel, initrd = build / "linux" / "vmlinuz", build / "linux" / "initrd.img"
    for f in (build / "hv.elf", kernel, initrd):
        if not f.is_file():
            return None, [f"bench: {runner.rel(f)} is missing (make all)"]
    with tempfile.TemporaryDirectory(dir=build, prefix="bench-linux-") as tmp:
        iso, iso_off = Path(tmp) / "hv-linux.iso", Path(tmp) / "hv-linux-off.iso"
        mods = [str(kernel), f"linux {LINUX_CMDLINE}", str(initrd), "initrd"]
        runner.make_iso(iso, build / "hv.elf", HV_CMDLINE, mods)
        runner.make_iso(iso_off, build / "hv.elf", HV_CMDLINE + " hv_features=off", mods)
        hv_runs, off_runs, bare_runs, problems = [], [], [], []
        for i in range(1, RUNS + 1):
            for runs, name, kw in ((hv_runs, f"bench-linux-hv-{i}", {"iso": iso}),
                                   (off_runs, f"bench-linux-hv-off-{i}", {"iso": iso_off}),
                                   (bare_runs, f"bench-linux-bare-{i}",
                                    {"kernel": kernel, "initrd": initrd})):
                r, problem = one_boot(machine, name, log_dir, **kw)
                runs.append(r)
                if problem:
                    problems.append(problem)
    if problems:
        return None, problems
    return report(machine, hv_runs, off_runs, bare_runs), []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    rows, problems = run(args.build)
    if problems:
        print(*problems, sep="\n", file=sys.stderr)
        return 1
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
