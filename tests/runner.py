#!/usr/bin/env python3
"""Boot the hypervisor in emulated machines and judge each run by its serial log.

    python3 tests/runner.py --build build [--unit "build/unit/test_a ..."]
                            [--only REGEX] [-j N] [tests/scenarios]

Machines are defined in tests/machines.toml, scenarios in SCENARIO_DIR/*.toml as
`[[scenario]]` tables (the schema is in SCENARIO_KEYS below and documented in
tests/scenarios/boot.toml).  Every (scenario, machine) pair is one run named
`scenario@machine`; its serial log goes to BUILD/logs/<run>.log, the emulator's own
stdout/stderr to BUILD/logs/<run>.console.log and, for Bochs, Bochs's log (VM-entry
failure reasons, panics) to BUILD/logs/<run>.bochs.log.

With --unit the given Check binaries run first and each Check test counts on its
own.  The output ends with the single line "N passed, M failed"; the exit status is
non-zero when anything failed.

Interactive scenarios: a scenario with `input` steps drives the real serial line.  Its
serial port is a pseudo-terminal instead of a file (QEMU `-serial /dev/pts/N`, Bochs
`com1: mode=term, dev=/dev/pts/N`); a thread copies everything the machine writes to
the serial log, exactly as the file backend would, and sends each step's text once the
step's `wait` pattern has appeared (in the text after the previous step's match, the
unfinished last line included, so a prompt without a line end counts).

Bochs headless and in parallel: Debian's bochs (2.7) has no `nogui` display library,
only rfb and wx, so runs use `display_library: rfb, options="timeout=0"` (it does not
wait for a VNC client).  The rfb server listens on the first free TCP port in
5900-5949 (BX_RFB_PORT_MIN/MAX in bochs/gui/rfb.h): parallel instances do not
collide (measured: three at once took 5900, 5901, 5902), but at most 50 can run at a
time, so Bochs runs are capped at BOCHS_MAX_PARALLEL below.
"""

import argparse
import concurrent.futures
import contextlib
import dataclasses
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MACHINES_FILE = ROOT / "tests" / "machines.toml"
MKISO = ROOT / "tools" / "mkiso.sh"
TAIL_LINES = 30
DEFAULT_TIMEOUT = 60
UNIT_TIMEOUT = 300
BOCHS_MAX_PARALLEL = 40  # rfb ports 5900-5949, with room for anything else there
BOCHS_DEFAULT_IPS = 3_000_000  # 2-4 M: the emulated UART's cost scales with ips

MACHINE_KEYS = {"emulator": str, "cpu": str, "cpus": int, "memory_mib": int,
                "boot": str, "virt": str, "ips": int}
MACHINE_REQUIRED = MACHINE_KEYS.keys() - {"ips"}

# Scenario schema: key -> type.  Patterns are Python regexes searched in each line of
# the serial log (carriage returns and terminal escape sequences removed); `{cpus}`
# and `{virt}` in them are replaced by the machine's values.
SCENARIO_KEYS = {
    "name": str,           # [A-Za-z0-9._-]+, unique over all files
    "machines": list,      # machine names from tests/machines.toml
    "cmdline": str,        # hypervisor command line
    "modules": list,       # [{file = "path from repo root, {build} allowed", cmdline = "..."}]
    "timeout": (int, float),  # wall-clock seconds for the emulator, default 60
    "expect": list,        # each must match some line
    "expect_order": bool,  # the expect patterns must match in this order
    "reject": list,        # none may match any line
    "max_count": dict,     # {regex = n}: at most n lines may match regex
    "qemu_exit": int,      # expected QEMU exit status (see check_exit for Bochs)
    "input": list,         # [{wait = "regex", send = "text"}]: drive the serial line
}
INPUT_STEP_KEYS = {"wait": str, "send": str}
SCENARIO_REQUIRED = {"name", "machines", "cmdline", "expect"}

CHECK_SUMMARY = re.compile(r"\d+%: Checks: (\d+), Failures: (\d+), Errors: (\d+)")
TERMINAL_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r")
BOCHS_PANIC = re.compile(r">>PANIC<< (.*)")
BOCHS_SHUTDOWN = "Shutdown port: shutdown requested"
# A guest's ACPI power-off (S5) ends Bochs this way; QEMU exits 0 instead.
BOCHS_POWER_OFF = "ACPI control: soft power off"


