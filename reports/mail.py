"""Mailing each department its rectification list (HTML body, XLSX attached).

Idempotent per run: a department whose list the server accepted is not mailed again unless
``resend``.  A ``Mail`` row is written *before* sending (pending) and marked ``sent`` only
after the server accepted the message, so a crash can at worst send twice with the same
Message-ID, never lose a list.  Transient failures (connection lost, 4xx) are retried; a
department still unsent is reported as failed, and the next ``patrol mail`` sends it.
"""
from __future__ import annotations

import os
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from store import Mail, Store, utcnow
from reports.loop import record_mailed
from reports.rectification import (
    UNASSIGNED_NAME,
    Item,
    items_by_department,
    list_title,
    phones_by_department,
    render_list_html,
    safe_name,
    xlsx_bytes,
)

if TYPE_CHECKING:
    from common.config import Config, Smtp


@dataclass
class MailResult:
    department: str
    name: str
    status: str          # sent | failed | already_sent | dry_run | skipped
    recipients: list[str] = field(default_factory=list)
    items: int = 0
    attempts: int = 0
    error: str = ""
    path: Path | None = None        # the .eml written by a dry run
    message_id: str = ""


@dataclass
class MailOutcome:
    run_id: int
    results: list[MailResult] = field(default_factory=list)

    def _with(self, status: str) -> list[MailResult]:
        return [r for r in self.results if r.status == status]

    @property
    def sent(self) -> list[MailResult]:
        return self._with("sent")

    @property
    def failed(self) -> list[MailResult]:
        return self._with("failed")

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        words = {"sent": "已发送", "failed": "发送失败", "already_sent": "此前已发送，未重发",
                 "dry_run": "已写入", "skipped": "未发送"}
        lines = []
        for r in self.results:
            line = f"{r.name} ({r.department or '-'}): {words.get(r.status, r.status)}"
            if r.items:
                line += f"，{r.items} 项"
            if r.recipients and r.status in ("sent", "failed"):
                line += f" → {', '.join(r.recipients)}"
            if r.path:
                line += f" → {r.path}"
            if r.error:
                line += f"（{r.error}）"
            lines.append(line)
        if not lines:
            lines.append("本次巡检没有需要通知整改的问题。")
        if self.failed:
            lines.append(f"{len(self.failed)} 个部门未发送成功；再次运行 `patrol mail` 会补发。")
        return "\n".join(lines)


class _Permanent(Exception):
    """The server refused for good (5xx): retrying would not help."""


def build_message(store: Store, run_id: int, cfg: Config, department: str, items: list[Item],
                  message_id: str = "", phones: list[list[Any]] | None = None) -> EmailMessage:
    """The mail of one department's list; ``phones``: its rows of the 联系电话核查 sheet."""
    run = store.get_run(run_id)
    assert run is not None
    dep = cfg.department(department)
    dep_name = dep.name if dep else (department or UNASSIGNED_NAME)
    sender = cfg.smtp.sender or cfg.inspector.email or cfg.smtp.user
    msg = EmailMessage()
    msg["Subject"] = f"【整改通知】{run.period} 政府网站与政务新媒体巡检整改清单（{dep_name}）"
    msg["From"] = formataddr((cfg.inspector.name, sender)) if sender else cfg.inspector.name
    msg["To"] = ", ".join(formataddr((c.name, c.email)) for c in (dep.contacts if dep else []) if c.email)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id or _message_id(run_id, department, sender)
    msg["X-Patrol-Run"] = str(run_id)
    msg["X-Patrol-Department"] = department
    lines = [f"{dep_name}：", "",
             f"{cfg.inspector.name}于 {run.period} 巡检发现以下 {len(items)} 个问题，请在整改期限前完成整改。", ""]
    for n, item in enumerate(items, 1):
        lines.append(f"{n}. [{item.label}] {item.site}：{item.description}")
        lines.append(f"   问题页面：{item.page.splitlines()[0] if item.page else ''}")
        lines.append(f"   整改建议：{item.suggestion}  整改期限：{item.deadline.isoformat()}")
    msg.set_content("\n".join(lines) + "\n")
    msg.add_alternative(render_list_html(store, run_id, cfg, department, items, phones), subtype="html")
    title = list_title(store, run_id, cfg, department)
    msg.add_attachment(xlsx_bytes(title, items, run_id, department, phones), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       filename=f"整改清单-{dep_name}-{run.period}.xlsx")
    return msg


