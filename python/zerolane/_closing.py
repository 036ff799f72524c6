"""What every endpoint (ring reader and writer, topic publisher and subscriber) shares about closing."""


class Closeable:
    """Closed by ``close()``, by the end of a ``with`` block, or, if forgotten, when collected. ``close()`` is
    idempotent; a close at collection never raises."""

    __slots__ = ()

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass  # a half-made endpoint (its __init__ failed) or an interpreter shutting down