class ConfigError(Exception):
    pass


@dataclasses.dataclass
class Result:
    name: str
    passed: int
    failed: int
    summary: str       # "(3.2s)" after PASS, or the reason after FAIL
    details: list      # lines printed under a FAIL


# ---- configuration ----------------------------------------------------------------

def check_table(where, table, keys, required):
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table")
    missing = sorted(required - table.keys())
    if missing:
        raise ConfigError(f"{where}: missing key '{missing[0]}'")
    for key, value in table.items():
        if key not in keys:
            raise ConfigError(f"{where}: unknown key '{key}'")
        if not isinstance(value, keys[key]) or isinstance(value, bool) != (keys[key] is bool):
            raise ConfigError(f"{where}: '{key}' has the wrong type")


def load_machines(path):
    with open(path, "rb") as f:
        machines = tomllib.load(f)
    for name, m in machines.items():
        where = f"{path}: [{name}]"
        check_table(where, m, MACHINE_KEYS, MACHINE_REQUIRED)
        if m["emulator"] not in ("qemu", "bochs"):
            raise ConfigError(f"{where}: emulator must be qemu or bochs")
        if m["boot"] not in ("kernel", "iso") or (m["emulator"] == "bochs" and m["boot"] != "iso"):
            raise ConfigError(f"{where}: boot must be iso, or kernel for QEMU")
    return machines


def substitute(pattern, machine):
    return pattern.replace("{cpus}", str(machine["cpus"])).replace("{virt}", machine["virt"])


def compile_input(where, steps, machine):
    """[(compiled wait pattern or None, bytes to send)]; waits match across lines (re.M)."""
    out = []
    for step in steps:
        wait = None
        if "wait" in step:
            try:
                wait = re.compile(substitute(step["wait"], machine), re.M)
            except re.error as e:
                raise ConfigError(f"{where}: bad input pattern: {e}") from None
        out.append((wait, step["send"].encode("latin-1", errors="strict")))
    return out


def compile_patterns(where, patterns, machine):
    try:
        return [re.compile(substitute(p, machine)) for p in patterns]
    except (re.error, TypeError) as e:
        raise ConfigError(f"{where}: bad pattern: {e}") from None


@dataclasses.dataclass
class Run:
    scenario: dict
    machine_name: str
    machine: dict
    expect: list
    reject: list
    max_count: list    # [(regex, n)]
    input: list = dataclasses.field(default_factory=list)  # [(regex or None, bytes)]

    @property
    def name(self):
        return f"{self.scenario['name']}@{self.machine_name}"


def load_runs(scenario_dir, machines):
    runs, names = [], set()
    for path in sorted(Path(scenario_dir).glob("*.toml")):
        with open(path, "rb") as f:
            data = tomllib.load(f)
        if data.keys() - {"scenario"} or not isinstance(data.get("scenario", []), list):
            raise ConfigError(f"{path}: only [[scenario]] tables are allowed")
        for i, s in enumerate(data.get("scenario", [])):
            where = f"{path}: scenario {s.get('name', i)}"
            check_table(where, s, SCENARIO_KEYS, SCENARIO_REQUIRED)
            if not re.fullmatch(r"[A-Za-z0-9._-]+", s["name"]) or s["name"] in names:
                raise ConfigError(f"{where}: name must be unique and made of [A-Za-z0-9._-]")
            names.add(s["name"])
            if not s["expect"]:
                raise ConfigError(f"{where}: expect must not be empty")
            for mod in s.get("modules", []):
                check_table(f"{where}: module", mod, {"file": str, "cmdline": str}, {"file"})
            for step in s.get("input", []):
                check_table(f"{where}: input step", step, INPUT_STEP_KEYS, {"send"})
            counts = s.get("max_count", {})
            if not all(isinstance(n, int) and not isinstance(n, bool) for n in counts.values()):
                raise ConfigError(f"{where}: max_count values must be integers")
            for name in s["machines"]:
                if name not in machines:
                    raise ConfigError(f"{where}: unknown machine '{name}'")
                m = machines[name]
                runs.append(Run(s, name, m,
                                compile_patterns(where, s["expect"], m),
                                compile_patterns(where, s.get("reject", []), m),
                                list(zip(compile_patterns(where, list(counts), m), counts.values())),
                                compile_input(where, s.get("input", []), m)))
    return runs


