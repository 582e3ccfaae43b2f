"""``sluice batches list|get|cancel|wait``: a client of a running gateway's ``/v1/batches``, over
HTTP with an API key like any other client (aiohttp). ``wait`` shows a progress bar on a terminal
and plain lines otherwise. Exit codes: 0 done (``wait``: completed), 1 the batch failed, expired
or was cancelled, or the gateway answered an error; 2 a usage error (click's)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import click
import msgspec

T = TypeVar("T")
ENDED = {"completed": 0, "failed": 1, "expired": 1, "cancelled": 1}
"""A batch's last statuses and the exit code ``wait`` ends with."""


class Gateway:
    """The few calls the commands make; any error answer becomes a ``ClickException`` (exit 1)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        if not self._base.endswith("/v1"):
            self._base += "/v1"

    async def call(self, method: str, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            async with self._session.request(method, self._base + path, params=params) as r:
                body = await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError) as e:
            raise click.ClickException(f"cannot reach the gateway at {self._base}: {e}") from None
        try:
            data = msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise click.ClickException(f"{status} from the gateway, not JSON: {body[:200]!r}") from None
        if status >= 400:
            err = data.get("error") if isinstance(data, dict) else None
            what = f"{err.get('message')} ({err.get('code')})" if isinstance(err, dict) else repr(body[:200])
            raise click.ClickException(f"{status}: {what}")
        return data


def _run(base_url: str, api_key: str, timeout_s: float, op: Callable[[Gateway], Awaitable[T]]) -> T:
    async def main() -> T:
        headers = {"authorization": f"Bearer {api_key}", "user-agent": "sluice-cli"}
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
            return await op(Gateway(session, base_url))

    return asyncio.run(main())


def _quoted(batch_id: str) -> str:
    return urllib.parse.quote(batch_id, safe="")


def _echo_json(value: Any) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(value), indent=2))


def _counts(b: dict[str, Any]) -> tuple[int, int, int]:
    c = b.get("request_counts") or {}
    return int(c.get("completed", 0)), int(c.get("failed", 0)), int(c.get("total", 0))


def _when(ts: Any) -> str:
    if not isinstance(ts, int):
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _common(f: Callable[..., Any]) -> Callable[..., Any]:
    f = click.option(
        "--request-timeout",
        type=click.FloatRange(min=0.1),
        default=30.0,
        show_default=True,
        help="Seconds each HTTP request may take.",
    )(f)
    f = click.option(
        "--api-key",
        envvar="SLUICE_API_KEY",
        required=True,
        help="The key the batches belong to (or SLUICE_API_KEY).",
    )(f)
    return click.option(
        "--base-url",
        envvar="SLUICE_BASE_URL",
        default="http://127.0.0.1:4000",
        show_default=True,
        help="The gateway (or SLUICE_BASE_URL); /v1 is added when missing.",
    )(f)


@click.group()
def batches() -> None:
    """List, inspect, cancel and wait for batches on a running gateway (/v1/batches)."""


@batches.command("list")
@click.option("--limit", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--after", help="A batch id: list those older than it.")
@_common
def list_batches(limit: int, after: str | None, base_url: str, api_key: str, request_timeout: float) -> None:
    """The key's batches, newest first, as a table."""
    params = {"limit": str(limit), **({"after": after} if after else {})}
    page = _run(base_url, api_key, request_timeout, lambda g: g.call("GET", "/batches", params))
    rows = [("ID", "STATUS", "ENDPOINT", "DONE/TOTAL", "FAILED", "CREATED")]
    for b in page.get("data", []):
        completed, failed, total = _counts(b)
        rows.append(
            (
                str(b["id"]),
                str(b["status"]),
                str(b["endpoint"]),
                f"{completed + failed}/{total}",
                str(failed),
                _when(b.get("created_at")),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    if page.get("has_more"):
        click.echo(f"(more: --after {page['data'][-1]['id']})")


@batches.command("get")
@click.argument("batch_id")
@_common
def get_batch(batch_id: str, base_url: str, api_key: str, request_timeout: float) -> None:
    """The batch, as JSON."""
    _echo_json(
        _run(base_url, api_key, request_timeout, lambda g: g.call("GET", f"/batches/{_quoted(batch_id)}"))
    )


@batches.command("cancel")
@click.argument("batch_id")
@_common
def cancel_batch(batch_id: str, base_url: str, api_key: str, request_timeout: float) -> None:
    """Cancel the batch (it moves to cancelling; lines in flight finish); prints it as JSON."""
    _echo_json(
        _run(
            base_url,
            api_key,
            request_timeout,
            lambda g: g.call("POST", f"/batches/{_quoted(batch_id)}/cancel"),
        )
    )


@batches.command("wait")
@click.argument("batch_id")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=2.0,
    show_default=True,
    help="Seconds between polls.",
)
@click.option(
    "--timeout", "timeout_s", type=click.FloatRange(min=0), help="Give up after this many seconds (exit 1)."
)
@_common
def wait_batch(
    batch_id: str,
    interval: float,
    timeout_s: float | None,
    base_url: str,
    api_key: str,
    request_timeout: float,
) -> None:
    """Poll until the batch ends: a progress bar on a terminal, a line per change otherwise.
    Exit 0 when it completed, 1 when it failed, expired or was cancelled (or on --timeout)."""
    show = Progress(batch_id, tty=sys.stderr.isatty())

    async def poll(g: Gateway) -> dict[str, Any]:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            b: dict[str, Any] = await g.call("GET", f"/batches/{_quoted(batch_id)}")
            show.update(b)
            if b["status"] in ENDED:
                return b
            if deadline is not None and time.monotonic() >= deadline:
                show.close()
                raise click.ClickException(f"{batch_id} still {b['status']} after {timeout_s} s")
            await asyncio.sleep(interval)

    b = _run(base_url, api_key, request_timeout, poll)
    show.close()
    completed, failed, total = _counts(b)
    files = " ".join(f"{k}={b[k]}" for k in ("output_file_id", "error_file_id") if b.get(k))
    click.echo(
        f"{batch_id} {b['status']}: {completed} completed, {failed} failed of {total} {files}".rstrip()
    )
    sys.exit(ENDED[b["status"]])


class Progress:
    """What ``wait`` shows on stderr: click's progress bar over ``request_counts`` on a terminal;
    elsewhere (a log, a pipe) one plain line each time the status or the counts change."""

    def __init__(self, batch_id: str, *, tty: bool) -> None:
        self._id = batch_id
        self._tty = tty
        self._bar: Any = None
        self._done = 0
        self._last: tuple[Any, ...] | None = None

    def update(self, b: dict[str, Any]) -> None:
        completed, failed, total = _counts(b)
        now = (b["status"], completed, failed, total)
        if now == self._last:
            return
        self._last = now
        if not self._tty:
            click.echo(f"{self._id} {b['status']} {completed + failed}/{total} (failed {failed})", err=True)
            return
        if self._bar is None and total:
            self._bar = click.progressbar(
                length=total, label=self._id, file=sys.stderr, show_pos=True, show_percent=True
            )
            self._bar.__enter__()
        if self._bar is not None:
            self._bar.label = f"{self._id} {b['status']}"
            self._bar.update(completed + failed - self._done)
            self._done = completed + failed

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
