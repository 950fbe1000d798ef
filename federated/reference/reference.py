#!/usr/bin/env python3
"""Plaintext reference for Tessera's federated LR and SecureBoost.

Same data, same split, same model class as the federated protocols, trained in one place:
scikit-learn ``LogisticRegression`` and ``xgboost`` with FATE 1.11's SecureBoost defaults
(depth 3, 32 bins, learning rate 0.3, L2 0.1, 5 trees; FATE v1.11
``python/federatedml/param/boosting_param.py:144-148, 487-501``), plus xgboost at its own
default tree count (100) to show what more trees buy.

The split is an 80/20 stratified split with a fixed seed, written as row-index files
(``splits/<data>.train`` / ``.test``: 0-based rows of the guest CSV, or MNIST image indices,
one per line) that the Rust bench reads, so both sides train and test on the same rows.

Usage (data sets from the project's shared folder):

    python3 -m venv .venv && .venv/bin/pip install -r federated/reference/requirements.txt
    .venv/bin/python federated/reference/reference.py --datasets ../shared/datasets [--write-splits]

Prints one line per model and data set: ``REF <model> <data> <metric>=<value> ...``
(AUC for the binary sets, accuracy for MNIST, both always printed).
"""
import argparse
import gzip
import os
import struct
import sys

import numpy as np
import sklearn
import xgboost
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split

SEED = 20261207
HERE = os.path.dirname(os.path.abspath(__file__))
SPLITS = os.path.join(HERE, "splits")


def read_csv(path, label):
    with open(path) as f:
        header = f.readline().strip().split(",")
        rows = [line.strip().split(",") for line in f if line.strip()]
    ids = [r[0] for r in rows]
    cols = [i for i, h in enumerate(header) if h not in ("id", "y")]
    x = np.array([[float(r[i]) for i in cols] for r in rows])
    y = np.array([float(r[header.index("y")]) for r in rows]) if label else None
    return ids, x, y


def fate_pair(root, name):
    gids, gx, y = read_csv(os.path.join(root, "fate", f"{name}_hetero_guest.csv"), True)
    hids, hx, _ = read_csv(os.path.join(root, "fate", f"{name}_hetero_host.csv"), False)
    pos = {i: k for k, i in enumerate(hids)}
    hx = hx[[pos[i] for i in gids]]  # host columns in guest row order (the PSI's join)
    return np.hstack([gx, hx]), y.astype(int)


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data[16:], dtype=np.uint8).reshape(count, rows * cols)
    return np.frombuffer(data[8:], dtype=np.uint8)


def mnist(root):
    x = idx(os.path.join(root, "mnist", "t10k-images-idx3-ubyte.gz")).astype(float) / 255.0
    y = idx(os.path.join(root, "mnist", "t10k-labels-idx1-ubyte.gz")).astype(int)
    return x, y


def split(name, y, write):
    train_f = os.path.join(SPLITS, f"{name}.train")
    test_f = os.path.join(SPLITS, f"{name}.test")
    if write or not os.path.exists(train_f):
        tr, te = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=SEED)
        os.makedirs(SPLITS, exist_ok=True)
        for f, rows in ((train_f, tr), (test_f, te)):
            with open(f, "w") as out:
                out.write("\n".join(str(int(i)) for i in rows) + "\n")
    load = lambda f: np.array([int(v) for v in open(f).read().split()])
    return load(train_f), load(test_f)


def report(model, data, y, proba):
    k = proba.shape[1]
    acc = accuracy_score(y, proba.argmax(axis=1))
    line = f"REF {model} {data} acc={acc:.4f}"
    if k == 2:
        line += f" auc={roc_auc_score(y, proba[:, 1]):.4f}"
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=os.path.join(HERE, "..", "..", "..", "shared", "datasets"))
    ap.add_argument("--write-splits", action="store_true")
    ap.add_argument("--only", default="breast,credit,mnist")
    args = ap.parse_args()
    print(f"# numpy {np.__version__}, scikit-learn {sklearn.__version__}, xgboost {xgboost.__version__}, seed {SEED}")
    sets = {
        "breast": lambda: fate_pair(args.datasets, "breast"),
        "credit": lambda: fate_pair(args.datasets, "default_credit"),
        "mnist": lambda: mnist(args.datasets),
    }
    for name in args.only.split(","):
        x, y = sets[name]()
        tr, te = split(name, y, args.write_splits)
        print(f"# {name}: {len(tr)} train / {len(te)} test rows, {x.shape[1]} features", flush=True)
        lr = LogisticRegression(max_iter=2000).fit(x[tr], y[tr])
        report("lr", name, y[te], lr.predict_proba(x[te]))
        for trees in (5, 100):
            k = len(np.unique(y))
            xgb = xgboost.XGBClassifier(
                n_estimators=trees, max_depth=3, learning_rate=0.3, max_bin=32,
                tree_method="hist", reg_lambda=0.1, min_child_weight=0, n_jobs=2,
                objective="binary:logistic" if k == 2 else "multi:softprob",
            ).fit(x[tr], y[tr])
            report(f"xgboost-{trees}", name, y[te], xgb.predict_proba(x[te]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
