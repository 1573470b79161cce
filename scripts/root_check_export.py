#!/usr/bin/env python3
"""Open an otus ROOT export with ROOT itself (PyROOT) and check that
`TTree::Scan` and `TTree::Draw` work on it.

Not run by CI (it needs ROOT: `pip install root==0.1a12`, ROOT 6.40, about
250 MB download). Prints the first rows of a Scan, draws every branch into a
histogram and compares each histogram's entry count and mean with numpy on
the values ROOT reads through `RDataFrame`.

Usage: root_check_export.py FILE.root [TREE]
Exit status 0 when every check passes, 1 otherwise.
"""
import sys

import ROOT


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    path = sys.argv[1]
    name = sys.argv[2] if len(sys.argv) == 3 else "otus"
    ROOT.gROOT.SetBatch(True)
    f = ROOT.TFile.Open(path)
    if not f or f.IsZombie():
        print(f"FAIL: ROOT cannot open {path}")
        return 1
    tree = f.Get(name)
    if not tree:
        print(f"FAIL: {path} has no tree {name}")
        return 1
    entries = tree.GetEntries()
    branches = [b.GetName() for b in tree.GetListOfBranches()]
    print(f"{path}: tree {name}, {entries} entries, {len(branches)} branches")
    scanned = tree.Scan(":".join(branches[:6]), "", "", 5)
    failures = 0
    if scanned != min(5, entries):
        print(f"FAIL: Scan returned {scanned} rows")
        failures += 1
    columns = ROOT.RDataFrame(name, path).AsNumpy(branches)
    for b in branches:
        n = tree.Draw(f"{b}>>h_{b}", "", "goff")
        h = ROOT.gDirectory.Get(f"h_{b}")
        values = columns[b].astype(float)
        mean = values.mean() if len(values) else 0.0
        ok = n == entries and h and h.GetEntries() == entries
        # The histogram's mean is binned only when the values overflow its axis.
        ok = ok and abs(h.GetMean() - mean) <= 1e-3 * max(1.0, abs(mean)) + h.GetBinWidth(1)
        if not ok:
            print(f"FAIL: Draw({b}) gave {n} entries, mean {h.GetMean() if h else None}, numpy {mean}")
            failures += 1
    print(f"{'ok' if failures == 0 else 'FAIL'}: TTree::Scan and TTree::Draw on {len(branches)} branches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
