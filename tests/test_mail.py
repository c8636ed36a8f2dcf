from __future__ import annotations

import datetime as dt
import email
import io
import ipaddress
import socket
import ssl
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from openpyxl import load_workbook
from reportdata import make_area
from sqlmodel import select

from store import Mail, Rectification
from reports.mail import send_lists
from reports.rectification import COLUMNS, XLSX_COLUMNS, items_by_department

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it accepted and can misbehave on request."""

    def __init__(self, refuse_rcpt: bool = False, close_after: int | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.refuse_rcpt = refuse_rcpt
        self.close_after = close_after

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.close_after is not None and len(self.messages) >= self.close_after:
            # The server goes away in the middle of the conversation.
            server.transport.close()
            return "421 4.3.0 closing"
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class Server:
    def __init__(self, handler: Inbox, **kwargs) -> None:
        self.port = free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self) -> Server:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def area_for(tmp_path: Path, port: int, **smtp):
    settings = {"host": "127.0.0.1", "port": port, "ssl": False, "retries": 2, "timeout": 10,
                "sender": "zwgk@qingxi.test", **smtp}
    return make_area(tmp_path, "http://127.0.0.1:9", runs=1, smtp=settings)


def mail_rows(area) -> list[Mail]:
    with area.store.session() as s:
        return list(s.exec(select(Mail).order_by(Mail.id)))


def xlsx_rows(msg: EmailMessage) -> list[tuple]:
    part = next(msg.iter_attachments())
    assert part.get_filename().endswith(".xlsx")
    wb = load_workbook(io.BytesIO(part.get_content()))
    return list(wb.active.iter_rows(values_only=True))


def test_each_department_gets_its_list_with_the_xlsx_attached(tmp_path: Path) -> None:
    inbox = Inbox()
    with Server(inbox) as srv:
        area = area_for(tmp_path, srv.port)
        outcome = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert outcome.ok and len(outcome.sent) == 2
    by_to = {m["X-Patrol-Department"]: m for m in inbox.messages}
    assert set(by_to) == {"zfb", "jyj"}
    jyj = by_to["jyj"]
    assert "区教育局" in jyj["Subject"] and "2026-10" in jyj["Subject"]
    assert sorted(inbox.envelopes[[m["X-Patrol-Department"] for m in inbox.messages].index("jyj")]) == \
        ["jyj2@qingxi.test", "jyj@qingxi.test"]
    html = jyj.get_body(("html",)).get_content()
    assert "整改清单" in html and "中华人民共合国" in html
    rows = xlsx_rows(jyj)
    assert list(rows[1]) == XLSX_COLUMNS
    items = items_by_department(area.store, area.runs[0], area.cfg)["jyj"]
    assert [r[2] for r in rows[2:]] == [i.label for i in items]
    # Recorded as sent, with the findings it covered, and followed up by the next run.
    rows_db = mail_rows(area)
    assert {r.department: r.status for r in rows_db} == {"zfb": "sent", "jyj": "sent"}
    assert all(r.sent_at is not None and r.message_id for r in rows_db)
    with area.store.session() as s:
        tracked = s.exec(select(Rectification)).all()
    assert len(tracked) == sum(len(v) for k, v in items_by_department(area.store, area.runs[0], area.cfg).items())


def test_mailing_again_sends_nothing_twice_unless_resend(tmp_path: Path) -> None:
    inbox = Inbox()
    with Server(inbox) as srv:
        area = area_for(tmp_path, srv.port)
        send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
        again = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
        assert len(inbox.messages) == 2
        assert {r.status for r in again.results} == {"already_sent"}
        resent = send_lists(area.store, area.runs[0], area.cfg, resend=True, departments=["jyj"], backoff_s=0)
    assert [r.department for r in resent.sent] == ["jyj"]
    assert len(inbox.messages) == 3
    assert sum(1 for r in mail_rows(area) if r.status == "sent") == 3


def test_server_refusing_recipients_is_reported_and_nothing_counts_as_sent(tmp_path: Path) -> None:
    inbox = Inbox(refuse_rcpt=True)
    with Server(inbox) as srv:
        area = area_for(tmp_path, srv.port)
        outcome = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert not outcome.ok and len(outcome.failed) == 2
    assert all("550" in r.error for r in outcome.failed)
    assert inbox.messages == []
    assert {r.status for r in mail_rows(area)} == {"failed"}
    with area.store.session() as s:
        assert s.exec(select(Rectification)).all() == []


def test_server_failing_midway_then_next_mail_sends_only_what_is_unsent(tmp_path: Path) -> None:
    flaky = Inbox(close_after=1)
    with Server(flaky) as srv:
        area = area_for(tmp_path, srv.port)
        outcome = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
        assert len(flaky.messages) == 1
    first = flaky.messages[0]["X-Patrol-Department"]
    assert [r.department for r in outcome.sent] == [first]
    assert len(outcome.failed) == 1 and outcome.failed[0].attempts == 2
    assert "重试" in outcome.failed[0].error
    assert "补发" in outcome.summary()
    # The server is back: the next `patrol mail` sends the other department only.
    healthy = Inbox()
    with Server(healthy) as srv2:
        area.cfg.smtp.port = srv2.port
        later = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert [m["X-Patrol-Department"] for m in healthy.messages] == [outcome.failed[0].department]
    assert {r.status for r in later.results} == {"sent", "already_sent"}
    statuses = [(r.department, r.status) for r in mail_rows(area)]
    assert sorted(statuses) == sorted([("zfb", "sent"), ("jyj", "sent")])   # the failed row became sent


def test_unreachable_server_is_retried_then_reported(tmp_path: Path) -> None:
    area = area_for(tmp_path, free_port(), retries=3)
    outcome = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert len(outcome.failed) == 2 and all(r.attempts == 3 for r in outcome.failed)
    assert all(r.attempts == 3 and r.status == "failed" for r in mail_rows(area))


def test_dry_run_writes_eml_files_and_sends_nothing(tmp_path: Path) -> None:
    inbox = Inbox()
    with Server(inbox) as srv:
        area = area_for(tmp_path, srv.port)
        outcome = send_lists(area.store, area.runs[0], area.cfg, dry_run=True, out_dir=tmp_path / "eml")
        assert inbox.messages == []
        files = sorted((tmp_path / "eml").glob("*.eml"))
        assert [f.name for f in files] == ["mail-jyj.eml", "mail-zfb.eml"]
        msg = email.message_from_bytes(files[0].read_bytes(), policy=policy.default)
        assert msg["X-Patrol-Department"] == "jyj" and "jyj@qingxi.test" in msg["To"]
        assert list(xlsx_rows(msg)[1]) == XLSX_COLUMNS
        assert {r.status for r in outcome.results} == {"dry_run"}
        # A dry run does not count as mailed: the real run still sends both.
        real = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert len(real.sent) == 2 and len(inbox.messages) == 2


def test_missing_password_variable_is_reported_without_connecting(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("PATROL_TEST_SMTP_PW", raising=False)
    inbox = Inbox()
    with Server(inbox) as srv:
        area = area_for(tmp_path, srv.port, user="zwgk", password_env="PATROL_TEST_SMTP_PW")
        outcome = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert len(outcome.failed) == 2 and "PATROL_TEST_SMTP_PW" in outcome.failed[0].error
    assert inbox.messages == []


def test_department_without_contacts_is_reported(tmp_path: Path) -> None:
    inbox = Inbox()
    with Server(inbox) as srv:
        area = area_for(tmp_path, srv.port)
        area.cfg.department("jyj").contacts = []
        outcome = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert [r.department for r in outcome.failed] == ["jyj"] and "联系人" in outcome.failed[0].error
    assert [m["X-Patrol-Department"] for m in inbox.messages] == ["zfb"]


# --- TLS -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "patrol test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _server_context(tls_files: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*tls_files)
    return ctx


def _auth(logins: list[str]):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
        if ok:
            logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)   # unhandled failure: the server answers 535
    return authenticator


def test_starttls_with_login_uses_the_password_from_the_environment(tmp_path: Path, tls_files, monkeypatch) -> None:
    monkeypatch.setenv("PATROL_TEST_SMTP_PW", "s3cret")
    inbox, logins = Inbox(), []
    with Server(inbox, tls_context=_server_context(tls_files), require_starttls=True,
                authenticator=_auth(logins), auth_require_tls=True) as srv:
        area = area_for(tmp_path, srv.port, ssl=False, starttls=True, user="zwgk",
                        password_env="PATROL_TEST_SMTP_PW", ca_file=str(tls_files[0]))
        outcome = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert outcome.ok and len(inbox.messages) == 2
    assert logins == ["zwgk"]       # one connection serves both departments


def test_implicit_ssl_and_wrong_password_is_reported(tmp_path: Path, tls_files, monkeypatch) -> None:
    monkeypatch.setenv("PATROL_TEST_SMTP_PW", "wrong")
    inbox, logins = Inbox(), []
    with Server(inbox, ssl_context=_server_context(tls_files), authenticator=_auth(logins),
                auth_require_tls=False) as srv:
        area = area_for(tmp_path, srv.port, ssl=True, user="zwgk", password_env="PATROL_TEST_SMTP_PW",
                        ca_file=str(tls_files[0]))
        outcome = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
        assert len(outcome.failed) == 2 and "登录失败" in outcome.failed[0].error
        monkeypatch.setenv("PATROL_TEST_SMTP_PW", "s3cret")
        fixed = send_lists(area.store, area.runs[0], area.cfg, backoff_s=0)
    assert len(fixed.sent) == 2 and len(inbox.messages) == 2
