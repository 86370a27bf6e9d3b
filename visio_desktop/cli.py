"""``visio-desktop [serve|token|join]``; with no command, the desktop application."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from visio_desktop import __version__
from visio_desktop.net.token import VideoGrants, create_token, parse_duration


def _keys(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    key, sep, secret = text.partition(":")
    if not sep or not key or not secret:
        raise argparse.ArgumentTypeError("keys are given as KEY:SECRET")
    return {key: secret}


def _serve(args: argparse.Namespace) -> int:
    from visio_desktop.server import RoomServer
    from visio_desktop.server.app import DEV_KEYS, is_loopback

    keys = _keys(args.keys)
    if keys is None:
        if not is_loopback(args.bind):
            print("visio-desktop serve: binding a non-loopback address requires --keys KEY:SECRET",
                  file=sys.stderr)
            return 2
        keys = dict(DEV_KEYS)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def run() -> None:
        server = RoomServer(host=args.bind, port=args.port, keys=keys)
        await server.start()
        print(f"ready {server.url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # Windows
                signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
        await stop.wait()
        await server.stop()

    try:
        asyncio.run(run())
    except OSError as exc:
        print(f"visio-desktop serve: cannot listen on {args.bind}:{args.port}: {exc}",
              file=sys.stderr)
        return 1
    return 0


def _token(args: argparse.Namespace) -> int:
    keys = _keys(args.keys) or {"devkey": "secret"}
    ((key, secret),) = keys.items()
    grants = VideoGrants(room=args.room)
    try:
        for item in args.grant:
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"grant {item!r} is not NAME=VALUE")
            grants.set_grant(name, value)
        ttl = parse_duration(args.ttl)
    except ValueError as exc:
        print(f"visio-desktop token: {exc}", file=sys.stderr)
        return 2
    print(create_token(key, secret, identity=args.identity, name=args.name or "",
                       grants=grants, ttl=ttl))
    return 0


def _join(args: argparse.Namespace) -> int:
    import json

    from visio_desktop.headless import HeadlessOptions, HeadlessParticipant

    if not args.headless:
        print("visio-desktop join: only --headless is available until the desktop window lands",
              file=sys.stderr)
        return 2
    if not args.token:
        from visio_desktop.net.links import LinkError, parse_link

        try:
            parse_link(args.url)  # a meeting link: joined through the instance's API
        except LinkError as exc:
            if args.url.lower().startswith(("ws://", "wss://")):
                print("visio-desktop join: --token is required for a LiveKit address",
                      file=sys.stderr)
            else:
                print(f"visio-desktop join: {exc}", file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = HeadlessOptions(url=args.url, token=args.token, name=args.name or "",
                              video=args.video, audio=args.audio, screen=args.screen,
                              send_chat=list(args.send_chat), duration_s=args.duration,
                              lobby_timeout_s=args.lobby_timeout)
    report = asyncio.run(HeadlessParticipant(options).run())
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as out:
            out.write(text + "\n")
    else:
        print(text)
    for error in report["errors"]:
        print(f"visio-desktop join: {error}", file=sys.stderr)
    return 0 if report["joined"] and report["left_cleanly"] and not report["errors"] else 1


def _gui(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from visio_desktop.ui.app import run

    media = {k: v for k, v in (("camera", args.camera), ("microphone", args.microphone),
                               ("speaker", args.speaker)) if v}
    return run(media=media, join=args.link, language=args.lang)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="visio-desktop",
        description="Visio Desktop. With no command it opens the window "
                    "(visio-desktop [LINK] [--camera ...]; see visio-desktop gui --help).")
    parser.add_argument("--version", action="version", version=f"visio-desktop {__version__}")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="run the embedded room server")
    serve.add_argument("--bind", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=7880)
    serve.add_argument("--keys", help="API key pair KEY:SECRET (default devkey:secret, "
                       "loopback only)")
    serve.add_argument("-v", "--verbose", action="store_true", help="log joins and leaves")
    serve.set_defaults(func=_serve)

    token = sub.add_parser("token", help="print an access token")
    token.add_argument("--room", required=True)
    token.add_argument("--identity", required=True)
    token.add_argument("--name")
    token.add_argument("--keys", help="API key pair KEY:SECRET (default devkey:secret)")
    token.add_argument("--ttl", default="6h", help="validity, e.g. 30m, 6h, 1d")
    token.add_argument("--grant", action="append", default=[],
                       help="override a grant, e.g. can_publish=false (repeatable)")
    token.set_defaults(func=_token)

    join = sub.add_parser("join", help="join a room")
    join.add_argument("url", help="a meeting link (https://instance/abc-defg-hij), or a LiveKit "
                      "server address (ws://, wss://, http://, https://) with --token")
    join.add_argument("--token", help="LiveKit access token (without it, the URL is a meeting "
                      "link joined through the instance's API and its waiting room)")
    join.add_argument("--headless", action="store_true", help="no window: publish and report")
    join.add_argument("--name", help="display name")
    join.add_argument("--lobby-timeout", type=float, default=600.0, metavar="S",
                      help="seconds to wait in a waiting room before giving up (default 600)")
    join.add_argument("--video", default="test-pattern", help="test-pattern, a file, or none")
    join.add_argument("--audio", default="tone", help="tone, a file, or none")
    join.add_argument("--screen", default="none", help="test-pattern or none")
    join.add_argument("--send-chat", action="append", default=[], metavar="TEXT")
    join.add_argument("--duration", type=float, default=10.0, help="seconds in the room")
    join.add_argument("--report", help="write the JSON report to this file")
    join.add_argument("-v", "--verbose", action="store_true")
    join.set_defaults(func=_join)
    return parser


def build_gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="visio-desktop [gui]",
                                     description="Open the Visio Desktop window")
    parser.add_argument("link", nargs="?", help="a meeting link or code to open")
    parser.add_argument("--camera", help="camera: a device, test-pattern or none")
    parser.add_argument("--microphone", help="microphone: a device id, tone or none")
    parser.add_argument("--speaker", help="speakers: a device id or none")
    parser.add_argument("--lang", choices=["fr", "en"], help="interface language")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    return parser


COMMANDS = ("serve", "token", "join")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "gui":
        return _gui(build_gui_parser().parse_args(argv[1:]))
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        return _gui(build_gui_parser().parse_args(argv))
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
