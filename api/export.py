"""One alert as a ZIP file for someone outside CareWatch (police, insurer, the station's lawyer).

    path = export_alert(db, store, evidence_root, alert_id, exported_by="admin", now=time.time())

The archive holds:

- `alert.json`: the alert as stored now, every change of it (`history`) and its deliveries;
- `snapshot.jpg`, `clip.mp4`, `clip.json` (the clip's per-frame boxes and skeletons), each when
  it is on disk (retention may have deleted them);
- `audit.json`: the audit log entries about this alert (views, acknowledgement, exports, ...);
- `README.txt`: what this is, what each file holds, when and by whom it was exported.

Faces in `snapshot.jpg` and `clip.mp4` are pixelated at export (`api.export_blur`), whatever the
camera's `privacy.blur_faces` was when they were stored; a file whose recorded poses are missing
is left out rather than exported unblurred, and the README says why. `blur_faces=False` exports
the files as stored, with the exporter's `reason` in the README.

It is written to a temporary file (evidence clips may be large), which the caller sends and
then deletes.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.model import Alert
from alerts.store import AlertStore
from api.export_blur import BlurError, blurred_clip, blurred_snapshot
from api.tables.audit import AuditEntry
from api.tables.evidence import AlertHold


class UnknownAlertError(LookupError):
    """No alert with that id."""


def _when(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def audit_entries(db: Session, alert_id: str) -> list[dict[str, Any]]:
    """The audit log entries whose target is the alert, oldest first."""
    rows = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "alert")
        .where(AuditEntry.target_id == alert_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    return [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "role": e.role,
            "action": e.action,
            "details": e.details,
            "address": e.address,
        }
        for e in rows
    ]


def _evidence(root: Path, relpath: str | None, suffix: str = "") -> Path | None:
    """The evidence file when it is on disk inside the evidence folder."""
    if not relpath:
        return None
    path = (root / relpath).resolve()
    if suffix:
        path = path.with_suffix(suffix)
    return path if root in path.parents and path.is_file() else None


def _faces_line(blur: bool, exported_by: str, reason: str) -> str:
    if blur:
        return (
            "Faces in snapshot.jpg and clip.mp4 were pixelated at export, placed from the "
            "people's recorded face keypoints (as in the live view)."
        )
    return (
        f"Faces were exported as stored (not pixelated at export) by {exported_by}, "
        f"reason: {reason or '(none given)'}. They are pixelated only if the camera blurred them "
        "when recording."
    )


def _readme(
    alert: Alert,
    included: dict[str, str],
    missing: list[str],
    left_out: dict[str, str],
    faces: str,
    exported_by: str,
    now: float,
    hold: AlertHold | None,
) -> str:
    lines = [
        "CareWatch alert export",
        "======================",
        "",
        f"Alert {alert.id}: {alert.kind} on camera {alert.camera_id}"
        + (f", zone {alert.zone}" if alert.zone else ""),
        f"Detected {_when(alert.detected_at)}; severity {alert.severity}; state {alert.state}"
        + (f" ({alert.disposition})" if alert.disposition else ""),
        f"Exported {_when(now)} by {exported_by}.",
    ]
    if hold is not None:
        lines.append(f"Marked to keep by {hold.held_by} on {_when(hold.held_at)}: {hold.reason}")
    lines += ["", faces, "", "Files in this archive:"]
    lines += [f"  {name:<13} {what}" for name, what in included.items()]
    if missing:
        lines += ["", "Not included (not recorded, or deleted by the retention policy):"]
        lines += [f"  {name}" for name in missing]
    if left_out:
        lines += [
            "",
            "Left out because faces could not be pixelated in it (the stored file is kept; an "
            "admin can export it as stored, giving a reason):",
        ]
        lines += [f"  {name:<13} {why}" for name, why in left_out.items()]
    lines += [
        "",
        "Times in the JSON files are epoch seconds (UTC). This archive shows residents of the "
        "station: keep and share it only as the station's data protection rules allow.",
        "",
    ]
    return "\n".join(lines)


def export_alert(
    db: Session,
    store: AlertStore,
    evidence_root: Path,
    alert_id: str,
    *,
    exported_by: str,
    now: float,
    blur_faces: bool = True,
    reason: str = "",
    directory: Path | None = None,
) -> Path:
    """Write the alert's archive to a new temporary file (in `directory`) and return its path;
    the caller deletes it. `UnknownAlertError` when there is no such alert.

    With `blur_faces` the snapshot and clip go in with faces pixelated (or are left out when
    their poses are missing); without it they go in as stored, and `reason` (why) is written
    in the README."""
    alert = store.get(alert_id)
    if alert is None:
        raise UnknownAlertError(alert_id)
    root = evidence_root.resolve()
    hold = db.get(AlertHold, alert_id)
    record = {
        "alert": alert.to_dict(),
        "history": [c.to_dict() for c in store.history(alert_id)],
        "deliveries": [d.to_dict() for d in store.deliveries(alert_id)],
        "hold": None
        if hold is None
        else {"held_by": hold.held_by, "held_at": hold.held_at, "reason": hold.reason},
    }
    files = {
        "snapshot.jpg": (_evidence(root, alert.snapshot), "the picture taken at detection"),
        "clip.mp4": (_evidence(root, alert.clip), "the video around the event (H.264)"),
        "clip.json": (
            _evidence(root, alert.clip, ".json"),
            "per-frame boxes and skeletons of the clip, and when detection happened in it",
        ),
    }
    missing = [name for name, (path, _) in files.items() if path is None]
    with ExitStack() as temps:
        content: dict[str, Path | bytes] = {n: p for n, (p, _) in files.items() if p is not None}
        left_out: dict[str, str] = {}
        if blur_faces:
            _blur(content, left_out, temps, directory)
        included = {"alert.json": "the alert now, every change of it (history), its deliveries"}
        included |= {name: files[name][1] for name in content}
        included["audit.json"] = "audit log entries about this alert (who viewed or changed it)"
        included["README.txt"] = "this file"
        faces = _faces_line(blur_faces, exported_by, reason)
        readme = _readme(alert, included, missing, left_out, faces, exported_by, now, hold)
        fd, name = tempfile.mkstemp(prefix=f"carewatch-{alert_id}-", suffix=".zip", dir=directory)
        out = Path(name)
        try:
            with (
                os.fdopen(fd, "wb") as raw,
                zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive,
            ):
                archive.writestr("alert.json", json.dumps(record, indent=1))
                for arcname, data in content.items():  # JPEG and H.264 are compressed already
                    if isinstance(data, bytes):
                        archive.writestr(arcname, data, compress_type=zipfile.ZIP_STORED)
                    else:
                        archive.write(data, arcname, compress_type=zipfile.ZIP_STORED)
                archive.writestr("audit.json", json.dumps(audit_entries(db, alert_id), indent=1))
                archive.writestr("README.txt", readme)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
    return out


def _blur(
    content: dict[str, Path | bytes],
    left_out: dict[str, str],
    temps: ExitStack,
    directory: Path | None,
) -> None:
    """Replace the snapshot and clip in `content` by their face-blurred versions (the clip's a
    temporary file that `temps` removes); one whose poses are missing moves to `left_out`
    with the reason."""
    snapshot = content.get("snapshot.jpg")
    if isinstance(snapshot, Path):
        try:
            content["snapshot.jpg"] = blurred_snapshot(snapshot)
        except BlurError as exc:
            del content["snapshot.jpg"]
            left_out["snapshot.jpg"] = str(exc)
    clip = content.get("clip.mp4")
    if isinstance(clip, Path):
        try:
            content["clip.mp4"] = temps.enter_context(blurred_clip(clip, directory))
        except BlurError as exc:
            del content["clip.mp4"]
            left_out["clip.mp4"] = str(exc)
