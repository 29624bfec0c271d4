"""The master station (缴费主站): a real ledger behind the protocol of ``terminal/``.

``envelope`` takes one request's bytes (MAC, terminal, repeat store) and hands it to ``session``
(sign-on, heartbeat), ``postings`` (money and cards), ``settlement`` or ``reports`` (inquiries);
``grants`` signs card grants; ``ledger`` holds all SQL; ``server`` carries frames over TCP; ``seed``
creates the demo data; ``gridpos station`` (``cli``) runs it. Tests and the demo run the terminal
against it over loopback TCP, exactly as a terminal in the field talks to the utility.
"""
