"""User-facing texts for what the engine reports with stable codes (errors, notices).

The engine (``net/``, ``media/``, ``call.py``) never imports Qt, so its errors carry a code and
an English message; this module turns them into translated text for the UI.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from visio_desktop.call_state import Notice


def _t(text: str) -> str:
    return QCoreApplication.translate("Messages", text)


def error_text(exc: BaseException) -> str:
    """A translated sentence for an error raised while joining or in a call."""
    code = getattr(exc, "code", "")
    if code == "insecure" and type(exc).__name__ != "LinkError":
        return _t("Unencrypted addresses (http://) are only accepted for a server on this "
                  "computer: use https://.")
    if code == "throttled" and getattr(exc, "retry_after", None):
        return _t("Too many requests: try again in {0} s.").format(
            int(exc.retry_after))  # type: ignore[attr-defined]
    texts = {
        "empty": _t("Enter a meeting link or code."),
        "no_address": _t("This link has no address."),
        "no_meeting": _t("This link does not name a meeting (expected a code like "
                         "abc-defg-hij)."),
        "insecure": _t("Unencrypted links (http://) are only accepted on the local network."),
        "scheme": _t("This kind of link is not supported."),
        "not_found": _t("This meeting does not exist (check the link)."),
        "refused": _t("The server refused to let you join."),
        "unreachable": _t("The meeting server cannot be reached: check the network."),
        "timeout": _t("The meeting server did not answer in time."),
        "bad_answer": _t("The meeting server's answer was not understood."),
        "lobby": _t("This meeting has a waiting room."),
        "lobby_denied": _t("You were not let into the meeting."),
        "lobby_timeout": _t("Nobody let you into the meeting in time."),
        "lobby_cancelled": _t("You left the waiting room."),
        "unauthorized": _t("Sign in to do this."),
        "forbidden": _t("You are not allowed to do this."),
        "throttled": _t("Too many requests: wait a moment and try again."),
        "server": _t("The meeting server has a problem: try again later."),
        "certificate": _t("The meeting server's certificate is not trusted."),
        "proxy": _t("The proxy refused the connection or is not supported."),
        "session_expired": _t("Your session has expired: sign in again."),
        "participant_gone": _t("This participant is no longer in the meeting."),
        "no_microphone": _t("This participant has no microphone to mute."),
        "no_lobby": _t("This meeting has no waiting room."),
        "not_connected": _t("You are not connected to the meeting."),
        "not_authenticated": _t("Only participants signed in with an account can be made "
                                "administrators."),
        "wrong_room": _t("The server gave access to another meeting than the one asked for."),
    }
    if isinstance(exc, PermissionError):
        return _t("Only a meeting administrator can do this.")
    if code in texts:
        return texts[code]
    name = type(exc).__name__
    if name == "ConnectError":
        return _t("Could not join the meeting: {0}").format(str(exc))
    if isinstance(exc, OSError):
        return _t("Network error: {0}").format(str(exc))
    return _t("Something went wrong: {0}").format(str(exc) or name)


def notice_text(notice: Notice) -> str:
    """The toast text for a :class:`Notice` ("" for kinds the UI does not show)."""
    arg = notice.args[0] if notice.args else ""
    texts = {
        "participant_joined": _t("{0} joined the meeting"),
        "participant_left": _t("{0} left the meeting"),
        "hand_raised": _t("{0} raised their hand"),
        "muted_by": _t("{0} muted your microphone"),
        "permissions_removed": _t("An administrator changed what you may share"),
        "disconnected": _t("You were disconnected from the meeting"),
        "reconnecting": _t("Connection lost, reconnecting…"),
        "transcriptionStarted": _t("Transcription started"),
        "transcriptionStopped": _t("Transcription stopped"),
        "screenRecordingStarted": _t("Recording started"),
        "screenRecordingStopped": _t("Recording stopped"),
        "speaking_while_muted": _t("You are speaking while muted"),
        "microphone_lost": _t("Microphone {0} disconnected: using the system's default"),
        "speaker_lost": _t("Speakers {0} disconnected: using the system's default"),
    }
    text = texts.get(notice.kind, "")
    return text.format(arg) if text else ""
