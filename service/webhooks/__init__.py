"""Webhooks (docs/webhooks.md): signed, retried, ordered deliveries of DS Desk's events from an outbox.

Pure: events.py (names, the call's transitions, payloads), signing.py, retry.py, urls.py.
I/O: outbox.py (writing and claiming deliveries), subscriptions.py (the admins' repository),
resolve.py (DNS with the address check), dispatcher.py (the sender), views.py (the admin pages).
"""
