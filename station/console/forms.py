"""Every form of the console with its checks and its plain Chinese messages.

A form that does not validate writes nothing: each view checks ``validate_on_submit`` (posts)
or ``validate`` (searches) before it touches the database, and shows the messages beside the
fields. Posting forms carry Flask-WTF's CSRF token; searches are GET forms without one, since
they change nothing and their address may be bookmarked or printed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

MAX_TOPUP_FEN = 100_000_000  # one million yuan in one top-up is surely a typing error
MAX_OFFLINE_FEN = 10_000_000  # the field's tag 9/tag 6 amounts stay far below this
MAX_DAYS = 366  # a search longer than a year is asked for in parts

REQUIRED = "必填"
DATE_FORMAT = "日期格式为 年-月-日，例如 2026-11-22"
TERMINAL_ID = Regexp(r"^[A-Za-z0-9]{8}$", message="终端号为8位字母或数字")
CUSTOMER_NO = Regexp(r"^\d{10}$", message="户号为10位数字")


def fen_of(text: str) -> int:
    """Yuan as typed ("1200", "1200.5", "1,200.50") to integer fen; ValueError when not money."""
    cleaned = text.strip().replace(",", "").replace("，", "")
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", cleaned):
        raise ValueError(text)
    try:
        return int(Decimal(cleaned) * 100)
    except InvalidOperation:
        raise ValueError(text) from None


class LoginForm(FlaskForm):
    org = SelectField("单位", validators=[DataRequired(REQUIRED)], validate_choice=False)
    account = StringField("账号", validators=[DataRequired(REQUIRED), Length(max=30)])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=100)])


class TopupForm(FlaskForm):
    amount = StringField("充值金额（元）", validators=[DataRequired(REQUIRED)])
    note = StringField("备注", validators=[Optional(), Length(max=40, message="备注最多40字")])
    token = HiddenField(validators=[Regexp(r"^[0-9a-f]{32}$", message="提交无效，请刷新页面")])

    def validate_amount(self, field) -> None:
        try:
            fen = fen_of(field.data or "")
        except ValueError:
            raise ValidationError("金额格式不对，例如 1000 或 1000.50") from None
        if fen <= 0:
            raise ValidationError("金额必须大于0")
        if fen > MAX_TOPUP_FEN:
            raise ValidationError("单笔充值不能超过1,000,000.00元")

    @property
    def fen(self) -> int:
        return fen_of(self.amount.data)


class LimitForm(FlaskForm):
    """The agent's offline limit: what its terminals may collect without the station."""

    offline_limit = StringField("离线限额（元）", validators=[DataRequired(REQUIRED)])

    def validate_offline_limit(self, field) -> None:
        try:
            fen = fen_of(field.data or "")
        except ValueError:
            raise ValidationError("金额格式不对，例如 500 或 500.50") from None
        if fen > MAX_OFFLINE_FEN:
            raise ValidationError("离线限额不能超过100,000.00元")

    @property
    def fen(self) -> int:
        return fen_of(self.offline_limit.data)


class NewOrgForm(FlaskForm):
    """A 供电所 under the company, or a collection point under a 供电所."""

    parent = SelectField("上级单位", validators=[DataRequired(REQUIRED)], validate_choice=False)
    name = StringField(
        "名称",
        validators=[DataRequired(REQUIRED), Length(max=30, message="名称最多30字")],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
    )


class AssignForm(FlaskForm):
    """Which collection point an agent works for."""

    agent = SelectField("代理商", validators=[DataRequired(REQUIRED)], validate_choice=False)
    point = SelectField("代收点", validators=[DataRequired(REQUIRED)], validate_choice=False)


class AccountForm(FlaskForm):
    """A console account for an organisation the manager sees; its role follows the org."""

    org = SelectField("单位", validators=[DataRequired(REQUIRED)], validate_choice=False)
    account = StringField(
        "账号",
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^[a-z0-9_]{3,30}$", message="账号为3到30位小写字母、数字或下划线"),
        ],
    )
    name = StringField("姓名", validators=[DataRequired(REQUIRED), Length(max=40)])
    password = PasswordField("初始密码", validators=[DataRequired(REQUIRED)])
    agent = SelectField("代理商（代收点账号）", validators=[Optional()], validate_choice=False)

    def validate_password(self, field) -> None:
        text = field.data or ""
        if len(text) < 8 or not re.search(r"[A-Za-z]", text) or not re.search(r"\d", text):
            raise ValidationError("密码至少8位，须含字母和数字")


class CommandForm(FlaskForm):
    command = StringField("指令", validators=[DataRequired(REQUIRED)])

    def validate_command(self, field) -> None:
        if field.data not in ("1", "2", "3"):  # lock, unlock, sign on again (field 59)
            raise ValidationError("无此指令")


class _Range(FlaskForm):
    """A date range of the station's days; at most ``MAX_DAYS``, the end not before the start."""

    class Meta:
        csrf = False

    start = DateField("起始日期", validators=[Optional()], format="%Y-%m-%d")
    end = DateField("截止日期", validators=[Optional()], format="%Y-%m-%d")

    def days(self, today: date) -> tuple[date, date]:
        return self.start.data or today, self.end.data or self.start.data or today

    def validate_end(self, field) -> None:
        first = self.start.data
        last = field.data
        if first and last and last < first:
            raise ValidationError("截止日期不能早于起始日期")
        if first and last and last - first >= timedelta(days=MAX_DAYS):
            raise ValidationError("查询期间最长一年，请分段查询")


def _date_messages(form: _Range) -> None:
    for field in (form.start, form.end):
        field.errors = [DATE_FORMAT if "date" in e else e for e in field.errors]


class PaymentSearch(_Range):
    org = SelectField("单位", validators=[Optional()], validate_choice=False)
    agent = SelectField("代收点", validators=[Optional()], validate_choice=False)
    terminal = StringField("终端号", validators=[Optional(), TERMINAL_ID])
    customer = StringField("户号", validators=[Optional(), CUSTOMER_NO])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _date_messages(self)
        return ok


class IntakeSearch(_Range):
    org = SelectField("单位", validators=[Optional()], validate_choice=False)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _date_messages(self)
        return ok


class ReconSearch(_Range):
    org = SelectField("单位", validators=[Optional()], validate_choice=False)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        _date_messages(self)
        return ok


class VerifyForm(FlaskForm):
    terminal = StringField("终端号", validators=[DataRequired(REQUIRED), TERMINAL_ID])
    trace = StringField(
        "流水号",
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^\d{1,6}$", message="流水号为1到6位数字"),
        ],
    )
    code = StringField(
        "校验码",
        validators=[
            DataRequired(REQUIRED),
            Regexp(r"^[A-Za-z0-9]{4,20}$", message="校验码为4到20位字母或数字"),
        ],
    )
    amount = StringField(
        "票面金额（元，可不填）",
        validators=[
            Optional(),
            Regexp(r"^\d{1,7}(\.\d{1,2})?$", message="金额为元，最多两位小数"),
        ],
    )
