"""Serving the dashboard safely, against the real Streamlit server and raw network clients.

No health data reaches a WebSocket client that has not logged in; a foreign Host header (the
DNS-rebinding shape) is refused; desk mode is refused off loopback; TLS serves HTTPS.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from sensorhub.cli import main
from sensorhub.cli.dashboard import dashboard_command, dashboard_environment
from sensorhub.store import Store
from tests.e2e.conftest import free_port, wait_http_ok
from tests.support.care import CareHome, seed_care_home

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, CareHome]]:
    """The real dashboard (the command `sensorhub dashboard` runs) over a seeded care home."""
    folder = tmp_path_factory.mktemp("serving")
    url = f"sqlite:///{folder / 'care.db'}"
    store = Store.open(url)
    home = seed_care_home(store)
    store.close()
    port = free_port()
    with (folder / "dashboard.log").open("wb") as log:
        process = subprocess.Popen(
            dashboard_command(port=port), env=dashboard_environment(url),
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_http_ok(f"http://127.0.0.1:{port}/_stcore/health", 60)
            yield port, home
        finally:
            process.terminate()
            process.wait(10)


def _handshake(port: int, host: str) -> tuple[str, socket.socket]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://{host}\r\nSec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return head.decode(errors="replace").split("\r\n", 1)[0], sock


def test_a_foreign_host_header_is_refused(served: tuple[int, CareHome]) -> None:
    port, _ = served
    status, sock = _handshake(port, f"attacker.example:{port}")
    sock.close()
    assert " 403 " in status
    status, sock = _handshake(port, f"127.0.0.1:{port}")
    sock.close()
    assert " 101 " in status


def _send_frame(sock: socket.socket, payload: bytes) -> None:
    # A masked binary frame (RFC 6455 section 5.2), as every client must send.
    mask = os.urandom(4)
    header = bytearray([0x82])
    if len(payload) < 126:
        header.append(0x80 | len(payload))
    else:
        header.append(0x80 | 126)
        header += len(payload).to_bytes(2, "big")
    sock.sendall(bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def _read_frame(sock: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(exactly(2), "big")
    elif length == 127:
        length = int.from_bytes(exactly(8), "big")
    payload = exactly(length)
    return payload if first & 0x0F in (0x1, 0x2, 0x0) else b""


def test_a_websocket_without_a_session_gets_the_login_form_and_no_health_data(
    served: tuple[int, CareHome],
) -> None:
    port, home = served
    status, sock = _handshake(port, f"127.0.0.1:{port}")
    assert " 101 " in status
    rerun = BackMsg()
    rerun.rerun_script.query_string = ""
    rerun.rerun_script.page_script_hash = ""
    _send_frame(sock, rerun.SerializeToString())
    received = b""
    finished = False
    deadline = time.monotonic() + 60  # a generous bound for a loaded machine, not a timing
    while not finished and time.monotonic() < deadline:
        payload = _read_frame(sock)
        received += payload
        message = ForwardMsg()
        try:
            message.ParseFromString(payload)
        except Exception:
            continue
        finished = message.WhichOneof("type") == "script_finished"
    sock.close()
    assert finished, "the script never finished"
    assert b"Username" in received  # the login form was sent
    for secret in (home.shared_name, home.unshared_name, home.twin_name, home.shared_message,
                   "Band of", "polar-h10"):  # fmt: skip
        assert secret.encode() not in received


def test_desk_mode_is_refused_on_a_network_address(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["dashboard", "--address", "0.0.0.0", "--login-as", "ada"])
    assert status == 1
    err = capsys.readouterr().err
    assert "--login-as serves without a login, so only on this computer" in err


def test_half_a_tls_pair_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    assert main(["dashboard", "--tls-cert", str(cert)]) == 1
    assert "--tls-cert and --tls-key go together" in capsys.readouterr().err


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_serves_https(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    url = f"sqlite:///{tmp_path / 'care.db'}"
    Store.open(url).close()
    port = free_port()
    process = subprocess.Popen(
        dashboard_command(port=port, tls_cert=cert, tls_key=key),
        env=dashboard_environment(url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        context = ssl.create_default_context(cafile=str(cert))
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"https://localhost:{port}/_stcore/health", context=context, timeout=2
                ) as response:
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        with pytest.raises(OSError):  # plain HTTP is not served beside HTTPS
            urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2)
    finally:
        process.terminate()
        process.wait(10)
