"""A fake consometers Data Connect proxy (XMPP bot) on the fake gateway's ground truth."""
