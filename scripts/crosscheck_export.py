#!/usr/bin/env python3
"""Cross-check the ROOT and LHE output of `otus simulate` and `otus unfold`
against independent readers (uproot, pylhe).

Trains a two-epoch model on the Z -> ee fixtures in a temporary folder, then
- simulates fixtures/zee_full_200.lhe.gz (3 draws each) as ROOT and as
  Parquet with the same seed, reads every branch of the ROOT tree with
  uproot and compares it with the Parquet values: the event number, draw,
  weight and four-momenta exactly (float32 where we store float32), PT, Eta
  and Phi with numpy's float64 formulas rounded to float32 (1 ulp allowed);
- simulates with a small file size limit and checks that uproot opens every
  part and that the entries add up;
- unfolds fixtures/zee_0.root as gzipped LHE and as Parquet, reads the LHE
  with pylhe and compares PDG ids, statuses, momenta (exactly) and weights.

Usage: crosscheck_export.py OTUS_BINARY
Exit status 0 when everything agrees, 1 otherwise.
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import pyarrow.parquet as pq
import pylhe
import uproot

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT_DIR, "fixtures")
SMOKE = """
[[train.profiles.smoke]]
epochs = 2
learning_rate = 2e-3
beta_e = 50.0
beta_d = 50.0
batch_size = 256
slices = 32
"""


def run(*args):
    subprocess.run([str(a) for a in args], check=True)


def train(otus, tmp):
    with open(os.path.join(ROOT_DIR, "cards", "zee.toml")) as f:
        text = f.read()
    text = text.replace("../fixtures", FIXTURES).replace('profile = "default"', 'profile = "smoke"')
    card = os.path.join(tmp, "zee.toml")
    with open(card, "w") as f:
        f.write(text + SMOKE)
    out = os.path.join(tmp, "out")
    run(otus, "-q", "ingest", card, "--out", out)
    model = os.path.join(out, "model")
    run(otus, "-q", "train", card, "--frames", os.path.join(out, "events.parquet"), "--out", model)
    return model


def report(ok, message):
    print(f"{'ok' if ok else 'FAIL'}: {message}")
    return 0 if ok else 1


def check_root(otus, model, tmp):
    lhe = os.path.join(FIXTURES, "zee_full_200.lhe.gz")
    root = os.path.join(tmp, "sim.root")
    parquet = os.path.join(tmp, "sim.parquet")
    for out in (root, parquet):
        run(otus, "-q", "simulate", "--model", model, lhe, "-o", out, "--repeat", "3", "--seed", "7")
    table = pq.read_table(parquet).to_pydict()
    tree = uproot.open(root)["otus"]
    arrays = tree.arrays(library="np")
    failures = 0
    failures += report(tree.num_entries == len(table["event"]),
                       f"sim.root: {tree.num_entries} entries, Parquet {len(table['event'])} rows")
    expected_types = {"Event_Number": np.int64, "Event_Draw": np.int32, "Event_Weight": np.float64,
                      "Electron_size": np.int32}
    for name, array in arrays.items():
        want = expected_types.get(name, np.float32)
        if array.dtype != want:
            failures += report(False, f"sim.root: {name} is {array.dtype}, expected {np.dtype(want)}")
    exact = {"Event_Number": table["event"], "Event_Draw": table["draw"], "Event_Weight": table["weight"],
             "Electron_size": [2] * len(table["event"])}
    for obj in ("em", "ep"):
        for q, c in zip(("Px", "Py", "Pz", "E"), ("px", "py", "pz", "e")):
            exact[f"{obj}_{q}"] = np.asarray(table[f"x_{obj}_{c}"], dtype=np.float32)
    for name, want in exact.items():
        if not np.array_equal(arrays[name], np.asarray(want).astype(arrays[name].dtype)):
            failures += report(False, f"sim.root: {name} differs from the Parquet values")
    for obj in ("em", "ep"):
        px, py, pz = (np.asarray(table[f"x_{obj}_{c}"]) for c in ("px", "py", "pz"))
        pt = np.hypot(px, py)
        derived = {"PT": pt, "Eta": np.arcsinh(pz / pt), "Phi": np.arctan2(py, px)}
        for q, want in derived.items():
            got = arrays[f"{obj}_{q}"]
            ulps = np.abs(got.view(np.int32).astype(np.int64) - want.astype(np.float32).view(np.int32))
            if ulps.max() > 1:
                failures += report(False, f"sim.root: {obj}_{q} differs by {ulps.max()} ulp from numpy")
    n_branches = len(arrays)
    failures += report(n_branches == len(expected_types) + 14,
                       f"sim.root: uproot read {n_branches} branches, all agree with the Parquet values")
    return failures


def check_split(otus, model, tmp):
    lhe = os.path.join(FIXTURES, "zee_full_200.lhe.gz")
    run(otus, "-q", "simulate", "--model", model, lhe, "-o", os.path.join(tmp, "big.root"),
        "--repeat", "10", "--max-file-size", "60k")
    # The same draws as Parquet: the detector acceptance keeps the same rows.
    run(otus, "-q", "simulate", "--model", model, lhe, "-o", os.path.join(tmp, "big.parquet"),
        "--repeat", "10")
    want = pq.read_table(os.path.join(tmp, "big.parquet")).num_rows
    parts = sorted(glob.glob(os.path.join(tmp, "big_*.root")))
    entries = [uproot.open(p)["otus"].num_entries for p in parts]
    sizes = [os.path.getsize(p) for p in parts]
    return report(len(parts) >= 2 and sum(entries) == want and 0 < want <= 2000
                  and max(sizes) <= 60_000,
                  f"split output: {len(parts)} parts, entries {entries} (sum {sum(entries)}, "
                  f"Parquet {want} of 2000 draws), largest {max(sizes, default=0)} bytes "
                  f"(limit 60000), all opened by uproot")


def check_lhe(otus, model, tmp):
    delphes = os.path.join(FIXTURES, "zee_0.root")
    lhe = os.path.join(tmp, "unf.lhe.gz")
    parquet = os.path.join(tmp, "unf.parquet")
    for out in (lhe, parquet):
        run(otus, "-q", "unfold", "--model", model, delphes, "-o", out, "--repeat", "2", "--seed", "3")
    table = pq.read_table(parquet).to_pydict()
    lhefile = pylhe.LHEFile.fromfile(lhe)
    beams = (lhefile.init.initInfo.energyA, lhefile.init.initInfo.energyB)
    failures = 0
    n = 0
    for i, ev in enumerate(lhefile.events):
        ids = [(int(p.id), int(p.status)) for p in ev.particles]
        if ids != [(11, 1), (-11, 1)]:
            failures += report(False, f"unf.lhe.gz event {i}: particles {ids}")
            break
        have = [v for p in ev.particles for v in (p.px, p.py, p.pz, p.e)]
        want = [table[f"z_{o}_{c}"][i] for o in ("em", "ep") for c in ("px", "py", "pz", "e")]
        if have != want or ev.eventinfo.weight != table["weight"][i]:
            failures += report(False, f"unf.lhe.gz event {i}: {have} != {want}")
            break
        n += 1
    failures += report(n == len(table["event"]) and beams == (6500.0, 6500.0),
                       f"unf.lhe.gz: pylhe read {n} events (Parquet {len(table['event'])}), "
                       f"beams {beams}, every momentum equal")
    return failures


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    otus = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        model = train(otus, tmp)
        failures = check_root(otus, model, tmp) + check_split(otus, model, tmp) + check_lhe(otus, model, tmp)
    print(f"crosscheck_export: {'passed' if failures == 0 else f'{failures} failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
