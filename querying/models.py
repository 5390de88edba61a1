"""The governed query audit log."""