# ---- processes ------------------------------------------------------------------

live_groups = set()
live_lock = threading.Lock()
stopping = threading.Event()  # set on Ctrl-C: start no more processes


def run_group(cmd, timeout, output, cwd=None, watch=None):
    """Run cmd in its own process group with stdout+stderr to the file `output`.
    Returns (exit status, None), or (status, reason) when the whole group was killed:
    on timeout, or when watch(), called a few times a second, returns a reason."""
    with live_lock, open(output, "wb") as out:
        if stopping.is_set():
            raise KeyboardInterrupt
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        live_groups.add(proc.pid)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                return proc.wait(timeout=min(0.05, max(0, deadline - time.monotonic()))), None
            except subprocess.TimeoutExpired:
                pass
            why = f"timeout after {timeout}s" if time.monotonic() >= deadline else \
                watch and watch()
            if why:
                os.killpg(proc.pid, signal.SIGKILL)
                return proc.wait(), why
    finally:
        # Left early (an exception: Ctrl-C in a caller without worker threads,
        # such as bench_linux.py): the emulator must not outlive us.
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass
        with live_lock:
            live_groups.discard(proc.pid)


def kill_live_groups():
    with live_lock:
        stopping.set()
        for pgid in live_groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def tail(path, n=TAIL_LINES):
    try:
        lines = read_lines(path)
    except OSError:
        return []
    lines = [line for line in lines if "TCG doesn't support requested feature" not in line]
    while lines and not lines[-1].strip():
        lines.pop()
    return ["    " + line for line in lines[-n:]]


def read_lines(path):
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    return TERMINAL_ESCAPE.sub("", text).split("\n")


def rel(path):
    return os.path.relpath(path)


# ---- unit tier ------------------------------------------------------------------

def run_unit(binary, logs):
    name = "unit/" + Path(binary).name
    log = logs / f"unit-{Path(binary).name}.log"
    if not os.access(binary, os.X_OK):
        return Result(name, 0, 1, f"{binary} is missing or not executable", [])
    start = time.monotonic()
    status, stopped = run_group([os.path.abspath(binary)], UNIT_TIMEOUT, log)
    elapsed = time.monotonic() - start
    checks = failures = 0
    for m in CHECK_SUMMARY.finditer(Path(log).read_text(errors="replace")):
        checks += int(m[1])
        failures += int(m[2]) + int(m[3])
    reasons = []
    if failures:
        reasons.append(f"{failures} of {checks} checks failed")
    # A hang, crash, missing summary or unexplained exit status is one more failure.
    if stopped:
        reasons.append(stopped)
    elif checks == 0:
        reasons.append(f"no Check summary line (exit status {status})")
    elif status < 0 or (status != 0 and not failures):
        reasons.append(f"exit status {status}")
    if not reasons:
        return Result(name, checks, 0, f"({checks} checks, {elapsed:.1f}s)", [])
    extra = 1 if len(reasons) > 1 or not failures else 0
    return Result(name, checks - failures, failures + extra, "; ".join(reasons),
                  tail(log) + [f"    (output: {rel(log)})"])


# ---- scenario runs --------------------------------------------------------------

def qemu_command(machine, log, elf=None, cmdline="", iso=None, extra=(), serial=None):
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", machine["cpu"],
           "-smp", str(machine["cpus"]), "-m", str(machine["memory_mib"]),
           "-display", "none", "-no-reboot", "-nodefaults", "-serial", serial or f"file:{log}",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", *extra]
    if iso:
        return cmd + ["-cdrom", str(iso), "-boot", "d"]
    return cmd + ["-kernel", str(elf), "-append", cmdline]


