"""Client search (issue 14): an Expert finds an organisation of her portfolio by name, ИНН, phone or contact.

`query.py` reads what was typed (pure), `repository.py` finds the clients, `views.py` is GET /clients.
"""
