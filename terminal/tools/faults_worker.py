"""The terminal side of ``gridpos faults``: the production terminal, driven by JSON lines.

Run as its own process (``python -m terminal.tools.faults_worker --config FILE``) so that a
power cut is a real SIGKILL. It builds the terminal exactly as ``gridpos run`` does
(``build_terminal``: journal, GPRS module driver, printer, card reader) and answers one JSON line
per request:

    {"op": "sign_on"} {"op": "pay", "kind": "bill", "customer": "0100000123"}
    {"op": "card", "amount": 5000} {"op": "resolve_card"} {"op": "recover"} {"op": "drain"}
    {"op": "settle"} {"op": "die_after", "appends": 3}
    {"op": "route_book"} {"op": "offline", "customer": "0100000001", "amount": 2000}

``die_after`` is the campaign's power switch: the process kills itself right after its k-th
journal append from then on. It wraps ``Journal.append`` in this process only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys


def arm_power_cut(appends: int) -> None:
    from offline_queue.journal import Journal

    original = Journal.append
    count = {"n": 0}

    def append(self, txn, event, payload=None):
        entry = original(self, txn, event, payload)
        count["n"] += 1
        if count["n"] >= appends:
            os.kill(os.getpid(), signal.SIGKILL)
        return entry

    Journal.append = append


async def serve(config) -> None:
    from drivers.transport import LinkError
    from terminal.app.run import build_terminal

    terminal, starter = build_terminal(config)
    if starter is not None:
        starter()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        request = json.loads(line)
        op = request["op"]
        answer: dict = {"op": op}
        try:
            await attempt(terminal, op, request, answer)
        except LinkError as exc:
            # What the product does with a link failure before any money moved: the desk
            # answers Failed(link=...), the screen says there is no link and nothing was
            # taken, and the operator tries again. The worker is that operator: one more try,
            # then the plain outcome "no_link" (counted, not hidden).
            # An order already made is the engine's to resolve from the journal: never again.
            first = f"{type(exc).__name__}: {exc}"
            try:
                if answer.get("order"):
                    raise
                answer = {"op": op, "retried_after": first}
                await attempt(terminal, op, request, answer)
            except LinkError as again:
                answer.update(ok=False, outcome="no_link", message=str(again))
            except Exception as other:  # reported as a raw error, and counted
                answer.update(ok=False, error=f"{type(other).__name__}: {other}")
        except Exception as exc:  # station, card errors and the like: report, keep serving
            answer.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        print(json.dumps(answer, ensure_ascii=False), flush=True)
    await terminal.link.close()
    terminal.journal.close()


async def attempt(terminal, op: str, request: dict, answer: dict) -> None:
    """One operator action; a LinkError before a payment started is raised to the caller."""
    from terminal.core.cash import Tender
    from terminal.core.requests import CardInHand, Customer, Pay, PayFlow, customer_of

    # Asked to, or about to serve a customer while not signed on (a power cut while
    # the station was down, or the station dropped the session keys): the operator
    # signs on, as the UI asks.
    if op == "sign_on" or (op in ("pay", "card", "route_book") and not terminal.session.signed_on):
        await terminal.sign_on("100101", "123456")
    if op == "die_after":
        arm_power_cut(request["appends"])
    elif op == "pay":
        kind = request["kind"]
        customer = request["customer"]
        if kind == "bill":
            info = customer_of(await terminal.session.inquire(customer_no=customer))
            amount = info.due_fen + request.get("extra", 0)
            pay = Pay(PayFlow.BILL, Tender(amount, amount, info.due_fen), info)
        else:
            fen = request["amount"]
            pay = Pay(PayFlow.PREPAY, Tender(fen, fen), Customer(customer))
        order = terminal.order(pay)
        answer["order"] = order.txn
        done = await terminal.run(order)
        answer.update(outcome=done.outcome.value, code=done.code, message=done.message)
    elif op == "card":
        data = await terminal.card.read()
        info = customer_of(await terminal.session.inquire(card_serial=data.info.serial))
        card = CardInHand(data.info.serial.hex(), data.purchase_count)
        fen = request["amount"]
        order = terminal.order(Pay(PayFlow.CARD, Tender(fen, fen), info, card))
        answer["order"] = order.txn
        done = await terminal.run(order)
        answer.update(outcome=done.outcome.value, code=done.code, message=done.message)
    elif op == "route_book":
        loaded = await terminal.offline.download()
        answer.update(customers=loaded.customers, pages=loaded.pages)
    elif op == "offline":
        # No coverage: the operator takes the payment against the route book, as the desk
        # offers (a plain refusal is an outcome, not an error).
        from terminal.shell.session import NotSignedOn, StationDeclined

        fen = request["amount"]
        try:
            customer = terminal.offline.find(request["customer"])
            done, order = await terminal.offline.take(
                Pay(PayFlow.PREPAY, Tender(fen, fen), customer)
            )
        except StationDeclined as refused:
            answer.update(outcome="refused", code=refused.code)
        except NotSignedOn:  # powered up with no coverage: no sign-on, nothing taken offline
            answer.update(outcome="refused", code="A3")
        else:
            answer.update(order=order.txn, outcome="offline", message=done.message)
    elif op == "resolve_card":
        for txn in terminal.journal.open_transactions():
            if terminal.journal.state(txn).value == "card_writing":
                done = await terminal.executor.resolve_card(txn)
                answer.setdefault("resolved", []).append(done.outcome.value)
    elif op == "recover":
        done = await terminal.recover()
        answer["recovered"] = [f.outcome.value for _, f in done]
    elif op == "drain":
        result = await terminal.drain_outbox()
        answer.update(
            delivered=result.delivered, remaining=result.remaining, problem=result.problem
        )
    elif op == "settle":
        outcome = await terminal.settle()
        answer.update(
            balanced=outcome.balanced,
            count=outcome.count,
            total=outcome.total_fen,
            differences=outcome.differences,
        )
    answer["ok"] = True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    from config.loader import load_config

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    logging.getLogger("gridpos.card").setLevel(logging.DEBUG)

    asyncio.run(serve(load_config(args.config)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