def bochs_config(machine, iso, log, bochs_log, serial_tty=None):
    ips = machine.get("ips", BOCHS_DEFAULT_IPS)
    com1 = f"mode=term, dev={serial_tty}" if serial_tty else f"mode=file, dev={log}"
    return f"""\
megs: {machine['memory_mib']}
cpu: model={machine['cpu']}, count={machine['cpus']}, ips={ips}, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, {com1}
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
panic: action=fatal
display_library: rfb, options="timeout=0"
log: {bochs_log}
"""


def module_args(scenario, build):
    args = []
    for mod in scenario.get("modules", []):
        path = ROOT / mod["file"].replace("{build}", str(build))
        if not path.is_file():
            raise FileNotFoundError(f"module {rel(path)} is missing")
        args += [str(path), mod.get("cmdline", "")]
    return args


def make_iso(out, elf, cmdline, modules, multiboot=False):
    """tools/mkiso.sh: the hypervisor elf with its modules, or with multiboot=True a
    multiboot (v1) kernel booted directly."""
    mode = ["--multiboot"] if multiboot else []
    p = subprocess.run([str(MKISO), *mode, str(out), str(elf), cmdline, *modules],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, TMPDIR=str(Path(out).parent)))
    if p.returncode != 0:
        raise RuntimeError("mkiso failed: " + (p.stderr.strip().splitlines() or ["?"])[-1])


class SerialDriver:
    """The machine's serial port as a pseudo-terminal: copies its output to the log
    file and sends the input steps.  Use as a context manager around the run."""

    def __init__(self, log, steps):
        self.steps = steps
        self.done = 0          # steps sent
        self.pos = 0           # search start in self.text for the next wait
        self.raw = bytearray()
        self.text = ""         # cleaned text of raw[:self.clean_end]
        self.clean_end = 0
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no CR/LF translation on either side
        self.name = os.ttyname(self.slave)
        self.log = open(log, "wb")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        for fd in (self.master, self.slave):
            os.close(fd)
        self.log.close()

    def visible_text(self):
        # Complete lines are cleaned once; the unfinished tail each time.
        end = self.raw.rfind(b"\n") + 1
        if end > self.clean_end:
            chunk = bytes(self.raw[self.clean_end:end]).decode("utf-8", errors="replace")
            self.text += TERMINAL_ESCAPE.sub("", chunk)
            self.clean_end = end
        tail = bytes(self.raw[self.clean_end:]).decode("utf-8", errors="replace")
        return self.text + TERMINAL_ESCAPE.sub("", tail)

    def advance(self):
        while self.done < len(self.steps):
            wait, send = self.steps[self.done]
            if wait:
                m = wait.search(self.visible_text(), self.pos)
                if not m:
                    return
                self.pos = m.end()
            os.write(self.master, send)
            self.done += 1

    def loop(self):
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            data = b""
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
            if data:
                self.raw += data
                self.log.write(data)
                self.log.flush()
                self.advance()
            elif self.stop.is_set():
                return
            elif self.done < len(self.steps) and not self.steps[self.done][0]:
                self.advance()  # a step without wait follows the previous one at once

    def problem(self):
        if self.done == len(self.steps):
            return None
        wait = self.steps[self.done][0]
        return (f"input step {self.done + 1} of {len(self.steps)} never saw "
                f"/{wait.pattern}/ after the previous step")


