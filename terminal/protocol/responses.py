"""Response codes (field 39): what each means, and what the screen tells the operator.

Each code is named once, in ``Code`` (the station answers with these names); ``CODES`` gives each
its meaning and texts. Texts are written for the person at the terminal: what happened, and what
to do next.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Code(enum.StrEnum):
    """Field 39 by name: what the station answered. Meanings and texts are in ``CODES``."""

    APPROVED = "00"
    INVALID = "12"
    INVALID_AMOUNT = "13"
    UNKNOWN_CUSTOMER = "14"
    INVALID_CARD = "15"
    NOTHING_DUE = "16"
    WRONG_METER_KIND = "17"
    CARD_MISMATCH = "18"
    READING_TOO_LOW = "19"
    CARD_EXISTS = "20"
    ORIGINAL_NOT_FOUND = "25"
    REVERSED = "40"
    LIMIT_TOO_LOW = "51"
    WRONG_PASSWORD = "55"
    UNKNOWN_OPERATOR = "56"
    WRONG_ORGANISATION = "57"
    OPERATOR_LOCKED = "58"
    ABOVE_SINGLE_LIMIT = "61"
    BATCH_MISMATCH = "77"
    BATCH_CLOSED = "78"
    KEY_REUSED = "94"
    OUT_OF_BALANCE = "95"
    SYSTEM_ERROR = "96"
    MAC_ERROR = "A0"
    UNKNOWN_TERMINAL = "A1"
    TERMINAL_LOCKED = "A2"
    NOT_SIGNED_ON = "A3"


# The station dropped this terminal's working key (bad MAC, not signed on, key expired): every
# request after one of these needs a fresh sign-on first. Checked in one place, the session.
KEY_DROPPED = frozenset({Code.MAC_ERROR, Code.NOT_SIGNED_ON, Code.BATCH_MISMATCH})


@dataclass(frozen=True)
class ResponseCode:
    """One response code: its meaning for the protocol, and what the screen says."""

    code: Code
    meaning: str  # for the protocol document and the log
    zh: str  # for the screen (default language)
    en: str


CODES: tuple[ResponseCode, ...] = (
    ResponseCode(Code.APPROVED, "approved", "交易成功", "Approved"),
    ResponseCode(
        Code.INVALID,
        "invalid request: a processing code not for this message, a missing field, trace 0,"
        " a protocol version not served, or a reversal that does not match its original",
        "交易无效，请联系供电公司",
        "Invalid request, call the utility",
    ),
    ResponseCode(
        Code.INVALID_AMOUNT,
        "invalid amount: zero (there is no other minimum), or a reissue charge that is not the fee",
        "金额无效，请重新输入",
        "Invalid amount, enter it again",
    ),
    ResponseCode(
        Code.UNKNOWN_CUSTOMER,
        "unknown customer number",
        "户号不存在，请核对后重新输入",
        "No such customer number, check and enter it again",
    ),
    ResponseCode(
        Code.INVALID_CARD,
        "unknown card, or a card that is no longer valid (reissued)",
        "卡片无效或已挂失补办，请使用新卡",
        "Card not valid (reissued?), use the new card",
    ),
    ResponseCode(
        Code.NOTHING_DUE,
        "nothing to pay: the bills are already paid",
        "该户无欠费，无需缴费",
        "No arrears, nothing to pay",
    ),
    ResponseCode(
        Code.WRONG_METER_KIND,
        "not allowed for this customer's meter kind",
        "该户电表类型不支持此业务",
        "Not possible for this customer's meter",
    ),
    ResponseCode(
        Code.CARD_MISMATCH,
        "card does not match the customer or its purchase count",
        "卡片与用户不符或购电次数不符，请先做电卡诊断",
        "Card does not match the customer, run card diagnosis first",
    ),
    ResponseCode(
        Code.READING_TOO_LOW,
        "meter reading lower than the last reading",
        "读数小于上次抄表读数，请核对",
        "Reading below the last reading, check it",
    ),
    ResponseCode(
        Code.CARD_EXISTS,
        "customer already has a valid card: reissue instead of opening one",
        "该户已开卡，卡丢失或损坏请办理补卡",
        "Customer already has a card, reissue instead",
    ),
    ResponseCode(
        Code.ORIGINAL_NOT_FOUND,
        "original transaction not found (advice for an unknown key)",
        "原交易不存在",
        "Original transaction not found",
    ),
    ResponseCode(
        Code.REVERSED,
        "declined: this transaction was already reversed",
        "该笔交易已冲正，请退还现金",
        "This transaction was reversed, hand the cash back",
    ),
    ResponseCode(
        Code.LIMIT_TOO_LOW,
        "agent's available limit is too low",
        "代收额度不足，请先充值保证金",
        "Agent limit too low, top up the deposit first",
    ),
    ResponseCode(
        Code.WRONG_PASSWORD,
        "wrong password",
        "密码错误，请重新输入",
        "Wrong password, enter it again",
    ),
    ResponseCode(
        Code.UNKNOWN_OPERATOR,
        "unknown operator account",
        "操作员账号不存在，请核对",
        "No such operator account, check it",
    ),
    ResponseCode(
        Code.WRONG_ORGANISATION,
        "operator does not belong to this terminal's organisation",
        "操作员不属于本代收点",
        "Operator does not belong to this collection point",
    ),
    ResponseCode(
        Code.OPERATOR_LOCKED,
        "operator account locked",
        "操作员账号已锁定，请联系供电公司",
        "Operator account locked, call the utility",
    ),
    ResponseCode(
        Code.ABOVE_SINGLE_LIMIT,
        "amount above the limit for one transaction",
        "金额超过单笔限额",
        "Amount above the single-transaction limit",
    ),
    ResponseCode(
        Code.BATCH_MISMATCH,
        "batch mismatch: sign on again",
        "批次号不符，请重新签到",
        "Batch mismatch, sign on again",
    ),
    ResponseCode(
        Code.BATCH_CLOSED,
        "batch already settled: its totals cannot change (a different 0500, or a reversal of a"
        " posted transaction of that batch)",
        "该批次已结算，不能再变更，请联系供电公司对账",
        "Batch already settled, reconcile with the utility",
    ),
    ResponseCode(
        Code.KEY_REUSED,
        "key already used for a different request: declined, nothing posted",
        "流水号重复，交易未处理，请重新签到",
        "Trace number reused, sign on again",
    ),
    ResponseCode(
        Code.OUT_OF_BALANCE,
        "settlement totals do not balance: reconcile details",
        "对账不平，正在核对明细",
        "Totals do not balance, checking details",
    ),
    ResponseCode(
        Code.SYSTEM_ERROR,
        "station system error: nothing posted",
        "主站系统故障，请稍后再试",
        "Station error, try again later",
    ),
    ResponseCode(
        Code.MAC_ERROR,
        "MAC error: nothing posted; sign on again",
        "报文校验错，请重新签到",
        "Message check failed, sign on again",
    ),
    ResponseCode(
        Code.UNKNOWN_TERMINAL,
        "unknown terminal",
        "终端未登记，请联系供电公司",
        "Terminal not registered, call the utility",
    ),
    ResponseCode(
        Code.TERMINAL_LOCKED,
        "terminal locked by the station",
        "终端已被主站锁定，请联系供电公司",
        "Terminal locked by the station, call the utility",
    ),
    ResponseCode(
        Code.NOT_SIGNED_ON,
        "not signed on, or keys expired: sign on again",
        "请重新签到",
        "Sign on again",
    ),
)

BY_CODE: dict[str, ResponseCode] = {c.code: c for c in CODES}

APPROVED = Code.APPROVED


def describe(code: str, locale: str = "zh_CN") -> str:
    """Operator text for a response code; unknown codes are shown with their code."""
    known = BY_CODE.get(code)
    if known is None:
        return f"主站返回未知代码 {code}" if locale == "zh_CN" else f"Station answered code {code}"
    return known.zh if locale == "zh_CN" else known.en
