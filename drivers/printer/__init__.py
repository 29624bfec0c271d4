"""The thermal receipt printer: ESC/POS via python-escpos over serial, USB or a file."""