def _message_id(run_id: int, department: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] if "@" in sender else "patrol.invalid"
    return make_msgid(idstring=f"patrol.run{run_id}.{safe_name(department)}", domain=domain)


def send_lists(store: Store, run_id: int, cfg: Config, dry_run: bool = False, resend: bool = False,
               out_dir: Path | None = None, departments: list[str] | None = None, *,
               backoff_s: float = 2.0) -> MailOutcome:
    """Send (or with ``dry_run`` write as .eml) each department's list of run ``run_id``."""
    outcome = MailOutcome(run_id)
    lists = items_by_department(store, run_id, cfg)
    phones = phones_by_department(store, run_id)
    wanted = set(departments) if departments else None
    if out_dir is None:
        out_dir = Path(cfg.output) / f"run-{run_id}" / "mail"
    sender = _Sender(cfg.smtp, backoff_s) if not dry_run else None
    try:
        for department in sorted(lists, key=lambda d: (d == "", d)):
            if wanted is not None and department not in wanted:
                continue
            items = lists[department]
            dep = cfg.department(department)
            name = dep.name if dep else (department or UNASSIGNED_NAME)
            recipients = [c.email for c in (dep.contacts if dep else []) if c.email]
            result = MailResult(department, name, "skipped", recipients, items=len(items))
            outcome.results.append(result)
            if not department:
                result.error = "这些网站没有配置责任部门，请在配置中为其指定 department"
                continue
            last = _latest(store, run_id, department)
            if last is not None and last.status == "sent" and not resend and not dry_run:
                result.status, result.message_id = "already_sent", last.message_id
                result.error = f"已于 {last.sent_at:%Y-%m-%d %H:%M} 发送；使用 --resend 重发" if last.sent_at else ""
                continue
            if not recipients:
                result.status, result.error = "failed", f"部门 {department} 没有配置联系人邮箱（departments[].contacts）"
                if not dry_run:
                    _record(store, run_id, department, recipients, items, status="failed", error=result.error)
                continue
            row = _open_row(store, run_id, department, recipients, items)
            message = build_message(store, run_id, cfg, department, items, row.message_id,
                                    phones.get(department))
            result.message_id = str(message["Message-ID"])
            if dry_run:
                out_dir.mkdir(parents=True, exist_ok=True)
                path = out_dir / f"mail-{safe_name(department)}.eml"
                path.write_bytes(message.as_bytes())
                result.status, result.path = "dry_run", path
                _update(store, row.id, status="dry_run", message_id=result.message_id)
                continue
            assert sender is not None
            attempts, error, refused = sender.send(message, recipients,
                                                   _attempt_recorder(store, row, result.message_id))
            result.attempts = attempts
            if error:
                result.status, result.error = "failed", error
                _update(store, row.id, status="failed", error=error)
                continue
            result.status = "sent"
            if refused:
                result.error = "部分收件人被拒收：" + ", ".join(refused)
            _update(store, row.id, status="sent", sent_at=utcnow(), error=result.error)
            record_mailed(store, run_id, row.id, items)
    finally:
        if sender is not None:
            sender.close()
    return outcome


