"""LSP over stdio, read by the event loop itself.

pygls's own stdio reader hands every header line and every body to a worker thread and back, three
thread round trips per message; on a busy two-core machine that alone is most of a code action's
latency. Here the loop watches the pipe directly, and where it cannot (a regular file, a terminal
shared with stdout, Windows' anonymous pipes) one thread pumps stdin into the same stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import sys
import threading

from pygls.io_ import StdoutWriter, run_async
from pygls.server import JsonRPCServer

log = logging.getLogger(__name__)

_CHUNK = 1 << 16


class _Stdout(StdoutWriter):
    """stdout for the protocol. Once the server closes it on `exit`, work still finishing in a
    worker thread (a log line, the reference index) may try to send: that is dropped, not a
    failure reported on stderr."""

    closed = False

    def close(self) -> None:
        self.closed = True
        super().close()  # type: ignore[no-untyped-call]

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            super().write(data)
        except ValueError:
            if not self.closed:
                raise


def serve_stdio(server: JsonRPCServer, already_read: bytes = b"") -> int:
    """Serve until `exit` or the end of stdin; the process's exit code.

    ``already_read`` is what was taken from stdin before the server existed; it is handled first.
    """
    server.protocol.set_writer(_Stdout(sys.stdout.buffer))
    try:
        asyncio.run(_serve(server, already_read))
    except BrokenPipeError:
        log.error("the editor closed the connection; stopping")
    except KeyboardInterrupt:
        pass
    except SystemExit as stop:
        # `exit` ends the process with 0 after `shutdown` and 1 without, as the specification asks.
        return stop.code if isinstance(stop.code, int) else 0
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
    return 0


async def _serve(server: JsonRPCServer, already_read: bytes) -> None:
    reader = asyncio.StreamReader(limit=_CHUNK)
    if already_read:
        reader.feed_data(already_read)
    await _attach_stdin(reader)
    await run_async(
        stop_event=threading.Event(),
        reader=reader,
        protocol=server.protocol,
        logger=log,
        error_handler=server.report_server_error,
    )


async def _attach_stdin(reader: asyncio.StreamReader) -> None:
    loop = asyncio.get_running_loop()
    if _loop_can_watch_stdin():
        try:
            await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer
            )
            return
        except (OSError, ValueError, NotImplementedError) as exc:
            log.debug("stdin is read by a thread: %s", exc)
    threading.Thread(target=_pump, args=(loop, reader), name="stdin", daemon=True).start()


def _loop_can_watch_stdin() -> bool:
    if sys.platform == "win32":
        return False
    try:
        stdin, stdout = os.fstat(0), os.fstat(1)
    except OSError:
        return False
    if not (stat.S_ISFIFO(stdin.st_mode) or stat.S_ISSOCK(stdin.st_mode)):
        return False
    # Watching makes the descriptor non-blocking; if stdout is the same pipe or socket, writes to
    # it could then fail half-way, so that case keeps blocking reads in a thread.
    return (stdin.st_dev, stdin.st_ino) != (stdout.st_dev, stdout.st_ino)


def _pump(loop: asyncio.AbstractEventLoop, reader: asyncio.StreamReader) -> None:
    try:
        while chunk := os.read(0, _CHUNK):
            loop.call_soon_threadsafe(reader.feed_data, chunk)
    except OSError as exc:
        log.error("reading stdin failed: %s", exc)
    except RuntimeError:
        return  # the loop has ended: nobody is reading any more
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(reader.feed_eof)
