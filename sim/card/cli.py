"""``gridpos sim card``: play a card image into pcscd's vpcd virtual reader.

Commands on standard input while it runs (one per line), for people and demo scripts:
``remove``, ``insert [IMAGE]``, ``tear before|after`` (the next write is pulled before or
after it commits), ``meter`` (take the card out, insert it into the simulated meter, put it
back), ``quit``. When standard input closes (``</dev/null``, nohup, a service manager) the card
stays in the reader until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", help="card image file (JSON); written back as the card changes")
    from sim.card.vpcd import PORT_ENV, vpcd_port

    parser.add_argument(
        "--vpcd",
        default=f"127.0.0.1:{vpcd_port()}",
        help=f"vpcd address (HOST:PORT; the port defaults to ${PORT_ENV}, else 35963)",
    )
    parser.add_argument(
        "--make-demo", metavar="DIR", help="write the demo card images into DIR and exit"
    )


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    if args.make_demo:
        for path in make_demo_images(Path(args.make_demo)):
            print(path)
        return 0
    if not args.image:
        print("gridpos: give --image FILE (or --make-demo DIR)", file=sys.stderr)
        return 2
    from sim.card.card import CardImage, VirtualCard
    from sim.card.vpcd import VpcdSlot
    from sim.serving import serve_until_stopped, stop_on_sigterm

    host, _, port = args.vpcd.rpartition(":")
    try:
        image = CardImage.load(args.image)
    except (OSError, ValueError) as exc:
        print(f"gridpos: {args.image}: {exc}", file=sys.stderr)
        return 2
    slot = VpcdSlot(host or "127.0.0.1", int(port))
    card = VirtualCard(image)
    try:
        slot.insert(card, args.image)
    except OSError as exc:
        print(
            f"gridpos: cannot reach vpcd at {args.vpcd} (is pcscd running?): {exc}", file=sys.stderr
        )
        return 1
    print(f"card {image.serial.hex()} in vpcd {args.vpcd}", flush=True)
    stop_on_sigterm()
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "quit":
                return 0
            if words[0] == "remove":
                slot.remove()
            elif words[0] == "insert":
                path = words[1] if len(words) > 1 else args.image
                card = VirtualCard(CardImage.load(path))
                slot.insert(card, path)
            elif words[0] == "tear" and len(words) == 2 and words[1] in ("before", "after"):
                card.tear = words[1]
            elif words[0] == "meter":
                _insert_into_meter(slot, card, args.image)
            else:
                print(f"unknown command: {line.strip()}", flush=True)
                continue
            print(f"ok {' '.join(words)}", flush=True)
        serve_until_stopped()
    except KeyboardInterrupt:
        pass
    finally:
        slot.remove()
    return 0


def _insert_into_meter(slot, card, image_path) -> None:
    from datetime import datetime

    from drivers.card import profile as p
    from sim.card.meter import SimMeter
    from station.seed import DEMO_CARD_MASTER_KEY

    slot.remove()
    customer = p.CustomerFile.unpack(card.image.files[p.FID_CUSTOMER])
    back = p.ReturnFile.unpack(card.image.files[p.FID_RETURN])
    if customer is not None:
        meter = SimMeter(
            customer.meter_no,
            customer.customer_no,
            back.meter_count if back else 0,
            back.remaining_fen if back else 0,
        )
        print(meter.insert(card.image, DEMO_CARD_MASTER_KEY, datetime.now()), flush=True)
    slot.insert(card, image_path)


def make_demo_images(folder):
    """A user card of demo customer 0100000005, two blank cards and a corrupt card."""
    from sim.card.card import blank_image, user_image
    from station.seed import (
        DEMO_CARD_ACCESS_KEY,
        DEMO_CARD_MASTER_KEY,
        demo_card_serial,
        demo_purchase_count,
    )

    folder.mkdir(parents=True, exist_ok=True)
    serial = demo_card_serial("0100000005")
    count = demo_purchase_count("0100000005")
    images = {
        "user-0100000005.json": user_image(
            serial, "0100000005", "000100000005", count, DEMO_CARD_MASTER_KEY, DEMO_CARD_ACCESS_KEY
        ),
        "blank.json": blank_image(
            bytes.fromhex("5b00000000000001"), DEMO_CARD_MASTER_KEY, DEMO_CARD_ACCESS_KEY
        ),
        "blank2.json": blank_image(
            bytes.fromhex("5b00000000000002"), DEMO_CARD_MASTER_KEY, DEMO_CARD_ACCESS_KEY
        ),
    }
    corrupt = user_image(
        serial, "0100000005", "000100000005", count, DEMO_CARD_MASTER_KEY, DEMO_CARD_ACCESS_KEY
    )
    corrupt.corrupt = True
    images["corrupt.json"] = corrupt
    paths = []
    for name, image in images.items():
        image.save(folder / name)
        paths.append(folder / name)
    return paths