class _Sender:
    """One SMTP connection, reopened after a failure, with retries."""

    def __init__(self, smtp: Smtp, backoff_s: float):
        self.smtp = smtp
        self.backoff_s = backoff_s
        self.conn: smtplib.SMTP | None = None
        self.setup_error = ""
        if not smtp.host:
            self.setup_error = "smtp.host 未配置"
        elif smtp.user and not os.environ.get(smtp.password_env):
            self.setup_error = f"环境变量 {smtp.password_env} 未设置（SMTP 密码）"

    def _connect(self) -> smtplib.SMTP:
        s = self.smtp
        context = ssl.create_default_context(cafile=s.ca_file or None)
        if s.ssl:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls:
                conn.starttls(context=context)
        conn.ehlo_or_helo_if_needed()
        if s.user:
            conn.login(s.user, os.environ.get(s.password_env, ""))
        return conn

    def send(self, message: EmailMessage, recipients: list[str],
             on_attempt: Callable[[int], None]) -> tuple[int, str, list[str]]:
        """Try up to ``retries`` times; return (attempts, error or "", refused recipients)."""
        if self.setup_error:
            return 0, self.setup_error, []
        tries = max(1, self.smtp.retries)
        error = ""
        for attempt in range(1, tries + 1):
            on_attempt(attempt)
            try:
                if self.conn is None:
                    self.conn = self._connect()
                refused = self.conn.send_message(message, to_addrs=recipients)
                return attempt, "", sorted(refused)
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _ in exc.recipients.values()]
                error = "收件人被拒收：" + "; ".join(f"{r} {c} {_text(m)}" for r, (c, m) in exc.recipients.items())
                self._drop()
                if all(500 <= c < 600 for c in codes):
                    return attempt, error, []
            except smtplib.SMTPAuthenticationError as exc:
                self._drop()
                return attempt, f"SMTP 登录失败：{exc.smtp_code} {_text(exc.smtp_error)}", []
            except smtplib.SMTPResponseException as exc:
                error = f"服务器拒绝：{exc.smtp_code} {_text(exc.smtp_error)}"
                self._drop()
                if 500 <= exc.smtp_code < 600:
                    return attempt, error, []
            except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                self._drop()
            if attempt < tries and self.backoff_s > 0:
                time.sleep(self.backoff_s * attempt)
        return tries, f"重试 {tries} 次后仍失败：{error}", []

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001, S110 - the connection is gone either way
                pass
        self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except Exception:  # noqa: BLE001, S110 - closing after use; nothing to report
                pass
            self._drop()


def _attempt_recorder(store: Store, row: Mail, message_id: str) -> Callable[[int], None]:
    """Marks the row pending with its attempt count before each try, so a crash leaves a trace."""
    first = row.attempts

    def record(n: int) -> None:
        _update(store, row.id, status="pending", attempts=first + n, message_id=message_id)
    return record


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# --- Mail rows -------------------------------------------------------------------------------

def _latest(store: Store, run_id: int, department: str) -> Mail | None:
    with store.session() as s:
        q = (select(Mail).where(Mail.run_id == run_id, Mail.department == department)
             .order_by(Mail.id.desc()))  # type: ignore[union-attr]
        sent = s.exec(q.where(Mail.status == "sent")).first()
        return sent or s.exec(q).first()


def _open_row(store: Store, run_id: int, department: str, recipients: list[str], items: list[Item]) -> Mail:
    """The row this attempt writes to: the latest unsent one, or a new one (first send, resend)."""
    fps = [fp for item in items for fp in item.fingerprints]
    with store.session() as s:
        row = s.exec(select(Mail).where(Mail.run_id == run_id, Mail.department == department)
                     .order_by(Mail.id.desc())).first()  # type: ignore[union-attr]
        if row is None or row.status == "sent":
            row = Mail(run_id=run_id, department=department)
        row.recipients = ", ".join(recipients)
        row.fingerprints = fps
        s.add(row)
        s.commit()
        s.refresh(row)
        return row


def _record(store: Store, run_id: int, department: str, recipients: list[str], items: list[Item],
            **values: object) -> None:
    row = _open_row(store, run_id, department, recipients, items)
    _update(store, row.id, **values)


def _update(store: Store, row_id: int | None, **values: object) -> None:
    with store.session() as s:
        row = s.get(Mail, row_id)
        if row is None:
            return
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)
        s.commit()
