"""The web side of DS Desk: sign-in, the Expert's screen, the live channel (aiohttp, server-rendered)."""
