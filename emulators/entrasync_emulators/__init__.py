"""Test doubles of Microsoft's login authority, Microsoft Graph and the Emply API, over HTTPS."""
