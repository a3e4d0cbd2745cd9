"""Our OpenPGP layer: armor, packets, signatures, certificates, keyrings, key material.

Only :mod:`pgpverify.openpgp.keymaterial` touches PGPy, and only to decode key material.
"""
