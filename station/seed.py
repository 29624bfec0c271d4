"""Demo data: a county's collection points, terminals, operators and about 200 customers.

Deterministic for a given day, so a demo and a test see the same people. Customers are mostly
postpaid with 1–4 unpaid months billed on the tiered tariff (earlier months paid, so the query
shows a year); every tenth is card-prepaid (half of them with a card, half waiting for one) and
every tenth remote-prepaid.

Well-known entries used by the README, the scenarios and the tests:

* terminal ``T0000001`` of agent ``A0001`` (城关镇代收点); its master key is
  ``demo_master_key("T0000001")``;
* operator ``100101`` with password ``123456`` at ``A0001``; ``200101`` belongs to ``A0002``;
* customer ``0100000123`` 王秀英, postpaid with two unpaid months (132 and 118 kWh, 132.08 元),
  last meter reading 23456.0 kWh;
* customer ``0100000005``, card-prepaid with card ``demo_card_serial("0100000005")``;
  ``0100000015``, card-prepaid without a card yet.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date

from station.ledger import Ledger
from station.routes import seed_demo_routes
from station.session import password_hash
from station.tariff import bill_fen
from terminal.protocol.records import MeterKind

DEMO_CARD_MASTER_KEY = bytes.fromhex("47524944504f532d44454d4f2d434d4b")
# The terminals' card access key (opens cards for writing; cannot create credit).
DEMO_CARD_ACCESS_KEY = bytes.fromhex("47524944504f532d4143434553532d31")
DEMO_PASSWORD = "123456"
CUSTOMERS = 200

AGENTS = (
    ("A0001", "城关镇代收点", 3_000_000, 50_000),
    ("A0002", "青山乡供电所", 2_000_000, 50_000),
    ("A0003", "石门村电工", 500_000, 20_000),
)
TERMINALS = (("T0000001", "A0001"), ("T0000002", "A0002"), ("T0000003", "A0003"))
OPERATORS = (("100101", "A0001"), ("100102", "A0001"), ("200101", "A0002"), ("300101", "A0003"))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = (
    "秀英",
    "桂英",
    "建华",
    "国强",
    "志刚",
    "玉兰",
    "海燕",
    "明",
    "伟",
    "芳",
    "军",
    "勇",
    "艳",
    "杰",
    "磊",
    "娟",
    "涛",
    "超",
    "春梅",
    "建国",
    "德胜",
    "小红",
    "文斌",
    "丽华",
    "永福",
    "金花",
    "大山",
    "春生",
    "翠兰",
    "长青",
)
TOWNSHIPS = ("城关镇", "青山乡", "石门镇", "龙潭乡", "白水镇")
VILLAGES = ("石门村", "柳树村", "河湾村", "高坪村", "桃花村", "松林村", "新庄村", "马家村")


def demo_master_key(terminal_id: str) -> bytes:
    """The demo terminal master key of ``terminal_id`` (never use demo keys in the field)."""
    return hashlib.sha256(f"gridpos demo TMK {terminal_id}".encode()).digest()[:16]


def demo_card_serial(customer_no: str) -> bytes:
    return bytes.fromhex("5a0000" + customer_no)


def demo_purchase_count(customer_no: str) -> int:
    """Purchases so far of a demo card customer: the demo card images carry the same count."""
    return 3 + int(customer_no) % 7


def customer_no(index: int) -> str:
    return f"01{index:08d}"


def _months_before(today: date, count: int) -> list[int]:
    """The ``count`` months before ``today``'s month, oldest first, as YYYYMM."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(year * 100 + month)
    return months[::-1]


def seed_demo(ledger: Ledger, today: date) -> bool:
    """Fill an empty ledger with the demo set; returns False if it already had data."""
    if not ledger.is_empty():
        return False
    rng = random.Random(2026)
    with ledger.atomic():
        ledger.set_param("card_master_key", DEMO_CARD_MASTER_KEY.hex())
        ledger.set_param("reissue_fee_fen", "2000")
        ledger.set_param("max_payment_fen", "500000")
        for agent_id, name, deposit, offline in AGENTS:
            ledger.add_agent(agent_id, name, deposit, offline)
        for terminal_id, agent_id in TERMINALS:
            ledger.add_terminal(terminal_id, agent_id, demo_master_key(terminal_id))
        for account, agent_id in OPERATORS:
            salt = hashlib.sha256(account.encode()).hexdigest()[:16]
            ledger.add_operator(account, agent_id, salt, password_hash(salt, DEMO_PASSWORD))
        for index in range(1, CUSTOMERS + 1):
            _seed_customer(ledger, rng, index, today)
        seed_demo_routes(ledger)
    return True


def _seed_customer(ledger: Ledger, rng: random.Random, index: int, today: date) -> None:
    number = customer_no(index)
    if index == 123:
        name, address = "王秀英", "青山乡石门村三组18号"
    else:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        address = (
            f"{rng.choice(TOWNSHIPS)}{rng.choice(VILLAGES)}"
            f"{rng.randint(1, 9)}组{rng.randint(1, 60)}号"
        )
    kind = {5: MeterKind.CARD_PREPAID, 7: MeterKind.REMOTE_PREPAID}.get(
        index % 10, MeterKind.POSTPAID
    )
    meter_no = "00" + number
    has_card = kind == MeterKind.CARD_PREPAID and index % 20 == 5
    purchase_count = demo_purchase_count(number) if has_card else 0
    reading = 0
    ledger.add_customer(number, name, address, int(kind), meter_no, purchase_count)
    if has_card:
        ledger.add_card(demo_card_serial(number), number)
    if kind != MeterKind.POSTPAID:
        return
    unpaid = 2 if index == 123 else rng.randint(1, 4)
    for position, month in enumerate(_months_before(today, 12)):
        summer_or_winter = month % 100 in (1, 2, 7, 8, 12)
        kwh = rng.randint(60, 180) + (rng.randint(80, 300) if summer_or_winter else 0)
        if index == 123 and position >= 10:
            kwh = (132, 118)[position - 10]  # the README example: 69.74 + 62.34 = 132.08 yuan
        amount = bill_fen(kwh)
        paid = amount if position < 12 - unpaid else 0
        reading += kwh * 10
        ledger.add_bill(number, month, kwh, amount, paid)
    if index == 123:
        reading = 234560  # 23456.0 kWh: the README's meter-reading example starts here
    ledger.set_reading(number, reading)
