"""A Python peer for scripts/bench/scaling: extract every frame of a list on N workers.

usage: python_peer.py pool|dask|pyspark N LISTFILE
Prints one JSON line: {"frames": F, "objects": O}.
"""
import json
import sys

from sepwork import extract


def run(tool, workers, files):
    if tool == "pool":
        from multiprocessing import Pool
        with Pool(workers) as pool:
            return pool.map(extract, files, chunksize=1)
    if tool == "dask":
        import dask.bag as bag
        return bag.from_sequence(files, npartitions=len(files)).map(extract).compute(
            scheduler="processes", num_workers=workers)
    if tool == "pyspark":
        from pyspark import SparkConf, SparkContext
        conf = (SparkConf().setMaster(f"local[{workers}]").setAppName("sextant-bench")
                .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                .set("spark.ui.enabled", "false"))
        context = SparkContext(conf=conf)
        context.setLogLevel("ERROR")
        try:
            return context.parallelize(files, len(files)).map(extract).collect()
        finally:
            context.stop()
    raise SystemExit(f"unknown tool {tool}")


if __name__ == "__main__":
    tool, workers, listfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    files = open(listfile).read().split()
    counts = run(tool, workers, files)
    print(json.dumps({"frames": len(counts), "objects": sum(counts)}))
