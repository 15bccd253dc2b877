"""Start Debian's Janus (``/usr/bin/janus``) on free ports with a configuration Trygg writes itself.

Used by ``trygg demo`` and the tests; a production server runs Janus as a service with the same
settings (docs/meetings.md). What the generated configuration guarantees:

* only the VideoRoom plugin and the HTTP transport are loaded (fewer parts touching media);
* the Janus API and the admin API listen on 127.0.0.1 only, the admin API with a random secret;
* rooms can only be created with the VideoRoom ``admin_key``, which only Trygg knows, so nobody
  can make a room of their own on Trygg's Janus;
* no recording: no room is configured in the file, every room Trygg creates has ``record: false``
  and ``lock_record: true`` (R-MEET-02, R-MEET-16), and nothing in the configuration writes media.

Two demos can run side by side: each gets its own ports, RTP range and configuration folder.
"""

from __future__ import annotations

import ctypes
import glob
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

JANUS_BINARY = "/usr/bin/janus"
START_TIMEOUT = 15.0


class JanusNotAvailable(RuntimeError):
    """Janus is not installed here or did not start; the message says which, for the organiser's log."""


def janus_binary() -> str | None:
    """Return the Janus executable, or ``None`` when the Debian package is not installed."""
    found = shutil.which("janus")
    if found:
        return found
    return JANUS_BINARY if os.access(JANUS_BINARY, os.X_OK) else None


def _lib_folder(kind: str) -> str:
    matches = sorted(glob.glob(f"/usr/lib/*/janus/{kind}")) + sorted(glob.glob(f"/usr/lib/janus/{kind}"))
    if not matches:
        raise JanusNotAvailable(f"the Janus {kind} folder is missing")
    return matches[0]


def _die_with_parent() -> None:
    """In the child before exec: Linux sends Janus SIGTERM when the Trygg process that started it
    dies, however it dies (uvicorn re-raises the signal that stopped it, so no ``finally`` runs)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _others(folder: str, keep: str) -> str:
    """Return the comma list of every library in ``folder`` except ``keep``: Janus disables by file name."""
    names = sorted({Path(p).name for p in glob.glob(f"{folder}/libjanus_*.so")})
    return ",".join(n for n in names if n != keep)


@dataclass
class JanusServer:
    """A Janus process started by Trygg. ``url`` is its API (HTTP, long poll), ``admin_key`` the
    VideoRoom key that creating a room needs."""

    url: str
    admin_url: str
    admin_key: str
    admin_secret: str
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    rtp_range: tuple[int, int] = (0, 0)
    _own_folder: bool = field(default=True, repr=False)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def write_config(folder: Path, api_port: int, admin_port: int, admin_key: str, admin_secret: str,
                 rtp_range: tuple[int, int]) -> None:
    """Write janus.jcfg, the HTTP transport and the VideoRoom configuration into ``folder``."""
    plugins = _lib_folder("plugins")
    transports = _lib_folder("transports")
    (folder / "janus.jcfg").write_text(f"""
general: {{
    configs_folder = "{folder}"
    plugins_folder = "{plugins}"
    transports_folder = "{transports}"
    events_folder = "{_lib_folder('events')}"
    loggers_folder = "{_lib_folder('loggers')}"
    log_to_stdout = true
    debug_level = 3
    debug_timestamps = true
    admin_secret = "{admin_secret}"
    server_name = "Trygg Janus"
    session_timeout = 60
    # No plugin may write files in these folders: nothing Trygg runs records, and this keeps it so.
    protected_folders = ["/bin", "/boot", "/dev", "/etc", "/initrd", "/lib", "/lib32", "/lib64",
                         "/proc", "/sbin", "/sys", "/usr", "/var", "/opt", "/tmp", "/home", "/root", "/srv"]
}}
certificates: {{
}}
media: {{
    rtp_port_range = "{rtp_range[0]}-{rtp_range[1]}"
    no_media_timer = 2
}}
nat: {{
    nice_debug = false
    ice_ignore_list = "vmnet,docker,virbr"
}}
plugins: {{
    disable = "{_others(plugins, 'libjanus_videoroom.so')}"
}}
transports: {{
    disable = "{_others(transports, 'libjanus_http.so')}"
}}
loggers: {{
    disable = "{_others(_lib_folder('loggers'), '')}"
}}
events: {{
    broadcast = false
}}
""")
    (folder / "janus.transport.http.jcfg").write_text(f"""
general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    port = {api_port}
    ip = "127.0.0.1"
    https = false
}}
admin: {{
    admin_base_path = "/admin"
    admin_http = true
    admin_port = {admin_port}
    admin_ip = "127.0.0.1"
    admin_https = false
}}
cors: {{
}}
""")
    (folder / "janus.plugin.videoroom.jcfg").write_text(f"""
general: {{
    admin_key = "{admin_key}"
    lock_rtp_forward = true
    events = false
}}
""")


def start_janus(folder: Path | None = None, timeout: float = START_TIMEOUT,
                admin_key: str | None = None) -> JanusServer:
    """Start Janus on free ports and wait until its API answers; raise ``JanusNotAvailable`` if not.

    ``admin_key``: the VideoRoom key rooms are created with; servers of one deployment share one
    (``TRYGG_JANUS_ADMIN_KEY``). By default a random one.
    """
    binary = janus_binary()
    if binary is None:
        raise JanusNotAvailable("Janus is not installed (Debian package 'janus')")
    own = folder is None
    folder = Path(folder or tempfile.mkdtemp(prefix="trygg-janus-"))
    folder.mkdir(parents=True, exist_ok=True)
    api_port, admin_port = free_port(), free_port()
    # A random block of 400 UDP ports, so two servers side by side rarely even try the same port;
    # libnice skips a port that is taken.
    start = random.randrange(20000, 59000, 400)  # noqa: S311 - spreading ports, not a secret
    rtp_range = (start, start + 399)
    admin_key, admin_secret = admin_key or secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    write_config(folder, api_port, admin_port, admin_key, admin_secret, rtp_range)
    log_path = folder / "janus.log"
    log = log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own fixed command line
        [binary, "-C", str(folder / "janus.jcfg"), "-F", str(folder), "--disable-colors"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - a single prctl call, no locks or threads involved
    )
    server = JanusServer(url=f"http://127.0.0.1:{api_port}/janus", admin_url=f"http://127.0.0.1:{admin_port}/admin",
                         admin_key=admin_key, admin_secret=admin_secret, folder=folder, process=process,
                         log_path=log_path, rtp_range=rtp_range, _own_folder=own)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise JanusNotAvailable(f"Janus stopped at start: {tail[-500:]}")
        try:
            if requests.get(f"{server.url}/info", timeout=1).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.stop()
    raise JanusNotAvailable("Janus did not answer within its start time")
