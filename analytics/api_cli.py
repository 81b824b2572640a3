"""``kiosk-analytics-api``: serve the data API, or make a token for its config file.

::

    kiosk-analytics-api new-token --name "store 42" --store store-042
    kiosk-analytics-api serve --config api.toml --db landed.sqlite --lake /srv/lake
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from analytics.api_auth import ApiConfigError, load_api_config, new_token, token_digest
from analytics.lake_target import open_lake
from analytics.queries import DashboardQueries, EventSource, LakeSource, SQLiteSource

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk-analytics-api",
        description="The analysts' data API: serve it (and its page at /), or make a token.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API and its page")
    serve.add_argument("--config", type=Path, required=True, help="the tokens (TOML)")
    serve.add_argument("--db", type=Path, required=True, help="the receiver's SQLite file")
    serve.add_argument("--lake", help="read the figures from this lake (folder or s3://...)")
    serve.add_argument("--lake-endpoint", help="an S3 endpoint other than AWS's")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (8080)")
    token = commands.add_parser("new-token", help="print a new token and its config entry")
    token.add_argument("--name", required=True, help="who the token is for")
    token.add_argument("--store", action="append", required=True, help="a store it reads (*: all)")
    token.add_argument("--sku", action="append", help="a brand's product (repeat)")
    return parser


def token_entry(name: str, stores: Sequence[str], skus: Sequence[str] | None, token: str) -> str:
    """The config file's ``[[tokens]]`` entry for ``token`` (its hash, never the token)."""
    lines = [
        "[[tokens]]",
        f"name = {json.dumps(name)}",
        f'sha256 = "{token_digest(token)}"',
        f"stores = {json.dumps(list(stores))}",
    ]
    if skus:
        lines.append(f"skus = {json.dumps(list(skus))}")
    return "\n".join(lines)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from analytics.api import ApiParts, create_app
    from analytics.api_fleet import FleetDatabase

    config = load_api_config(args.config)
    if not args.db.is_file():
        raise ApiConfigError(f"--db {args.db}: no such file (the receiver's SQLite file)")
    source: EventSource = (
        SQLiteSource(args.db)
        if args.lake is None
        else LakeSource(open_lake(args.lake, endpoint=args.lake_endpoint))
    )
    queries = DashboardQueries(source)
    try:
        app = create_app(ApiParts(config, FleetDatabase(args.db), queries))
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    finally:
        queries.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    if args.command == "new-token":
        token = new_token()
        print(f"token (give it to {args.name}; it is not kept anywhere): {token}", file=sys.stderr)
        print(token_entry(args.name, args.store, args.sku, token))
        return 0
    try:
        return _serve(args)
    except (ApiConfigError, ValueError) as exc:
        print(f"kiosk-analytics-api: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
