"""A TCP proxy a test controls, to put a dependency through the failures real networks have:

* ``cut()``    close every connection and refuse new ones (a server that crashed: the client sees RST/EOF);
* ``freeze()`` keep every connection open but forward nothing, and accept new connections without
  answering them (a frozen host or a stalled network: no error, only silence);
* ``heal()``   forward again (frozen connections resume; cut ones stay gone).
"""

from __future__ import annotations

import selectors
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self.port = self._listener.getsockname()[1]
        self.mode = "pass"
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._held: list[socket.socket] = []  # accepted while frozen or cut
        self._lock = threading.Lock()
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._sel.register(self._listener, selectors.EVENT_READ, "accept")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()

    # --- control ------------------------------------------------------------------------
    def cut(self) -> None:
        with self._lock:
            self.mode = "cut"
            pairs, self._pairs = self._pairs, []
            held, self._held = self._held, []
        for a, b in pairs:
            self._drop(a)
            self._drop(b)
        for s in held:
            self._drop(s)
        self._wake()

    def freeze(self) -> None:
        with self._lock:
            self.mode = "freeze"
        self._wake()

    def heal(self) -> None:
        with self._lock:
            self.mode = "pass"
            held, self._held = self._held, []
        for s in held:  # a connection accepted while frozen: connect it now, as a late network would
            self._connect(s)
        self._wake()

    def close(self) -> None:
        self._stop = True
        self.cut()
        self._thread.join(5)
        self._listener.close()

    # --- loop ---------------------------------------------------------------------------
    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _drop(self, s: socket.socket) -> None:
        try:
            self._sel.unregister(s)
        except (KeyError, ValueError):
            pass
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST
            s.close()
        except OSError:
            pass

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=2)
            upstream.settimeout(None)
        except OSError:
            self._drop(client)
            return
        client.setblocking(False)
        upstream.setblocking(False)
        with self._lock:
            self._pairs.append((client, upstream))
        self._sel.register(client, selectors.EVENT_READ, upstream)
        self._sel.register(upstream, selectors.EVENT_READ, client)

    def _run(self) -> None:
        while not self._stop:
            frozen = self.mode == "freeze"
            for key, _ in self._sel.select(0.05):
                if key.data == "wake":
                    self._wake_r.recv(4096)
                    continue
                if key.data == "accept":
                    client, _ = self._listener.accept()
                    if self.mode == "cut":
                        self._drop(client)
                    elif self.mode == "freeze":
                        with self._lock:
                            self._held.append(client)
                    else:
                        self._connect(client)
                    continue
                if frozen:
                    continue  # leave the bytes where they are: silence
                src, dst = key.fileobj, key.data
                try:
                    data = src.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._close_pair(src, dst)
                    continue
                try:
                    dst.setblocking(True)
                    dst.sendall(data)
                    dst.setblocking(False)
                except OSError:
                    self._close_pair(src, dst)
            if frozen:
                threading.Event().wait(0.02)  # readable sockets would spin the loop

    def _close_pair(self, a: socket.socket, b: socket.socket) -> None:
        with self._lock:
            self._pairs = [p for p in self._pairs if a not in p]
        for s in (a, b):
            try:
                self._sel.unregister(s)
            except (KeyError, ValueError):
                pass
            try:
                s.close()
            except OSError:
                pass
