"""A Dask job: fit y = w*x + b to data/train.csv by model averaging.

The rows are split among the cluster's workers; every epoch each worker runs
stochastic gradient descent over its share from the current parameters, and
the orchestrator averages what they return. With --fp16 True the parameters
are rounded to half precision after each epoch, as a model kept in fp16 is.

sear runs it as Flambé runs this !Script: python3 -m train data/train.csv
--epochs 3 --lr 0.001 --fp16 True. It writes results/loss.csv and
results/predictions.csv in the working directory (the cluster's outputs
glob, results/*.csv, brings them back) and metrics.json in SEAR_OUTPUT_DIR,
which the report reads.
"""
import argparse
import csv
import json
import os
import struct

from distributed import Client


def read_rows(path):
    with open(path, newline="") as f:
        return [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)]


def sgd(rows, w, b, lr):
    """One pass of SGD over rows from (w, b); runs on a worker."""
    for x, y in rows:
        err = w * x + b - y
        w, b = w - lr * 2 * err * x, b - lr * 2 * err
    return w, b


def half(v):
    """v rounded to IEEE half precision."""
    return struct.unpack("e", struct.pack("e", v))[0]


def mse(rows, w, b):
    return sum((w * x + b - y) ** 2 for x, y in rows) / len(rows)


def write_csv(path, header, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.01)
    # Flambé passes a !Script's booleans as Python's str(): True or False.
    parser.add_argument("--fp16", default="False", choices=["True", "False"])
    args = parser.parse_args()

    rows = read_rows(args.data)
    # DASK_SCHEDULER_ADDRESS and the TLS settings come from sear.
    client = Client()
    workers = len(client.scheduler_info()["workers"]) or 1
    shares = client.scatter([rows[i::workers] for i in range(workers)])

    w = b = 0.0
    losses = []
    for epoch in range(args.epochs):
        fits = client.gather(client.map(sgd, shares, w=w, b=b, lr=args.lr, pure=False))
        w = sum(f[0] for f in fits) / len(fits)
        b = sum(f[1] for f in fits) / len(fits)
        if args.fp16 == "True":
            w, b = half(w), half(b)
        losses.append(round(mse(rows, w, b), 6))
        print(f"epoch {epoch + 1}/{args.epochs} loss {losses[-1]:.4f} on {workers} worker(s)", flush=True)

    write_csv("results/loss.csv", ["epoch", "loss"], enumerate(losses, 1))
    write_csv("results/predictions.csv", ["x", "y", "prediction"],
              [(x, y, round(w * x + b, 4)) for x, y in rows])
    out = os.environ.get("SEAR_OUTPUT_DIR", "sear-output")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"loss": losses, "final_loss": losses[-1], "w": round(w, 4), "b": round(b, 4), "workers": workers}, f)
    print(f"fitted y = {w:.3f}x + {b:.3f}")


if __name__ == "__main__":
    main()