def run_scenario(run, build, logs, bochs_slots):
    m, s = run.machine, run.scenario
    log = logs / f"{run.name}.log"
    console = logs / f"{run.name}.console.log"
    bochs_log = logs / f"{run.name}.bochs.log"
    for p in (log, console, bochs_log):
        p.unlink(missing_ok=True)
    elf = build / "hv.elf"
    timeout = s.get("timeout", DEFAULT_TIMEOUT)
    with tempfile.TemporaryDirectory(dir=build, prefix="run-") as tmp:
        tmp = Path(tmp)
        try:
            if not elf.is_file():
                raise FileNotFoundError(f"{rel(elf)} is missing")
            modules = module_args(s, build)
            # QEMU -kernel (PVH) cannot pass several modules with command lines.
            iso = None
            if m["boot"] == "iso" or modules:
                iso = tmp / "hv.iso"
                make_iso(iso, elf, s["cmdline"], modules)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
            return Result(run.name, 0, 1, str(e), [])
        driver = SerialDriver(log, run.input) if run.input else None
        serial = driver.name if driver else None
        if m["emulator"] == "qemu":
            cmd = qemu_command(m, log, elf, s["cmdline"], iso, serial=serial)
            slot = contextlib.nullcontext()
        else:
            (tmp / "bochsrc").write_text(bochs_config(m, iso, log, bochs_log, serial))
            (tmp / "debugger.rc").write_text("c\n")  # continue, else it waits at its prompt
            cmd = ["bochs-bin", "-q", "-f", "bochsrc", "-rc", "debugger.rc"]
            slot = bochs_slots
        with slot, driver or contextlib.nullcontext():
            for attempt in range(RFB_BIND_ATTEMPTS):
                start = time.monotonic()
                status, stopped = run_group(cmd, timeout, console, cwd=tmp,
                                            watch=lambda: grub_failure(log) if iso else None)
                elapsed = time.monotonic() - start
                # Bochs quits at once when its display found no free port (the
                # machine's, not the test's, problem): start it again.
                if m["emulator"] != "bochs" or not rfb_bind_failed(bochs_log):
                    break
                for p in (log, console, bochs_log):
                    p.unlink(missing_ok=True)
                time.sleep(1 + attempt)
    problems = judge(run, log, status, stopped, bochs_log)
    if driver and driver.problem():
        problems.append(driver.problem())
    if not problems:
        return Result(run.name, 1, 0, f"({elapsed:.1f}s)", [])
    details = tail(log) if log.exists() and log.stat().st_size else \
        ["    (serial log empty; emulator output follows)"] + tail(console)
    where = f"log: {rel(log)}"
    if m["emulator"] == "bochs":
        where += f", bochs log: {rel(bochs_log)}"
        details += bochs_errors(bochs_log)
    return Result(run.name, 0, 1, "; ".join(problems) + f" ({elapsed:.1f}s)",
                  details + [f"    ({where})"])


def find(pattern, lines, line=0, col=0):
    """First match at or after (line, col): returns (line, end column) or None."""
    for i in range(line, len(lines)):
        m = pattern.search(lines[i], col if i == line else 0)
        if m:
            return i, m.end()
    return None


def grub_failure(log):
    """GRUB waits for a key after a failed boot entry: stop the run at once."""
    try:
        text = log.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
    if "Press any key to continue" in text:
        error = re.search(r"error: [^\r\n]*", text)
        return "GRUB failed" + (f": {error[0]}" if error else "")
    return None


RFB_BIND_ATTEMPTS = 3


def rfb_bind_failed(bochs_log):
    """Bochs's rfb display could not bind any of its ports, so no guest ran."""
    try:
        return any("RFB could not bind" in line for line in read_lines(bochs_log))
    except OSError:
        return False


def bochs_errors(bochs_log, n=8):
    """The last error and panic lines of Bochs's log (VM-entry failures show here)."""
    try:
        lines = read_lines(bochs_log)
    except OSError:
        return []
    errors = [line for line in lines if re.match(r"\d+[ep]\[", line)]
    return ["    bochs: " + line for line in errors[-n:]]


def check_exit(run, status, stopped, bochs_log):
    """How the emulator ended: (problems, pattern of a line the log must have).
    QEMU: its exit status must be qemu_exit.  Bochs always exits 1, so for an odd
    qemu_exit (an isa-debug-exit value) Bochs must have quit through its shutdown
    port and the serial log must have the hypervisor's `emulator exit code=0xNN`
    line with NN = qemu_exit >> 1; qemu_exit = 0 accepts an ACPI soft power-off (a
    guest that powered the machine off); any other Bochs panic (triple fault, ...) is
    reported."""
    if stopped:
        return [stopped], None
    want = run.scenario.get("qemu_exit")
    if run.machine["emulator"] == "qemu":
        if want is not None and status != want:
            return [f"QEMU exit status {status}, expected {want}"], None
        return [], None
    panics = []
    if bochs_log.exists():
        panics = [m[1].strip() for m in map(BOCHS_PANIC.search, read_lines(bochs_log)) if m]
    if panics and want == 0 and panics[0] == BOCHS_POWER_OFF:
        return [], None
    if panics and panics[0] != BOCHS_SHUTDOWN:
        return [f"Bochs panic: {panics[0]}"], None
    if want is None or want % 2 == 0:
        return [], None
    if not panics:
        return [f"Bochs exited (status {status}) without a shutdown-port request"], None
    return [], re.compile(rf"emulator exit code=0x0*{want >> 1:x}\b", re.I)


