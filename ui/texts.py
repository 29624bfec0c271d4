"""Every word the terminal shows, in Chinese (default) and English.

Written for a village electrician with a queue in front of him: what happened, and what to do
next. ``t(key, locale, **values)`` fills the placeholders.
"""

from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    # idle and login
    "app": ("电费代收终端", "Electricity payment terminal"),
    "idle": ("请按确认键登录", "Press OK to log in"),
    "idle_signed": ("按确认键进入主菜单", "Press OK for the main menu"),
    "login": ("操作员登录", "Operator login"),
    "account": ("操作员号", "Operator number"),
    "password": ("密码", "Password"),
    "signing_on": ("正在签到，请稍候…", "Signing on, please wait…"),
    "no_station": (
        "无法连接主站：{reason}。请检查信号后重试",
        "Cannot reach the station: {reason}. Check the signal and try again",
    ),
    "login_locked": (
        "登录失败次数过多，终端已锁定，请联系供电公司",
        "Too many failed logins: terminal locked, call the utility",
    ),
    "signed_on": ("签到成功，批次{batch}", "Signed on, batch {batch}"),
    # main menu
    "main": ("主菜单", "Main menu"),
    "m_pay": ("电费缴费", "Bill payment"),
    "m_query": ("用户查询", "Customer query"),
    "m_prepay": ("预存电费", "Prepayment"),
    "m_card": ("购电（IC卡）", "Card purchase"),
    "m_cardsvc": ("电卡服务", "Card service"),
    "m_meter": ("抄表收费", "Meter reading"),
    "m_stats": ("统计", "Statistics"),
    "m_settle": ("对账结算", "Reconcile and settle"),
    "m_pending": ("待处理事项", "Pending items"),
    "m_admin": ("管理", "Administration"),
    # entry
    "customer_no": ("户号（10位）", "Customer number (10 digits)"),
    "bad_customer_no": (
        "户号应为10位数字，请重新输入",
        "A customer number has 10 digits, enter it again",
    ),
    "querying": ("正在查询…", "Querying…"),
    "name": ("户名", "Name"),
    "address": ("地址", "Address"),
    "due": ("应缴", "Due"),
    "credit": ("预存余额", "Credit"),
    "arrears": ("欠费", "Arrears"),
    "no_arrears": ("该户无欠费", "Nothing owed"),
    "yuan": ("{amount}元", "{amount} yuan"),
    "bill_due": ("{month} {kwh}度 {amount}元", "{month} {kwh} kWh {amount} yuan"),
    "ok_to_go_on": ("确认=继续  取消=返回", "OK=continue  CANCEL=back"),
    "cash": ("收取现金（元）", "Cash received (yuan)"),
    "amount": ("金额（元）", "Amount (yuan)"),
    "bad_amount": ("金额格式不对，例如 150 或 150.50", "Amount not understood, e.g. 150 or 150.50"),
    "cash_short": ("现金不足：应缴{due}元", "Not enough cash: {due} yuan due"),
    "over_limit": ("金额超过单笔限额{limit}元", "Amount above the limit of {limit} yuan"),
    "below_min": ("金额不能少于{minimum}元", "Amount must be at least {minimum} yuan"),
    "roundup": (
        "实收{amount}元，找零{change}元，{credit}元转入下月电费",
        "Take {amount}, change {change}, {credit} carried to next month",
    ),
    "roundup_keys": (
        "确认=转存  取消=不转存（找零{change}元）",
        "OK=carry  CANCEL=no (change {change})",
    ),
    "confirm_pay": ("确认缴费", "Confirm payment"),
    "pay_line": (
        "缴费{amount}元  收现金{cash}元  找零{change}元",
        "Pay {amount}  cash {cash}  change {change}",
    ),
    "ok_confirm": ("确认=提交  取消=返回", "OK=submit  CANCEL=back"),
    "sending": ("正在提交，请勿关机…", "Sending, do not switch off…"),
    "approved": ("交易成功", "Approved"),
    "give_change": ("请找零{change}元", "Give {change} yuan change"),
    "receipt_printed": ("票据已打印", "Receipt printed"),
    "receipt_not_printed": (
        "票据未打印（{reason}），装纸后在管理菜单重打",
        "Receipt not printed ({reason}); reprint from Administration",
    ),
    "declined": ("交易失败：{text}", "Declined: {text}"),
    "ask_wait": ("主站无应答，交易结果未知", "No answer from the station: outcome unknown"),
    "ask_wait_keys": (
        "确认=继续等待  取消=放弃并退还现金",
        "OK=keep waiting  CANCEL=give up, hand the cash back",
    ),
    "reversal_hand_back_cash": (
        "交易已取消（冲正待上送），请退还现金{cash}元",
        "Cancelled (reversal queued): hand back {cash} yuan",
    ),
    "card_not_written_hand_back_cash": (
        "写卡失败，交易已冲正，请退还现金{cash}元",
        "Card not written, reversed: hand back {cash} yuan",
    ),
    "card_pulled_reinsert": (
        "写卡中断！请重新插入同一张卡",
        "Write interrupted! Insert the same card again",
    ),
    "card_other_hand_back_cash": (
        "插入的不是原卡，交易已冲正，请退还现金{cash}元",
        "Not the same card: reversed, hand back {cash} yuan",
    ),
    "card_given_up_hand_back_cash": (
        "已放弃写卡，交易已冲正，请退还现金{cash}元",
        "Card given up: reversed, hand back {cash} yuan",
    ),
    "card_back_keys": ("确认=卡已插回  取消=放弃写卡", "OK=card is back  CANCEL=give up"),
    "card_give_up_ask": (
        "原卡不再插回？放弃后交易冲正，现金退还客户",
        "The card will not come back? Giving up reverses it; the cash goes back",
    ),
    "card_give_up_keys": (
        "确认=放弃并冲正  取消=继续等卡",
        "OK=give up, reverse  CANCEL=wait for the card",
    ),
    "press_any": ("按确认键返回", "Press OK to go back"),
    # query
    "query": ("用户查询", "Customer query"),
    "bill_line": ("{month} {kwh}度 {amount}元 {state}", "{month} {kwh}kWh {amount} {state}"),
    "paid": ("已缴", "paid"),
    "unpaid": ("未缴", "unpaid"),
    "payments": ("近期缴费", "Recent payments"),
    "payment_line": ("{day} {amount}元", "{day} {amount} yuan"),
    # card
    "insert_card": ("请插入购电卡", "Insert the purchase card"),
    "insert_blank": ("请插入新卡（空白卡）", "Insert a new (blank) card"),
    "reading_card": ("正在读卡，请勿拔卡…", "Reading the card, do not remove it…"),
    "writing_card": ("正在写卡，请勿拔卡…", "Writing the card, do not remove it…"),
    "card_error": ("读卡失败：{reason}", "Card error: {reason}"),
    "no_card_reader": ("未接读卡器", "no card reader"),
    "disk_full": (
        "存储空间不足，已暂停收费，未收款。请联系供电公司",
        "Storage nearly full: payments stopped, nothing taken. Call the utility",
    ),
    "card_info": ("卡号{serial}  购电次数{count}", "Card {serial}  purchases {count}"),
    "card_done": ("写卡成功，请将卡插入电表", "Card written: insert it into the meter"),
    "cardsvc": ("电卡服务", "Card service"),
    "c_diag": ("电卡诊断", "Diagnose card"),
    "c_open": ("开户（新卡）", "Open a new card"),
    "c_reissue": ("补卡", "Reissue card"),
    "reissue_fee": ("补卡工本费{fee}元", "Reissue fee {fee} yuan"),
    "first_purchase": ("首次购电金额（元，可为0）", "First purchase (yuan, may be 0)"),
    # meter reading
    "reading": ("本次读数（度，可带一位小数）", "Meter reading (kWh, one decimal)"),
    "bad_reading": ("读数格式不对，例如 12345.6", "Reading not understood, e.g. 12345.6"),
    "billed": ("本月电量{kwh}度，电费{amount}元", "This month {kwh} kWh, {amount} yuan"),
    # stats, settlement
    "stats": ("今日统计", "Today"),
    "limit": ("可用额度 {limit}元", "Available limit {limit}"),
    "today": ("今日笔数 {count}  金额 {total}元", "Today {count} payments, {total} yuan"),
    "posted_line": ("{time} {customer} {amount}元", "{time} {customer} {amount} yuan"),
    "settle": ("对账结算", "Reconcile and settle"),
    "s_reconcile": ("按日期对账", "Reconcile dates"),
    "s_settle": ("批次结算", "Settle the batch"),
    "days": ("日期 YYMMDD-YYMMDD（确认=今天）", "Dates YYMMDD-YYMMDD (OK = today)"),
    "bad_days": ("日期格式不对，例如 261101-261122", "Dates not understood, e.g. 261101-261122"),
    "days_too_long": (
        "对账最多{n}天，且起日不晚于止日，请重新输入",
        "At most {n} days, first day not after the last: enter again",
    ),
    "s_cancel": ("撤销（需主管密码）", "Cancel a payment (supervisor)"),
    "cancel": ("撤销", "Cancel a payment"),
    "trace_no": ("流水号（不输=所选）", "Trace no. (empty = marked)"),
    "cancel_pick_keys": (
        "↑↓选择 确认=撤销所选 取消=返回",
        "UP/DOWN pick  OK=cancel it  CANCEL=back",
    ),
    "cancel_none": (
        "本批次没有可撤销的现金缴费",
        "No cash payment in the open batch to cancel",
    ),
    "cancel_no_trace": (
        "没有流水号{trace}的缴费，请重新输入或从列表选择",
        "No payment with trace {trace}: type it again or pick from the list",
    ),
    "cancel_off": (
        "本终端未设置主管密码，不能撤销；请联系供电公司",
        "No supervisor password is set: cancel is off; call the utility",
    ),
    "cancel_tag_already": ("已撤", "cxl"),
    "cancel_tag_owed": ("待确", "owed"),
    "cancel_tag_not_approved": ("失败", "fail"),
    "cancel_tag_other_batch": ("已结", "old"),
    "cancel_tag_not_cash": ("卡类", "card"),
    "cancel_tag_offline": ("离线", "offl"),
    "cancel_refused_already": ("该笔已撤销，不能再次撤销", "Already cancelled"),
    "cancel_refused_not_cash": (
        "购电、开卡、补卡不能撤销（电量已在卡上）",
        "Card transactions cannot be cancelled (the credit is on the card)",
    ),
    "cancel_refused_offline": (
        "离线缴费不能撤销；上传后请到营业厅处理",
        "Offline payments cannot be cancelled; ask the office",
    ),
    "cancel_refused_other_batch": (
        "该笔不在当前批次（已结算），不能撤销；请到营业厅处理",
        "Not in the open batch (settled): cannot be cancelled; ask the office",
    ),
    "cancel_refused_owed": (
        "该笔的交易确认还未上送主站，请稍后再撤销（见待处理事项）",
        "Its completion is not yet delivered: try again later (see Pending items)",
    ),
    "cancel_refused_not_approved": (
        "该笔交易未成功，无需撤销",
        "That payment was not approved: nothing to cancel",
    ),
    "cancel_refused_not_found": (
        "没有这笔缴费，请核对流水号后重新选择",
        "No such payment: check the trace number and pick again",
    ),
    "cancel_refused_wrong_password": (
        "主管密码不对，未撤销；请重新操作",
        "Wrong supervisor password: nothing cancelled; start again",
    ),
    "supervisor_password": ("主管密码", "Supervisor password"),
    "supervisor_keys": ("请主管输入密码  确认=继续  取消=返回", "Supervisor: password, then OK"),
    "checking": ("正在核对…", "Checking…"),
    "supervisor_wrong": (
        "主管密码不对，还可试{left}次",
        "Wrong supervisor password, {left} tries left",
    ),
    "supervisor_refused": (
        "主管密码错误次数过多，未撤销；请返回主菜单",
        "Too many wrong supervisor passwords: nothing cancelled",
    ),
    "cancel_confirm": ("确认撤销", "Confirm cancel"),
    "cancel_what": ("流水{trace}  户号{customer}", "Trace {trace}  customer {customer}"),
    "cancel_amount": ("金额{amount}元", "Amount {amount} yuan"),
    "cancel_time": ("时间{time}", "At {time}"),
    "cancel_effect": (
        "撤销后须退还客户现金{amount}元",
        "After cancelling, hand back {amount} yuan",
    ),
    "cancel_confirm_keys": ("确认=撤销  取消=不撤销", "OK=cancel it  CANCEL=keep it"),
    "cancel_done": (
        "撤销成功，请退还现金{amount}元；冲正自动上送主站",
        "Cancelled: hand back {amount} yuan; the reversal goes to the station",
    ),
    "cancel_receipt_printed": ("撤销凭证已打印，交客户", "Cancel receipt printed: give it over"),
    "reconciled": ("{count}笔  {total}元", "{count} payments, {total} yuan"),
    "settle_confirm": ("结算当前批次？确认=结算  取消=返回", "Settle the open batch? OK=settle"),
    "settled": (
        "结算完成（{result}），批次{batch}→{next}，{count}笔 {total}元",
        "Settled ({result}), batch {batch}→{next}, {count} / {total}",
    ),
    "unsettled": ("对账不平，差异已打印：{count}项", "Not balanced; {count} differences printed"),
    "balanced": ("平", "balanced"),
    "settle_blocked": (
        "还有待上送事项，请先处理（待处理事项）",
        "Items still to deliver: see Pending items",
    ),
    # pending, admin
    "pending": ("待处理事项", "Pending items"),
    "nothing_pending": ("没有待处理事项", "Nothing pending"),
    "pending_reversal": (
        "冲正待上送 户号{customer} {amount}元 流水{trace}",
        "reversal to send: customer {customer} {amount} yuan, trace {trace}",
    ),
    "pending_completion": (
        "交易确认待上送 户号{customer} {amount}元 流水{trace}",
        "completion to send: customer {customer} {amount} yuan, trace {trace}",
    ),
    "pending_upload": (
        "离线缴费待上传 户号{customer} {amount}元 流水{trace}",
        "offline payment to upload: customer {customer} {amount} yuan, trace {trace}",
    ),
    "pending_tries": ("（已尝试{n}次：{problem}）", " ({n} failed tries: {problem})"),
    # offline collection (route book, payments without a link)
    "a_routebook": ("下载抄收册（离线收费用）", "Download route book (offline)"),
    "routebook_loaded": (
        "抄收册已下载：{village} {customers}户，{pages}页 {bytes}字节",
        "Route book loaded: {village}, {customers} customers, {pages} pages, {bytes} bytes",
    ),
    "off_offer": (
        "无信号：按确认键离线收费（联网后上传确认）",
        "No link: OK takes the payment offline (confirmed after upload)",
    ),
    "off_taken": (
        "离线收款已记录 序号L{serial:05d}，联网后自动上传确认",
        "Taken offline, serial L{serial:05d}; confirmed after upload when the link returns",
    ),
    "off_no_book": ("无信号，且未下载抄收册，不能离线收费", "No link and no route book"),
    "off_not_allowed": ("主站未开通本终端离线收费", "The station allows no offline payments"),
    "off_not_in_book": ("该户不在抄收册中，不能离线收费", "Customer not in the route book"),
    "off_card_never": ("购电卡业务不能离线办理", "Card purchases are never offline"),
    "off_book_old": ("抄收册已过期，请联网后重新下载", "Route book too old: download again"),
    "off_sign_on_old": ("签到已过期，请联网后重新签到", "Sign-on too old: sign on with a link"),
    "off_over_payment_limit": ("超过离线单笔限额，未收款", "Above the offline limit per payment"),
    "off_over_total": ("离线收费总额已达上限，未收款", "Offline total limit reached"),
    "off_over_count": ("离线收费笔数已达上限，未收款", "Offline count limit reached"),
    "pending_offline_credit": (
        "离线缴费 户号{customer} 多收{amount}元已转入预存（账单已变） 流水{trace}",
        "offline payment: customer {customer} {amount} yuan became credit (bill changed), "
        "trace {trace}",
    ),
    "offline_n": ("离{n}", "off {n}"),
    "offline_signed_on": (
        "无信号时离线登录，仅可离线收费；联网后请重新签到",
        "signed on with no link: offline payments only; sign on again when the link is back",
    ),
    "pending_open": ("{txn} {state}", "{txn} {state}"),
    "state_unknown": ("结果未知", "outcome unknown"),
    "state_sent": ("已发送未应答", "sent, no answer yet"),
    "state_card_writing": ("写卡未完成", "card write unfinished"),
    "state_cancelling": ("撤销未完成", "cancel unfinished"),
    "not_signed_on": ("未签到", "not signed on"),
    # why the link failed (drivers.transport.PROBLEMS), inside "no_station" / "network_bad"
    "link_dropped": ("连接中断", "the connection dropped"),
    "link_timeout": ("主站未及时应答", "the station did not answer in time"),
    "link_no_modem": ("通信模块无响应", "the GPRS module does not answer"),
    "link_sim": ("SIM卡未就绪", "the SIM card is not ready"),
    "link_no_network": ("没有网络信号", "no network signal"),
    "link_gprs": ("GPRS未连通", "GPRS is not available"),
    "link_unreachable": ("连不上主站", "the station cannot be reached"),
    "link_closed": ("主站断开了连接", "the station closed the connection"),
    "link_modem_reset": ("通信模块重启或掉电", "the GPRS module restarted or lost power"),
    "link_garbled": ("收到的数据有误", "garbled data from the station"),
    "admin": ("管理", "Administration"),
    "a_signon": ("重新签到", "Sign on again"),
    "a_network": ("网络测试", "Network test"),
    "a_printer": ("打印机测试", "Printer test"),
    "a_journal": ("流水检查", "Journal check"),
    "a_language": ("切换语言 / Language", "Language / 切换语言"),
    "a_lock": ("锁定终端（退出）", "Lock (log out)"),
    "a_reprint": ("重打上一张票据", "Reprint last receipt"),
    "network_ok": ("网络正常，往返{ms}毫秒", "Network fine, round trip {ms} ms"),
    "network_bad": ("网络不通：{reason}", "No network: {reason}"),
    "printer_ok": ("测试页已打印", "Test page printed"),
    "printer_bad": ("打印机故障：{reason}", "Printer problem: {reason}"),
    "journal_ok": ("流水完整，共{count}条", "Journal intact, {count} entries"),
    "journal_bad": ("流水被改动：{reason}", "Journal altered: {reason}"),
    "reprinted": ("已重打", "Reprinted"),
    "nothing_to_reprint": ("没有可重打的票据", "No receipt to reprint"),
    "busy": ("请稍候…", "Please wait…"),
    "still_busy": (
        "正在处理，请稍候；勿取卡，勿关机",
        "Working, please wait; keep the card in, keep the power on",
    ),
    # printer reasons
    "printer_no_paper": ("打印机缺纸", "printer out of paper"),
    "printer_paper_ran_out": ("打印中缺纸", "paper ran out"),
    "printer_no_reply": ("打印机无应答", "printer not answering"),
    "no_printer": ("未接打印机", "no printer"),
    # status bar
    "link_up": ("在线", "online"),
    "link_down": ("离线", "offline"),
    "paper_ok": ("纸", "paper"),
    "paper_out": ("缺纸", "NO PAPER"),
    "pending_n": ("待{n}", "pend {n}"),
    "waiting_s": ("{what}{s}秒", "{what} {s}s"),
    "low_power": ("电量低", "LOW BATT"),
}


def t(key: str, locale: str = "zh_CN", **values: object) -> str:
    zh, en = TEXTS.get(key, (key, key))
    text = zh if locale == "zh_CN" else en
    return text.format(**values) if values else text
