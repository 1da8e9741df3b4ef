"""BLAS is limited to one thread once per process: fits running at the same time in a server's
thread pool never reset each other's limits, and the limit is not restored after a fit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import classdyad

DATA = Path(__file__).parents[1] / "data"

# a fresh process (BLAS at its default thread count) fitting models in a thread pool
SERVER = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import pandas as pd
from threadpoolctl import ThreadpoolController
from classdyad.mixed import lmm

def limits():
    return sorted({p["num_threads"] for p in ThreadpoolController().info()
                   if p["user_api"] == "blas"})

before = limits()
sleep = pd.read_csv(sys.argv[1]).assign(Subject=lambda f: f["Subject"].astype(str))
seen = []

def fit(_):
    slope = float(lmm("Reaction ~ Days + (Days | Subject)", sleep)
                  .fixed_effects["estimate"].iloc[1])
    seen.append(limits())
    return slope

with ThreadPoolExecutor(max_workers=4) as pool:
    slopes = list(pool.map(fit, range(8)))
print(json.dumps({"before": before, "seen": seen, "after": limits(),
                  "slopes": sorted(set(slopes))}))
"""


def test_fits_in_a_thread_pool_leave_blas_at_one_thread() -> None:
    env = dict(os.environ)
    source = str(Path(classdyad.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([source, env.get("PYTHONPATH", "")])
    env.pop("OPENBLAS_NUM_THREADS", None)
    env.pop("OMP_NUM_THREADS", None)
    env["OPENBLAS_NUM_THREADS"] = "2"  # the process starts with two BLAS threads
    run = subprocess.run([sys.executable, "-c", SERVER, str(DATA / "sleepstudy.csv")],
                         env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    if not result["before"]:  # no BLAS library that threadpoolctl can see: nothing to limit
        return
    assert result["before"] == [2]
    assert result["seen"] == [[1]] * 8
    assert result["after"] == [1]  # not restored after the last fit
    assert len(result["slopes"]) == 1
