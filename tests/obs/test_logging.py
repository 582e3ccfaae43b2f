"""Every line the process logs is one JSON object: the gateway's loggers, uvicorn's, asyncio's (where
asyncpg's and aiohttp's background errors arrive, through the loop's exception handler), aiohttp's,
the root's, warnings and uncaught exceptions, with tracebacks as the ``exc`` field."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import msgspec

SCRIPT = textwrap.dedent("""
    import asyncio, gc, logging, sys, threading, warnings
    import uvloop
    from sluice.obs.logging import setup_logging

    setup_logging("info", "json")

    async def main():
        async def fails():
            raise RuntimeError("never retrieved")
        task = asyncio.ensure_future(fails())
        await asyncio.sleep(0.05)
        del task  # asyncio: "Task exception was never retrieved", with the traceback
        gc.collect()

    uvloop.run(main())
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 1)
    logging.getLogger("aiohttp.client").warning("arguments that do not fit %s %s", "one")
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger().exception("the root logger")
    warnings.warn("a warning", UserWarning)
    thread = threading.Thread(target=lambda: 1 / 0, name="worker-1")
    thread.start()
    thread.join()
    raise ValueError("uncaught at the end")
""")


def test_every_line_is_one_json_object_whatever_logs_it() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == ""
    lines = [
        msgspec.json.decode(line) for line in done.stderr.splitlines()
    ]  # raises on any line that is not JSON
    by_logger: dict[str, list[dict[str, str]]] = {}
    for line in lines:
        assert isinstance(line, dict) and {"ts", "level", "logger", "msg"} <= set(line), line
        by_logger.setdefault(line["logger"], []).append(line)
    assert any(
        "never retrieved" in line["msg"] and "RuntimeError" in line["exc"] for line in by_logger["asyncio"]
    )
    assert by_logger["uvicorn.error"][0]["msg"] == "Started server process [1]"
    assert by_logger["aiohttp.client"][0]["msg"] == "arguments that do not fit %s %s ('one',)"
    assert "ZeroDivisionError" in by_logger["root"][0]["exc"]
    assert "a warning" in by_logger["py.warnings"][0]["msg"]
    thread, uncaught = by_logger["sluice"]
    assert thread["msg"] == "uncaught exception in thread worker-1" and "ZeroDivisionError" in thread["exc"]
    assert uncaught["level"] == "critical" and "ValueError: uncaught at the end" in uncaught["exc"]
    assert all("Traceback" not in line["msg"] for line in lines)
