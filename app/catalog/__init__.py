"""The product catalog in MariaDB: schema migrations, the seed catalog, search and matching.

Only the gateway talks to the database; the worker stays free of it (see the README's
"How it works").
"""
