#!/usr/bin/env python3
"""Cross-check `otus ingest` and `otus inspect` against independent readers.

For each card given, runs `otus ingest` into a temporary folder, then rebuilds
the selected, aligned events from the same input files with uproot (Delphes)
and pylhe (LHE), applying the card's selection in numpy, and compares event
numbers and every z and x component value by value. Also compares the event
counts of `otus inspect --json` with pylhe's on LHE files pylhe can read.

pylhe 2.1.0 rejects the empty `<weights></weights>` blocks of our matched
samples, so those files are fed to it with the empty blocks removed.

Usage: crosscheck.py OTUS_BINARY CARD [CARD ...] [--lhe FILE ...]
Exit status 0 when everything agrees, 1 otherwise.
"""
import gzip
import json
import math
import os
import subprocess
import sys
import tempfile
import tomllib

import awkward as ak
import numpy as np
import pyarrow.parquet as pq
import pylhe
import uproot

RTOL = 1e-9  # f64 arithmetic on the same f32 inputs; libm may differ in the last bits


def open_text(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path, "rt")


def pylhe_events(path, tmpdir):
    """pylhe's events, after removing empty weights blocks it cannot parse."""
    cleaned = os.path.join(tmpdir, os.path.basename(path) + ".clean.lhe")
    with open_text(path) as src, open(cleaned, "w") as dst:
        for line in src:
            if line.strip() == "<weights></weights>":
                continue
            dst.write(line)
    return pylhe.LHEFile.fromfile(cleaned).events


def parton_rows(card, path, tmpdir):
    rows = {}
    for i, ev in enumerate(pylhe_events(path, tmpdir)):
        z = []
        for spec in card["partons"]:
            status = spec.get("status", 1)
            mass = spec.get("mass", 0.0)
            found = [p for p in ev.particles if int(p.id) == spec["pdg"] and int(p.status) == status]
            if len(found) != 1:
                z = None
                break
            p = found[0]
            e = math.sqrt(p.px**2 + p.py**2 + p.pz**2 + mass**2)
            z += [p.px, p.py, p.pz, e]
        if z is not None:
            rows[i] = (ev.eventinfo.weight, z)
    return rows


def passing(pt, eta, cuts):
    keep = pt > cuts.get("pt_min", 0.0)
    if "eta_max" in cuts:
        keep &= abs(eta) < cuts["eta_max"]
    return keep


def detector_rows(card, path):
    names = {"electron": "Electron", "muon": "Muon", "photon": "Photon", "jet": "Jet",
             "missing_et": "MissingET", "event": "Event"}
    names.update(card.get("delphes", {}))
    tree = uproot.open(path)[card["inputs"].get("tree", "Delphes")]
    det = card.get("detector", {})
    arrays = {"number": tree[names["event"] + ".Number"].array(library="np")}
    for coll in ("electron", "muon", "photon", "jet"):
        b = names[coll]
        if coll in det or any(o["from"] == coll for o in card["objects"]):
            for leaf in ("PT", "Eta", "Phi") + (("Charge",) if coll in ("electron", "muon") else ()):
                arrays[(coll, leaf)] = tree[f"{b}.{leaf}"].array()
    if any(o["from"] == "missing-et" for o in card["objects"]):
        for leaf in ("MET", "Eta", "Phi"):
            arrays[("met", leaf)] = tree[f"{names['missing_et']}.{leaf}"].array()
    convention = det.get("met_convention", "physical")
    rows = {}
    for i in range(tree.num_entries):
        pools = {}
        ok = True
        for coll in ("electron", "muon", "photon", "jet"):
            if (coll, "PT") not in arrays:
                continue
            pt = np.asarray(arrays[(coll, "PT")][i], dtype=np.float64)
            eta = np.asarray(arrays[(coll, "Eta")][i], dtype=np.float64)
            phi = np.asarray(arrays[(coll, "Phi")][i], dtype=np.float64)
            q = np.asarray(arrays[(coll, "Charge")][i]) if (coll, "Charge") in arrays else np.zeros(len(pt), int)
            cuts = det.get(coll, {})
            keep = passing(pt, eta, cuts)
            order = np.argsort(-pt[keep], kind="stable")
            pool = list(zip(pt[keep][order], eta[keep][order], phi[keep][order], q[keep][order]))
            if "count" in cuts and len(pool) != cuts["count"]:
                ok = False
                break
            pools[coll] = pool
        if not ok:
            continue
        x = []
        for spec in card["objects"]:
            if spec["from"] == "missing-et":
                met = float(arrays[("met", "MET")][i][0])
                meta = float(arrays[("met", "Eta")][i][0])
                mphi = float(arrays[("met", "Phi")][i][0])
                if convention == "physical":
                    x += [met * math.cos(mphi), met * math.sin(mphi), 0.0, met]
                else:
                    x += [met * math.cos(mphi), met * math.sin(mphi), met * math.sinh(meta), met * math.cosh(meta)]
                continue
            pool = pools[spec["from"]]
            if "charge" in spec:
                match = [c for c in pool if c[3] == spec["charge"]]
                if len(match) != 1:
                    ok = False
                    break
                c = match[0]
            else:
                rank = spec.get("rank", 1)
                if len(pool) < rank:
                    ok = False
                    break
                c = pool[rank - 1]
            pt, eta, phi = float(c[0]), float(c[1]), float(c[2])
            x += [pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta), pt * math.cosh(eta)]
        if ok:
            rows[int(arrays["number"][i][0])] = x
    return rows


