"""XMPP tests: a real Prosody server, the fake consometers proxy and the library's XMPP source."""
