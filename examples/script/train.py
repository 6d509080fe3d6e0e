"""A Dask job: sum squares across the cluster's workers over mutual TLS."""
import argparse
import json
import os

from distributed import Client


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--fp16", default="False")
    args = parser.parse_args()

    # DASK_SCHEDULER_ADDRESS and the TLS settings come from sear.
    client = Client()
    futures = client.map(lambda x: x * x, range(1000))
    total = client.submit(sum, futures).result()
    out = os.environ["SEAR_OUTPUT_DIR"]
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"sum_of_squares": total, "workers": len(client.scheduler_info()["workers"])}, f)


if __name__ == "__main__":
    main()
