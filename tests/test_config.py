"""Configuration from CKV_* environment variables, and logging through Python `logging`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def run(code: str, **env: str) -> dict:
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("CKV_")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=full, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_environment_variables_configure_the_client(tmp_path):
    got = run(
        """
        import json, logging, ckv
        c = ckv.Client()
        print(json.dumps({"cache": str(c.cache_dir), "vision": c.vision_url,
                          "listing": c.listing_url, "rest": c.rest_urls,
                          "level": logging.getLogger("ckv").level}))
        """,
        CKV_CACHE_DIR=str(tmp_path), CKV_VISION_URL="http://127.0.0.1:1/v/",
        CKV_LISTING_URL="http://127.0.0.1:1/l", CKV_REST_SPOT_URL="http://127.0.0.1:2",
        CKV_REST_UM_URL="http://127.0.0.1:3", CKV_REST_CM_URL="http://127.0.0.1:4",
        CKV_LOG_LEVEL="debug",
    )  # fmt: skip
    assert got["cache"] == str(tmp_path)
    assert got["vision"] == "http://127.0.0.1:1/v" and got["listing"] == "http://127.0.0.1:1/l"
    assert got["rest"] == {"spot": "http://127.0.0.1:2", "um": "http://127.0.0.1:3",
                           "cm": "http://127.0.0.1:4"}  # fmt: skip
    assert got["level"] == 10


def test_defaults_point_at_binance_and_leave_logging_alone():
    """Without CKV_LOG_LEVEL the library sets no level and adds no handler: the application's
    logging configuration decides (here basicConfig(INFO) after import, which ckv follows)."""
    got = run(
        """
        import json, logging, ckv
        c = ckv.Client()
        log = logging.getLogger("ckv")
        before = {"level": log.level, "handlers": len(log.handlers)}
        logging.basicConfig(level=logging.INFO)
        print(json.dumps({"vision": c.vision_url, "rest": c.rest_urls, **before,
                          "effective": log.getEffectiveLevel()}))
        """
    )
    assert got["vision"] == "https://data.binance.vision"
    assert got["rest"]["um"] == "https://fapi.binance.com"
    assert got["level"] == 0 and got["handlers"] == 0  # logging.NOTSET, nothing added
    assert got["effective"] == 20


def test_an_invalid_log_level_is_warned_about_and_ignored():
    got = run(
        """
        import json, logging, warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import ckv
        print(json.dumps({"level": logging.getLogger("ckv").level,
                          "warnings": [str(w.message) for w in caught]}))
        """,
        CKV_LOG_LEVEL="loud",
    )
    assert got["level"] == 0
    assert any("CKV_LOG_LEVEL='loud' is not a logging level" in w for w in got["warnings"])


def test_fcp_logs_through_logging(tmp_path):
    got = run(
        """
        import json, logging, warnings, ckv
        from ckv.sim import Simulator
        records = []
        class Keep(logging.Handler):
            def emit(self, r): records.append(r.name)
        logging.getLogger("ckv").addHandler(Keep())
        warnings.simplefilter("ignore")
        with Simulator(seed=1, now="2024-03-15T12:00") as s:
            c = ckv.Client(cache_dir=CACHE, vision_url=s.vision_url, rest_urls=s.rest_urls,
                           clock=lambda: s.now_ms * 1000)
            c.get_klines("BTCUSDT", "1h", "2024-03-12", "2024-03-15T06:00")
        print(json.dumps(sorted(set(records))))
        """.replace("CACHE", repr(str(tmp_path))),
        CKV_LOG_LEVEL="INFO",
    )
    assert "ckv.fcp" in got
