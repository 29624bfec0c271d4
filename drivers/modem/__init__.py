"""The GPRS module: AT commands over a serial port, two dialects, its TCP stack as a transport."""