def check_card(otus, card_path, tmpdir):
    with open(card_path, "rb") as f:
        card = tomllib.load(f)
    out = os.path.join(tmpdir, card["name"])
    subprocess.run([otus, "-q", "ingest", card_path, "--out", out], check=True)
    table = pq.read_table(os.path.join(out, "events.parquet")).to_pydict()
    card_dir = os.path.dirname(os.path.abspath(card_path))
    failures = 0
    total = 0
    for pair in card["inputs"]["pairs"]:
        lhe = os.path.join(card_dir, pair["lhe"])
        root = os.path.join(card_dir, pair["delphes"])
        z_rows = parton_rows(card, lhe, tmpdir)
        x_rows = detector_rows(card, root)
        expected = sorted(set(z_rows) & set(x_rows))
        name = os.path.basename(lhe)
        got = [i for i, f in enumerate(table["file"]) if f == name]
        got_events = [table["event"][i] for i in got]
        if got_events != expected:
            print(f"FAIL {card_path}: {name}: otus aligned {len(got_events)} events, "
                  f"independent readers {len(expected)}")
            failures += 1
            continue
        zcols = [f"z_{p['name']}_{c}" for p in card["partons"] for c in ("px", "py", "pz", "e")]
        xcols = [f"x_{o['name']}_{c}" for o in card["objects"] for c in ("px", "py", "pz", "e")]
        for row, ev in zip(got, expected):
            want = z_rows[ev][1] + x_rows[ev]
            have = [table[c][row] for c in zcols + xcols]
            if not np.allclose(have, want, rtol=RTOL, atol=1e-9):
                bad = [(c, h, w) for c, h, w in zip(zcols + xcols, have, want) if not math.isclose(h, w, rel_tol=RTOL, abs_tol=1e-9)]
                print(f"FAIL {card_path}: {name} event {ev}: {bad[:3]}")
                failures += 1
                break
            if table["weight"][row] != z_rows[ev][0]:
                print(f"FAIL {card_path}: {name} event {ev}: weight {table['weight'][row]} != {z_rows[ev][0]}")
                failures += 1
                break
        total += len(expected)
    print(f"{'ok' if failures == 0 else 'FAIL'}: {card_path}: {total} aligned events, "
          f"{len(zcols) + len(xcols)} components each, agree with uproot + pylhe")
    return failures


def check_lhe_counts(otus, paths, tmpdir):
    failures = 0
    for path in paths:
        out = subprocess.run([otus, "inspect", "--json", path], check=True, capture_output=True, text=True)
        ours = json.loads(out.stdout)["events"]
        theirs = sum(1 for _ in pylhe_events(path, tmpdir))
        status = "ok" if ours == theirs else "FAIL"
        failures += ours != theirs
        print(f"{status}: {os.path.basename(path)}: otus {ours} events, pylhe {theirs}")
    return failures


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    otus = args[0]
    cards, lhe = [], []
    target = cards
    for a in args[1:]:
        if a == "--lhe":
            target = lhe
        else:
            target.append(a)
    failures = 0
    with tempfile.TemporaryDirectory() as tmpdir:
        for card in cards:
            failures += check_card(otus, card, tmpdir)
        failures += check_lhe_counts(otus, lhe, tmpdir)
    print(f"crosscheck: {'passed' if failures == 0 else f'{failures} failure(s)'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
