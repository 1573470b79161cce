#!/usr/bin/env python3
"""Every side-by-side benchmark of otus in one command.

1. Delphes reading: `otus ingest` (reading, selection, alignment, Parquet)
   on all Z -> ee chunks of ../shared/data/zee, our reader alone on the same
   Delphes files, and uproot reading the same branches into arrays.
2. LHE reading: our reader against pylhe on the MadGraph MLM fixture and on
   a file of one million events made by repeating its events.
3. One training step at the paper's Z -> ee size and the default card's,
   against PyTorch on the CPU (scripts/bench_train_step.py: same data,
   noise, directions and weights; it checks the losses agree).
4. Simulation: decoder events per second, and export to ROOT and Parquet,
   for one million Z -> ee events drawn from fixtures/zee_full_200.lhe.gz
   by a small model trained here on the fixtures.

Each pair of tools runs alternately, RUNS times, each run a fresh process
under /usr/bin/time for its peak resident memory; medians are printed as
Markdown tables with the ratio. Readers time themselves after start-up
(Python imports and our process start are excluded), `otus ingest` is timed
from outside as a user sees it.

Usage, from the repository root, with a venv holding scripts/requirements.txt
and torch (`pip install torch`):
  .venv/bin/python scripts/bench_all.py [--runs 3] [--dev] [--skip train]
Needs ../shared/data (the Z -> ee chunks) and about 15 minutes on 2 cores.
"""

import argparse
import glob
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared", "data")
MLM = os.path.join(ROOT, "fixtures", "pylhe-testfile-madgraph-2.2.1-Z-mlm.lhe.gz")

UPROOT = r"""
import sys, time, uproot
t = time.perf_counter()
branches = ["Event.Number"] \
    + [f"{c}.{m}" for c in ("Electron", "Muon") for m in ("PT", "Eta", "Phi", "Charge")] \
    + [f"{c}.{m}" for c in ("Photon", "Jet") for m in ("PT", "Eta", "Phi")] \
    + ["MissingET.MET", "MissingET.Eta", "MissingET.Phi"]
n = 0
for path in sys.argv[1:]:
    arrays = uproot.open(path)["Delphes"].arrays(branches)
    n += len(arrays)
print(n, time.perf_counter() - t)
"""

PYLHE = r"""
import sys, time, pylhe
t = time.perf_counter()
n = 0
s = 0.0
for e in pylhe.LHEFile.fromfile(sys.argv[1]).events:
    n += 1
    s += sum(p.px for p in e.particles)
print(n, time.perf_counter() - t)
"""


def run_timed(cmd, cwd=ROOT):
    """Runs `cmd` under /usr/bin/time; returns (stdout, wall seconds, peak MiB)."""
    with tempfile.NamedTemporaryFile("r") as mem:
        start = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", mem.name] + cmd,
                             capture_output=True, text=True, cwd=cwd)
        wall = time.perf_counter() - start
        if out.returncode != 0:
            sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
        peak = int(mem.read().strip().splitlines()[-1]) / 1024
    return out.stdout, wall, peak


def self_timed(cmd):
    """A reader that prints `events seconds ...`: (events, seconds, peak MiB)."""
    out, _, peak = run_timed(cmd)
    events, seconds = out.split()[:2]
    return int(events), float(seconds), peak


def build(release):
    """Builds the binaries the benchmarks run; returns {name: path}."""
    cmd = ["cargo", "build", "--locked", "--message-format=json", "--bin", "otus",
           "--bench", "read", "--bench", "simulate", "--example", "step_dump"]
    if release:
        cmd.append("--release")
    print(f"building: {' '.join(cmd[:3] + cmd[4:])}", file=sys.stderr)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    found = {}
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable"):
            found[msg["target"]["name"]] = msg["executable"]
    missing = {"otus", "read", "simulate", "step_dump"} - set(found)
    if missing:
        sys.exit(f"could not find the binaries {sorted(missing)}")
    return found


def table(header, rows):
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(str(c) for c in r) + " |")
    print()


def compare(name, ours, theirs, other, runs):
    """Alternates two self-timed readers; returns table rows."""
    results = {"otus": [], other: []}
    for i in range(runs):
        pair = [("otus", ours), (other, theirs)]
        for who, cmd in pair if i % 2 == 0 else reversed(pair):
            results[who].append(self_timed(cmd))
    rows, med = [], {}
    for who, rs in results.items():
        events = rs[0][0]
        secs = statistics.median(r[1] for r in rs)
        med[who] = secs
        rows.append([name, who, f"{events:,}", f"{secs:.3f}", f"{events / secs:,.0f}",
                     f"{max(r[2] for r in rs):.0f}"])
    rows.append([name, f"**{other} / otus**", "", f"**{med[other] / med['otus']:.1f}x**", "", ""])
    return rows


def repeated_lhe(source, events, path):
    """An LHE file of `events` events: the events of `source`, repeated."""
    text = gzip.open(source, "rt").read()
    head = text[: text.index("<event")]
    blocks = re.findall(r"<event.*?</event>\n", text, flags=re.S)
    with gzip.open(path, "wt", compresslevel=1) as f:
        f.write(head)
        for i in range(events):
            f.write(blocks[i % len(blocks)])
        f.write("</LesHouchesEvents>\n")


