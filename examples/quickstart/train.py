"""Fit y = 3x + 1 by gradient descent and report the loss curve.

Runs with the standard library only, so it works on any node image. sear
sets SEAR_OUTPUT_DIR; metrics.json there feeds the report. model.txt, in the
working directory, is what the cluster's outputs glob brings back.
"""
import argparse
import json
import os
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()

    rng = random.Random(0)
    xs = [rng.uniform(-1, 1) for _ in range(256)]
    ys = [3 * x + 1 + rng.gauss(0, 0.1) for x in xs]
    w, b, losses = 0.0, 0.0, []
    for epoch in range(args.epochs):
        gw = gb = loss = 0.0
        for x, y in zip(xs, ys):
            err = w * x + b - y
            loss += err * err / len(xs)
            gw += 2 * err * x / len(xs)
            gb += 2 * err / len(xs)
        w, b = w - args.lr * gw, b - args.lr * gb
        losses.append(round(loss, 6))
        print(f"epoch {epoch + 1}/{args.epochs} loss {loss:.4f}", flush=True)

    out = os.environ.get("SEAR_OUTPUT_DIR", "sear-output")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"loss": losses, "final_loss": losses[-1], "w": round(w, 4), "b": round(b, 4)}, f)
    with open("model.txt", "w") as f:
        f.write(f"y = {w:.4f}x + {b:.4f}\n")
    print(f"fitted y = {w:.3f}x + {b:.3f}")


if __name__ == "__main__":
    main()
