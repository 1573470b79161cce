#!/usr/bin/env python3
"""Write the ROOT files of `fixtures/hostile/` with ROOT itself.

Each file is one unusual but valid layout that a Delphes reader meets in
practice. All but `big_basket_*` are rewritten from `fixtures/zee_full_200.root`
(200 Pythia 8 + Delphes CMS-card events, matched to `zee_full_200.lhe.gz`),
keeping the collections our Z -> ee card reads, so an ingest of each can be
compared with an ingest of the original.

| file | what it is |
|---|---|
| `zee200_{zlib,lz4,zstd,lzma}.root` | the 200 events, every basket compressed with that algorithm |
| `zee200_two_cycles.root` | `Delphes;1` holds the first 50 events, `Delphes;2` all 200 |
| `zee200_zero_entries.root` | the tree with its branches and no entry |
| `zee200_no_electrons.root` | the 84 events with no electron: every `Electron` basket holds only counts |
| `zee200_puppi.root` | the 200 events with `Jet`, `Electron` and `MissingET` renamed `JetPUPPI`, `ElectronMedium` and `PuppiMissingET`, as in Delphes' CMS Phase-2 card |
| `export_short_draw.root` | tree `otus` shaped like an otus export, but `Event_Draw` is an array that is empty in every odd entry (10 entries, 5 values) |
| `big_basket_{zlib,lz4,zstd,lzma}.root` | tree `big`: `n` (int) and `x[n]` (float), 100 entries of 50,000 values in one 20 MB basket, which ROOT compresses as two blocks (a block holds at most 16 MiB) |

`x[i]` of entry `e` is `(e * 50000 + i) % 1000 * 0.5`, so a test can check
every value without ROOT.

Needs ROOT's Python wheel (`pip install root==0.1a12`, ROOT 6.40, about 250 MB),
which CI does not install; the files are committed.

Usage: make_root_fixtures.py [OUT_DIR]   (default: fixtures/hostile)
"""
import array
import os
import sys

import ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "fixtures", "zee_full_200.root")
KEEP = ["Event", "Weight", "GenMissingET", "Jet", "Electron", "Photon", "Muon", "MissingET", "ScalarHT"]
# ROOT's compression settings: 100 * algorithm + level.
ALGORITHMS = {"zlib": 101, "lz4": 404, "zstd": 505, "lzma": 207}
RENAME = {"Jet": "JetPUPPI", "Electron": "ElectronMedium", "MissingET": "PuppiMissingET"}
BIG_ENTRIES = 100
BIG_VALUES = 50_000


def source_tree():
    f = ROOT.TFile.Open(SOURCE)
    t = f.Get("Delphes")
    t.SetBranchStatus("*", 0)
    for name in KEEP:
        t.SetBranchStatus(name + "*", 1)
    return f, t


def write(path, compression, fill):
    out = ROOT.TFile(path, "RECREATE", "", compression)
    fill(out)
    out.Close()
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def rename(branch, old, new):
    """Rename a split TClonesArray branch, its sub-branches and leaves."""
    for obj in [branch] + list(branch.GetListOfBranches()) + list(branch.GetListOfLeaves()):
        for get, set_ in ((obj.GetName, obj.SetName), (obj.GetTitle, obj.SetTitle)):
            text = get()
            if text.startswith(old):
                set_(new + text[len(old):])


def big_basket(out):
    n = array.array("i", [0])
    x = array.array("f", [0.0] * BIG_VALUES)
    t = ROOT.TTree("big", "one basket larger than 16 MiB")
    t.Branch("n", n, "n/I")
    bx = t.Branch("x", x, "x[n]/F")
    bx.SetBasketSize(64 << 20)
    t.SetAutoFlush(0)
    for e in range(BIG_ENTRIES):
        n[0] = BIG_VALUES
        for i in range(BIG_VALUES):
            x[i] = (e * BIG_VALUES + i) % 1000 * 0.5
        t.Fill()
    t.Write()
    baskets = bx.GetWriteBasket()
    assert baskets == 1, f"x has {baskets} baskets, expected one"
    assert bx.GetBasketBytes()[0] > 0
    assert bx.GetTotBytes() > 16 << 20, bx.GetTotBytes()


def short_draw(out):
    number = array.array("q", [0])
    n = array.array("i", [0])
    draw = array.array("q", [0])
    weight = array.array("d", [1.0])
    p4 = {q: array.array("f", [0.0]) for q in ("Px", "Py", "Pz", "E")}
    t = ROOT.TTree("otus", "an otus export with a short Event_Draw")
    t.Branch("Event_Number", number, "Event_Number/L")
    t.Branch("n", n, "n/I")
    t.Branch("Event_Draw", draw, "Event_Draw[n]/L")
    t.Branch("Event_Weight", weight, "Event_Weight/D")
    for q, buf in p4.items():
        t.Branch(f"em_{q}", buf, f"em_{q}/F")
    for e in range(10):
        number[0] = e
        n[0] = 1 - e % 2
        draw[0] = 0
        for i, buf in enumerate(p4.values()):
            buf[0] = 10.0 * e + i
        t.Fill()
    t.Write()


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "fixtures", "hostile")
    os.makedirs(outdir, exist_ok=True)
    ROOT.gROOT.SetBatch(True)
    src, tree = source_tree()
    p = lambda name: os.path.join(outdir, name)

    for alg, setting in ALGORITHMS.items():
        write(p(f"zee200_{alg}.root"), setting, lambda out: tree.CloneTree(-1).Write())

    def two_cycles(out):
        tree.CloneTree(50).Write()
        tree.CloneTree(-1).Write()

    write(p("zee200_two_cycles.root"), 101, two_cycles)
    write(p("zee200_zero_entries.root"), 101, lambda out: tree.CloneTree(0).Write())
    write(p("zee200_no_electrons.root"), 101, lambda out: tree.CopyTree("Electron_size == 0").Write())

    def puppi(out):
        t = tree.CloneTree(-1)
        for b in list(t.GetListOfBranches()):
            for old, new in RENAME.items():
                if b.GetName() in (old, old + "_size"):
                    rename(b, old, new)
        t.Write()

    write(p("zee200_puppi.root"), 101, puppi)

    # The big basket at the highest level of each algorithm, to keep the
    # committed files small (zlib at level 1 leaves 7.7 MB).
    write(p("export_short_draw.root"), 101, short_draw)

    for alg, setting in ALGORITHMS.items():
        write(p(f"big_basket_{alg}.root"), setting // 100 * 100 + 9, big_basket)

    # Check what was written with ROOT itself.
    f = ROOT.TFile.Open(p("zee200_two_cycles.root"))
    cycles = sorted(k.GetCycle() for k in f.GetListOfKeys() if k.GetName() == "Delphes")
    assert cycles == [1, 2], cycles
    assert f.Get("Delphes;1").GetEntries() == 50 and f.Get("Delphes;2").GetEntries() == 200
    f = ROOT.TFile.Open(p("zee200_no_electrons.root"))
    t = f.Get("Delphes")
    assert t.GetEntries() == 84 and t.GetEntries("Electron_size > 0") == 0
    f = ROOT.TFile.Open(p("zee200_puppi.root"))
    names = [b.GetName() for b in f.Get("Delphes").GetListOfBranches()]
    assert "JetPUPPI" in names and "Jet" not in names, names
    assert f.Get("Delphes").GetEntries("ElectronMedium_size == 2") > 0
    for alg, setting in ALGORITHMS.items():
        f = ROOT.TFile.Open(p(f"zee200_{alg}.root"))
        assert f.GetCompressionSettings() == setting
    print("checked")


if __name__ == "__main__":
    main()
