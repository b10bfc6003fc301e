"""Writes of the collaboration area (comments). Each validates, runs in one transaction, appends the audit
entry and publishes the live event to the layout's room after commit."""
