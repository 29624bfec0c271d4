"""``gridpos diag printer``: is the printer there, has it paper; print a test page."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="site configuration file")
    parser.add_argument("--device", help="printer device (default: printer.device)")
    parser.add_argument("--no-test-page", action="store_true", help="only ask for paper")


MESSAGES = {
    "ok": "打印机正常，有纸",
    "near_end": "打印机纸将用完，请准备换纸",
    "out": "打印机缺纸，请装纸",
    "no_reply": "打印机无应答：请检查电源和连线",
    "unknown": "此连接不能查询纸状态",
}


def run(args: argparse.Namespace) -> int:
    from config.loader import load_config
    from drivers.printer.escpos_printer import EscPosPrinter, Paper
    from terminal.core.receipt import test_page_lines

    config = load_config(args.config)
    printer = EscPosPrinter(
        config.printer.connection, args.device or config.printer.device, config.printer.baudrate
    )
    paper = printer.paper()
    print(MESSAGES[paper.value])
    if paper in (Paper.OUT, Paper.NO_REPLY):
        return 1
    if not args.no_test_page:
        result = printer.print_lines(test_page_lines(config.printer.paper_width_mm))
        print("测试页已打印" if result.ok else f"测试页未打印：{result.reason}")
        return 0 if result.ok else 1
    return 0
