"""The console's words: Chinese shown, English beside for whoever maintains it.

Messages are plain: a manager at a county office must know at once what went wrong and what to
do. ``t(key, **values)`` gives the Chinese text with the values filled in.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "db_fault": ("操作异常！", "Operation failed (database fault)"),
    "no_account": ("账号不存在", "No such account"),
    "wrong_password": ("密码错误（还可再试{left}次）", "Wrong password ({left} tries left)"),
    "wrong_org": ("账号不属于所选单位", "The account does not belong to that organisation"),
    "locked": (
        "密码连续输错{times}次，账号已锁定，请{minutes}分钟后再试",
        "Too many wrong passwords: locked, try again in {minutes} minutes",
    ),
    "login_required": ("请先登录", "Please log in"),
    "not_allowed": ("无权进行此操作", "Not allowed for this account"),
    "not_found": ("未找到", "Not found"),
    "bad_form": ("提交无效，请刷新页面后重试", "Invalid submission, reload the page and retry"),
    "topup_done": ("已充值 {amount} 元，可用额度 {available} 元", "Topped up"),
    "topup_repeat": ("该充值已处理，未重复入账", "This top-up was already made, not repeated"),
    "command_sent": (
        "已下发“{command}”，终端下次心跳时执行",
        "Command queued; the terminal carries it out at its next heartbeat",
    ),
    "limit_done": (
        "离线限额已改为 {amount} 元，已通知 {terminals} 台终端重新签到",
        "Offline limit changed; the terminals are asked to sign on again",
    ),
    "cmd_1": ("锁定", "lock"),
    "cmd_2": ("解锁", "unlock"),
    "cmd_3": ("重新签到", "sign on again"),
    "kind_1": ("电费缴费", "bill payment"),
    "kind_2": ("预存", "prepayment"),
    "kind_3": ("购电", "card purchase"),
    "kind_4": ("补卡", "card reissue"),
    "kind_5": ("开卡", "card open"),
    "kind_6": ("离线缴费", "offline payment"),
    "role_company": ("公司", "company"),
    "role_station": ("供电所", "power supply station"),
    "role_agent": ("代收点", "agent"),
}


def t(key: str, **values: object) -> str:
    return TEXTS[key][0].format(**values)
