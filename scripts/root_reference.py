#!/usr/bin/env python3
"""Print reference numbers for tests/root_reader.rs, computed with uproot.

Usage:  /work/main/.venv/bin/python scripts/root_reference.py fixtures/zee_0.root [...]

Environment used for the committed expected values: uproot 5.7.7, awkward 2.14.0,
numpy 2.4.6 (venv: python3 -m venv .venv && .venv/bin/pip install uproot awkward numpy).
Sums are printed with repr() of float64 sums of the values converted to float64
in file order (numpy.sum over a flattened float64 array, i.e. pairwise summation);
the Rust test compares with a relative tolerance of 1e-12 and checks first values
exactly.
"""
import sys

import awkward as ak
import numpy as np
import uproot

BRANCHES = [
    "Electron.PT",
    "Electron.Eta",
    "Electron.Phi",
    "Electron.Charge",
    "Event.Number",
    "MissingET.MET",
    "MissingET.Eta",
    "MissingET.Phi",
    "Jet.PT",
    "Jet.BTag",
    "Jet.FracPt[5]",
    "Jet.Tau[5]",
]


def main(paths):
    for path in paths:
        f = uproot.open(path)
        print(f"== {path}")
        print("keys:", f.keys(), f.classnames())
        if "Delphes" not in f:
            continue
        t = f["Delphes"]
        n = t.num_entries
        print("entries:", n)
        print("nbranches:", len(t.keys()))
        for c in ["Electron", "Jet", "Muon"]:
            counts = t[c].array(library="np")
            size = t[c + "_size"].array(library="np")
            assert (counts == size).all()
            print(f"{c} counts: sum={int(counts.sum())} first10={counts[:10].tolist()}")
        for b in BRANCHES:
            if b not in t:
                print(f"{b}: absent")
                continue
            a = t[b].array()
            flat = np.asarray(ak.flatten(a, axis=None)).astype(np.float64)
            nvals = len(flat)
            print(
                f"{b}: nvalues={nvals} sum={flat.sum()!r} "
                f"first={flat[:3].tolist()!r} last={flat[-1:].tolist()!r}"
            )
        # a partial range crossing basket boundaries
        lo, hi = n // 3, n // 3 + n // 4 + 1
        a = t["Electron.PT"].array(entry_start=lo, entry_stop=hi)
        flat = np.asarray(ak.flatten(a, axis=None)).astype(np.float64)
        print(f"Electron.PT[{lo}:{hi}]: nvalues={len(flat)} sum={flat.sum()!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
