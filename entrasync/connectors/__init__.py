"""Clients for the two systems the sync connects: Microsoft Graph and Emply."""
