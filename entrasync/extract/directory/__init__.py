"""The Entra directory read: full or delta, memberships, and reading many pages at once."""
