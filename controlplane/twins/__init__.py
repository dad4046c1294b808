"""Talking to the brainstems themselves (their own HTTP routes), never to ARM."""
