"""Moving a client to remote service (ДС), the campaign: its status machine (pure) and its errors."""
