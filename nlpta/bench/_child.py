"""``python -m nlpta.bench._child``: one :func:`~nlpta.bench.runner.fit_evaluate` in this fresh
process. Reads the request as JSON on stdin; prints ``RESULT <json>`` (the record plus
``peak_rss_mb``); exits non-zero with the traceback on stderr if the run fails."""

from __future__ import annotations

import json
import sys


def main() -> int:
    from .cache import jsonable
    from .provenance import device_name
    from .runner import fit_evaluate, peak_rss_mb

    req = json.loads(sys.stdin.read())
    rec = fit_evaluate(req["task"], req["method"], int(req["seed"]), req.get("params") or {},
                       req.get("targets") or (), req.get("record") or ())
    rec["peak_rss_mb"] = peak_rss_mb()
    import torch

    if torch.cuda.is_available():
        rec["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    rec["device"] = device_name()
    print("RESULT " + json.dumps(jsonable(rec)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
