"""``gridpos config check``: tell an installer whether a site file will load, before deploying."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", help="site configuration file (default: built-in defaults)"
    )


def run(args: argparse.Namespace) -> int:
    from config.loader import load_config

    config = load_config(args.file)
    print(f"{config.source}: ok")
    return 0
