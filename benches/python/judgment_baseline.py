#!/usr/bin/env python3
"""The Python pipeline the judgment stage is compared with: jieba + TF-IDF + scikit-learn LinearSVC.

It does what a typical Python opinion-monitoring script does per item: jieba tokenization of title and
text, a TF-IDF transform, LinearSVC category prediction, and jieba's TF-IDF keywords. Training is not
timed; the timed part is judging every item of the input once (single process, single thread).

    # Build the input (long real messages; not committed) and run both sides:
    cargo run --release -p yuqing-benches --bin eval_judgment -- jsonl /tmp/yuqing-judgment/messages.jsonl
    cargo run --release -p yuqing-benches --bin eval_judgment -- batch /tmp/yuqing-judgment/messages.jsonl
    python3 benches/python/judgment_baseline.py /tmp/yuqing-judgment/messages.jsonl

The first run creates a virtual environment (default /tmp/yuqing-judgment-venv, or --venv DIR) with
jieba, scikit-learn and numpy from PyPI, and re-runs itself inside it.
"""

import argparse
import json
import os
import subprocess
import sys
import time

REQUIREMENTS = ["jieba==0.42.1", "scikit-learn>=1.3", "numpy>=1.24"]


def ensure_venv(venv):
    """Re-executes this script inside `venv`, creating it first when needed."""
    if os.environ.get("YUQING_BASELINE_IN_VENV") == "1":
        return
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        print(f"creating virtual environment {venv} …", file=sys.stderr)
        subprocess.check_call([sys.executable, "-m", "venv", venv])
        subprocess.check_call([python, "-m", "pip", "install", "-q", *REQUIREMENTS])
    env = dict(os.environ, YUQING_BASELINE_IN_VENV="1")
    os.execve(python, [python, os.path.abspath(__file__), *sys.argv[1:]], env)


def load(path):
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            items.append((o.get("title") or "", o["text"], o.get("label")))
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input", help="JSON Lines of items with title, text and label")
    ap.add_argument("--venv", default="/tmp/yuqing-judgment-venv")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    ensure_venv(args.venv)

    import jieba
    import jieba.analyse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    jieba.setLogLevel(60)
    jieba.initialize()
    items = load(args.input)
    labelled = [(t, x, l) for t, x, l in items if l]
    mb = sum(len(t.encode()) + len(x.encode()) for t, x, _ in items) / 1e6

    def tokens(title, text):
        return " ".join(jieba.lcut(title + "。" + text))

    # Training (not timed): the same items, as the Rust side does.
    t0 = time.perf_counter()
    vec = TfidfVectorizer(token_pattern=r"(?u)\S+", sublinear_tf=True)
    x = vec.fit_transform([tokens(t, b) for t, b, _ in labelled])
    clf = LinearSVC(C=1.0, class_weight="balanced")
    clf.fit(x, [l for _, _, l in labelled])
    train_s = time.perf_counter() - t0

    def judge(title, text):
        toks = tokens(title, text)
        label = clf.predict(vec.transform([toks]))[0]
        kws = jieba.analyse.extract_tags(title or text[:64], topK=8)
        return label, kws

    for t, b, _ in items[:50]:
        judge(t, b)
    best = None
    cpu0 = time.process_time()
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        n = 0
        for t, b, _ in items:
            label, kws = judge(t, b)
            n += len(label) + len(kws)
        el = time.perf_counter() - t0
        best = el if best is None else min(best, el)
    cpu = time.process_time() - cpu0
    print(
        f"python baseline (jieba + TF-IDF + LinearSVC, 1 process): {len(items)} items, {mb:.2f} MB, "
        f"{best:.3f}s per pass (best of {args.rounds}), {len(items) / best:.0f} items/s, {mb / best:.2f} MB/s, "
        f"{len(items) * args.rounds / cpu:.0f} items per CPU second (training {train_s:.1f}s not timed)"
    )


if __name__ == "__main__":
    main()
