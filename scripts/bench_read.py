#!/usr/bin/env python3
"""Reading speed and peak memory: our readers against uproot and pylhe.

Runs, alternately and several times, our `read` bench binary and the same
read with uproot (Delphes: the branches ingest needs, into arrays) or pylhe
(LHE: every event and particle), each in its own process under
/usr/bin/time for the peak resident memory. Prints medians and ratios.

Usage: scripts/bench_read.py [--runs N] [--release] [--delphes FILE] [--lhe FILE]
Defaults: ../shared/data/zee/zee_0.root and the MadGraph MLM fixture.
Run from the repository root with the venv of .ci/run (.venv/bin/python).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

UPROOT = r"""
import sys, time, uproot
t = time.perf_counter()
tree = uproot.open(sys.argv[1])["Delphes"]
branches = ["Event.Number"] + [f"{c}.{m}" for c in ("Electron", "Muon") for m in ("PT", "Eta", "Phi", "Charge")] \
    + [f"{c}.{m}" for c in ("Photon", "Jet") for m in ("PT", "Eta", "Phi")] + ["MissingET.MET", "MissingET.Eta", "MissingET.Phi"]
arrays = tree.arrays(branches)
print(len(arrays), time.perf_counter() - t)
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


def timed(cmd):
    with tempfile.NamedTemporaryFile("r") as mem:
        out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", mem.name] + cmd,
                             check=True, capture_output=True, text=True, cwd=ROOT)
        peak_kib = int(mem.read().strip().splitlines()[-1])
    events, seconds = out.stdout.split()[:2]
    return int(events), float(seconds), peak_kib / 1024


def bench_binary(release):
    profile = ["--release"] if release else []
    out = subprocess.run(["cargo", "build", "--bench", "read", "--message-format=json"] + profile,
                         check=True, capture_output=True, text=True, cwd=ROOT)
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "read" and msg.get("executable"):
            return msg["executable"]
    sys.exit("could not find the read bench binary")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--release", action="store_true",
                    help="build our reader in the release profile (default: the dev profile the tests use)")
    ap.add_argument("--delphes", default=os.path.join(ROOT, "..", "shared", "data", "zee", "zee_0.root"))
    ap.add_argument("--lhe", default=os.path.join(ROOT, "fixtures", "pylhe-testfile-madgraph-2.2.1-Z-mlm.lhe.gz"))
    args = ap.parse_args()
    ours = bench_binary(args.release)
    python = sys.executable
    cases = [
        ("Delphes " + os.path.basename(args.delphes), [ours, "delphes", args.delphes],
         [python, "-c", UPROOT, args.delphes], "uproot"),
        ("LHE " + os.path.basename(args.lhe), [ours, "lhe", args.lhe], [python, "-c", PYLHE, args.lhe], "pylhe"),
    ]
    print("| file | reader | events | median s | events/s | peak MiB |")
    print("|---|---|---|---|---|---|")
    for name, mine, theirs, other in cases:
        results = {"otus": [], other: []}
        for _ in range(args.runs):
            results["otus"].append(timed(mine))
            results[other].append(timed(theirs))
        med = {}
        for reader, runs in results.items():
            events = runs[0][0]
            secs = statistics.median(r[1] for r in runs)
            peak = max(r[2] for r in runs)
            med[reader] = secs
            print(f"| {name} | {reader} | {events} | {secs:.3f} | {events / secs:,.0f} | {peak:.0f} |")
        print(f"| {name} | ratio {other}/otus | | {med[other] / med['otus']:.1f}x | | |")


if __name__ == "__main__":
    main()
