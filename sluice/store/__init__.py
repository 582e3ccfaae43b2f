"""Durable state behind one set of protocols: SQLite (embedded) or PostgreSQL (distributed).

SQL appears only in this package; features depend on ``protocols.py``.
"""
