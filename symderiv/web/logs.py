"""The server's log: one line per cause per interval, never a flood.

A client can make the server log at will (every malformed request, every slow connection, every
file-descriptor error while accepting); 300 such connections once wrote 135 MB of tracebacks in
15 s. Here every record is one line (an exception is its type and message, no traceback), and a
cause (the logger and the message before its arguments, and the exception's type) is written at
most once per `interval` seconds; the next line of that cause says how many were left out.

    configure_logging(interval=60.0)     # on the root logger, to stderr
"""

from __future__ import annotations

import logging
import sys
import time

__all__ = ["OncePerInterval", "configure_logging"]


class OncePerInterval(logging.Filter):
    def __init__(self, interval: float = 60.0, clock=time.monotonic, max_causes: int = 1000):
        super().__init__()
        self.interval, self.clock, self.max_causes = interval, clock, max_causes
        self.last: dict[tuple, float] = {}
        self.left_out: dict[tuple, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        cause = (record.name, str(record.msg)[:200], exc_type)
        now = self.clock()
        if cause in self.last and now - self.last[cause] < self.interval:
            self.left_out[cause] = self.left_out.get(cause, 0) + 1
            return False
        if len(self.last) >= self.max_causes:  # forget the oldest causes: memory stays bounded
            for old in sorted(self.last, key=self.last.get)[: self.max_causes // 2]:
                self.last.pop(old)
                self.left_out.pop(old, None)
        self.last[cause] = now
        text = " ".join(record.getMessage().split())
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({exc_type}: {' '.join(str(record.exc_info[1]).split())[:300]})"
        skipped = self.left_out.pop(cause, 0)
        if skipped:
            text += f" [and {skipped} more like it in the last {self.interval:g} s]"
        record.msg, record.args, record.exc_info, record.exc_text, record.stack_info = text, None, None, None, None
        return True


def configure_logging(interval: float = 60.0, level: int = logging.WARNING) -> logging.Handler:
    """Send warnings and errors of every logger (uvicorn's, asyncio's, ours) to stderr, one line per cause per interval."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("symderiv serve: %(levelname)s %(message)s"))
    handler.addFilter(OncePerInterval(interval))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "symderiv_serve", False)]:
        root.removeHandler(old)
    handler.symderiv_serve = True
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncio"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
