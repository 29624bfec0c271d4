"""The reference master station (缴费主站): a real ledger behind the protocol of ``terminal/``.

``ledger`` stores, ``service`` applies the protocol's rules to one request, ``server`` carries
frames over TCP, ``seed`` creates the demo data. Tests and the demo run the terminal against it
over loopback TCP, exactly as a terminal in the field talks to the utility.
"""