def reading(bins, runs, tmp):
    # The ten 10,000-event chunks cards/zee_full.toml reads.
    chunks = sorted(glob.glob(os.path.join(SHARED, "zee", "zee_?.root")))
    if not chunks:
        sys.exit(f"no Z -> ee chunks in {SHARED}/zee")
    rows = compare(f"Delphes, {len(chunks)} zee chunks", [bins["read"], "delphes"] + chunks,
                   [sys.executable, "-c", UPROOT] + chunks, "uproot", runs)
    # The whole ingest as a user runs it, timed from outside.
    card = os.path.join(ROOT, "cards", "zee_full.toml")
    walls, peaks = [], []
    for _ in range(runs):
        out = os.path.join(tmp, "ingest")
        shutil.rmtree(out, ignore_errors=True)
        _, wall, peak = run_timed([bins["otus"], "-q", "ingest", card, "--out", out])
        walls.append(wall)
        peaks.append(peak)
    split_rows = json.load(open(os.path.join(tmp, "ingest", "events.json")))["split_rows"]
    n = f"{int(rows[0][2].replace(',', '')):,} read, {sum(split_rows):,} selected"
    rows.append(["`otus ingest cards/zee_full.toml` (read, select, align, write)", "otus", n,
                 f"{statistics.median(walls):.3f}", "", f"{max(peaks):.0f}"])
    big = os.path.join(tmp, "mlm_1M.lhe.gz")
    repeated_lhe(MLM, 1_000_000, big)
    for path, label in [(MLM, "LHE, MadGraph MLM fixture"), (big, "LHE, MLM events x 100 (1M events)")]:
        rows += compare(label, [bins["read"], "lhe", path], [sys.executable, "-c", PYLHE, path],
                        "pylhe", runs if path == MLM else max(1, runs - 1))
    print("## Reading\n")
    table(["input", "reader", "events", "median s", "events/s", "peak MiB"], rows)


def training(bins, runs):
    print("## One training step (forward, backward, Adam) against PyTorch CPU\n", flush=True)
    cmd = [sys.executable, os.path.join(HERE, "bench_train_step.py"), "--binary", bins["step_dump"],
           "--sizes", "512:128,20000:1000", "--steps", "20,3", "--reps", str(runs)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    print(out.stdout)


def simulation(bins, runs, tmp):
    """Trains a small Z -> ee model on the fixtures, then times the simulator."""
    card_text = open(os.path.join(ROOT, "cards", "zee.toml")).read()
    card_text = card_text.replace('"../fixtures/', f'"{ROOT}/fixtures/')
    card_text = re.sub(r"(?m)^epochs = \d+$", "epochs = 2", card_text)
    out = os.path.join(tmp, "zee")
    card_text = re.sub(r"(?m)^#? *output = .*$", f'output = "{out}"', card_text, count=1)
    card = os.path.join(tmp, "zee.toml")
    open(card, "w").write(card_text)
    subprocess.run([bins["otus"], "-q", "ingest", card], check=True, cwd=ROOT)
    subprocess.run([bins["otus"], "-q", "train", card], check=True, cwd=ROOT)
    lhe = os.path.join(ROOT, "fixtures", "zee_full_200.lhe.gz")
    results = []
    for _ in range(runs):
        stdout, _, peak = run_timed([bins["simulate"], os.path.join(out, "model"), lhe, "5000", tmp])
        r = json.loads(stdout.strip().splitlines()[-1])
        r["peak"] = peak
        results.append(r)
    n = results[0]["events"]

    def med(key):
        return statistics.median(r[key] for r in results)

    print("## Simulation (1,000,000 Z -> ee events from 200 LHE events x 5000 draws)\n")
    table(["step", "median s", "events/s", "bytes/event"], [
        ["decoder D(z)", f"{med('decode_s'):.3f}", f"{n / med('decode_s'):,.0f}", ""],
        ["export to ROOT (oxyroot, incl. read-back check)", f"{med('root_s'):.3f}",
         f"{n / med('root_s'):,.0f}", f"{med('root_bytes_per_event'):.1f}"],
        ["export to Parquet (zstd)", f"{med('parquet_s'):.3f}", f"{n / med('parquet_s'):,.0f}",
         f"{med('parquet_bytes_per_event'):.1f}"],
    ])
    print(f"peak memory of the whole run: {max(r['peak'] for r in results):.0f} MiB\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="alternating runs per comparison")
    ap.add_argument("--dev", action="store_true",
                    help="build in the dev profile (our code at opt-level 1) instead of release")
    ap.add_argument("--skip", action="append", default=[], choices=["read", "train", "simulate"])
    a = ap.parse_args()
    bins = build(not a.dev)
    load = os.getloadavg()[0]
    print(f"# otus benchmarks ({'dev' if a.dev else 'release'} profile, {os.cpu_count()} cores, "
          f"load average {load:.1f} at start, {a.runs} runs)\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if "read" not in a.skip:
            reading(bins, a.runs, tmp)
        if "simulate" not in a.skip:
            simulation(bins, a.runs, tmp)
        if "train" not in a.skip:
            training(bins, a.runs)


if __name__ == "__main__":
    main()
