"""The Expert's screen as pure logic: the queue and its progress, the wrap-up form and its rules."""
