"""What one tenant run works with: its context, deadline and clients."""