def judge(run, log, status, stopped, bochs_log):
    problems, exit_line = check_exit(run, status, stopped, bochs_log)
    lines = read_lines(log) if log.exists() else []
    pos = (0, 0)
    for pattern in run.expect:
        found = find(pattern, lines, *pos) if run.scenario.get("expect_order") else find(pattern, lines)
        if not found:
            later = " after the previous expected line" if pos != (0, 0) else ""
            problems.append(f"expected /{pattern.pattern}/ not found{later}")
            if run.scenario.get("expect_order"):
                break
        elif run.scenario.get("expect_order"):
            pos = found
    if exit_line and not find(exit_line, lines):
        problems.append(f"no /{exit_line.pattern}/ line for qemu_exit {run.scenario['qemu_exit']}")
    for pattern in run.reject:
        for i, line in enumerate(lines):
            if pattern.search(line):
                problems.append(f"rejected /{pattern.pattern}/ matched line {i + 1}: {line.strip()!r}")
                break
    for pattern, limit in run.max_count:
        n = sum(1 for line in lines if pattern.search(line))
        if n > limit:
            problems.append(f"/{pattern.pattern}/ matched {n} lines, at most {limit} allowed")
    return problems


# ---- main -----------------------------------------------------------------------

def run_all(jobs, workers, totals):
    """Run the (name, callable) jobs in parallel, printing each result as it completes."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(job): name for name, job in jobs}
        try:
            for future in concurrent.futures.as_completed(futures):
                try:
                    r = future.result()
                except Exception as e:  # e.g. the emulator binary is missing
                    r = Result(futures[future], 0, 1, f"runner error: {e}", [])
                totals[0] += r.passed
                totals[1] += r.failed
                if r.failed:
                    print(f"FAIL {r.name}: {r.summary}", *r.details, sep="\n", flush=True)
                else:
                    print(f"PASS {r.name} {r.summary}", flush=True)
        except BaseException:
            for f in futures:
                f.cancel()
            kill_live_groups()
            raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="build directory (default build)")
    ap.add_argument("--unit", default="", help="Check unit-test binaries, space separated")
    ap.add_argument("--only", help="run only scenario runs (name@machine) matching REGEX")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 1, help="parallel runs")
    ap.add_argument("scenarios", nargs="?", help="directory of scenario *.toml files")
    args = ap.parse_args()

    build = Path(args.build).resolve()
    logs = build / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    try:
        runs = load_runs(args.scenarios, load_machines(MACHINES_FILE)) if args.scenarios else []
        if args.only:
            runs = [r for r in runs if re.search(args.only, r.name)]
            if not runs:
                raise ConfigError(f"--only {args.only!r} matches no scenario run")
    except (ConfigError, OSError, tomllib.TOMLDecodeError, re.error) as e:
        print(f"runner: {e}", file=sys.stderr)
        return 2

    # Emulators run in their own sessions, so a Ctrl-C or a kill of the runner would
    # not reach them: turn both into KeyboardInterrupt, which kills them.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    workers = max(1, args.j)
    # Longest first (the timeout says how long a run may take): a Linux boot on
    # Bochs started last would leave the other workers idle at the end.
    runs.sort(key=lambda r: -r.scenario.get("timeout", DEFAULT_TIMEOUT))
    bochs_slots = threading.Semaphore(BOCHS_MAX_PARALLEL)
    totals = [0, 0]
    try:
        run_all([("unit/" + Path(b).name, lambda b=b: run_unit(b, logs))
                 for b in args.unit.split()], workers, totals)
        run_all([(r.name, lambda r=r: run_scenario(r, build, logs, bochs_slots)) for r in runs],
                workers, totals)
    except KeyboardInterrupt:
        print("runner: interrupted", file=sys.stderr)
        return 130
    print(f"{totals[0]} passed, {totals[1]} failed", flush=True)
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
